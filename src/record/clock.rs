//! The recording's clock, and `clock_time_get` served by the recorder
//! itself.
//!
//! One clock times the calls and is the guest's monotonic clock: quanta's
//! reading of the CPU's time-stamp counter, in nanoseconds since the
//! recording started. wasmtime-wasi gets it too (`WasiCtxBuilder::
//! monotonic_clock`), so a `poll_oneoff` that waits until a monotonic
//! time measures it on the clock the guest read it from.
//!
//! The Go runtime reads a clock twice per `time.Now` and around every
//! sleep, and wasmtime-wasi's way to it (wiggle's glue, a tracing span, a
//! boxed clock behind a trait object, the value written through a checked
//! guest pointer) cost more than the read; a monotonic read also took a
//! `clock_gettime` where the call's start time is the answer. The answers
//! are wasmtime-wasi 48's (`p1.rs` `clock_time_get`, `clocks.rs`): the
//! realtime clock is Unix time, the monotonic one counts from the clock's
//! making; what it answers with an errno or a trap (other clocks, a
//! pointer out of memory or not 8-aligned, a time past `u64`) is left to it.

use std::time::SystemTime;
use wasmtime_wasi::HostMonotonicClock;

/// The parameter `clock_time_get` writes the time at.
pub const TIME_PARAM: usize = 2;

/// The preview1 clock ids [`serve`] answers.
const REALTIME: u64 = 0;
const MONOTONIC: u64 = 1;

/// Nanoseconds since the clock was made, from the time-stamp counter where
/// it is reliable (quanta falls back to the OS clock where it is not).
#[derive(Clone)]
pub struct CallClock {
    clock: quanta::Clock,
    t0: u64,
}

impl CallClock {
    pub fn new(clock: quanta::Clock) -> CallClock {
        CallClock {
            t0: clock.raw(),
            clock,
        }
    }

    pub fn now_ns(&self) -> u64 {
        self.clock.delta_as_nanos(self.t0, self.clock.raw())
    }
}

impl HostMonotonicClock for CallClock {
    /// The counter is read in nanoseconds.
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        self.now_ns()
    }
}

/// Serves `clock_time_get(id, precision, time)` (`args`, raw) made at
/// `now_ns` on the [`CallClock`]: the time stored at `time` in `memory`,
/// the guest's, and `true`; or `false` and nothing done, for a call left
/// to wasmtime-wasi.
pub fn serve(args: &[u64], memory: &mut [u8], now_ns: u64) -> bool {
    let (id, at) = (args[0], args[TIME_PARAM] as usize);
    let Some(slot) = memory.get_mut(at..at.wrapping_add(8)) else {
        return false;
    };
    if at % 8 != 0 {
        return false;
    }
    let now = match id {
        REALTIME => {
            let since_epoch = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
            since_epoch
                .ok()
                .and_then(|d| u64::try_from(d.as_nanos()).ok())
        }
        MONOTONIC => Some(now_ns),
        _ => None,
    };
    let Some(now) = now else {
        return false;
    };
    slot.copy_from_slice(&now.to_le_bytes());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time_at(memory: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(memory[at..at + 8].try_into().unwrap())
    }

    fn unix_ns() -> u64 {
        let since = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
        since.unwrap().as_nanos() as u64
    }

    #[test]
    fn realtime_is_unix_time_and_monotonic_the_call_s_time() {
        let mut memory = vec![0u8; 64];
        let before = unix_ns();
        assert!(serve(&[REALTIME, 1, 8], &mut memory, 5));
        let after = unix_ns();
        let real = time_at(&memory, 8);
        assert!(before <= real && real <= after, "{before} {real} {after}");
        assert_eq!(memory[..8], [0; 8]);
        assert_eq!(memory[16..], [0; 48]);

        assert!(serve(&[MONOTONIC, 0, 56], &mut memory, 123_456_789));
        assert_eq!(time_at(&memory, 56), 123_456_789);
        assert_eq!(time_at(&memory, 8), real);
    }

    /// What wasmtime-wasi answers with an errno or a trap, it still does.
    #[test]
    fn other_clocks_and_bad_pointers_are_left_to_wasmtime_wasi() {
        let mut memory = vec![0u8; 64];
        for args in [
            [2, 0, 8],          // the process's CPU time
            [3, 0, 8],          // the thread's
            [4, 0, 8],          // no such clock
            [MONOTONIC, 0, 60], // cut by the memory's end
            [MONOTONIC, 0, 64], // just past it
            [REALTIME, 0, u32::MAX as u64],
            [MONOTONIC, 0, 12], // not 8-aligned
        ] {
            assert!(!serve(&args, &mut memory, 7), "{args:?}");
            assert_eq!(memory, [0; 64], "{args:?}");
        }
    }

    /// The recorder records a served read as one write at `time`: the one
    /// the table's walk finds for it.
    #[test]
    fn the_time_s_place_is_the_one_the_table_describes() {
        use crate::capture::{write_ranges, StringSizes};
        use crate::syscalls::{Func, SYSCALLS};
        let sys = SYSCALLS
            .iter()
            .find(|s| s.func == Func::clock_time_get)
            .unwrap();
        let memory = vec![0u8; 64];
        let mut ranges = Vec::new();
        let sizes = StringSizes::new(&[], &[]);
        write_ranges(
            sys,
            &[1, 0, 40],
            &memory,
            |_| None,
            &sizes,
            |r| ranges.push((r.param, r.addr, r.len)),
        );
        assert_eq!(ranges, [(TIME_PARAM as u8, 40, 8)]);
    }

    /// Bounds measured around it, not times: the reading is at least the
    /// sleep and at most the OS clock's time since before its making (give
    /// or take 1 % for the counter's calibration), however slow the machine.
    #[test]
    fn the_call_clock_counts_nanoseconds_from_its_making() {
        let before = std::time::Instant::now();
        let clock = CallClock::new(quanta::Clock::new());
        std::thread::sleep(std::time::Duration::from_millis(20));
        let read = HostMonotonicClock::now(&clock);
        let since_before = before.elapsed().as_nanos() as u64;
        assert!(read >= 19_800_000, "{read}");
        assert!(
            read <= since_before + since_before / 100,
            "{read} {since_before}"
        );
        assert_eq!(clock.resolution(), 1);
    }
}
