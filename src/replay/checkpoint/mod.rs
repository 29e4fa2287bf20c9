//! Time travel's side of a replay: the server `wtrace __timetravel` runs
//! ([`serve`]; the machine that asks it is `crate::timetravel`).
//!
//! The guest's stack lives on the native stack while a host call runs, so
//! the state at a call cannot be rebuilt from the trace alone: as rr does,
//! the forward pass fork()s a paused copy of itself (a checkpoint) every so
//! often, inside the host call just served. Asked for call N, the nearest
//! checkpoint at or before N forks again (so that it survives being used);
//! that child returns from the host call, replays on to N as `--until N`
//! does, answers with the state there and exits.
//!
//! Everything here runs single-threaded (the chunks are read inline, not
//! by the prefetch thread): a forked child keeps only the thread that
//! forked, and a lock another thread held at the fork stays held in the
//! child. One exception: a module not yet in the compile cache is compiled
//! by wasmtime on rayon's worker threads, which then sleep, holding
//! nothing, for the rest of the process; the forked children never compile.
//! The child that answers forks no more and decodes on a thread again.
//! Linux only (prctl's parent-death signal).

mod schedule;

pub use schedule::{Schedule, Spacing};

use super::divergence::StopHere;
use super::serve::ReplayState;
use super::{CallState, ReplayEnd, ReplayOptions};
use crate::stack;
use crate::timetravel::protocol::{receive, send, write_answer, Answer, Event, Order};
use crate::timetravel::Snapshot;
use anyhow::Result;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::{fork, ForkResult, Pid};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wasmtime::WasmBacktrace;

/// The control socket to the machine: the server's stdin.
const CONTROL: i32 = 0;
/// With a spacing in time, calls between two looks at the clock.
const CALLS_PER_LOOK: u32 = 256;
/// How often the pass says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

fn control() -> BorrowedFd<'static> {
    // SAFETY: fd 0 stays open for the life of the process (a checkpoint
    // points it at /dev/null instead of closing it).
    unsafe { BorrowedFd::borrow_raw(CONTROL) }
}

/// The forward pass's checkpoint taking, kept in the replay's state.
pub(super) struct Checkpointing {
    schedule: Schedule,
    /// A checkpoint is to be taken once the call being made is served
    /// (its stack is captured for it).
    pub(super) due: bool,
    countdown: u32,
    last_progress: Instant,
}

impl Checkpointing {
    fn new(schedule: Schedule) -> Checkpointing {
        Checkpointing {
            schedule,
            due: true,
            countdown: CALLS_PER_LOOK,
            last_progress: Instant::now(),
        }
    }
}

/// What a checkpoint's child is to answer, once its replay has stopped.
struct Request {
    /// The checkpoint's call.
    from: u64,
    seq: u64,
    regions: Vec<(u32, u32)>,
    answer: OwnedFd,
}

/// Set in a checkpoint's child: it answers instead of serving as the pass.
static REQUEST: Mutex<Option<Request>> = Mutex::new(None);

/// `wtrace __timetravel`: the forward pass, then waits until the machine
/// goes (the checkpoints die with this process). Never returns in a
/// checkpoint or its children.
pub fn serve(trace: &Path, module: Option<PathBuf>, spacing: Spacing, max: usize) -> Result<()> {
    send(control(), &Event::Hello, None)?;
    let opts = ReplayOptions {
        module,
        quiet: true,
        ..ReplayOptions::default()
    };
    let pass = Checkpointing::new(Schedule::new(spacing, max));
    let result = super::run(trace, opts, Some(pass));
    let request = REQUEST.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(request) = request {
        answer(request, result);
        // SAFETY: ends this forked child without running the destructors
        // of what it shares with its checkpoint.
        unsafe { nix::libc::_exit(0) }
    }
    let (calls, error) = match result {
        Ok((ReplayEnd::Finished(_), _)) => (None, None),
        Ok((ReplayEnd::Stopped { calls, .. }, _)) => (Some(calls), None),
        Ok((ReplayEnd::Diverged(d), _)) => (Some(d.seq), Some(d.to_string())),
        Err(e) => (Some(0), Some(format!("{e:#}"))),
    };
    send(control(), &Event::Finished { calls, error }, None)?;
    reap_checkpoints(WaitPidFlag::WNOHANG);
    // SAFETY: no handler is replaced; ignoring SIGCHLD reaps the
    // checkpoints that end from now on.
    unsafe {
        let _ = nix::sys::signal::signal(Signal::SIGCHLD, nix::sys::signal::SigHandler::SigIgn);
    }
    while let Ok(Some(_)) = receive::<Event>(control()) {}
    Ok(())
}

