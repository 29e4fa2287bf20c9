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
//! - `watch`, `inspect`: `--watch`, and the state after `--until N`.
//!
//! Call stacks (`-k`), breakpoints, watches and memory at a call are all
//! computed here, by running the module again: recording pays nothing.
//! - `tolerate`: what `--allow-extra-writes` lets a rebuilt module do.

mod breakpoint;
#[cfg(target_os = "linux")]
mod checkpoint;
mod divergence;
mod inspect;
mod prefetch;
mod relocate;
mod serve;
mod tolerate;
mod watch;

#[cfg(target_os = "linux")]
pub use checkpoint::serve as serve_time_travel;
pub use divergence::Divergence;
pub use inspect::{pointer_ranges, CallState, PointerArg};

use crate::decode::Decoder;
use crate::filter::Filter;
use crate::hexdump::Region;
use crate::host;
use crate::matcher::Trigger;
use crate::trace::{CallBatch, Header, RunEnd, TraceReader};
use anyhow::{bail, Context, Result};
use divergence::{StopHere, Unreadable};
use prefetch::Prefetch;
use serve::ReplayState;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
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
    /// Which calls `print` shows (`dump -k -e ...`); all when none.
    pub filter: Option<Filter>,
    /// `-k`: each printed call is followed by the guest's call stack.
    pub stacks: bool,
    /// Print to stdout (`dump -k`) instead of stderr.
    pub to_stdout: bool,
    /// Stop once call N has returned.
    pub until: Option<u64>,
    /// With `until`: memory to show as it stands then.
    pub memory: Vec<Region>,
    /// With `until`: the memory behind every pointer argument of call N.
    pub memory_args: bool,
    /// Report every change of these bytes, by the guest or the host.
    pub watches: Vec<Region>,
    /// `--break EXPR`: stop before the first call one of them fires at.
    pub breaks: Vec<Trigger>,
    /// With `until`: keep call N's stack, the memory and the exported
    /// globals ([`state_at`]).
    pub keep_state: bool,
    /// A rebuilt module may write to stdout/stderr and read the clock more
    /// (or less) often than the recording says ([`tolerate`]).
    pub allow_extra_writes: bool,
    /// Set from another thread to stop the replay at the next call (the
    /// TUI gave up on the state it asked for).
    pub cancel: Option<Arc<AtomicBool>>,
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

/// Checks that the trace can be replayed as far as its module goes (the
/// embedded one, or `module`, as `replay --module` takes it) and returns
/// how many calls it has.
pub fn check_module(trace_path: &Path, module: Option<&Path>) -> Result<u64> {
    let mut reader = TraceReader::open(trace_path)?;
    let opts = ReplayOptions {
        module: module.map(Path::to_path_buf),
        ..ReplayOptions::default()
    };
    module_bytes(&reader.header, reader.module.take(), &opts)?;
    Ok(reader.call_count())
}

pub fn replay(trace_path: &Path, opts: ReplayOptions) -> Result<ReplayEnd> {
    Ok(run(trace_path, opts, None)?.0)
}

/// The guest's stack at call `n` and its memory and exported globals when
/// the call returned, computed by replaying the trace up to it (`module`
/// as `replay --module`, for a trace without its module).
pub fn state_at(trace_path: &Path, module: Option<PathBuf>, n: u64) -> Result<CallState> {
    state_at_unless(trace_path, module, n, Arc::default())
}

/// [`state_at`], stopped (with an error) at the next call once `cancel`
/// is set: for a caller that may give up on the state (the TUI asks a
/// `crate::timetravel::TimeMachine` instead, which is cancellable too).
pub fn state_at_unless(
    trace_path: &Path,
    module: Option<PathBuf>,
    n: u64,
    cancel: Arc<AtomicBool>,
) -> Result<CallState> {
    let opts = ReplayOptions {
        module,
        quiet: true,
        until: Some(n),
        keep_state: true,
        cancel: Some(cancel),
        ..ReplayOptions::default()
    };
    kept_state(run(trace_path, opts, None), n)
}

/// The state a replay `--until n` kept, or why there is none.
fn kept_state(result: Result<(ReplayEnd, Option<CallState>)>, n: u64) -> Result<CallState> {
    match result? {
        (_, Some(state)) => Ok(state),
        (ReplayEnd::Diverged(d), None) => bail!("{d}"),
        (_, None) => bail!("the replay ended before call #{n}"),
    }
}

#[cfg(target_os = "linux")]
type Checkpointing = checkpoint::Checkpointing;
/// Time travel's checkpoints are Linux's (fork, prctl).
#[cfg(not(target_os = "linux"))]
type Checkpointing = std::convert::Infallible;

