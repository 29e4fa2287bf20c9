//! The host functions of a replay: every call served from the trace.

use super::divergence::{diverge, StopHere, Unreadable};
use super::prefetch::Prefetch;
use super::relocate::{apply, reads_match, relocate};
use super::tolerate::{self, Tolerated, Unmatched};
use super::ReplayOptions;
use crate::capture;
use crate::compare::{self, Wording};
use crate::host;
use crate::host::calls::GuestCall;
use crate::syscalls::{Class, FuncId, Kind, Syscall};
use crate::trace::{Call, CallBatch, End, Header, Outcome, RunEnd};
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
    /// The chunk being served; handed back to the prefetching thread to be
    /// decoded into again once served.
    pub(super) chunk: CallBatch,
    /// Index in `chunk` of the next call.
    pub(super) pos: usize,
    /// The chunk after `chunk`, when `--allow-extra-writes` looked into it.
    pub(super) ahead: Option<CallBatch>,
    pub(super) memory: Option<Memory>,
    pub(super) opts: ReplayOptions,
    /// What `--allow-extra-writes` let pass.
    pub(super) tolerated: Tolerated,
}

/// Steps to the next recorded call and returns its index in
/// `state.chunk`, or says why there is none. `made` builds the call the
/// guest made, for the report when there is none to serve.
pub(super) fn next_recorded(
    state: &mut ReplayState,
    made: impl FnOnce() -> Call,
) -> wasmtime::Result<usize> {
    let seq = state.next;
    if let Some(until) = state.opts.until {
        if seq > until {
            let reason = format!("stopped after call #{until} (--until)");
            return Err(wasmtime::Error::new(StopHere { reason, code: 0 }));
        }
    }
    if seq >= state.total {
        return Err(beyond_the_recording(state, made));
    }
    if state.pos == state.chunk.len() {
        let done = std::mem::take(&mut state.chunk);
        let next = match state.ahead.take() {
            Some(ahead) => {
                state.chunks.give_back(done);
                Ok(ahead)
            }
            None => state.chunks.next(done),
        };
        state.chunk = next.map_err(|e| wasmtime::Error::new(Unreadable(format!("{e:#}"))))?;
        state.pos = 0;
        if state.chunk.is_empty() {
            return Err(wasmtime::Error::msg("the trace has an empty chunk"));
        }
    }
    let i = state.pos;
    state.pos += 1;
    state.next += 1;
    Ok(i)
}

/// The guest calls on where the recording has no more calls: where an
/// unfinished or interrupted recording stops, or a divergence.
fn beyond_the_recording(state: &mut ReplayState, made: impl FnOnce() -> Call) -> wasmtime::Error {
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
        return wasmtime::Error::new(stop);
    }
    let what = format!(
        "the guest made more calls than the {} recorded",
        state.total
    );
    let seq = state.next;
    diverge(state, seq, what, Some(made()))
}

/// After a call is served: `--print` shows it.
fn after_call(state: &mut ReplayState, i: usize) {
    if let Some(p) = &mut state.opts.print {
        let call = state.chunk.call(i);
        eprintln!("#{} {}", call.seq, p.line(&state.header, &call));
    }
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
        ..Call::default()
    };
    let i = next_recorded(state, || made.clone())?;
    let recorded = state.chunk.call(i);
    if let Some(d) = compare::inputs(&recorded, &made) {
        let what = d.describe(&state.header, recorded.func, Wording::RecordedVsNow);
        return Err(diverge(state, made.seq, what, Some(made)));
    }
    let err = outcome_result(&recorded.outcome)
        .err()
        .unwrap_or_else(|| wasmtime::Error::msg("unknown import returned"));
    after_call(state, i);
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
        loop {
            if let Some(served) = serve_call(state, sys, data, args)? {
                return Ok(served);
            }
        }
    })
}

