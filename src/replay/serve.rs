//! The host functions of a replay: every call served from the trace.

use super::divergence::{diverge, StopHere, Unreadable};
use super::prefetch::Prefetch;
use super::relocate::{apply, reads_match, relocate};
use super::ReplayOptions;
use crate::capture;
use crate::compare::{self, Wording};
use crate::host;
use crate::host::calls::GuestCall;
use crate::syscalls::{FuncId, Syscall};
use crate::trace::{Call, End, Header, Mem, Outcome, RunEnd};
use anyhow::Result;
use std::io::Write;
use std::path::PathBuf;
use wasmtime::{Linker, Memory};

/// What the host functions of a replay share.
pub(super) struct ReplayState {
    pub(super) trace_path: PathBuf,
    pub(super) header: Header,
    pub(super) end: Option<End>,
    /// Number of the next call to serve.
    pub(super) next: u64,
    pub(super) total: u64,
    /// Decodes the chunks ahead of the guest.
    pub(super) chunks: Prefetch,
    /// The chunk being served; its calls are taken out one by one and put
    /// back once served, so that the whole chunk is freed on the
    /// prefetching thread.
    pub(super) chunk: Vec<Call>,
    /// Index in `chunk` of the next call.
    pub(super) pos: usize,
    pub(super) memory: Option<Memory>,
    pub(super) opts: ReplayOptions,
}

/// Takes the next recorded call, or says why there is none. `made` builds
/// the call the guest made, for the report when there is none to serve.
pub(super) fn next_recorded(
    state: &mut ReplayState,
    made: impl FnOnce() -> Call,
) -> wasmtime::Result<Call> {
    let seq = state.next;
    if let Some(until) = state.opts.until {
        if seq > until {
            let reason = format!("stopped after call #{until} (--until)");
            return Err(wasmtime::Error::new(StopHere { reason, code: 0 }));
        }
    }
    if seq >= state.total {
        let stop = match state.end.as_ref().map(|e| &e.run_end) {
            None => Some(StopHere {
                reason: "reached the end of an unfinished recording".into(),
                code: 0,
            }),
            Some(RunEnd::Signal(sig)) => Some(StopHere {
                reason: format!("reached the end of a recording stopped by signal {sig}"),
                code: 128 + sig,
            }),
            Some(RunEnd::WriteFailed(msg)) => Some(StopHere {
                reason: format!("reached the end of a recording that stopped because {msg}"),
                code: crate::exit_code::ERROR,
            }),
            Some(_) => None,
        };
        if let Some(stop) = stop {
            return Err(wasmtime::Error::new(stop));
        }
        let what = format!(
            "the guest made more calls than the {} recorded",
            state.total
        );
        return Err(diverge(state, seq, what, Some(made())));
    }
    if state.pos == state.chunk.len() {
        let done = std::mem::take(&mut state.chunk);
        state.chunk = state
            .chunks
            .next(done)
            .map_err(|e| wasmtime::Error::new(Unreadable(format!("{e:#}"))))?;
        state.pos = 0;
        if state.chunk.is_empty() {
            return Err(wasmtime::Error::msg("the trace has an empty chunk"));
        }
    }
    let call = std::mem::take(&mut state.chunk[state.pos]);
    state.pos += 1;
    state.next += 1;
    Ok(call)
}

/// Puts a served call back into its chunk, to be freed with it.
fn served(state: &mut ReplayState, call: Call) {
    if let Some(slot) = state
        .pos
        .checked_sub(1)
        .and_then(|i| state.chunk.get_mut(i))
    {
        *slot = call;
    }
}

fn after_call(state: &mut ReplayState, call: Call) {
    if let Some(p) = &mut state.opts.print {
        eprintln!("#{} {}", call.seq, p.line(&state.header, &call));
    }
    served(state, call);
}