/// After call `i` of the chunk was served: takes a checkpoint when one is
/// due; in a checkpoint's child, sets the replay to stop at the call asked.
pub(super) fn at_call(
    state: &mut ReplayState,
    i: usize,
    stack: Option<&WasmBacktrace>,
) -> wasmtime::Result<()> {
    let Some(pass) = state.checkpointing.as_mut() else {
        return Ok(());
    };
    let seq = state.chunk.first_seq() + i as u64;
    if pass.due {
        if let Some(request) = take_checkpoint(pass, seq) {
            return become_the_answerer(state, i, stack, request);
        }
    }
    look_ahead(pass, seq + 1);
    Ok(())
}

/// Decides whether the next call is a checkpoint; says how far the pass
/// got now and then, and stops when the machine is gone.
fn look_ahead(pass: &mut Checkpointing, next: u64) {
    if pass.schedule.counts_calls() {
        pass.due = pass.schedule.due(next, Duration::ZERO);
    }
    pass.countdown -= 1;
    if pass.countdown > 0 {
        return;
    }
    pass.countdown = CALLS_PER_LOOK;
    if !pass.schedule.counts_calls() {
        pass.due = pass.schedule.due(next, cpu_time());
    }
    if pass.last_progress.elapsed() >= PROGRESS_EVERY {
        pass.last_progress = Instant::now();
        tell(&Event::Progress { calls: next }, None);
    }
}

/// The CPU time this process has used (the pass is single-threaded).
fn cpu_time() -> Duration {
    let clock = nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID;
    nix::time::clock_gettime(clock).map_or(Duration::ZERO, Duration::from)
}

/// Forks a checkpoint at call `seq` and hands its socket to the machine.
/// Returns in the pass (`None`) and, with its request, in each child the
/// checkpoint forks; the checkpoint itself never returns. When no process
/// or socket can be made now, the pass goes on without this checkpoint.
fn take_checkpoint(pass: &mut Checkpointing, seq: u64) -> Option<Request> {
    pass.due = false;
    reap_checkpoints(WaitPidFlag::WNOHANG);
    let (ours, theirs) = crate::timetravel::protocol::packet_pair().ok()?;
    let parent = nix::unistd::getpid();
    // SAFETY: this process is single-threaded (see the module's comment).
    match unsafe { fork() }.ok()? {
        ForkResult::Child => {
            drop(ours);
            die_with(parent);
            // The control socket is the pass's: the machine must see it
            // close when the pass ends, whatever checkpoints remain.
            if let Ok(null) = std::fs::File::open("/dev/null") {
                let _ = nix::unistd::dup2_stdin(null);
            }
            Some(checkpoint(theirs, seq))
        }
        ForkResult::Parent { child } => {
            drop(theirs);
            let pid = child.as_raw() as u32;
            tell(&Event::Checkpoint { seq, pid }, Some(ours.as_fd()));
            let seqs = pass.schedule.taken(seq, cpu_time());
            if !seqs.is_empty() {
                tell(&Event::Dropped { seqs }, None);
            }
            None
        }
    }
}

/// Tells the machine; when it is gone, so is the point of this pass (and
/// the checkpoints end with it).
fn tell(event: &Event, fd: Option<BorrowedFd>) {
    if send(control(), event, fd).is_err() {
        std::process::exit(0);
    }
}

