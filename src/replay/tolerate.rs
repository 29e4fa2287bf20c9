//! `replay --allow-extra-writes`: replaying a rebuilt module that prints
//! more than the recorded one did.
//!
//! A call the recording lacks is tolerated in three cases, and in no other:
//!
//! - a write to fd 1 or 2 (`fd_write`, any call that hands the host a
//!   ciovec list): performed for real, on wtrace's own stdout or stderr;
//!   the recorded call stays next in line;
//! - a clock read (`clock_time_get`, `clock_res_get`: the `%clock` class):
//!   served the last value recorded for that function and clock (or,
//!   before any, the next one recorded in the chunk being served); the
//!   recorded call stays next in line. Time stands still across the extra
//!   reads;
//! - a sleep (a `poll_oneoff` whose subscriptions are all clocks, as Go's
//!   scheduler makes when it waits for a timer): every subscription fires
//!   at once; the recorded call stays next in line;
//! - where the recording has a clock read or a sleep the guest does not
//!   make now: it is passed over (a clock's value is remembered for the
//!   reads above). When the guest's call is a write to stdout or stderr, it
//!   is passed over only if the first recorded call after the clock reads
//!   and sleeps (within 1024 calls) is that write;
//!   otherwise the write is an extra one.
//!
//! Everything else is served from the trace and compared as in a plain
//! replay: the first other difference is a divergence.

use super::serve::ReplayState;
use crate::capture;
use crate::names::Value;
use crate::syscalls::{Class, FuncId, Kind, Out, Syscall};
use crate::trace::{Call, RunEnd};
use std::collections::HashMap;
use std::io::Write;

/// preview1's errno for an address outside guest memory.
const EFAULT: i32 = 21;

/// What was tolerated, for the closing line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tolerated {
    /// Writes to stdout/stderr the recording lacks, performed for real.
    pub extra_writes: u64,
    /// Clock reads the recording lacks, served from neighbouring values.
    pub extra_clock_reads: u64,
    /// Sleeps (polls on clocks only) the recording lacks, fired at once.
    pub extra_sleeps: u64,
    /// Recorded clock reads and sleeps the guest no longer made, passed over.
    pub skipped_timing_calls: u64,
    /// The last value served or passed over, per function and clock id.
    last_clock: HashMap<(FuncId, u64), u64>,
}

impl Tolerated {
    pub fn any(&self) -> bool {
        self.extra_writes + self.extra_clock_reads + self.extra_sleeps + self.skipped_timing_calls
            > 0
    }

    /// `wtrace: --allow-extra-writes: ...`, the line replay ends with.
    pub fn summary(&self) -> String {
        let n = |k: u64, what: &str| format!("{k} {what}{}", if k == 1 { "" } else { "s" });
        format!(
            "wtrace: --allow-extra-writes: performed {} the recording lacks; served {} and {} the recording lacks from recorded values; passed over {} recorded clock reads and sleeps not made now",
            n(self.extra_writes, "write"),
            n(self.extra_clock_reads, "clock read"),
            n(self.extra_sleeps, "sleep"),
            self.skipped_timing_calls,
        )
    }

    /// Remembers the value of a recorded clock read, served or passed over.
    pub(super) fn saw(&mut self, call: &Call) {
        if let Some((id, time)) = clock_reading(call) {
            self.last_clock.insert((call.func, id), time);
        }
    }
}

/// For a clock read (the `%clock` class): the index of its clock id and of
/// its timestamp out-parameter.
fn clock_params(sys: &Syscall) -> Option<(usize, usize)> {
    if sys.class != Class::Clock {
        return None;
    }
    let id = sys.param_where(|k| k == Kind::Value(Value::ClockId))?;
    let out = sys.param_where(|k| k == Kind::Out(Out::Timestamp))?;
    Some((id, out))
}

/// The clock id and the time a successful recorded clock read returned.
fn clock_reading(call: &Call) -> Option<(u64, u64)> {
    let (id, _) = clock_params(call.func.syscall()?)?;
    if call.outcome.is_error() {
        return None;
    }
    let bytes = call.writes.first()?.bytes.get(..8)?;
    Some((
        *call.args.get(id)?,
        u64::from_le_bytes(bytes.try_into().ok()?),
    ))
}

