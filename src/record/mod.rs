//! `wtrace record`: runs the guest under wasmtime-wasi with every preview1
//! import wrapped by an interceptor that records the call.
//!
//! Each import the module uses is defined with `func_new_unchecked` from the
//! table in [`crate::syscalls`]; inside, the guest's memory is split from the
//! store with `Memory::data_and_store_mut`, the reads are captured, the real
//! wasmtime-wasi function runs ([`crate::syscalls::dispatch`]; the clock
//! reads the recorder serves itself, [`clock`]), and its memory effects are
//! read back from the out-pointers.

mod clock;
mod output;
mod repeat;

pub use output::{IfExists, TracePath};
pub use repeat::{record_until_failure, Repeated};

use crate::capture::{self, Range, StringSizes};
use crate::decode::Decoder;
use crate::filter::Filter;
use crate::host::calls::GuestCall;
use crate::host::{self, ForeignImport, HostOptions};
use crate::inject::{InjectSpec, Injector};
use crate::matcher::CallFacts;
use crate::syscalls::{self, Func, FuncId, Syscall};
use crate::trace::{
    CallBatch, Chaos, End, Header, Injection, Outcome, RunEnd, TraceWriter, WriterStats,
};
use anyhow::Result;
use clock::CallClock;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Caller, Linker, Memory, Store};
use wasmtime_wasi::p1::wasi_snapshot_preview1::WasiSnapshotPreview1;
use wasmtime_wasi::p1::WasiP1Ctx;

/// A chunk is handed to the writer after this many calls, this many bytes
/// or this much time, whichever comes first: a killed recording loses at
/// most the last fraction of a second.
const CHUNK_CALLS: usize = 4096;
const CHUNK_BYTES: usize = 1 << 20;
const CHUNK_AGE: Duration = Duration::from_millis(250);

/// What the recorder needs besides the module.
pub struct RecordOptions<'a> {
    pub host: HostOptions,
    /// Where the trace goes.
    pub output: TracePath<'a>,
    pub embed_module: bool,
    /// Print strace-style lines to stderr while recording.
    pub print: Option<PrintCalls>,
    /// `--inject`: faults to inject, in order.
    pub inject: Vec<InjectSpec>,
    /// `--chaos SEED[:RATE]`.
    pub chaos: Option<Chaos>,
}

/// `record --print`: a line on stderr for each call the filter shows (the
/// trace keeps every call).
#[derive(Clone)]
pub struct PrintCalls {
    pub decoder: Decoder,
    pub filter: Filter,
    /// ` (INJECTED)`: made from the header's faults when recording starts.
    pub marks: crate::inject::Marks,
}

/// Collects calls into a batch and hands full batches to the trace writer.
pub struct Recorder {
    writer: TraceWriter,
    batch: CallBatch,
    /// Times the calls; the guest's monotonic clock.
    clock: CallClock,
    /// `now_ns` when the last chunk was handed over.
    last_flush_ns: u64,
    print: Option<PrintCalls>,
    header: Header,
    /// `--inject` and `--chaos`; `None` when there is nothing to inject.
    injector: Option<Injector>,
}

impl Recorder {
    fn new(
        mut writer: TraceWriter,
        clock: CallClock,
        print: Option<PrintCalls>,
        header: Header,
        injector: Option<Injector>,
    ) -> Recorder {
        Recorder {
            batch: writer.empty_batch(0),
            writer,
            clock,
            last_flush_ns: 0,
            print,
            header,
            injector,
        }
    }

    fn now_ns(&self) -> u64 {
        self.clock.now_ns()
    }

    /// Closes the call whose reads and writes were added to the batch. An
    /// error stops the guest: the trace cannot be written, and running on
    /// unrecorded is worse.
    fn push(
        &mut self,
        func: FuncId,
        args: &[u64],
        outcome: Outcome,
        start_ns: u64,
        dur_ns: u64,
        injection: Injection,
    ) -> wasmtime::Result<()> {
        self.batch.push(func, args, outcome, start_ns, dur_ns);
        self.batch.mark_injected(injection);
        if let Some(injector) = &mut self.injector {
            injector.observe(&self.batch.view(self.batch.len() - 1));
        }
        if let Some(p) = &mut self.print {
            let call = self.batch.call(self.batch.len() - 1);
            if p.filter.matches(&call) {
                eprintln!(
                    "#{} {}{}",
                    call.seq,
                    p.decoder.line(&self.header, &call),
                    p.marks.of(injection)
                );
            } else {
                // fd paths in later lines need every call's effect.
                p.decoder.follow(&self.header, &call);
            }
        }
        let call_end_ns = start_ns + dur_ns;
        if self.batch.len() >= CHUNK_CALLS
            || self.batch.byte_size() >= CHUNK_BYTES
            || call_end_ns.saturating_sub(self.last_flush_ns) >= CHUNK_AGE.as_nanos() as u64
        {
            self.flush().map_err(|e| {
                wasmtime::Error::msg(format!(
                    "recording stopped: the trace could not be written: {e:#}"
                ))
            })?;
        }
        Ok(())
    }