/// Replays the trace; returns how it ended and, with `keep_state`, the
/// state after the `until` call. With `checkpointing` the replay forks
/// checkpoints as it goes (time travel's server) and stays single-threaded.
fn run(
    trace_path: &Path,
    mut opts: ReplayOptions,
    checkpointing: Option<Checkpointing>,
) -> Result<(ReplayEnd, Option<CallState>)> {
    let mut reader = TraceReader::open(trace_path)?;
    let header = reader.header.clone();
    let bytes = module_bytes(&header, reader.module.take(), &opts)?;
    host::check_module_bytes(&bytes, &header.module_name)?;
    let stacks_shown = opts.stacks
        || opts.keep_state
        || !opts.watches.is_empty()
        || !opts.breaks.is_empty()
        || checkpointing.is_some();
    let engine = host::engine(header.max_wasm_stack as usize, stacks_shown)?;
    let module = host::load_module(&engine, &bytes, &header.module_name, true)?;
    let (served, foreign) = host::check_imports(&module, !header.foreign_imports.is_empty())?;
    let total = reader.call_count();
    if let Some(n) = opts.until.filter(|&n| n >= total) {
        if !opts.memory.is_empty() || opts.memory_args {
            bail!(
                "--until {n}: the trace has calls #0 to #{}",
                total.saturating_sub(1)
            );
        }
    }
    let end = reader.end.clone();
    let print = opts.print.is_some();
    let mut state = ReplayState {
        plain: false,
        out: report_output(opts.to_stdout),
        decoder: opts.print.take().unwrap_or_default(),
        print,
        follow: print || !opts.watches.is_empty() || !opts.breaks.is_empty(),
        watches: watch::Watches::new(opts.watches.clone()),
        module_label: module_label(&header.module_name),
        until_call: None,
        until_stack: None,
        kept: None,
        trace_path: trace_path.to_path_buf(),
        header,
        end,
        next: 0,
        total,
        chunks: match checkpointing {
            Some(_) => Prefetch::inline(reader),
            None => Prefetch::start(reader)?,
        },
        checkpointing,
        chunk: CallBatch::default(),
        pos: 0,
        ahead: None,
        memory: None,
        opts,
        tolerated: Default::default(),
    };
    state.plain = state.no_hooks();
    let mut store = Store::new(&engine, state);
    let linker = replay_linker(&engine, served, &foreign)?;
    let (instance, start) = host::instance_and_start(&linker, &mut store, &module)?;
    if !store.data().watches.is_empty() {
        watch_from_the_start(&mut store, instance);
    }
    let result = start.call(&mut store, ());
    let reported = report_after_the_run(&mut store, instance, &result);
    let _ = store.data_mut().out.flush();
    let _ = std::io::stdout().flush();
    if store.data().tolerated.any() {
        eprintln!("{}", store.data().tolerated.summary());
    }
    let _ = std::io::stderr().flush();
    reported?;
    let mut state = store.into_data();
    let kept = state.kept.take();
    Ok((conclude(state, result)?, kept))
}

/// Where `--print` and the reports go: stderr, or stdout (buffered) for
/// `dump -k`.
fn report_output(to_stdout: bool) -> Box<dyn Write> {
    if to_stdout {
        Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout(),
        ))
    } else {
        Box::new(std::io::stderr())
    }
}

/// The host functions of a replay: the preview1 calls it serves and the
/// foreign imports the recording defined as traps.
fn replay_linker(
    engine: &wasmtime::Engine,
    served: Vec<&'static crate::syscalls::Syscall>,
    foreign: &[host::ForeignImport],
) -> Result<Linker<ReplayState>> {
    let mut linker: Linker<ReplayState> = Linker::new(engine);
    for sys in served {
        serve::define_replayer(&mut linker, sys)?;
    }
    host::define_trapping_imports(&mut linker, foreign, |caller, imp, params| {
        let args: Vec<u64> = params.iter().map(host::imports::raw_arg).collect();
        let stack = (caller.data().opts.stacks && caller.data().print)
            .then(|| wasmtime::WasmBacktrace::force_capture(&*caller));
        match serve::serve_foreign(caller.data_mut(), imp.id, &args, stack.as_ref()) {
            Ok(e) | Err(e) => e,
        }
    })?;
    Ok(linker)
}

/// Once the guest stopped: the watches' last changes, the breakpoint that
/// stopped it, the state `--until N --memory` asks for.
fn report_after_the_run(
    store: &mut Store<ReplayState>,
    instance: wasmtime::Instance,
    result: &wasmtime::Result<()>,
) -> Result<()> {
    let guest_ended = match result {
        Ok(()) => true,
        Err(e) => e.is::<wasmtime_wasi::I32Exit>(),
    };
    if guest_ended {
        watch_after_the_last_call(store);
    }
    if let Some(text) = result.as_ref().err().and_then(|e| {
        let b = e.downcast_ref::<breakpoint::Breakpoint>()?;
        Some(breakpoint::report(store.data(), b, e))
    }) {
        let _ = store.data_mut().out.write_all(text.as_bytes());
    }
    if store.data().opts.keep_state {
        inspect::keep_state(store, instance);
    }
    let opts = &store.data().opts;
    let shows_state = !opts.memory.is_empty() || opts.memory_args;
    if store.data().until_call.is_some() && shows_state {
        let text = inspect::state_after(store, instance)?;
        let _ = store.data_mut().out.write_all(text.as_bytes());
    }
    Ok(())
}

/// `--watch`: the bytes as instantiation left them (data segments).
fn watch_from_the_start(store: &mut Store<ReplayState>, instance: wasmtime::Instance) {
    if let Some(memory) = instance.get_memory(&mut *store, "memory") {
        let (data, state) = memory.data_and_store_mut(&mut *store);
        state.watches.look(data);
    }
}

/// `--watch`: what the guest wrote after its last call, before it ended.
fn watch_after_the_last_call(store: &mut Store<ReplayState>) {
    let Some(memory) = store.data().memory else {
        return;
    };
    let (data, state) = memory.data_and_store_mut(&mut *store);
    let last = state.next.saturating_sub(1);
    for c in state.watches.changes(data) {
        let _ = write!(
            state.out,
            "wtrace: watch {}: written by the guest after #{last}, its last call\n{}",
            c.region,
            c.text()
        );
    }
}

/// The module's file name, as stack lines show it.
fn module_label(module_name: &str) -> String {
    Path::new(module_name)
        .file_name()
        .map_or(module_name.to_string(), |n| {
            n.to_string_lossy().into_owned()
        })
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
        if let Some(b) = e.downcast_ref::<breakpoint::Breakpoint>() {
            return Ok(ReplayEnd::Stopped {
                calls: b.seq,
                reason: format!("stopped before call #{} at breakpoint {:?}", b.seq, b.expr),
                code: crate::exit_code::BREAKPOINT,
            });
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
