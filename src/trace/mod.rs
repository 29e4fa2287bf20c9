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
//! let header = trace.header.clone();
//! for call in trace.calls() {
//!     let call = call?;
//!     println!("#{} {}", call.seq, wtrace::trace::func_name(&header, call.func));
//! }
//! # anyhow::Ok(())
//! ```

mod batch;
mod codec;
mod read_ahead;
mod reader;
mod summary;
mod writer;

pub use batch::{CallBatch, CallBrief, CallView, MemsView};
pub use codec::{decode_message, encode_message, ChunkDecoder, FORMAT_VERSION, MAGIC_PREFIX};
pub use reader::{ChunkInfo, Frame, FrameKind, RawChunk, TraceReader, VerifyDepth, VerifyReport};
pub use summary::{FuncCounts, PerFd, PerFunc, Summary};
pub use writer::{TraceWriter, WriterStats};

use crate::syscalls::FuncId;
use serde::{Deserialize, Serialize};

/// Everything about a recording that is known before the first call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format_version: u32,
    pub wtrace_version: String,
    pub wasmtime_version: String,
    /// File name of the module as given on the command line.
    pub module_name: String,
    pub module_size: u64,
    pub module_blake3: [u8; 32],
    /// The module bytes, unless recorded with `--no-embed`. A
    /// [`TraceReader`] moves them to [`TraceReader::module`], so that the
    /// header it keeps is cheap to clone.
    #[serde(with = "serde_bytes")]
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
    /// `module::name`. Their calls have the id `FuncId::FOREIGN_BASE + k`.
    pub foreign_imports: Vec<String>,
    /// The faults the recording injected (`--inject`, `--chaos`). Stored
    /// after the other fields (from format version 3), not by serde.
    #[serde(skip)]
    pub faults: Faults,
}

/// What `wtrace record` was told to inject.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// The `--inject` specs, as given. A call injected by spec `k` carries
    /// [`Injection::spec`]`(k)`.
    pub injections: Vec<String>,
    /// `--chaos SEED[:RATE]`.
    pub chaos: Option<Chaos>,
}

impl Faults {
    pub fn is_empty(&self) -> bool {
        self.injections.is_empty() && self.chaos.is_none()
    }
}

/// A seeded chaos run: at about `rate_ppm` calls in a million, a fault a
/// real host may produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chaos {
    pub seed: u64,
    pub rate_ppm: u32,
}

/// Whether a call's result was injected, and by what: the host did not
/// serve it as it came (an errno instead of the call, changed bytes, a
/// shorter transfer, a delay).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Injection(pub u16);

impl Injection {
    /// Served by the host as it came.
    pub const NONE: Injection = Injection(0);
    /// Injected by `--chaos`.
    pub const CHAOS: Injection = Injection(u16::MAX);

    /// Injected by the `k`-th `--inject` spec.
    pub fn spec(k: usize) -> Injection {
        Injection(
            u16::try_from(k + 1)
                .unwrap_or(u16::MAX - 1)
                .min(u16::MAX - 1),
        )
    }

    pub fn is_injected(self) -> bool {
        self != Injection::NONE
    }

    /// Index into [`Faults::injections`], for a spec's injection.
    pub fn spec_index(self) -> Option<usize> {
        match self {
            Injection::NONE | Injection::CHAOS => None,
            Injection(k) => Some(usize::from(k) - 1),
        }
    }
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Call number, from 0, in the order the guest made the calls.
    pub seq: u64,
    /// The function called: a preview1 function or a foreign import.
    pub func: FuncId,
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
    /// Whether the result was injected (`record --inject`, `--chaos`).
    pub injection: Injection,
}

