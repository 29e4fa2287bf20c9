//! The trace file: what a recording holds and how it is stored.
//!
//! A trace is a stream of frames: one header (who ran what, and the module
//! itself), chunks of calls, an end record (how the run ended) and an index.
//! Every frame carries a blake3 hash chained to the previous frame's, so
//! `wtrace verify` can tell where damage starts, and a trace whose recorder
//! was killed is readable up to its last complete chunk. `docs/trace-format.md`
//! is the specification; this module knows nothing of wasmtime.
//!
//! ```no_run
//! let mut trace = wtrace::trace::TraceReader::open("hello.wtrace".as_ref())?;
//! println!("{} calls", trace.call_count());
//! for call in trace.calls() {
//!     let call = call?;
//!     println!("#{} {}", call.seq, wtrace::trace::func_name(&trace.header, call.func));
//! }
//! # anyhow::Ok(())
//! ```

mod codec;
mod reader;
mod writer;

pub use codec::FORMAT_VERSION;
pub use reader::{ChunkInfo, Frame, FrameKind, TraceReader, VerifyReport};
pub use writer::{TraceWriter, WriterStats};

use serde::{Deserialize, Serialize};

/// Everything about a recording that is known before the first call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format_version: u32,
    pub wtrace_version: String,
    pub wasmtime_version: String,
    /// File name of the module as given on the command line.
    pub module_name: String,
    pub module_size: u64,
    pub module_blake3: [u8; 32],
    /// The module bytes, unless recorded with `--no-embed`.
    pub module: Option<Vec<u8>>,
    /// Guest argv; argv[0] is the module path as given.
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub preopens: Vec<Preopen>,
    /// Wall-clock start of the recording, nanoseconds since the Unix epoch.
    pub start_unix_ns: u64,
    /// `x86_64-linux` and the like.
    pub platform: String,
    /// The host options that change how the guest runs.
    pub max_wasm_stack: u64,
    /// Imports from modules other than wasi_snapshot_preview1 that were
    /// defined as trapping functions (`--trap-unknown-imports`), as
    /// `module::name`. Call ids from 46 on refer to them.
    pub foreign_imports: Vec<String>,
}

impl Header {
    pub fn module_blake3_hex(&self) -> String {
        blake3::Hash::from_bytes(self.module_blake3)
            .to_hex()
            .to_string()
    }
}

/// A preopened directory: the host path and the name the guest sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preopen {
    pub host: String,
    pub guest: String,
}

/// One host call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Call number, from 0, in the order the guest made the calls.
    pub seq: u64,
    /// Index into [`crate::syscalls::SYSCALLS`], or from 46 on, into
    /// [`Header::foreign_imports`].
    pub func: u16,
    /// Raw arguments; i32 arguments are zero-extended.
    pub args: Vec<u64>,
    pub outcome: Outcome,
    /// Host time at entry, nanoseconds since the recording started.
    pub start_ns: u64,
    /// Host time spent in the call, nanoseconds.
    pub dur_ns: u64,
    /// Guest memory the host read (paths, data to write, iovec lists,
    /// subscriptions), in parameter order.
    pub reads: Vec<Mem>,
    /// Guest memory the host wrote (the memory effects replay restores), in
    /// the order the host wrote it.
    pub writes: Vec<Mem>,
}

/// How a call returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// An errno; 0 is success.
    Errno(u16),
    /// proc_exit ended the run with this code.
    Exit(i32),
    /// The call trapped, with this message.
    Trap(String),
}

/// A range of guest memory, and the parameter it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mem {
    /// Index of the parameter (the pointer) this range belongs to.
    pub param: u8,
    pub addr: u32,
    pub bytes: Vec<u8>,
}

/// How the recorded run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunEnd {
    /// `_start` returned, or proc_exit was called, with this code.
    Exit(i32),
    /// The guest trapped; the message includes the wasm backtrace.
    Trap(String),
    /// wtrace was stopped by this signal (SIGINT, SIGTERM).
    Signal(i32),
    /// The trace could not be written (a full disk, say); the guest was
    /// stopped. The message says why.
    WriteFailed(String),
}

/// The last record of a finished trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    pub run_end: RunEnd,
    pub calls: u64,
    /// Host time from the start of the recording to its end, nanoseconds.
    pub duration_ns: u64,
}

/// The name of a call's function: a preview1 name, or `module::name` for a
/// foreign import.
pub fn func_name(header: &Header, func: u16) -> String {
    match crate::syscalls::Func::from_id(func) {
        Some(f) => f.syscall().name.to_string(),
        None => {
            let k = func as usize - crate::syscalls::SYSCALLS.len();
            header
                .foreign_imports
                .get(k)
                .cloned()
                .unwrap_or_else(|| format!("func#{func}"))
        }
    }
}
