//! Fault injection while recording: `record --inject SPEC` (strace's
//! grammar, WASI's actions) and `record --chaos SEED[:RATE]` (faults a real
//! host may produce, at a seeded random subset of calls).
//!
//! The recorder asks [`Injector::plan`] before each call (after its reads
//! are captured). A plan may serve the call instead of the host
//! ([`Injector::serve`]: an errno, random bytes, an early poll), change what
//! the host is asked ([`Injector::before_host`]: fewer bytes), or change what
//! it returned ([`Injector::after_host`]: the clock). Either way the guest
//! memory the call leaves is captured as for any call, so replay serves an
//! injected call like any other.

mod chaos;
mod spec;

pub use spec::{parse_chaos, Action, InjectSpec};

use crate::capture::{self, EVENT_SIZE, SUBSCRIPTION_SIZE};
use crate::matcher::CallFacts;
use crate::names::Value;
use crate::syscalls::{self, Kind, Out, Syscall};
use crate::trace::{CallView, Chaos, Faults, Injection};
use chaos::ChaosState;
use std::time::Duration;

/// What to do to one call, decided before it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// How the trace marks the call.
    pub injection: Injection,
    fault: Fault,
    pub delay_enter: Option<Duration>,
    pub delay_exit: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Only delays.
    None,
    Error(u16),
    Zero,
    /// Random bytes from spec `k`'s seeded stream.
    Seeded(usize),
    /// The clock reading moves by this much.
    Offset(i64),
    /// Spec `k`'s `at=`: the first reading of each clock becomes this time.
    At(usize, i64),
    /// Spec `k`'s `freeze`.
    Freeze(usize),
    Short(u32),
    /// poll_oneoff returns at once with its first clock subscription fired.
    EarlyPoll,
}

/// The iovec list of a shortened call, as the guest wrote it: put back
/// after the host has run.
pub struct SavedList {
    addr: u32,
    bytes: Vec<u8>,
}

struct SpecState {
    spec: InjectSpec,
    /// Matching calls so far, per function: strace counts `when=` per syscall.
    counts: Vec<u64>,
    random: Option<blake3::OutputReader>,
    /// Per clock id: the offset `at=` settled on, or the reading `freeze` keeps.
    clocks: [Option<i64>; 4],
}

/// The injections of one recording.
pub struct Injector {
    specs: Vec<SpecState>,
    chaos: Option<ChaosState>,
}

impl Injector {
    pub fn new(specs: Vec<InjectSpec>, chaos: Option<Chaos>) -> Injector {
        let specs = specs
            .into_iter()
            .map(|spec| SpecState {
                random: match spec.action {
                    Action::Seed(seed) => Some(seeded_stream(seed)),
                    _ => None,
                },
                spec,
                counts: vec![0; syscalls::SYSCALLS.len()],
                clocks: [None; 4],
            })
            .collect();
        Injector {
            specs,
            chaos: chaos.map(ChaosState::new),
        }
    }