/// What to do with a call that differs from the recorded one.
pub(super) enum Unmatched {
    /// Served without the recording (the errno to return): the recorded
    /// call stays next in line.
    Served(i32),
    /// The recorded call is a clock read the guest no longer makes: pass
    /// over it and compare with the one after.
    PassOver,
    /// Not tolerated: a divergence.
    Diverges,
}

/// Decides about the guest's call `made` where the recording has `recorded`
/// (none past the end of the recording), and serves it when tolerated.
pub(super) fn unmatched(
    state: &mut ReplayState,
    sys: &Syscall,
    made: &Call,
    recorded: Option<&Call>,
    memory: &mut [u8],
) -> Unmatched {
    if let Some(served) = extra_timing_call(state, sys, made, memory) {
        return Unmatched::Served(served);
    }
    let stdio = stdio_write_fd(sys, &made.args);
    if recorded.is_some_and(is_timing) {
        // The guest left out a recorded clock read or sleep, unless its
        // write is an extra one and the recording goes on with other calls.
        if stdio.is_none() || made_next_after_timing(state, made) {
            state.tolerated.skipped_timing_calls += 1;
            return Unmatched::PassOver;
        }
    }
    if let Some(fd) = stdio {
        state.tolerated.extra_writes += 1;
        return Unmatched::Served(write_for_real(state, sys, made, fd, memory));
    }
    Unmatched::Diverges
}

/// An extra clock read (served the neighbouring recorded value) or sleep
/// (every clock subscription fires at once); `None` when `made` is neither.
fn extra_timing_call(
    state: &mut ReplayState,
    sys: &Syscall,
    made: &Call,
    memory: &mut [u8],
) -> Option<i32> {
    if let Some((id, out)) = clock_params(sys) {
        let id = made.args.get(id).copied().unwrap_or(0);
        let out = made.args.get(out).copied().unwrap_or(0) as usize;
        let time = neighbouring_time(state, made.func, id)?;
        memory
            .get_mut(out..out + 8)?
            .copy_from_slice(&time.to_le_bytes());
        state.tolerated.extra_clock_reads += 1;
        return Some(0);
    }
    let subscriptions = sleep_subscriptions(made)?;
    let events = sys.param_where(|k| matches!(k, Kind::Events { .. }))?;
    let Kind::Events { filled } = sys.params[events].kind else {
        return None;
    };
    let at = |i: usize| made.args.get(i).copied().unwrap_or(0) as usize;
    for (k, sub) in subscriptions.chunks_exact(SUBSCRIPTION).enumerate() {
        let start = at(events) + k * EVENT;
        let event = memory.get_mut(start..start + EVENT)?;
        event.fill(0);
        // userdata; error 0; type 0 (clock).
        event[..8].copy_from_slice(&sub[..8]);
    }
    let n = (subscriptions.len() / SUBSCRIPTION) as u32;
    memory
        .get_mut(at(filled)..at(filled) + 4)?
        .copy_from_slice(&n.to_le_bytes());
    state.tolerated.extra_sleeps += 1;
    Some(0)
}

/// preview1's `subscription` and `event` sizes.
const SUBSCRIPTION: usize = 48;
const EVENT: usize = 32;

/// The subscriptions of a poll (the `%poll` class) that only waits for
/// clocks: a sleep or a scheduler's timer, whose number depends on timing.
fn sleep_subscriptions(call: &Call) -> Option<&[u8]> {
    let sys = call.func.syscall()?;
    let param = sys.param_where(|k| matches!(k, Kind::Subscriptions { .. }))?;
    if sys.class != Class::Poll {
        return None;
    }
    let subs = &call.reads.iter().find(|m| m.param as usize == param)?.bytes;
    // Byte 8 of a subscription is its tag: 0 is a clock.
    let clocks_only = !subs.is_empty()
        && subs.len() % SUBSCRIPTION == 0
        && subs.chunks_exact(SUBSCRIPTION).all(|s| s[8] == 0);
    clocks_only.then_some(&subs[..])
}

