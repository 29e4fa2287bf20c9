//! Time travel: the guest's state (stack, memory, globals) when any call
//! of a long trace returned, in well under a second once the trace is open.
//!
//! [`replay::state_at`](crate::replay::state_at) replays from the first
//! call each time. A [`TimeMachine`] starts a server (`wtrace __timetravel
//! TRACE`) that replays the trace once in the background and fork()s a
//! paused copy of itself every so often (`crate::replay` has that side and
//! the why); asked for call N, the nearest checkpoint at or before N
//! re-executes from there. rr's design, at call granularity.
//!
//! ```no_run
//! # use std::sync::atomic::AtomicBool;
//! # use wtrace::timetravel::{Region, TimeMachine};
//! let tm = TimeMachine::open("run.wtrace".as_ref(), None)?; // returns at once
//! let cancel = AtomicBool::new(false); // set it to give up on the request
//! let snap = tm.state(1200, &[Region { addr: 0x1000, len: 64 }], &cancel)?;
//! println!("{} frames; {} calls replayed so far", snap.frames.len(), tm.progress().calls);
//! # anyhow::Ok(())
//! ```
//!
//! Linux only (fork, prctl, SCM_RIGHTS); elsewhere each request replays
//! from the start, as `state_at` does.

#[cfg(target_os = "linux")]
mod machine;
#[cfg(target_os = "linux")]
pub mod protocol;

pub use crate::hexdump::Region;

use crate::replay::CallState;
use crate::stack::Frame;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Memory behind a pointer argument: what the host read there (strings,
/// iovec lists, the data written) or, when the call succeeded, wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pointer {
    /// The parameter's name in the preview1 table: `path`, `iovs`, `buf`.
    pub param: String,
    pub addr: u32,
    pub len: u32,
}

/// The guest's state when a call returned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The call's number.
    pub seq: u64,
    /// The guest's stack at the call, innermost first.
    pub frames: Vec<Frame>,
    /// The exported globals: name and value as text (`1 (0x1, i32)`).
    pub globals: Vec<(String, String)>,
    /// The size of linear memory, in bytes.
    pub memory_size: u64,
    /// The memory behind the call's pointer arguments (ranges only: ask
    /// for the bytes as regions).
    pub pointers: Vec<Pointer>,
    /// The regions asked for: address and bytes. A region that goes past
    /// the end of memory is cut there (to nothing when it starts past it).
    pub regions: Vec<(u32, Vec<u8>)>,
    /// The call of the checkpoint the answer was replayed from.
    pub replayed_from: u64,
    /// CPU time spent replaying from there, in nanoseconds.
    pub cpu_ns: u64,
}

impl Snapshot {
    /// The parts of `state` asked for: `regions` as (address, length).
    pub fn of(state: CallState, regions: &[(u32, u32)]) -> Snapshot {
        let memory = &state.memory;
        let regions = regions
            .iter()
            .map(|&(addr, len)| {
                let start = (addr as usize).min(memory.len());
                let end = (addr as usize + len as usize).min(memory.len());
                (addr, memory[start..end].to_vec())
            })
            .collect();
        Snapshot {
            seq: state.seq,
            memory_size: memory.len() as u64,
            frames: state.frames,
            globals: state.globals,
            pointers: state
                .pointers
                .iter()
                .map(|p| Pointer {
                    param: p.name.to_string(),
                    addr: p.addr,
                    len: p.len,
                })
                .collect(),
            regions,
            replayed_from: 0,
            cpu_ns: 0,
        }
    }
}

/// How far apart checkpoints are, to begin with (the spacing doubles each
/// time the checkpoints kept reach their maximum).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spacing {
    /// So much CPU time of the forward pass: what re-executing from a
    /// checkpoint costs, whatever the calls in between.
    CpuTime(Duration),
    /// So many calls (deterministic, for tests).
    Calls(u64),
}

impl Spacing {
    pub(crate) fn doubled(self) -> Spacing {
        match self {
            Spacing::CpuTime(d) => Spacing::CpuTime(d.saturating_mul(2)),
            Spacing::Calls(n) => Spacing::Calls(n.saturating_mul(2)),
        }
    }
}

/// How a [`TimeMachine`] is set up.
#[derive(Clone, Debug)]
pub struct Options {
    /// `replay --module`: for a trace recorded with `--no-embed`.
    pub module: Option<PathBuf>,
    /// The wtrace executable that serves (default: this one). A program
    /// that links the library and is not wtrace names it here; when what
    /// runs does not answer as the server, each request replays from the
    /// start instead (as `replay::state_at`).
    pub server: Option<PathBuf>,
    pub spacing: Spacing,
    /// Checkpoints kept at most (each is a paused process).
    pub max_checkpoints: usize,
}