    /// Number of calls recorded so far.
    fn calls(&self) -> u64 {
        self.batch.first_seq() + self.batch.len() as u64
    }

    fn flush(&mut self) -> Result<()> {
        self.last_flush_ns = self.now_ns();
        if self.batch.is_empty() {
            return Ok(());
        }
        let next = self.writer.empty_batch(self.calls());
        let batch = std::mem::replace(&mut self.batch, next);
        self.writer.write_batch(batch)
    }

    /// Nothing ran: leaves no half-made trace behind.
    fn discard(self) {
        let path = self.writer.path().to_path_buf();
        let _ = self.writer.finish(End {
            run_end: RunEnd::Exit(0),
            calls: 0,
            duration_ns: 0,
            summary: None,
        });
        let _ = std::fs::remove_file(path);
    }

    /// Finishes the trace after the run.
    fn end(self, run_end: RunEnd) -> Result<Recorded> {
        match self.writer.check() {
            Ok(()) => {
                let path = self.writer.path().to_path_buf();
                let stats = self.finish(run_end.clone())?;
                Ok(Recorded {
                    run_end,
                    stats,
                    path,
                })
            }
            // A full disk, say: the guest was stopped at its next call. The
            // end record cannot be written either; the complete chunks stay.
            Err(e) => {
                let path = self.writer.path().to_path_buf();
                let msg = format!(
                    "{e:#}; {} keeps every complete chunk before it",
                    path.display()
                );
                let _ = self.finish(run_end);
                Ok(Recorded {
                    run_end: RunEnd::WriteFailed(msg),
                    stats: WriterStats::default(),
                    path,
                })
            }
        }
    }

    fn finish(mut self, run_end: RunEnd) -> Result<WriterStats> {
        let flushed = self.flush();
        let end = End {
            run_end,
            calls: self.calls(),
            duration_ns: self.now_ns(),
            // The writer counts the calls as it writes them.
            summary: None,
        };
        let stats = self.writer.finish(end);
        flushed?;
        stats
    }
}

/// Store data while recording.
pub struct RecordState {
    wasi: WasiP1Ctx,
    recorder: Recorder,
    memory: Option<Memory>,
    sizes: StringSizes,
    /// The write ranges of the call being recorded (kept to reuse its
    /// allocation).
    write_ranges: Vec<Range>,
    /// Set to the signal number by SIGINT/SIGTERM.
    signal: Arc<AtomicUsize>,
}

/// The guest was stopped at a host call because wtrace got this signal.
#[derive(Debug)]
struct Interrupted(i32);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted by signal {}", self.0)
    }
}

impl std::error::Error for Interrupted {}

/// On SIGINT or SIGTERM, `signal` gets the signal number; the guest stops at
/// its next host call and the trace is finished. A second signal of the same
/// kind ends wtrace at once (the complete chunks stay readable).
fn catch_signals(signal: &Arc<AtomicUsize>) -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for sig in [SIGINT, SIGTERM] {
        let got = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register_conditional_default(sig, got.clone())?;
        signal_hook::flag::register(sig, got.clone())?;
        let signal = signal.clone();
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe.
        unsafe {
            signal_hook::low_level::register(sig, move || {
                signal.store(sig as usize, Ordering::SeqCst)
            })?;
        }
    }
    Ok(())
}

/// The recording's result: how the guest ended and what was written where.
pub struct Recorded {
    pub run_end: RunEnd,
    pub stats: WriterStats,
    pub path: PathBuf,
}

