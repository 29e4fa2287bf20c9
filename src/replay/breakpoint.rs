//! `replay --break EXPR`: stop before the first call that matches, show it
//! and the guest's stack, and run no guest code past it.

use super::serve::ReplayState;
use std::fmt;
use wasmtime::WasmBacktrace;

/// The replay stopped at a breakpoint: the call was not served.
#[derive(Debug)]
pub(super) struct Breakpoint {
    pub(super) seq: u64,
    /// The expression that fired.
    pub(super) expr: String,
    /// The call, decoded, with the result the recording says it returns.
    pub(super) line: String,
    /// The stack when the replay already captured one (`-k`, a watch).
    pub(super) stack: Option<String>,
}

impl fmt::Display for Breakpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "breakpoint {:?} at call #{}", self.expr, self.seq)
    }
}
impl std::error::Error for Breakpoint {}

impl ReplayState {
    /// Whether a `--break` expression fires at recorded call `i`; every
    /// expression counts the call, for its `when=`.
    pub(super) fn break_at(
        &mut self,
        i: usize,
        stack: Option<&WasmBacktrace>,
    ) -> wasmtime::Result<()> {
        if self.opts.breaks.is_empty() {
            return Ok(());
        }
        let view = self.chunk.view(i);
        let mut fired = None;
        for t in &mut self.opts.breaks {
            if t.fires(&view) && fired.is_none() {
                fired = Some(t.text().to_string());
            }
        }
        let Some(expr) = fired else {
            return Ok(());
        };
        let seq = view.seq;
        let line = self.call_line(i);
        let stack = stack.map(|bt| self.stack_lines(bt));
        Err(wasmtime::Error::new(Breakpoint {
            seq,
            expr,
            line,
            stack,
        }))
    }
}

/// The report of a breakpoint: the call, then its stack (the one captured
/// with the call, else the one wasmtime attaches to the error that stopped
/// the guest).
pub(super) fn report(state: &ReplayState, b: &Breakpoint, error: &wasmtime::Error) -> String {
    let stack = match (&b.stack, error.downcast_ref::<WasmBacktrace>()) {
        (Some(s), _) => s.clone(),
        (None, Some(bt)) => state.stack_lines(bt),
        (None, None) => String::new(),
    };
    format!(
        "wtrace: breakpoint {:?} at call #{}:\n{}\n{stack}",
        b.expr, b.seq, b.line
    )
}