/// The call the guest makes now, as a trace call, for comparing.
fn made_call(seq: u64, sys: &Syscall, args: &[u64], data: &[u8]) -> Call {
    Call {
        seq,
        func: sys.func.id(),
        args: args.to_vec(),
        reads: capture::reads(sys, args, data),
        ..Call::default()
    }
}

/// Serves one call: the errno, or `None` when a recorded clock read the
/// guest no longer makes was passed over (`--allow-extra-writes`) and the
/// next recorded call is to be tried.
fn serve_call(
    state: &mut ReplayState,
    sys: &'static Syscall,
    data: &mut [u8],
    args: &[u64],
) -> wasmtime::Result<Option<i32>> {
    let seq = state.next;
    let tolerant = state.opts.allow_extra_writes;
    if tolerant && seq >= state.total && tolerate::may_write_past_the_end(state) {
        let made = made_call(seq, sys, args, data);
        if let Unmatched::Served(ret) = tolerate::unmatched(state, sys, &made, None, data) {
            return Ok(Some(ret));
        }
    }
    let i = next_recorded(state, || made_call(seq, sys, args, data))?;
    let recorded = state.chunk.view(i);
    let same = recorded.func == sys.func
        && recorded.args == args
        && reads_match(sys, args, data, recorded.reads);
    if !same && tolerant {
        let recorded = state.chunk.call(i);
        let made = made_call(seq, sys, args, data);
        if compare::inputs(&recorded, &made).is_some() {
            match tolerate::unmatched(state, sys, &made, Some(&recorded), data) {
                Unmatched::Served(ret) => {
                    // The recorded call stays next in line.
                    state.pos -= 1;
                    state.next -= 1;
                    return Ok(Some(ret));
                }
                Unmatched::PassOver => {
                    state.tolerated.saw(&recorded);
                    return Ok(None);
                }
                Unmatched::Diverges => {}
            }
        }
    }
    let recorded = state.chunk.view(i);
    let applied = if same {
        apply(data, recorded.writes.iter().map(|(_, addr, b)| (addr, b)))
    } else {
        Err(String::new())
    };
    let ret = outcome_result(recorded.outcome);
    if let Err(problem) = applied {
        // Not the same bytes: the same call at other addresses (a
        // rebuilt module) still replays; anything else diverges.
        let recorded = state.chunk.call(i);
        let made = made_call(seq, sys, args, data);
        if let Err(what) = serve_moved(sys, &recorded, &made, data, problem, &state.header) {
            return Err(diverge(state, seq, what, Some(made)));
        }
    }
    if !state.opts.quiet && writes_to_stdio(sys, args) {
        reemit_output(&state.chunk.call(i));
    }
    if tolerant && sys.class == Class::Clock {
        let recorded = state.chunk.call(i);
        state.tolerated.saw(&recorded);
    }
    after_call(state, i);
    ret.map(Some)
}

/// Serves a call whose pointers or memory differ from the recording's:
/// the same call with buffers elsewhere gets its effects relocated; anything
/// else is a divergence, said in words. `problem` is why the recorded
/// effects could not be applied as they were ("" when they were not tried).
fn serve_moved(
    sys: &Syscall,
    recorded: &Call,
    made: &Call,
    data: &mut [u8],
    problem: String,
    header: &Header,
) -> Result<(), String> {
    if let Some(d) = compare::inputs(recorded, made) {
        return Err(d.describe(header, recorded.func, Wording::RecordedVsNow));
    }
    if !problem.is_empty() && recorded.args == made.args {
        return Err(problem);
    }
    let effects = relocate(sys, recorded, &made.args, &made.reads)?;
    apply(data, effects.iter().map(|(a, b)| (*a, &b[..])))
}

/// Whether the call hands bytes to fd 1 or 2 (what replay writes again).
fn writes_to_stdio(sys: &Syscall, args: &[u64]) -> bool {
    let hands_over = sys
        .param_where(|k| matches!(k, Kind::Ciovecs { .. }))
        .is_some();
    let fd = sys.fd_param().and_then(|i| args.get(i));
    hands_over && matches!(fd, Some(1 | 2))
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
