//! The host functions of a replay: every call served from the trace.

use super::divergence::{diverge, StopHere, Unreadable};
use super::prefetch::Prefetch;
use super::relocate::{apply, reads_match, relocate};
use super::tolerate::{self, Tolerated, Unmatched};
use super::watch::Watches;
use super::ReplayOptions;
use crate::capture;
use crate::compare::{self, Wording};
use crate::decode::Decoder;
use crate::host;
use crate::host::calls::GuestCall;
use crate::stack::{self, StackLines};
use crate::syscalls::{Class, FuncId, Kind, Syscall};
use crate::trace::{Call, CallBatch, End, Header, Outcome, RunEnd};
use anyhow::Result;
use std::io::Write;
use std::path::PathBuf;
use wasmtime::{Linker, Memory, WasmBacktrace};

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
    /// Where `--print` lines and the reports of watches, breakpoints and
    /// state go: stderr, or stdout for `dump -k`.
    pub(super) out: Box<dyn Write>,
    /// Decodes the calls printed and reported; follows every call when
    /// `follow` (fd names), else sees none.
    pub(super) decoder: Decoder,
    pub(super) print: bool,
    pub(super) follow: bool,
    pub(super) watches: Watches,
    /// The module's file name, for stack lines.
    pub(super) module_label: String,
    /// The call `--until` stopped after.
    pub(super) until_call: Option<Call>,
    /// With `keep_state`: the stack of the `--until` call, and the state
    /// after it.
    pub(super) until_stack: Option<Vec<stack::Frame>>,
    pub(super) kept: Option<super::CallState>,
    /// What `--allow-extra-writes` let pass.
    pub(super) tolerated: Tolerated,
    /// Time travel's server: checkpoints forked as the replay goes.
    pub(super) checkpointing: Option<super::Checkpointing>,
    /// No hook looks at the calls served ([`ReplayState::no_hooks`]),
    /// decided once per replay: each call then takes the short way.
    pub(super) plain: bool,
}

/// Steps to the next recorded call and returns its index in
/// `state.chunk`, or says why there is none. `made` builds the call the
/// guest made, for the report when there is none to serve.
pub(super) fn next_recorded(
    state: &mut ReplayState,
    made: impl FnOnce() -> Call,
) -> wasmtime::Result<usize> {
    let seq = state.next;
    if let Some(cancel) = &state.opts.cancel {
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            let reason = format!("cancelled before call #{seq}");
            return Err(wasmtime::Error::new(StopHere { reason, code: 0 }));
        }
    }
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

/// After a call is served: `--print` shows it (with `-k`, its stack), and
/// the decoder follows it.
fn after_call(state: &mut ReplayState, i: usize, stack: Option<&WasmBacktrace>) {
    if !state.follow {
        return;
    }
    let call = state.chunk.call(i);
    let shown = state.opts.filter.as_ref().is_none_or(|f| f.matches(&call));
    if !(state.print && shown) {
        state.decoder.follow(&state.header, &call);
        return;
    }
    let line = state.decoder.line(&state.header, &call);
    let _ = writeln!(state.out, "#{} {line}", call.seq);
    if let (true, Some(bt)) = (state.opts.stacks, stack) {
        let _ = write!(state.out, "{}", state.stack_lines(bt));
    }
}

impl ReplayState {
    /// Whether the replay only serves calls: nothing prints, watches,
    /// breaks, stops early, tolerates, forks or may be cancelled. Most
    /// replays; the clock-heavy ones make millions of calls, and each
    /// question asked per call is paid millions of times.
    pub(super) fn no_hooks(&self) -> bool {
        let o = &self.opts;
        o.cancel.is_none()
            && o.until.is_none()
            && !o.allow_extra_writes
            && !o.keep_state
            && o.breaks.is_empty()
            && self.watches.is_empty()
            && !self.follow
            && self.checkpointing.is_none()
    }

    #[cfg(target_os = "linux")]
    fn checkpoint_due(&self) -> bool {
        self.checkpointing.as_ref().is_some_and(|c| c.due)
    }

    #[cfg(not(target_os = "linux"))]
    fn checkpoint_due(&self) -> bool {
        false
    }

    /// A stack as ` > ` lines.
    pub(super) fn stack_lines(&self, bt: &WasmBacktrace) -> String {
        let frames = stack::frames(bt);
        StackLines {
            frames: &frames,
            module: &self.module_label,
        }
        .to_string()
    }

    /// The recorded call `i` of the chunk, decoded, without following it.
    pub(super) fn call_line(&mut self, i: usize) -> String {
        let call = self.chunk.call(i);
        let line = self.decoder.decode_unfollowed(&self.header, &call).line();
        format!("#{} {line}", call.seq)
    }

    /// Reports the watched bytes that changed since last seen, `by` whom.
    fn report_watches(&mut self, data: &[u8], by: &str, stack: Option<&WasmBacktrace>) {
        let changes = self.watches.changes(data);
        for c in &changes {
            let _ = write!(self.out, "wtrace: watch {}: {by}\n{}", c.region, c.text());
        }
        if let (false, Some(bt)) = (changes.is_empty(), stack) {
            let _ = write!(self.out, "{}", self.stack_lines(bt));
        }
    }

    /// `--watch`: what the guest wrote since the last call, named by the
    /// call it makes now (`i`) and its stack.
    fn watch_guest(&mut self, i: usize, data: &[u8], stack: Option<&WasmBacktrace>) {
        if self.watches.is_empty() || !self.watches.differ(data) {
            return;
        }
        let by = format!("written by the guest before {}", self.call_line(i));
        self.report_watches(data, &by, stack);
    }

