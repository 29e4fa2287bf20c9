//! `--chaos SEED[:RATE]`: at a seeded random subset of calls, a fault a
//! real host may produce — short reads and writes, EAGAIN on a non-blocking
//! fd, EINTR on a call that may block, a clock that jumps forward,
//! poll_oneoff returning early. Whether call N gets a fault, and which,
//! depends only on the seed, N and the call: the same seed, program and
//! inputs give the same injections.

use super::{spec, Fault, Plan};
use crate::capture::SUBSCRIPTION_SIZE;
use crate::matcher::CallFacts;
use crate::names::Value;
use crate::syscalls::{FdEffect, Kind, Out, Syscall};
use crate::trace::{CallView, Chaos, Injection, Outcome};
use std::collections::HashSet;

/// preview1's errnos for "try again" and "interrupted".
const EAGAIN: u16 = 6;
const EINTR: u16 = 27;
/// `fdflags.nonblock`.
const NONBLOCK: u64 = 1 << 2;
/// The `eventtype` tag of a clock subscription.
pub const SUBSCRIPTION_CLOCK: u8 = 0;

pub struct ChaosState {
    config: Chaos,
    /// How far each clock has jumped so far: later readings keep the jump,
    /// so no clock runs backwards.
    jumped: [i64; 4],
    nonblocking: HashSet<u32>,
}

impl ChaosState {
    pub fn new(config: Chaos) -> ChaosState {
        ChaosState {
            config,
            jumped: [0; 4],
            nonblocking: HashSet::new(),
        }
    }

    pub fn config(&self) -> Chaos {
        self.config
    }

    pub fn plan(&mut self, sys: &Syscall, c: &CallFacts<'_>) -> Option<Plan> {
        let r = splitmix64(self.config.seed ^ splitmix64(c.seq));
        let hit = r % 1_000_000 < self.config.rate_ppm as u64;
        let pick = splitmix64(r);
        let fault = if hit { self.fault(sys, c, pick) } else { None };
        let clock = super::clock_reading(sys, c.args).map(|(clock, _)| clock);
        match (fault, clock) {
            (Some(Fault::Offset(jump)), Some(clock)) => {
                self.jumped[clock] = self.jumped[clock].saturating_add(jump);
                Some(plan(Injection::CHAOS, Fault::Offset(self.jumped[clock])))
            }
            (Some(fault), _) => Some(plan(Injection::CHAOS, fault)),
            // Not a jump, but the clock keeps the jumps made so far.
            (None, Some(clock)) if self.jumped[clock] != 0 => {
                Some(plan(Injection::NONE, Fault::Offset(self.jumped[clock])))
            }
            (None, _) => None,
        }
    }

    /// A fault a real host may produce for this call, if there is one.
    fn fault(&self, sys: &Syscall, c: &CallFacts<'_>, pick: u64) -> Option<Fault> {
        if spec::reads_a_clock(sys) {
            // 1 ms to 1 s forward.
            return Some(Fault::Offset(1_000_000 + (pick % 999_000_000) as i64));
        }
        if spec::transfer_param(sys).is_some() {
            let fd = sys.fd_param().and_then(|i| c.args.get(i)).copied();
            let nonblocking = fd.is_some_and(|fd| self.nonblocking.contains(&(fd as u32)));
            let len = super::transfer_len(sys, c);
            return match pick % 3 {
                0 if nonblocking => Some(Fault::Error(EAGAIN)),
                0 => Some(Fault::Error(EINTR)),
                _ if len >= 2 => Some(Fault::Short(1 + ((pick >> 8) % (len - 1)) as u32)),
                _ => None,
            };
        }
        if let Some(i) = sys.param_where(|k| matches!(k, Kind::Subscriptions { .. })) {
            // Only a pure sleep returns early: the guest then sees its
            // timeout fire before the time is up, as a host may do.
            let subs = c.reads.of_param(i).next()?;
            let all_clocks = subs
                .chunks_exact(SUBSCRIPTION_SIZE as usize)
                .all(|s| s[8] == SUBSCRIPTION_CLOCK);
            return (all_clocks && !subs.is_empty()).then_some(Fault::EarlyPoll);
        }
        None
    }

    /// Keeps the set of non-blocking fds up to date, from the table's fd
    /// effects and `fdflags` parameters.
    pub fn observe(&mut self, call: &CallView<'_>) {
        let Some(sys) = call.func.syscall() else {
            return;
        };
        if *call.outcome != Outcome::Errno(0) {
            return;
        }
        let arg = |i: usize| call.args.get(i).copied().unwrap_or(0);
        let flags = sys
            .param_where(|k| k == Kind::Value(Value::FdFlags))
            .map(|i| arg(i) & NONBLOCK != 0);
        let fd = sys.fd_param().map(|i| arg(i) as u32);
        match sys.fd_effect {
            FdEffect::Opens => {
                let Some(out) = sys.param_where(|k| k == Kind::Out(Out::Fd)) else {
                    return;
                };
                let writes: Vec<_> = call.writes.of_param(out).collect();
                if let (Some(new), Some(nb)) = (writes.first(), flags) {
                    if let Ok(b) = <[u8; 4]>::try_from(&new[..new.len().min(4)]) {
                        self.set(u32::from_le_bytes(b), nb);
                    }
                }
            }
            FdEffect::Closes => {
                if let Some(fd) = fd {
                    self.nonblocking.remove(&fd);
                }
            }
            FdEffect::Renumbers => {
                let to = sys
                    .params
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.kind == Kind::Value(Value::Fd))
                    .nth(1)
                    .map(|(i, _)| arg(i) as u32);
                if let (Some(from), Some(to)) = (fd, to) {
                    let nb = self.nonblocking.remove(&from);
                    self.set(to, nb);
                }
            }
            // fd_fdstat_set_flags: an fd and its new flags.
            FdEffect::None | FdEffect::NamesPreopen => {
                if let (Some(fd), Some(nb)) = (fd, flags) {
                    self.set(fd, nb);
                }
            }
        }
    }

    fn set(&mut self, fd: u32, nonblocking: bool) {
        if nonblocking {
            self.nonblocking.insert(fd);
        } else {
            self.nonblocking.remove(&fd);
        }
    }
}

fn plan(injection: Injection, fault: Fault) -> Plan {
    Plan {
        injection,
        fault,
        delay_enter: None,
        delay_exit: None,
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a fixed, well-mixed function of
/// its input, so a call's fate depends on the seed and its number alone.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
