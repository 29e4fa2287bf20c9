//! Work the app runs in the background, and what it does with the result.

use super::{ActiveFilter, App};
use crate::source::{BreakHit, CallState, SearchHit, TraceSource};
use crate::task::{Poll, Task};

/// The one piece of background work in progress. Starting another
/// replaces it (dropping a task stops it).
pub enum Job {
    Search {
        task: Task<Option<SearchHit>>,
        text: String,
        forward: bool,
    },
    Filter {
        task: Task<Vec<u64>>,
        expr: String,
    },
    /// Continuing to the next (or previous) call a breakpoint matches.
    Continue {
        task: Task<Option<BreakHit>>,
        forward: bool,
        from: u64,
    },
}

impl Job {
    /// What the progress line calls it: `search for "x"`.
    pub fn what(&self) -> String {
        match self {
            Job::Search { text, .. } => format!("search for {text:?}"),
            Job::Filter { expr, .. } => format!("filter {expr}"),
            Job::Continue { forward: true, .. } => "continue to a breakpoint".into(),
            Job::Continue { forward: false, .. } => "continue back to a breakpoint".into(),
        }
    }

    /// Calls looked at so far, and in all.
    pub fn progress(&self) -> (u64, u64) {
        match self {
            Job::Search { task, .. } => (task.done, task.total),
            Job::Filter { task, .. } => (task.done, task.total),
            Job::Continue { task, .. } => (task.done, task.total),
        }
    }

    pub fn percent(&self) -> u64 {
        let (done, total) = self.progress();
        (done as u128 * 100 / total.max(1) as u128).min(100) as u64
    }
}

/// The guest's state at the selected call: its stack, globals and memory.
pub enum StateView {
    /// The source computes no states.
    None,
    Computing(Task<Result<CallState, String>>),
    Ready(CallState),
    /// Why it could not be computed.
    Failed(String),
}

impl StateView {
    pub fn is_computing(&self) -> bool {
        matches!(self, StateView::Computing(_))
    }

    pub fn ready(&self) -> Option<&CallState> {
        match self {
            StateView::Ready(state) => Some(state),
            _ => None,
        }
    }
}

/// What came of a task: still running, done, or ended without a result.
pub(super) fn outcome<T>(task: &mut Task<T>) -> Option<Option<T>> {
    match task.poll() {
        Poll::Running => None,
        Poll::Done(v) => Some(Some(v)),
        Poll::Failed => Some(None),
    }
}

impl<S: TraceSource> App<S> {
    /// Takes in the background job's result, if it is done.
    pub(super) fn poll_job(&mut self) {
        let Some(job) = &mut self.job else {
            return;
        };
        match job {
            Job::Search {
                task,
                text,
                forward,
            } => {
                let Some(result) = outcome(task) else {
                    return;
                };
                let (text, forward) = (text.clone(), *forward);
                self.job = None;
                match result {
                    Some(hit) => self.found(hit, &text, forward),
                    None => self.status = format!("the search for {text:?} failed"),
                }
            }
            Job::Filter { task, expr } => {
                let Some(result) = outcome(task) else {
                    return;
                };
                let expr = expr.clone();
                self.job = None;
                match result {
                    Some(seqs) => self.apply_filter(Some(ActiveFilter { expr, seqs })),
                    None => self.status = format!("the filter {expr} failed"),
                }
            }
            Job::Continue {
                task,
                forward,
                from,
            } => {
                let Some(result) = outcome(task) else {
                    return;
                };
                let (forward, from) = (*forward, *from);
                self.job = None;
                match result {
                    Some(hit) => self.stopped_at(hit, forward, from),
                    None => self.status = "the continue failed".into(),
                }
            }
        }
    }

    /// Goes to a search's match, saying when the search wrapped around.
    fn found(&mut self, hit: Option<SearchHit>, text: &str, forward: bool) {
        let Some(SearchHit { seq, wrapped }) = hit else {
            self.status = format!("no call matches {text:?}");
            return;
        };
        let mut status = format!("#{seq} matches {text:?}");
        if wrapped {
            let to = if forward { "top" } else { "bottom" };
            status = format!("search wrapped to the {to}: {status}");
        }
        let shown = self.show_call(seq);
        self.status = status + &shown;
    }

    /// Goes to the call a breakpoint matched, or says none did.
    fn stopped_at(&mut self, hit: Option<BreakHit>, forward: bool, from: u64) {
        let Some(BreakHit { seq, breakpoint }) = hit else {
            let side = if forward { "after" } else { "before" };
            self.status = format!("no breakpoint matches a call {side} #{from}");
            return;
        };
        let expr = self
            .breakpoints
            .get(breakpoint)
            .cloned()
            .unwrap_or_default();
        let shown = self.show_call(seq);
        self.status = format!("breakpoint {} ({expr}) at #{seq}{shown}", breakpoint + 1);
    }

    /// Selects call `seq`, clearing a filter that hides it; says so.
    fn show_call(&mut self, seq: u64) -> String {
        let hidden_by = self.filter.take_if(|f| f.seqs.binary_search(&seq).is_err());
        self.select_call(seq);
        match hidden_by {
            Some(f) => format!(" but is not in the {} filter: filter cleared", f.expr),
            None => String::new(),
        }
    }

    pub(super) fn poll_state(&mut self) {
        if let StateView::Computing(task) = &mut self.state {
            if let Some(result) = outcome(task) {
                self.state = match result {
                    Some(Ok(state)) => StateView::Ready(state),
                    Some(Err(why)) => StateView::Failed(why),
                    None => StateView::Failed("the replay ended without a result".into()),
                };
            }
        }
    }
}