/// Reaps the checkpoints that have ended (those the machine let go).
fn reap_checkpoints(flags: WaitPidFlag) {
    while let Ok(status) = waitpid(None::<Pid>, Some(flags)) {
        if status == nix::sys::wait::WaitStatus::StillAlive {
            break;
        }
    }
}

/// A forked process dies with the one that forked it (SIGKILL), even when
/// that one is killed outright.
fn die_with(parent: Pid) {
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    // It may have died before the line above.
    if nix::unistd::getppid() != parent {
        // SAFETY: ends this forked child at once.
        unsafe { nix::libc::_exit(0) }
    }
}

/// A checkpoint: waits for orders on its socket and forks a child for
/// each request, which returns with it; exits once the machine closes the
/// socket (after its children end).
fn checkpoint(socket: OwnedFd, from: u64) -> Request {
    let me = nix::unistd::getpid();
    loop {
        match receive::<Order>(socket.as_fd()) {
            Ok(Some((Order::State { seq, regions }, Some(answer)))) => {
                // SAFETY: a checkpoint is single-threaded, as the pass.
                match unsafe { fork() } {
                    Ok(ForkResult::Child) => {
                        drop(socket);
                        die_with(me);
                        let pid = nix::unistd::getpid().as_raw() as u32;
                        if write_answer(answer.as_fd(), &Answer::Started { pid }).is_err() {
                            // Cancelled before it began.
                            unsafe { nix::libc::_exit(0) }
                        }
                        return Request {
                            from,
                            seq,
                            regions,
                            answer,
                        };
                    }
                    Ok(ForkResult::Parent { .. }) => {}
                    Err(e) => {
                        let why = Answer::State(Err(format!("cannot fork: {e}")));
                        let _ = write_answer(answer.as_fd(), &why);
                    }
                }
            }
            Ok(Some((Order::Reap { pid }, _))) => {
                let _ = waitpid(Pid::from_raw(pid as i32), None);
            }
            Ok(Some((Order::State { .. }, None))) => {}
            Ok(None) | Err(_) => {
                reap_checkpoints(WaitPidFlag::empty());
                // SAFETY: ends the checkpoint without the destructors of
                // what it shares with the pass.
                unsafe { nix::libc::_exit(0) }
            }
        }
    }
}

/// In a checkpoint's child, taken after call `i` of the chunk: the replay
/// is to stop once the call asked for has returned (at once when it is
/// this one) and keep the state there.
fn become_the_answerer(
    state: &mut ReplayState,
    i: usize,
    stack: Option<&WasmBacktrace>,
    request: Request,
) -> wasmtime::Result<()> {
    state.checkpointing = None;
    let seq = request.seq;
    let here = state.chunk.first_seq() + i as u64;
    state.opts.until = Some(seq);
    state.opts.keep_state = true;
    *REQUEST.lock().unwrap_or_else(|e| e.into_inner()) = Some(request);
    if seq != here {
        // This child forks no more: the chunks may be decoded on the
        // other core.
        return state
            .chunks
            .go_ahead()
            .map_err(|e| wasmtime::Error::msg(format!("{e:#}")));
    }
    state.until_call = Some(state.chunk.call(i));
    state.until_stack = stack.map(stack::frames);
    let reason = format!("stopped after call #{seq} (time travel)");
    Err(wasmtime::Error::new(StopHere { reason, code: 0 }))
}

/// The child's answer: the state its replay kept, or why there is none.
fn answer(request: Request, result: Result<(ReplayEnd, Option<CallState>)>) {
    let state = super::kept_state(result, request.seq).map_err(|e| format!("{e:#}"));
    let snapshot = state.map(|s| Snapshot {
        replayed_from: request.from,
        // A forked child's CPU clock starts at zero.
        cpu_ns: cpu_time().as_nanos() as u64,
        ..Snapshot::of(s, &request.regions)
    });
    let _ = write_answer(request.answer.as_fd(), &Answer::State(snapshot));
}
