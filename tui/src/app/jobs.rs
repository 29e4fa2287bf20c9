//! Work the app runs in the background, and what it does with the result.

use super::{ActiveFilter, App};
use crate::source::{SearchHit, TraceSource};
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
}

impl Job {
    /// What the progress line calls it: `search for "x"`.
    pub fn what(&self) -> String {
        match self {
            Job::Search { text, .. } => format!("search for {text:?}"),
            Job::Filter { expr, .. } => format!("filter {expr}"),
        }
    }

    /// Calls looked at so far, and in all.
    pub fn progress(&self) -> (u64, u64) {
        match self {
            Job::Search { task, .. } => (task.done, task.total),
            Job::Filter { task, .. } => (task.done, task.total),
        }
    }

    pub fn percent(&self) -> u64 {
        let (done, total) = self.progress();
        (done as u128 * 100 / total.max(1) as u128).min(100) as u64
    }
}

/// The selected call's stack in the detail pane.
pub enum StackView {
    /// The source computes no stacks.
    None,
    Computing(Task<Vec<String>>),
    Ready(Vec<String>),
    Failed,
}

impl StackView {
    pub fn is_computing(&self) -> bool {
        matches!(self, StackView::Computing(_))
    }
}

/// What came of a task: still running, done, or ended without a result.
fn outcome<T>(task: &mut Task<T>) -> Option<Option<T>> {
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
        }
    }

    /// Goes to a search's match, saying when the search wrapped around.
    fn found(&mut self, hit: Option<SearchHit>, text: &str, forward: bool) {
        let Some(SearchHit { seq, wrapped }) = hit else {
            self.status = format!("no call matches {text:?}");
            return;
        };
        // A match the filter hides is still shown: the filter goes.
        let hidden_by = self.filter.take_if(|f| f.seqs.binary_search(&seq).is_err());
        self.select_call(seq);
        let mut status = format!("#{seq} matches {text:?}");
        if wrapped {
            let to = if forward { "top" } else { "bottom" };
            status = format!("search wrapped to the {to}: {status}");
        }
        if let Some(f) = hidden_by {
            status += &format!(" but is not in the {} filter: filter cleared", f.expr);
        }
        self.status = status;
    }

    pub(super) fn poll_stack(&mut self) {
        if let StackView::Computing(task) = &mut self.stack {
            if let Some(result) = outcome(task) {
                self.stack = result.map_or(StackView::Failed, StackView::Ready);
            }
        }
    }
}