/// A checkpoint every 100 ms of the forward pass's CPU time, at most 64:
/// on the 10-million-call trace of Go's `time` tests (15 s of CPU) that is
/// one every 0.4 s in the end (docs/performance.md, "Call stacks").
impl Default for Options {
    fn default() -> Options {
        Options {
            module: None,
            server: None,
            spacing: Spacing::CpuTime(Duration::from_millis(100)),
            max_checkpoints: 64,
        }
    }
}

/// How far the background pass got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Calls the forward pass has replayed.
    pub calls: u64,
    /// Calls in the trace.
    pub total: u64,
    /// The pass is over (every checkpoint it will take is taken).
    pub done: bool,
    /// Checkpoints kept now.
    pub checkpoints: usize,
}

/// What says that a request is no longer wanted: an `AtomicBool`, or
/// any `Fn() -> bool` (a TUI task's `|| progress.cancelled()`).
pub trait Cancel {
    fn cancelled(&self) -> bool;
}

impl Cancel for AtomicBool {
    fn cancelled(&self) -> bool {
        self.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl<F: Fn() -> bool> Cancel for F {
    fn cancelled(&self) -> bool {
        self()
    }
}

/// The error of a request whose cancel flag was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// The state at any call of one trace. Cheap to clone (the clones share
/// the server) and usable from many threads at once; the server and its
/// checkpoints end when the last clone is dropped.
#[derive(Clone)]
pub struct TimeMachine {
    #[cfg(target_os = "linux")]
    machine: std::sync::Arc<machine::Machine>,
    #[cfg(not(target_os = "linux"))]
    fallback: (PathBuf, Option<PathBuf>),
}

impl TimeMachine {
    /// Starts the server for `trace` and returns at once; `module` as
    /// `replay --module`. A trace without its module and no `module` is
    /// an error that names `--module`.
    pub fn open(trace: &Path, module: Option<PathBuf>) -> Result<TimeMachine> {
        TimeMachine::open_with(
            trace,
            Options {
                module,
                ..Options::default()
            },
        )
    }

    pub fn open_with(trace: &Path, options: Options) -> Result<TimeMachine> {
        #[cfg(target_os = "linux")]
        return Ok(TimeMachine {
            machine: std::sync::Arc::new(machine::Machine::open(trace, options)?),
        });
        #[cfg(not(target_os = "linux"))]
        {
            crate::replay::check_module(trace, options.module.as_deref())?;
            Ok(TimeMachine {
                fallback: (trace.to_path_buf(), options.module),
            })
        }
    }

    /// The state when call `seq` returned, with the bytes of `regions`.
    /// Once `cancel` says so, it gives up soon with [`Cancelled`] (the
    /// machine stays usable).
    pub fn state(&self, seq: u64, regions: &[Region], cancel: &dyn Cancel) -> Result<Snapshot> {
        let regions: Vec<(u32, u32)> = regions.iter().map(|r| (r.addr, r.len)).collect();
        #[cfg(target_os = "linux")]
        return self.machine.state(seq, &regions, cancel);
        #[cfg(not(target_os = "linux"))]
        {
            let _ = cancel;
            let (trace, module) = &self.fallback;
            let state = crate::replay::state_at(trace, module.clone(), seq)?;
            Ok(Snapshot::of(state, &regions))
        }
    }

    /// How far the background pass got, for a status line.
    pub fn progress(&self) -> Progress {
        #[cfg(target_os = "linux")]
        return self.machine.progress();
        #[cfg(not(target_os = "linux"))]
        Progress {
            done: true,
            ..Progress::default()
        }
    }

    /// The calls the checkpoints kept now were taken at, in order.
    pub fn checkpoints(&self) -> Vec<u64> {
        #[cfg(target_os = "linux")]
        return self.machine.checkpoints();
        #[cfg(not(target_os = "linux"))]
        Vec::new()
    }

    /// The process ids of the server and of the checkpoints it announced
    /// (for measuring their memory, and for tests).
    pub fn processes(&self) -> Vec<u32> {
        #[cfg(target_os = "linux")]
        return self.machine.processes();
        #[cfg(not(target_os = "linux"))]
        Vec::new()
    }
}