/// Records a run of `module_path` with `argv` (argv[0] is the module path).
pub fn record(module_path: &Path, argv: Vec<String>, opts: RecordOptions<'_>) -> Result<Recorded> {
    opts.output.check()?;
    let bytes = host::read_module(module_path)?;
    // The clock calibrates its counter for a few milliseconds: meanwhile,
    // the module loads.
    let clock = std::thread::spawn(quanta::Clock::new);
    let engine = host::engine(opts.host.max_wasm_stack, false)?;
    let name = module_path.display().to_string();
    let module = host::load_module(&engine, &bytes, &name, opts.host.cache)?;
    let (served, foreign) = host::check_imports(&module, opts.host.trap_unknown_imports)?;
    let injector = Injector::new(opts.inject.clone(), opts.chaos);
    let mut header = trace_header(module_path, bytes, &argv, &opts, &foreign);
    header.faults = injector.faults();
    let injector = (!injector.is_empty()).then_some(injector);
    let linker = record_linker(&engine, served, &foreign)?;
    let mut wasi = host::wasi_builder(&opts.host, &argv)?;
    let output = opts.output.claim()?;
    // The writer takes the module; the recorder keeps the rest, for --print.
    let embedded = header.module.take();
    let kept = header.clone();
    header.module = embedded;
    let writer = TraceWriter::create_owned(&output, header).inspect_err(|_| {
        if opts.output.if_exists == IfExists::NextFree {
            let _ = std::fs::remove_file(&output);
        }
    })?;
    let clock = clock
        .join()
        .map_err(|_| anyhow::anyhow!("the clock calibration failed"))?;
    let clock = CallClock::new(clock);
    let wasi = wasi.monotonic_clock(clock.clone()).build_p1();
    let print = opts.print.map(|p| PrintCalls {
        marks: crate::inject::Marks::new(&kept.faults),
        ..p
    });
    let recorder = Recorder::new(writer, clock, print, kept, injector);
    let signal = Arc::new(AtomicUsize::new(0));
    catch_signals(&signal)?;
    let state = RecordState {
        wasi,
        recorder,
        memory: None,
        sizes: StringSizes::new(&argv, &opts.host.env),
        write_ranges: Vec::new(),
        signal,
    };
    let mut store = Store::new(&engine, state);
    let start = match host::start_func(&linker, &mut store, &module) {
        Ok(start) => start,
        Err(e) => {
            store.into_data().recorder.discard();
            return Err(e);
        }
    };
    let result = host::call_start(start, &mut store);
    let run_end = match result
        .as_ref()
        .err()
        .and_then(|e| e.downcast_ref::<Interrupted>())
    {
        Some(Interrupted(sig)) => RunEnd::Signal(*sig),
        None => host::run_end(result),
    };
    store.into_data().recorder.end(run_end)
}

