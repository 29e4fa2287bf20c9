//! `wtrace replay`: runs the recorded module again with every preview1 call
//! served from the trace. Nothing of the host is touched: no WASI context
//! exists; results and memory effects come from the recording.
//!
//! At every call the function, the raw arguments and the guest memory the
//! host would read (paths, data, iovec lists, subscriptions) are compared
//! with the recording ([`crate::compare`]); the first difference stops the
//! replay with a [`Divergence`].
//!
//! - `prefetch`: decodes the chunks ahead of the guest on a thread of its own;
//! - `serve`: the host functions that serve calls from the trace;
//! - `relocate`: memory effects applied where the guest's pointers point now;
//! - `divergence`: the report when the guest parts from the recording;
//! - `tolerate`: what `--allow-extra-writes` lets a rebuilt module do.

mod divergence;
mod prefetch;
mod relocate;
mod serve;
mod tolerate;

pub use divergence::Divergence;

use crate::decode::Decoder;
use crate::host;
use crate::trace::{CallBatch, Header, RunEnd, TraceReader};
use anyhow::{bail, Context, Result};
use divergence::{StopHere, Unreadable};
use prefetch::Prefetch;
use serve::ReplayState;
use std::io::Write;
use std::path::{Path, PathBuf};
use wasmtime::{Linker, Store};

#[derive(Default)]
pub struct ReplayOptions {
    /// Use this module file instead of the embedded one.
    pub module: Option<PathBuf>,
    /// Accept a module whose blake3 differs from the recorded one.
    pub force: bool,
    /// Do not re-emit the guest's stdout and stderr.
    pub quiet: bool,
    /// Print strace-style lines to stderr as the replay goes.
    pub print: Option<Decoder>,
    /// Stop after call N.
    pub until: Option<u64>,
    /// A rebuilt module may write to stdout/stderr and read the clock more
    /// (or less) often than the recording says ([`tolerate`]).
    pub allow_extra_writes: bool,
}

/// How a replay ended.
#[derive(Debug)]
pub enum ReplayEnd {
    /// The whole recording replayed; the guest ended as it did then.
    Finished(RunEnd),
    /// `--until N` was reached, or an interrupted or unfinished recording
    /// ran out of calls; `code` is the exit code to report.
    Stopped {
        calls: u64,
        reason: String,
        code: i32,
    },
    Diverged(Box<Divergence>),
}

/// Loads the module to replay: the embedded one or `--module`, checked
/// against the recorded blake3.
fn module_bytes(
    header: &Header,
    embedded: Option<Vec<u8>>,
    opts: &ReplayOptions,
) -> Result<Vec<u8>> {
    match &opts.module {
        Some(path) => {
            let bytes = host::read_module(path)?;
            let hash = blake3::hash(&bytes);
            // A module with added prints is a different build by design.
            let accepted = opts.force || opts.allow_extra_writes;
            if *hash.as_bytes() != header.module_blake3 && !accepted {
                bail!(
                    "{} is not the recorded module (blake3 {}, recorded {}); use --force to replay it anyway",
                    path.display(),
                    hash.to_hex(),
                    header.module_blake3_hex()
                );
            }
            Ok(bytes)
        }
        None => embedded.with_context(|| {
            format!(
                "the trace does not embed its module (recorded with --no-embed): pass --module {}",
                header.module_name
            )
        }),
    }
}