impl Call {
    /// Raw argument `i`; 0 when a damaged trace lacks it.
    pub fn arg(&self, i: usize) -> u64 {
        self.args.get(i).copied().unwrap_or(0)
    }
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

impl Outcome {
    /// True for a failed call: an errno other than 0, or a trap. `proc_exit`
    /// ending the run is not an error.
    pub fn is_error(&self) -> bool {
        !matches!(self, Outcome::Errno(0) | Outcome::Exit(_))
    }
}

/// Success, for a call still to be made.
impl Default for Outcome {
    fn default() -> Outcome {
        Outcome::Errno(0)
    }
}

/// A range of guest memory, and the parameter it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mem {
    /// Index of the parameter (the pointer) this range belongs to.
    pub param: u8,
    pub addr: u32,
    #[serde(with = "serde_bytes")]
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

impl RunEnd {
    /// `exited with 0`, `trapped: unreachable`, `killed by signal 2`,
    /// `recording stopped: ...`.
    pub fn describe(&self) -> String {
        match self {
            RunEnd::Exit(code) => format!("exited with {code}"),
            RunEnd::Trap(msg) => format!("trapped: {}", msg.lines().last().unwrap_or("").trim()),
            RunEnd::Signal(sig) => format!("killed by signal {sig}"),
            RunEnd::WriteFailed(msg) => format!("recording stopped: {msg}"),
        }
    }
}

/// The last record of a finished trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    pub run_end: RunEnd,
    pub calls: u64,
    /// Host time from the start of the recording to its end, nanoseconds.
    pub duration_ns: u64,
    /// What `wtrace stats` shows, counted as the calls were written (from
    /// format version 6; the writer fills it in). Stored after the other
    /// fields, not by serde.
    #[serde(skip)]
    pub summary: Option<Summary>,
}

