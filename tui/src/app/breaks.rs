//! Breakpoints set from the UI, in `replay --break`'s grammar, and the
//! continues that go to the next (or previous) call one matches.

use super::{App, Job, Overlay, Prompt};
use crate::source::TraceSource;

impl<S: TraceSource> App<S> {
    pub(super) fn start_breakpoint(&mut self) {
        self.prompt = Some(Prompt::Break(String::new()));
    }

    /// Adds the breakpoint typed, if the source takes it.
    pub(super) fn add_breakpoint(&mut self, typed: &str) {
        let expr = typed.trim().to_string();
        if expr.is_empty() {
            return;
        }
        if let Err(why) = self.source.check_breakpoint(&expr) {
            self.status = format!("bad breakpoint: {why}");
            return;
        }
        if self.breakpoints.contains(&expr) {
            self.status = format!("breakpoint {expr:?} is already set");
            return;
        }
        self.breakpoints.push(expr.clone());
        self.status = format!(
            "breakpoint {}: {expr} (c: continue, C: back, B: list)",
            self.breakpoints.len()
        );
    }

    pub(super) fn toggle_breakpoints(&mut self) {
        self.overlay = match self.overlay {
            Overlay::Breakpoints { .. } => Overlay::None,
            _ => Overlay::Breakpoints { cursor: 0 },
        }
    }

    /// Deletes the breakpoint picked in the list.
    pub(super) fn delete_breakpoint(&mut self) {
        let Overlay::Breakpoints { cursor } = &mut self.overlay else {
            return;
        };
        if *cursor >= self.breakpoints.len() {
            return;
        }
        let gone = self.breakpoints.remove(*cursor);
        *cursor = (*cursor).min(self.breakpoints.len().saturating_sub(1));
        self.status = format!("breakpoint {gone:?} deleted");
    }

    /// Starts looking for the next (or previous) call a breakpoint matches.
    pub(super) fn continue_to(&mut self, forward: bool) {
        if matches!(self.overlay, Overlay::Breakpoints { .. }) {
            self.overlay = Overlay::None;
        }
        if self.breakpoints.is_empty() {
            self.status = "no breakpoints: b sets one".into();
            return;
        }
        let Some(from) = self.selected_seq() else {
            self.status = "no calls".into();
            return;
        };
        match self.source.continue_to(from, forward, &self.breakpoints) {
            Ok(task) => {
                self.job = Some(Job::Continue {
                    task,
                    forward,
                    from,
                })
            }
            Err(why) => self.status = why,
        }
    }
}
