//! wtrace: a syscall tracer and record/replay debugger for WebAssembly
//! programs that use WASI preview1.
//!
//! - [`syscalls`]: the one table of preview1 functions everything reads.
//! - [`capture`]: which guest memory a call reads and writes.
//! - [`trace`]: the trace file format (reader and writer).
//! - [`host`], [`run`], [`record`], [`replay`]: the wasmtime host and its modes.
//! - [`names`], [`decode`], [`filter`], [`dump`]: turning calls into text and JSON.
//! - [`compare`]: how two calls differ (replay's divergences, `wtrace diff`).
//! - [`timetravel`]: the state at any call, fast, from forked checkpoints.

pub mod capture;
#[cfg(feature = "runtime")]
pub mod cli;
pub mod compare;
pub mod decode;
pub mod dump;
pub mod filter;
#[cfg(feature = "runtime")]
pub mod goshim;
pub mod hexdump;
#[cfg(feature = "runtime")]
pub mod host;
pub mod inject;
pub mod matcher;
pub mod names;
#[cfg(feature = "runtime")]
pub mod record;
#[cfg(feature = "runtime")]
pub mod replay;
pub mod report;
#[cfg(feature = "runtime")]
pub mod reproducer;
#[cfg(feature = "runtime")]
pub mod run;
#[cfg(feature = "runtime")]
pub mod stack;
pub mod syscalls;
pub mod timefmt;
#[cfg(feature = "runtime")]
pub mod timetravel;
pub mod trace;
#[cfg(feature = "runtime")]
pub mod tui_source;

#[cfg(feature = "runtime")]
/// When wtrace's `main` started, for `WTRACE_STARTUP_TIMING`.
pub static PROCESS_START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// wtrace's exit codes besides the guest's own (0–125, from `proc_exit`).
pub mod exit_code {
    /// wtrace itself failed: bad arguments, a file that is not a module or
    /// not a trace, an unwritable trace path, unknown imports.
    pub const ERROR: i32 = 125;
    /// `wtrace replay`: the guest did not do what the recording says.
    pub const DIVERGED: i32 = 126;
    /// `wtrace replay --break`: stopped at a breakpoint (128 + SIGTRAP,
    /// as a debugger's trap).
    pub const BREAKPOINT: i32 = 133;
    /// The guest trapped (as `wasmtime run`: 128 + SIGABRT).
    pub const TRAP: i32 = 134;
}