/// The name of a call's function: a preview1 name, or `module::name` for a
/// foreign import.
pub fn func_name(header: &Header, func: FuncId) -> String {
    if let Some(sys) = func.syscall() {
        return sys.name.to_string();
    }
    func.foreign_index()
        .and_then(|k| header.foreign_imports.get(k))
        .cloned()
        .unwrap_or_else(|| format!("func#{func}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            format_version: FORMAT_VERSION,
            wtrace_version: "test".into(),
            wasmtime_version: "48.0.8".into(),
            module_name: "m.wasm".into(),
            module_size: 3,
            module_blake3: *blake3::hash(b"abc").as_bytes(),
            module: Some(b"abc".to_vec()),
            argv: vec!["m.wasm".into(), "x".into()],
            env: vec![("A".into(), "1".into())],
            preopens: vec![Preopen {
                host: "/tmp".into(),
                guest: "/t".into(),
            }],
            start_unix_ns: 42,
            platform: "x86_64-linux".into(),
            max_wasm_stack: 1 << 20,
            foreign_imports: vec![],
            faults: Faults::default(),
        }
    }

    fn call(seq: u64) -> Call {
        Call {
            seq,
            func: FuncId((seq % 46) as u16),
            args: vec![seq, seq * 3],
            outcome: if seq.is_multiple_of(7) {
                Outcome::Errno(44)
            } else {
                Outcome::Errno(0)
            },
            start_ns: seq * 1000 + seq % 3,
            dur_ns: seq % 100,
            reads: vec![Mem {
                param: 1,
                addr: seq as u32,
                bytes: vec![seq as u8; (seq % 5) as usize],
            }],
            writes: vec![Mem {
                param: 2,
                addr: 8,
                bytes: seq.to_le_bytes().to_vec(),
            }],
            injection: if seq % 11 == 5 {
                Injection::spec(0)
            } else {
                Injection::NONE
            },
        }
    }

    /// Writes `n` calls in chunks of `per_chunk`; returns the file's bytes.
    fn write_trace(dir: &std::path::Path, n: u64, per_chunk: u64, end: Option<End>) -> Vec<u8> {
        let path = dir.join("t.wtrace");
        let mut w = TraceWriter::create(&path, &header()).unwrap();
        let mut seq = 0;
        while seq < n {
            let k = per_chunk.min(n - seq);
            w.write_calls((seq..seq + k).map(call).collect()).unwrap();
            seq += k;
        }
        match end {
            Some(end) => {
                w.finish(end).unwrap();
            }
            // A killed recorder: drop the writer without an end record.
            None => {
                drop(w);
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn calls_read_back_exactly_through_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let end = End {
            run_end: RunEnd::Exit(3),
            calls: 1000,
            duration_ns: 5,
            summary: None,
        };
        write_trace(dir.path(), 1000, 300, Some(end.clone()));
        let mut r = TraceReader::open(&dir.path().join("t.wtrace")).unwrap();
        // The embedded module is kept apart from the header.
        assert_eq!(r.module.as_deref(), Some(&b"abc"[..]));
        assert_eq!(
            r.header,
            Header {
                module: None,
                ..header()
            }
        );
        // The writer adds the summary of the calls it wrote.
        let read_end = r.end.clone().unwrap();
        let summary = read_end.summary.clone().unwrap();
        assert_eq!(
            End {
                summary: None,
                ..read_end
            },
            end
        );
        let calls: u64 = summary.funcs.iter().map(|(_, f)| f.calls).sum();
        assert_eq!((summary.funcs.len(), calls), (46, 1000));
        assert!(r.is_finished());
        assert_eq!(r.call_count(), 1000);
        assert_eq!(r.chunks().len(), 4);
        let all: Vec<Call> = r.calls().map(Result::unwrap).collect();
        assert_eq!(all, (0..1000).map(call).collect::<Vec<_>>());
        assert_eq!(r.call(599).unwrap(), call(599));
        assert_eq!(r.call(0).unwrap(), call(0));
        assert!(r.call(1000).is_err());
        let report = TraceReader::verify(&dir.path().join("t.wtrace"), VerifyDepth::Calls).unwrap();
        assert_eq!(report.damage, None);
        assert_eq!(
            (report.calls, report.chunks, report.finished),
            (1000, 4, true)
        );
    }

    #[test]
    fn a_trace_cut_anywhere_keeps_every_complete_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = write_trace(
            dir.path(),
            90,
            30,
            Some(End {
                run_end: RunEnd::Exit(0),
                calls: 90,
                duration_ns: 1,
                summary: None,
            }),
        );
        let full = TraceReader::open(&dir.path().join("t.wtrace")).unwrap();
        let chunk_ends: Vec<u64> = full.chunks().iter().map(|c| c.offset).skip(1).collect();
        let cut_path = dir.path().join("cut.wtrace");
        for len in (0..bytes.len()).step_by(7) {
            std::fs::write(&cut_path, &bytes[..len]).unwrap();
            match TraceReader::open(&cut_path) {
                Err(e) => assert!(len < 300, "a cut at {len} lost the header: {e:#}"),
                Ok(mut r) => {
                    // A cut inside the index, after the end record, loses
                    // nothing: the scan finds every chunk and the end.
                    if r.end.is_some() {
                        assert_eq!(r.call_count(), 90, "cut at {len}");
                    } else {
                        assert!(r.unfinished.is_some(), "cut at {len} of {}", bytes.len());
                    }
                    // Every chunk that ends before the cut is kept.
                    let whole = chunk_ends.iter().filter(|&&end| end <= len as u64).count();
                    assert!(
                        r.chunks().len() >= whole,
                        "cut at {len}: {} chunks, want {whole}",
                        r.chunks().len()
                    );
                    let calls: Vec<Call> = r.calls().map(Result::unwrap).collect();
                    assert_eq!(calls, (0..calls.len() as u64).map(call).collect::<Vec<_>>());
                }
            }
        }
    }

    #[test]
    fn the_magic_and_the_header_must_agree_on_a_version_that_exists() {
        let dir = tempfile::tempdir().unwrap();
        let end = End {
            run_end: RunEnd::Exit(0),
            calls: 3,
            duration_ns: 1,
            summary: None,
        };
        let bytes = write_trace(dir.path(), 3, 3, Some(end));
        let path = dir.path().join("v.wtrace");
        for (version, msg) in [
            (0, "format version 0 does not exist"),
            (1, "its magic says version 1 but its header says version 6"),
            (7, "made by a newer wtrace"),
        ] {
            let mut b = bytes.clone();
            b[7] = version;
            std::fs::write(&path, b).unwrap();
            let err = format!("{:#}", TraceReader::open(&path).err().unwrap());
            assert!(err.contains(msg), "{err}");
        }
    }

    #[test]
    fn a_killed_writer_leaves_a_readable_unfinished_trace() {
        let dir = tempfile::tempdir().unwrap();
        write_trace(dir.path(), 50, 20, None);
        let mut r = TraceReader::open(&dir.path().join("t.wtrace")).unwrap();
        assert_eq!(r.call_count(), 50);
        assert_eq!(r.end, None);
        assert!(r.unfinished.as_deref().unwrap().contains("did not finish"));
        assert_eq!(r.call(49).unwrap(), call(49));
    }
}