/// The recorded outcome, as what the host function returns.
fn outcome_result(outcome: &Outcome) -> wasmtime::Result<i32> {
    match outcome {
        Outcome::Errno(e) => Ok(*e as i32),
        Outcome::Exit(code) => Err(wasmtime::Error::new(wasmtime_wasi::I32Exit(*code))),
        Outcome::Trap(msg) => Err(wasmtime::Error::msg(msg.clone())),
    }
}

pub(super) fn serve_foreign(
    state: &mut ReplayState,
    id: FuncId,
    args: &[u64],
) -> Result<wasmtime::Error, wasmtime::Error> {
    let made = Call {
        seq: state.next,
        func: id,
        args: args.to_vec(),
        outcome: Outcome::Errno(0),
        start_ns: 0,
        dur_ns: 0,
        reads: vec![],
        writes: vec![],
    };
    let recorded = next_recorded(state, || made.clone())?;
    if let Some(d) = compare::inputs(&recorded, &made) {
        let what = d.describe(&state.header, recorded.func, Wording::RecordedVsNow);
        return Err(diverge(state, made.seq, what, Some(made)));
    }
    let err = outcome_result(&recorded.outcome)
        .err()
        .unwrap_or_else(|| wasmtime::Error::msg("unknown import returned"));
    after_call(state, recorded);
    Ok(err)
}

impl host::calls::CallHost for ReplayState {
    fn memory_slot(&mut self) -> &mut Option<Memory> {
        &mut self.memory
    }
}

/// Serves a preview1 call from the trace.
pub(super) fn define_replayer(
    linker: &mut Linker<ReplayState>,
    sys: &'static Syscall,
) -> Result<()> {
    host::calls::define(linker, sys, move |call| {
        let GuestCall {
            state,
            memory: data,
            args,
            ..
        } = call;
        let seq = state.next;
        let made = |reads: Vec<Mem>| Call {
            seq,
            func: sys.func.id(),
            args: args.to_vec(),
            outcome: Outcome::Errno(0),
            start_ns: 0,
            dur_ns: 0,
            reads,
            writes: Vec::new(),
        };
        let recorded = next_recorded(state, || made(capture::reads(sys, args, data)))?;
        if recorded.func != sys.func
            || recorded.args != args
            || !reads_match(sys, args, data, &recorded.reads)
        {
            // Not the same bytes: the same call at other addresses (a
            // rebuilt module) still replays; anything else diverges.
            let made = made(capture::reads(sys, args, data));
            if let Some(d) = compare::inputs(&recorded, &made) {
                let what = d.describe(&state.header, recorded.func, Wording::RecordedVsNow);
                return Err(diverge(state, seq, what, Some(made)));
            }
            let effects = match relocate(sys, &recorded, args, &made.reads) {
                Ok(effects) => effects,
                Err(what) => return Err(diverge(state, seq, what, Some(made))),
            };
            if let Err(what) = apply(data, effects.iter().map(|(a, b)| (*a, &b[..]))) {
                return Err(diverge(state, seq, what, Some(made)));
            }
        } else if let Err(what) =
            apply(data, recorded.writes.iter().map(|w| (w.addr, &w.bytes[..])))
        {
            let made = made(capture::reads(sys, args, data));
            return Err(diverge(state, seq, what, Some(made)));
        }
        if !state.opts.quiet {
            reemit_output(&recorded);
        }
        let ret = outcome_result(&recorded.outcome);
        after_call(state, recorded);
        ret
    })
}

/// Writes what the guest wrote to fd 1 and 2, as many bytes as the
/// recording says the host took, to wtrace's own stdout and stderr.
fn reemit_output(call: &Call) {
    let Some((fd, data)) = capture::stdio_output(call) else {
        return;
    };
    // A closed stdout (a pipe to `head`) must not stop the replay.
    let _ = if fd == 1 {
        std::io::stdout().write_all(&data)
    } else {
        std::io::stderr().write_all(&data)
    };
}