/// A clock read or a sleep: calls whose number depends on timing.
fn is_timing(call: &Call) -> bool {
    clock_reading(call).is_some() || sleep_subscriptions(call).is_some()
}

/// How far ahead of a guest's write the recording is searched for it
/// past clock reads and sleeps.
const LOOKAHEAD: usize = 1024;

/// Whether the first recorded call after the clock reads and sleeps in
/// line is `made`, within [`LOOKAHEAD`] calls (looking into the next chunk
/// when this one ends first).
fn made_next_after_timing(state: &mut ReplayState, made: &Call) -> bool {
    let from = state.pos.saturating_sub(1);
    let in_chunk = state.chunk.len() - from;
    let next = (from..state.chunk.len().min(from + LOOKAHEAD))
        .map(|i| state.chunk.call(i))
        .find(|c| !is_timing(c));
    let next = match next {
        Some(c) => c,
        None if in_chunk < LOOKAHEAD && state.next - 1 + (in_chunk as u64) < state.total => {
            if state.ahead.is_none() {
                state.ahead = state.chunks.receive().ok();
            }
            let Some(ahead) = &state.ahead else {
                return false;
            };
            let Some(c) = (0..ahead.len().min(LOOKAHEAD - in_chunk))
                .map(|i| ahead.call(i))
                .find(|c| !is_timing(c))
            else {
                return false;
            };
            c
        }
        None => return false,
    };
    crate::compare::inputs(&next, made).is_none()
}

/// True when the guest may write past the last recorded call: the
/// recording ended with the guest's own exit, not a stop.
pub(super) fn may_write_past_the_end(state: &ReplayState) -> bool {
    matches!(
        state.end.as_ref().map(|e| &e.run_end),
        Some(RunEnd::Exit(_) | RunEnd::Trap(_))
    )
}

/// The fd (1 or 2) when the call hands bytes to stdout or stderr.
pub(super) fn stdio_write_fd(sys: &Syscall, args: &[u64]) -> Option<u32> {
    sys.param_where(|k| matches!(k, Kind::Ciovecs { .. }))?;
    let fd = *args.get(sys.fd_param()?)?;
    matches!(fd, 1 | 2).then_some(fd as u32)
}

/// Writes the guest's bytes to wtrace's stdout or stderr (not with
/// `--quiet`) and tells the guest they were all written.
fn write_for_real(
    state: &ReplayState,
    sys: &Syscall,
    made: &Call,
    fd: u32,
    memory: &mut [u8],
) -> i32 {
    let Some((param, consumed)) = sys.find_param(|k| match k {
        Kind::Ciovecs { consumed, .. } => Some(consumed),
        _ => None,
    }) else {
        return 0;
    };
    let data = capture::ciovec_data(&made.reads, param, usize::MAX);
    if !state.opts.quiet {
        // As replay's own output: a closed pipe does not stop the replay.
        let _ = if fd == 1 {
            std::io::stdout().write_all(&data)
        } else {
            std::io::stderr().write_all(&data)
        };
    }
    let out = made.args.get(consumed).copied().unwrap_or(0) as usize;
    match memory.get_mut(out..out + 4) {
        Some(dst) => {
            dst.copy_from_slice(&(data.len() as u32).to_le_bytes());
            0
        }
        None => EFAULT,
    }
}

/// The time for an extra clock read: the last recorded value of that
/// function and clock, else the next recorded one in the chunk being served.
fn neighbouring_time(state: &ReplayState, func: FuncId, id: u64) -> Option<u64> {
    if let Some(t) = state.tolerated.last_clock.get(&(func, id)) {
        return Some(*t);
    }
    (state.pos.saturating_sub(1)..state.chunk.len())
        .map(|i| state.chunk.call(i))
        .filter(|c| c.func == func)
        .find_map(|c| clock_reading(&c).filter(|(cid, _)| *cid == id))
        .map(|(_, t)| t)
}