pub fn replay(trace_path: &Path, opts: ReplayOptions) -> Result<ReplayEnd> {
    let mut reader = TraceReader::open(trace_path)?;
    let header = reader.header.clone();
    let bytes = module_bytes(&header, reader.module.take(), &opts)?;
    host::check_module_bytes(&bytes, &header.module_name)?;
    let engine = host::engine(header.max_wasm_stack as usize)?;
    let module = host::load_module(&engine, &bytes, &header.module_name, true)?;
    let (served, foreign) = host::check_imports(&module, !header.foreign_imports.is_empty())?;
    let total = reader.call_count();
    let end = reader.end.clone();
    let state = ReplayState {
        trace_path: trace_path.to_path_buf(),
        header,
        end,
        next: 0,
        total,
        chunks: Prefetch::start(reader)?,
        chunk: CallBatch::default(),
        pos: 0,
        ahead: None,
        memory: None,
        opts,
        tolerated: Default::default(),
    };
    let mut store = Store::new(&engine, state);
    let mut linker: Linker<ReplayState> = Linker::new(&engine);
    for sys in served {
        serve::define_replayer(&mut linker, sys)?;
    }
    host::define_trapping_imports(&mut linker, &foreign, |caller, imp, params| {
        let args: Vec<u64> = params.iter().map(host::imports::raw_arg).collect();
        match serve::serve_foreign(caller.data_mut(), imp.id, &args) {
            Ok(e) | Err(e) => e,
        }
    })?;
    let start = host::start_func(&linker, &mut store, &module)?;
    let result = start.call(&mut store, ());
    let _ = std::io::stdout().flush();
    let state = store.into_data();
    if state.tolerated.any() {
        eprintln!("{}", state.tolerated.summary());
    }
    let _ = std::io::stderr().flush();
    conclude(state, result)
}

/// How the replay ended, from how the guest's `_start` returned and how
/// far through the recording it got.
fn conclude(mut state: ReplayState, result: wasmtime::Result<()>) -> Result<ReplayEnd> {
    if let Err(e) = &result {
        if let Some(d) = e.downcast_ref::<Divergence>() {
            return Ok(ReplayEnd::Diverged(Box::new(d.clone())));
        }
        if let Some(Unreadable(why)) = e.downcast_ref::<Unreadable>() {
            bail!(
                "the replay stopped at call #{}: the trace cannot be read on: {why} (`wtrace verify` tells where the damage is)",
                state.next
            );
        }
        if let Some(stop) = e.downcast_ref::<StopHere>() {
            return Ok(ReplayEnd::Stopped {
                calls: state.next,
                reason: stop.reason.clone(),
                code: stop.code,
            });
        }
    }
    let run_end = host::run_end(result);
    let recorded_end = state.end.as_ref().map(|e| e.run_end.clone());
    if state.next < state.total {
        let (next, total) = (state.next, state.total);
        let what = format!(
            "the guest ended ({}) after {next} calls; the recording has {total}",
            end_text(&run_end)
        );
        let d = divergence::divergence(&mut state, next, what, None);
        return Ok(ReplayEnd::Diverged(Box::new(d)));
    }
    match recorded_end {
        Some(recorded) if same_end(&recorded, &run_end) => Ok(ReplayEnd::Finished(recorded)),
        Some(recorded) => {
            let what = format!(
                "the recorded run ended with {}; the replay ended with {}",
                end_text(&recorded),
                end_text(&run_end)
            );
            let next = state.next;
            Ok(ReplayEnd::Diverged(Box::new(divergence::divergence(
                &mut state, next, what, None,
            ))))
        }
        None => Ok(ReplayEnd::Stopped {
            calls: state.next,
            reason: "reached the end of an unfinished recording".into(),
            code: 0,
        }),
    }
}

fn end_text(e: &RunEnd) -> String {
    match e {
        RunEnd::Exit(c) => format!("exit code {c}"),
        RunEnd::Trap(m) => format!("a trap: {}", m.lines().last().unwrap_or("").trim()),
        RunEnd::Signal(s) => format!("signal {s}"),
        RunEnd::WriteFailed(m) => format!("a trace write failure: {m}"),
    }
}

/// Traps match when both are traps: their backtraces may differ in detail
/// (the replay's stack has no host frames of the recorder).
fn same_end(recorded: &RunEnd, replayed: &RunEnd) -> bool {
    match (recorded, replayed) {
        (RunEnd::Exit(a), RunEnd::Exit(b)) => a == b,
        (RunEnd::Trap(_), RunEnd::Trap(_)) => true,
        // An interrupted or failed recording stops where its calls stop.
        (RunEnd::Signal(_) | RunEnd::WriteFailed(_), _) => true,
        _ => false,
    }
}