    /// `--watch`: what the host wrote serving call `i`.
    fn watch_host(&mut self, i: usize, data: &[u8]) {
        if self.watches.is_empty() || !self.watches.differ(data) {
            return;
        }
        let by = format!("written by the host in {}", self.call_line(i));
        self.report_watches(data, &by, None);
    }

    /// `--until N`: stops once call N has returned, before the guest runs on.
    fn stop_at_until(&mut self, i: usize, stack: Option<&WasmBacktrace>) -> wasmtime::Result<()> {
        let seq = self.chunk.first_seq() + i as u64;
        if self.opts.until != Some(seq) {
            return Ok(());
        }
        self.until_call = Some(self.chunk.call(i));
        self.until_stack = stack.map(stack::frames);
        let reason = format!("stopped after call #{seq} (--until)");
        Err(wasmtime::Error::new(StopHere { reason, code: 0 }))
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
    stack: Option<&WasmBacktrace>,
) -> Result<wasmtime::Error, wasmtime::Error> {
    let made = Call {
        seq: state.next,
        func: id,
        args: args.to_vec(),
        ..Call::default()
    };
    let i = next_recorded(state, || made.clone())?;
    state.break_at(i, stack)?;
    let recorded = state.chunk.call(i);
    if let Some(d) = compare::inputs(&recorded, &made) {
        let what = d.describe(&state.header, recorded.func, Wording::RecordedVsNow);
        return Err(diverge(state, made.seq, what, Some(made)));
    }
    let err = outcome_result(&recorded.outcome)
        .err()
        .unwrap_or_else(|| wasmtime::Error::msg("unknown import returned"));
    after_call(state, i, stack);
    Ok(err)
}

impl host::calls::CallHost for ReplayState {
    fn memory_slot(&mut self) -> &mut Option<Memory> {
        &mut self.memory
    }

    const MAY_WANT_STACK: bool = true;

    fn may_want_stack(&self) -> bool {
        !self.plain
    }

    /// `-k` prints every stack; `state_at` keeps the stack of its call; a
    /// watch needs one when the guest has written the watched bytes; a
    /// checkpoint keeps the stack of the call it is taken at.
    fn wants_stack(&self, memory: &[u8]) -> bool {
        (self.opts.stacks && self.print)
            || (self.opts.keep_state && self.opts.until == Some(self.next))
            || self.watches.differ(memory)
            || self.checkpoint_due()
    }
}

/// Serves a preview1 call from the trace.
pub(super) fn define_replayer(
    linker: &mut Linker<ReplayState>,
    sys: &'static Syscall,
) -> Result<()> {
    let stdio_fd = stdio_fd_param(sys);
    host::calls::define(linker, sys, move |call| {
        let GuestCall {
            state,
            memory: data,
            args,
            stack,
            ..
        } = call;
        if state.plain {
            if let Some(ret) = serve_plain(state, sys, stdio_fd, data, args) {
                return ret;
            }
        }
        loop {
            if let Some(served) = serve_call(state, sys, data, args, stack.as_ref())? {
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

/// Serves the next recorded call when no hook looks at it and it is the
/// call the guest makes, with its effects where they were: what replaying
/// is, most of the time. `None` leaves the call to [`serve_call`]
/// untouched (another call, or one whose buffers moved).
#[inline]
fn serve_plain(
    state: &mut ReplayState,
    sys: &'static Syscall,
    stdio_fd: Option<usize>,
    data: &mut [u8],
    args: &[u64],
) -> Option<wasmtime::Result<i32>> {
    let i = match state.pos < state.chunk.len() && state.next < state.total {
        true => state.pos,
        // A chunk to step into, or the end: the full way says what then.
        false => return None,
    };
    let recorded = state.chunk.view(i);
    if recorded.func != sys.func
        || recorded.args != args
        || !reads_match(sys, args, data, recorded.reads)
    {
        return None;
    }
    // Effects outside memory: the full way applies them again, fails the
    // same way, and relocates them or says why not.
    let writes = recorded.writes.iter().map(|(_, addr, b)| (addr, b));
    apply(data, writes).ok()?;
    let ret = outcome_result(recorded.outcome);
    state.pos += 1;
    state.next += 1;
    if to_stdio(stdio_fd, args) && !state.opts.quiet {
        reemit_output(&state.chunk.call(i));
    }
    Some(ret)
}

/// Serves one call: the errno, or `None` when a recorded clock read the
/// guest no longer makes was passed over (`--allow-extra-writes`) and the
/// next recorded call is to be tried.
fn serve_call(
    state: &mut ReplayState,
    sys: &'static Syscall,
    data: &mut [u8],
    args: &[u64],
    stack: Option<&WasmBacktrace>,
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
    // The recorded call i is the one served: watches and breakpoints see it.
    state.watch_guest(i, data, stack);
    state.break_at(i, stack)?;
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
    state.watch_host(i, data);
    if !state.opts.quiet && to_stdio(stdio_fd_param(sys), args) {
        reemit_output(&state.chunk.call(i));
    }
    if tolerant && sys.class == Class::Clock {
        let recorded = state.chunk.call(i);
        state.tolerated.saw(&recorded);
    }
    after_call(state, i, stack);
    state.stop_at_until(i, stack)?;
    #[cfg(target_os = "linux")]
    super::checkpoint::at_call(state, i, stack)?;
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

/// The fd parameter of a function that hands bytes to an fd (replay
/// writes again what went to fd 1 and 2).
fn stdio_fd_param(sys: &Syscall) -> Option<usize> {
    sys.param_where(|k| matches!(k, Kind::Ciovecs { .. }))
        .and(sys.fd_param())
}

/// Whether a call with that fd parameter hands bytes to fd 1 or 2.
fn to_stdio(stdio_fd: Option<usize>, args: &[u64]) -> bool {
    stdio_fd.is_some_and(|fd| matches!(args.get(fd), Some(1 | 2)))
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