    /// What the trace header keeps of it.
    pub fn faults(&self) -> Faults {
        Faults {
            injections: self.specs.iter().map(|s| s.spec.text.clone()).collect(),
            chaos: self.chaos.as_ref().map(ChaosState::config),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty() && self.chaos.is_none()
    }

    /// Decides, before the host is asked, what happens to call `c` of `sys`.
    /// Every spec counts its matches; the first whose `when=` selects this
    /// one injects, else chaos may.
    pub fn plan(&mut self, sys: &Syscall, c: &CallFacts<'_>) -> Option<Plan> {
        let mut chosen = None;
        for (k, s) in self.specs.iter_mut().enumerate() {
            if !s.spec.pattern.matches(c) {
                continue;
            }
            let count = &mut s.counts[sys.func as usize];
            *count += 1;
            if chosen.is_none() && s.spec.when.includes(*count) {
                chosen = Some(k);
            }
        }
        if let Some(k) = chosen {
            return self.spec_plan(k, sys, c);
        }
        let chaos = self.chaos.as_mut()?;
        chaos.plan(sys, c)
    }

    fn spec_plan(&self, k: usize, sys: &Syscall, c: &CallFacts<'_>) -> Option<Plan> {
        let spec = &self.specs[k].spec;
        let fault = match spec.action {
            Action::Error(e) => Fault::Error(e),
            Action::Zero => Fault::Zero,
            Action::Seed(_) => Fault::Seeded(k),
            Action::Offset(ns) => Fault::Offset(ns),
            Action::At(t) => Fault::At(k, t),
            Action::Freeze => Fault::Freeze(k),
            // A transfer already that short is not shortened.
            Action::Short(n) if transfer_len(sys, c) <= n as u64 => Fault::None,
            Action::Short(n) => Fault::Short(n),
            Action::None => Fault::None,
        };
        if fault == Fault::None && spec.delay_enter.is_none() && spec.delay_exit.is_none() {
            return None;
        }
        Some(Plan {
            injection: Injection::spec(k),
            fault,
            delay_enter: spec.delay_enter,
            delay_exit: spec.delay_exit,
        })
    }

    /// Serves the call instead of the host, when the plan says so: writes
    /// guest memory and returns the errno.
    pub fn serve(
        &mut self,
        plan: &Plan,
        sys: &Syscall,
        args: &[u64],
        memory: &mut [u8],
    ) -> Option<i32> {
        let arg = |i: usize| args.get(i).copied().unwrap_or(0) as u32;
        match plan.fault {
            Fault::Error(e) => Some(e as i32),
            Fault::Zero | Fault::Seeded(_) => {
                let (i, len) = sys.find_param(|k| match k {
                    Kind::Buf { len, .. } => Some(len),
                    _ => None,
                })?;
                let buf = slice_mut(memory, arg(i), arg(len));
                match plan.fault {
                    Fault::Seeded(k) => self.specs[k].random.as_mut()?.fill(buf),
                    _ => buf.fill(0),
                }
                Some(0)
            }
            Fault::EarlyPoll => early_poll(sys, args, memory),
            Fault::None | Fault::Offset(_) | Fault::At(..) | Fault::Freeze(_) | Fault::Short(_) => {
                None
            }
        }
    }

    /// Before the host runs a shortened transfer: caps the guest's iovec
    /// list at the plan's byte count. [`Injector::after_host`] puts it back.
    pub fn before_host(
        &self,
        plan: &Plan,
        sys: &Syscall,
        args: &[u64],
        memory: &mut [u8],
    ) -> Option<SavedList> {
        let Fault::Short(n) = plan.fault else {
            return None;
        };
        let i = spec::transfer_param(sys)?;
        let count = match sys.params[i].kind {
            Kind::Iovecs { count, .. } | Kind::Ciovecs { count, .. } => count,
            _ => return None,
        };
        let addr = args.get(i).copied().unwrap_or(0) as u32;
        let len =
            (args.get(count).copied().unwrap_or(0) as u32).saturating_mul(capture::IOVEC_SIZE);
        let list = slice_mut(memory, addr, len);
        let saved = SavedList {
            addr,
            bytes: list.to_vec(),
        };
        let mut left = n;
        for entry in list.chunks_exact_mut(capture::IOVEC_SIZE as usize) {
            let len = u32::from_le_bytes(entry[4..8].try_into().expect("4 bytes"));
            let take = len.min(left);
            entry[4..8].copy_from_slice(&take.to_le_bytes());
            left -= take;
        }
        Some(saved)
    }

    /// After the host ran the call: puts a shortened iovec list back, and
    /// moves a clock reading.
    pub fn after_host(
        &mut self,
        plan: &Plan,
        sys: &Syscall,
        args: &[u64],
        memory: &mut [u8],
        saved: Option<SavedList>,
        ok: bool,
    ) {
        if let Some(saved) = saved {
            // The saved list was clamped to memory the same way.
            slice_mut(memory, saved.addr, saved.bytes.len() as u32).copy_from_slice(&saved.bytes);
        }
        if !ok {
            return;
        }
        let Some((clock, addr)) = clock_reading(sys, args) else {
            return;
        };
        let out = slice_mut(memory, addr, 8);
        let Ok(bytes) = <[u8; 8]>::try_from(&*out) else {
            return;
        };
        let now = u64::from_le_bytes(bytes) as i64;
        let moved = match plan.fault {
            Fault::Offset(ns) => now.saturating_add(ns),
            Fault::At(k, t) => {
                let offset = *self.specs[k].clocks[clock].get_or_insert(t - now);
                now.saturating_add(offset)
            }
            Fault::Freeze(k) => *self.specs[k].clocks[clock].get_or_insert(now),
            _ => return,
        };
        out.copy_from_slice(&(moved.max(0) as u64).to_le_bytes());
    }

    /// Follows a finished call (chaos needs to know which fds are
    /// non-blocking).
    pub fn observe(&mut self, call: &CallView<'_>) {
        if let Some(chaos) = &mut self.chaos {
            chaos.observe(call);
        }
    }
}

/// A stream of bytes that depends only on `seed`.
fn seeded_stream(seed: u64) -> blake3::OutputReader {
    let mut h = blake3::Hasher::new_derive_key("wtrace 2026 random_get seed");
    h.update(&seed.to_le_bytes());
    h.finalize_xof()
}

/// Bytes the call's iovec list spans (0 without one).
fn transfer_len(sys: &Syscall, c: &CallFacts<'_>) -> u64 {
    let Some(i) = spec::transfer_param(sys) else {
        return 0;
    };
    c.reads.of_param(i).next().map_or(0, |list| {
        capture::iovecs(list).map(|(_, len)| len as u64).sum()
    })
}

/// For a clock read: the clock id (0–3) and where the timestamp goes.
fn clock_reading(sys: &Syscall, args: &[u64]) -> Option<(usize, u32)> {
    if !spec::reads_a_clock(sys) {
        return None;
    }
    let id = sys.param_where(|k| k == Kind::Value(Value::ClockId))?;
    let out = sys.param_where(|k| k == Kind::Out(Out::Timestamp))?;
    let clock = *args.get(id)? as usize;
    (clock < 4).then_some((clock, *args.get(out)? as u32))
}

/// poll_oneoff woken at once: one event, for the first clock subscription.
fn early_poll(sys: &Syscall, args: &[u64], memory: &mut [u8]) -> Option<i32> {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0) as u32;
    let (subs, count) = sys.find_param(|k| match k {
        Kind::Subscriptions { count } => Some(count),
        _ => None,
    })?;
    let (events, nevents) = sys.find_param(|k| match k {
        Kind::Events { filled } => Some(filled),
        _ => None,
    })?;
    let list = slice_mut(
        memory,
        arg(subs),
        arg(count).saturating_mul(SUBSCRIPTION_SIZE),
    )
    .to_vec();
    let clock = list
        .chunks_exact(SUBSCRIPTION_SIZE as usize)
        .find(|s| s[8] == chaos::SUBSCRIPTION_CLOCK)?;
    let mut event = [0u8; EVENT_SIZE as usize];
    event[..8].copy_from_slice(&clock[..8]); // userdata
    event[10] = chaos::SUBSCRIPTION_CLOCK; // type; error 0
    let out = slice_mut(memory, arg(events), EVENT_SIZE);
    let n = out.len();
    out.copy_from_slice(&event[..n]);
    let count_out = slice_mut(memory, arg(nevents), 4);
    let n = count_out.len();
    count_out.copy_from_slice(&1u32.to_le_bytes()[..n]);
    Some(0)
}