/// What the trace says about the run before its first call; `bytes`, the
/// module, is embedded unless `--no-embed`.
fn trace_header(
    module_path: &Path,
    bytes: Vec<u8>,
    argv: &[String],
    opts: &RecordOptions<'_>,
    foreign: &[ForeignImport],
) -> Header {
    Header {
        format_version: crate::trace::FORMAT_VERSION,
        wtrace_version: env!("CARGO_PKG_VERSION").to_string(),
        wasmtime_version: host::WASMTIME_VERSION.to_string(),
        module_name: module_path.file_name().map_or_else(
            || module_path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        module_size: bytes.len() as u64,
        module_blake3: *blake3::hash(&bytes).as_bytes(),
        module: opts.embed_module.then_some(bytes),
        argv: argv.to_vec(),
        env: opts.host.env.clone(),
        preopens: opts.host.dirs.clone(),
        start_unix_ns: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
        platform: host::platform(),
        max_wasm_stack: opts.host.max_wasm_stack as u64,
        foreign_imports: foreign.iter().map(ForeignImport::full_name).collect(),
        faults: Default::default(),
    }
}

/// Every preview1 import the module uses, recorded; the others trap.
fn record_linker(
    engine: &wasmtime::Engine,
    served: Vec<&'static Syscall>,
    foreign: &[ForeignImport],
) -> Result<Linker<RecordState>> {
    let mut linker: Linker<RecordState> = Linker::new(engine);
    for sys in served {
        define_interceptor(&mut linker, sys)?;
    }
    host::define_trapping_imports(&mut linker, foreign, record_foreign_call)?;
    Ok(linker)
}

impl host::calls::CallHost for RecordState {
    fn memory_slot(&mut self) -> &mut Option<Memory> {
        &mut self.memory
    }
}

/// Runs a preview1 call for real and records it.
fn define_interceptor(linker: &mut Linker<RecordState>, sys: &'static Syscall) -> Result<()> {
    if sys.func == Func::clock_time_get {
        return host::calls::define(linker, sys, move |call| record_clock_read(sys, call));
    }
    let reads_memory = capture::reads_memory(sys);
    host::calls::define(linker, sys, move |call| {
        record_call(sys, reads_memory, call)
    })
}

/// `clock_time_get`, the call the Go runtime makes most: served by
/// [`clock::serve`] and recorded as [`record_call`] records it (one 8-byte
/// write at `time`), with none of its questions; unless faults are
/// injected, a signal came, or wasmtime-wasi must answer.
fn record_clock_read(
    sys: &'static Syscall,
    call: GuestCall<'_, RecordState>,
) -> wasmtime::Result<i32> {
    let state = &mut *call.state;
    if state.recorder.injector.is_some() || state.signal.load(Ordering::Relaxed) != 0 {
        return record_call(sys, false, call);
    }
    let recorder = &mut state.recorder;
    let start_ns = recorder.now_ns();
    if !clock::serve(call.args, call.memory, start_ns) {
        return record_call(sys, false, call);
    }
    let dur_ns = recorder.now_ns().saturating_sub(start_ns);
    let at = call.args[clock::TIME_PARAM] as u32;
    let time = &call.memory[at as usize..at as usize + 8];
    recorder.batch.add_write(clock::TIME_PARAM as u8, at, time);
    let ok = Outcome::Errno(0);
    recorder.push(
        sys.func.id(),
        call.args,
        ok,
        start_ns,
        dur_ns,
        Injection::NONE,
    )?;
    Ok(0)
}

/// Runs any preview1 call for real and records it.
fn record_call(
    sys: &'static Syscall,
    reads_memory: bool,
    call: GuestCall<'_, RecordState>,
) -> wasmtime::Result<i32> {
    let GuestCall {
        state,
        memory: data,
        args,
        fuel,
        ..
    } = call;
    let signal = state.signal.load(Ordering::Relaxed);
    if signal != 0 {
        return Err(wasmtime::Error::new(Interrupted(signal as i32)));
    }
    let recorder = &mut state.recorder;
    if reads_memory {
        capture::read_ranges(sys, args, data, |r| {
            recorder.batch.add_read(r.param, r.addr, r.bytes(data))
        });
    }
    let plan = match &mut recorder.injector {
        None => None,
        Some(injector) => {
            let facts = CallFacts {
                seq: recorder.batch.first_seq() + recorder.batch.len() as u64,
                func: sys.func.id(),
                args,
                reads: recorder.batch.open_reads(),
                result: None,
            };
            injector.plan(sys, &facts)
        }
    };
    if let Some(delay) = plan.and_then(|p| p.delay_enter) {
        std::thread::sleep(delay);
    }
    let start_ns = recorder.now_ns();
    let result = match plan {
        None if sys.func == Func::clock_time_get && clock::serve(args, data, start_ns) => Ok(0),
        None => {
            state.wasi.set_hostcall_fuel(fuel);
            syscalls::dispatch(
                sys.func,
                &mut state.wasi,
                &mut wiggle::GuestMemory::Unshared(data),
                args,
            )
        }
        Some(plan) => injected_call(state, sys, args, data, fuel, &plan),
    };
    if let Some(delay) = plan.and_then(|p| p.delay_exit) {
        std::thread::sleep(delay);
    }
    let recorder = &mut state.recorder;
    let dur_ns = recorder.now_ns().saturating_sub(start_ns);
    let (outcome, ret) = match result {
        Ok(errno) => (Outcome::Errno(errno as u16), Ok(errno)),
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => (Outcome::Exit(exit.0), Err(e)),
            None => (Outcome::Trap(host::trap_text(&e)), Err(e)),
        },
    };
    if outcome == Outcome::Errno(0) {
        let ranges = &mut state.write_ranges;
        ranges.clear();
        let batch = &recorder.batch;
        let read_list = |i| batch.open_read(i);
        capture::write_ranges(sys, args, data, read_list, &state.sizes, |r| ranges.push(r));
        for r in ranges.iter() {
            recorder.batch.add_write(r.param, r.addr, r.bytes(data));
        }
    }
    let injection = plan.map_or(Injection::NONE, |p| p.injection);
    recorder.push(sys.func.id(), args, outcome, start_ns, dur_ns, injection)?;
    ret
}

/// A call the injector has a plan for: served by the injector, or by the
/// host with what the injector changes before and after.
fn injected_call(
    state: &mut RecordState,
    sys: &'static Syscall,
    args: &[u64],
    data: &mut [u8],
    fuel: usize,
    plan: &crate::inject::Plan,
) -> wasmtime::Result<i32> {
    let injector = state
        .recorder
        .injector
        .as_mut()
        .expect("a plan comes from the injector");
    if let Some(errno) = injector.serve(plan, sys, args, data) {
        return Ok(errno);
    }
    let saved = injector.before_host(plan, sys, args, data);
    state.wasi.set_hostcall_fuel(fuel);
    let result = syscalls::dispatch(
        sys.func,
        &mut state.wasi,
        &mut wiggle::GuestMemory::Unshared(data),
        args,
    );
    let ok = matches!(result, Ok(0));
    let injector = state.recorder.injector.as_mut().expect("still there");
    injector.after_host(plan, sys, args, data, saved, ok);
    result
}

fn record_foreign_call(
    caller: &mut Caller<'_, RecordState>,
    imp: &ForeignImport,
    params: &[wasmtime::Val],
) -> wasmtime::Error {
    let msg = host::imports::foreign_trap_message(imp);
    let rec = &mut caller.data_mut().recorder;
    let args: Vec<u64> = params.iter().map(host::imports::raw_arg).collect();
    let start_ns = rec.now_ns();
    let trap = Outcome::Trap(msg.clone());
    match rec.push(imp.id, &args, trap, start_ns, 0, Injection::NONE) {
        Ok(()) => wasmtime::Error::msg(msg),
        Err(stopped) => stopped,
    }
}