fn slice_len(memory: &[u8], addr: u32, len: u32) -> usize {
    let start = (addr as usize).min(memory.len());
    start.saturating_add(len as usize).min(memory.len()) - start
}

/// Guest memory, clamped to its size: a bad pointer writes nothing.
fn slice_mut(memory: &mut [u8], addr: u32, len: u32) -> &mut [u8] {
    let start = (addr as usize).min(memory.len());
    let n = slice_len(memory, addr, len);
    &mut memory[start..start + n]
}

impl Plan {
    /// True when the plan serves the call without the host.
    pub fn replaces_host(&self) -> bool {
        matches!(
            self.fault,
            Fault::Error(_) | Fault::Zero | Fault::Seeded(_) | Fault::EarlyPoll
        )
    }
}

/// What `dump` appends to an injected call: ` (INJECTED)`, or
/// ` (DELAYED)` for a spec that only delays, as strace marks them. Made
/// once per trace from its header.
#[derive(Clone, Debug, Default)]
pub struct Marks {
    /// Per `--inject` spec: it only delays.
    delay_only: Vec<bool>,
}

impl Marks {
    pub fn new(faults: &Faults) -> Marks {
        let delay_only = faults
            .injections
            .iter()
            .map(|text| InjectSpec::parse(text).is_ok_and(|s| s.action == Action::None))
            .collect();
        Marks { delay_only }
    }

    pub fn of(&self, injection: Injection) -> &'static str {
        if !injection.is_injected() {
            return "";
        }
        let delay_only = injection
            .spec_index()
            .and_then(|k| self.delay_only.get(k))
            .copied()
            .unwrap_or(false);
        if delay_only {
            " (DELAYED)"
        } else {
            " (INJECTED)"
        }
    }
}

#[cfg(test)]
mod tests;
