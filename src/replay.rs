//! `wtrace replay`: runs the recorded module again with every preview1 call
//! served from the trace. Nothing of the host is touched: no WASI context
//! exists; results and memory effects come from the recording.
//!
//! At every call the function, the raw arguments and the guest memory the
//! host would read (paths, data, iovec lists, subscriptions) are compared
//! with the recording; the first difference stops the replay with a
//! [`Divergence`].

use crate::capture;
use crate::host;
use crate::host::calls::GuestCall;
use crate::print::Printer;
use crate::syscalls::{Func, Kind, Syscall};
use crate::trace::{func_name, Call, End, Header, Mem, Outcome, RunEnd, TraceReader};
use anyhow::{bail, Context, Result};
use std::collections::VecDeque;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
use wasmtime::{Linker, Memory, Store};

#[derive(Default)]
pub struct ReplayOptions {
    /// Use this module file instead of the embedded one.
    pub module: Option<PathBuf>,
    /// Accept a module whose blake3 differs from the recorded one.
    pub force: bool,
    /// Do not re-emit the guest's stdout and stderr.
    pub quiet: bool,
    /// Print strace-style lines to stderr as the replay goes.
    pub print: Option<Printer>,
    /// Stop after call N.
    pub until: Option<u64>,
}

/// The first difference between the replayed run and the recording.
#[derive(Clone, Debug)]
pub struct Divergence {
    /// Number of the call where it happened.
    pub seq: u64,
    /// What differs, in words.
    pub what: String,
    /// The recorded call, decoded (none when the guest made more calls than
    /// were recorded).
    pub recorded: Option<String>,
    /// The call the guest made, decoded (none when the guest ended early).
    pub replayed: Option<String>,
    /// The calls just before, decoded.
    pub before: Vec<String>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "replay diverged at call #{}: {}", self.seq, self.what)?;
        if let Some(r) = &self.recorded {
            writeln!(f, "  recorded: {r}")?;
        }
        if let Some(r) = &self.replayed {
            writeln!(f, "  replayed: {r}")?;
        }
        if !self.before.is_empty() {
            writeln!(f, "  calls before:")?;
            for line in &self.before {
                writeln!(f, "    {line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Divergence {}

/// Stops the guest before the recording says it stopped: at `--until`, or
/// where an interrupted or unfinished recording ends. Not the guest's error.
#[derive(Debug)]
struct StopHere {
    reason: String,
    /// The exit code wtrace reports: 0 for --until and an unfinished
    /// recording, 128 + N for a recording stopped by signal N.
    code: i32,
}
impl fmt::Display for StopHere {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}
impl std::error::Error for StopHere {}

/// The trace cannot be read on (a damaged chunk): wtrace's error, not the
/// guest's divergence.
#[derive(Debug)]
struct Unreadable(String);
impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read the trace: {}", self.0)
    }
}
impl std::error::Error for Unreadable {}

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

struct ReplayState {
    trace_path: PathBuf,
    header: Header,
    end: Option<End>,
    /// Number of the next call to serve.
    next: u64,
    total: u64,
    /// Decodes the chunks ahead of the guest.
    chunks: Prefetch,
    /// The chunk being served; its calls are taken out one by one and put
    /// back once served, so that the whole chunk is freed on the
    /// prefetching thread.
    chunk: Vec<Call>,
    /// Index in `chunk` of the next call.
    pos: usize,
    memory: Option<Memory>,
    opts: ReplayOptions,
}

/// Decodes the chunks of a trace in order on a thread of its own, one
/// chunk ahead of the guest (decompressing and decoding run on the other
/// core), and frees the chunks the guest is done with.
struct Prefetch {
    decoded: Receiver<Result<Vec<Call>>>,
    spent: Sender<Vec<Call>>,
}

impl Prefetch {
    fn start(mut reader: TraceReader) -> Result<Prefetch> {
        let (decoded_tx, decoded) = sync_channel(1);
        let (spent, spent_rx) = channel::<Vec<Call>>();
        std::thread::Builder::new()
            .name("wtrace-prefetch".into())
            .spawn(move || {
                for i in 0..reader.chunks().len() {
                    let chunk = reader.take_chunk(i);
                    let failed = chunk.is_err();
                    // Fails once the replay stops early: nothing to do.
                    if decoded_tx.send(chunk).is_err() || failed {
                        break;
                    }
                    spent_rx.try_iter().for_each(drop);
                }
            })?;
        Ok(Prefetch { decoded, spent })
    }

    /// The next chunk; hands back the one before.
    fn next(&mut self, done: Vec<Call>) -> Result<Vec<Call>> {
        let _ = self.spent.send(done);
        self.decoded
            .recv()
            .map_err(|_| anyhow::anyhow!("the thread reading the trace stopped"))?
    }
}

const CONTEXT_CALLS: usize = 3;

/// Loads the module to replay: the embedded one or `--module`, checked
/// against the recorded blake3.
fn module_bytes(header: &Header, opts: &ReplayOptions) -> Result<Vec<u8>> {
    match &opts.module {
        Some(path) => {
            let bytes = host::read_module(path)?;
            let hash = blake3::hash(&bytes);
            if *hash.as_bytes() != header.module_blake3 && !opts.force {
                bail!(
                    "{} is not the recorded module (blake3 {} , recorded {}); use --force to replay it anyway",
                    path.display(),
                    hash.to_hex(),
                    header.module_blake3_hex()
                );
            }
            Ok(bytes)
        }
        None => header.module.clone().with_context(|| {
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
    let bytes = module_bytes(&header, &opts)?;
    // The module is the header's biggest part; the prefetcher needs none of it.
    reader.header.module = None;
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
        chunk: Vec::new(),
        pos: 0,
        memory: None,
        opts,
    };
    let mut store = Store::new(&engine, state);
    let mut linker: Linker<ReplayState> = Linker::new(&engine);
    for sys in served {
        define_replayer(&mut linker, sys)?;
    }
    host::define_trapping_imports(&mut linker, &foreign, |caller, imp, params| {
        let args: Vec<u64> = params.iter().map(host::imports::raw_arg).collect();
        match serve_foreign(caller.data_mut(), imp.id, &args) {
            Ok(e) | Err(e) => e,
        }
    })?;
    let start = host::start_func(&linker, &mut store, &module)?;
    let result = start.call(&mut store, ());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();

    let mut state = store.into_data();
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
        let d = divergence(&mut state, next, what, None);
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
            Ok(ReplayEnd::Diverged(Box::new(divergence(
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

/// Builds the divergence report: the recorded call (if any), the call made,
/// and the calls before with the fd paths a full decode knows.
fn divergence(state: &mut ReplayState, seq: u64, what: String, made: Option<Call>) -> Divergence {
    let header = &state.header;
    let mut printer = Printer::default();
    let mut before = VecDeque::new();
    let mut recorded = None;
    let upto = (seq + 1).min(state.total);
    // The report decodes the calls up to here once more, for the fd paths
    // they opened; a trace that cannot be read again gets a shorter report.
    let mut reader = TraceReader::open(&state.trace_path).ok();
    for i in 0..upto {
        let Some(Ok(call)) = reader.as_mut().map(|r| r.call(i)) else {
            break;
        };
        let line = format!("#{i} {}", printer.line(header, &call));
        if i == seq {
            recorded = Some(line);
        } else {
            before.push_back(line);
            if before.len() > CONTEXT_CALLS {
                before.pop_front();
            }
        }
    }
    let replayed = made.map(|c| {
        let mut line = printer.decode(header, &c);
        line.result = "?".into();
        line.outs.clear();
        format!("#{seq} {}", line.line())
    });
    Divergence {
        seq,
        what,
        recorded,
        replayed,
        before: before.into(),
    }
}

fn diverge(state: &mut ReplayState, seq: u64, what: String, made: Option<Call>) -> wasmtime::Error {
    wasmtime::Error::new(divergence(state, seq, what, made))
}

/// Takes the next recorded call, or says why there is none. `made` builds
/// the call the guest made, for the report when there is none to serve.
fn next_recorded(state: &mut ReplayState, made: impl FnOnce() -> Call) -> wasmtime::Result<Call> {
    let seq = state.next;
    if let Some(until) = state.opts.until {
        if seq > until {
            let reason = format!("stopped after call #{until} (--until)");
            return Err(wasmtime::Error::new(StopHere { reason, code: 0 }));
        }
    }
    if seq >= state.total {
        let stop = match state.end.as_ref().map(|e| &e.run_end) {
            None => Some(StopHere {
                reason: "reached the end of an unfinished recording".into(),
                code: 0,
            }),
            Some(RunEnd::Signal(sig)) => Some(StopHere {
                reason: format!("reached the end of a recording stopped by signal {sig}"),
                code: 128 + sig,
            }),
            Some(RunEnd::WriteFailed(msg)) => Some(StopHere {
                reason: format!("reached the end of a recording that stopped because {msg}"),
                code: crate::exit_code::ERROR,
            }),
            Some(_) => None,
        };
        if let Some(stop) = stop {
            return Err(wasmtime::Error::new(stop));
        }
        let what = format!(
            "the guest made more calls than the {} recorded",
            state.total
        );
        return Err(diverge(state, seq, what, Some(made())));
    }
    if state.pos == state.chunk.len() {
        let done = std::mem::take(&mut state.chunk);
        state.chunk = state
            .chunks
            .next(done)
            .map_err(|e| wasmtime::Error::new(Unreadable(format!("{e:#}"))))?;
        state.pos = 0;
        if state.chunk.is_empty() {
            return Err(wasmtime::Error::msg("the trace has an empty chunk"));
        }
    }
    let call = std::mem::take(&mut state.chunk[state.pos]);
    state.pos += 1;
    state.next += 1;
    Ok(call)
}

/// Puts a served call back into its chunk, to be freed with it.
fn served(state: &mut ReplayState, call: Call) {
    if let Some(slot) = state
        .pos
        .checked_sub(1)
        .and_then(|i| state.chunk.get_mut(i))
    {
        *slot = call;
    }
}

/// The first difference between a recorded call and the call made, if any.
fn compare(sys: Option<&Syscall>, header: &Header, recorded: &Call, made: &Call) -> Option<String> {
    if recorded.func != made.func {
        return Some(format!(
            "the guest called {}, the recording has {}",
            func_name(header, made.func),
            func_name(header, recorded.func)
        ));
    }
    // Pointers may differ (a rebuilt module puts its buffers elsewhere):
    // what they point at is compared below. Scalars must be equal.
    let is_pointer = |i: usize| {
        sys.and_then(|s| s.params.get(i))
            .is_some_and(|p| !matches!(p.kind, Kind::Value(_) | Kind::Len))
    };
    let differs = |i: usize| recorded.args.get(i) != made.args.get(i) && !is_pointer(i);
    if let Some(i) = (0..recorded.args.len().max(made.args.len())).find(|&i| differs(i)) {
        let name = sys
            .and_then(|s| s.params.get(i))
            .map_or(format!("argument {i}"), |p| {
                format!("argument `{}`", p.name)
            });
        return Some(format!(
            "{name} differs: recorded {:#x}, now {:#x}",
            recorded.args.get(i).copied().unwrap_or(0),
            made.args.get(i).copied().unwrap_or(0)
        ));
    }
    describe_read_difference(sys, &recorded.reads, &made.reads)
}

/// The first difference in what the guest hands in, by content: an iovec
/// list is compared by its lengths, not its buffer addresses.
fn describe_read_difference(
    sys: Option<&Syscall>,
    recorded: &[Mem],
    made: &[Mem],
) -> Option<String> {
    let mut seen = Vec::new();
    for (r, m) in recorded.iter().zip(made) {
        let kind = sys
            .and_then(|s| s.params.get(r.param as usize))
            .map(|p| p.kind);
        let name = sys
            .and_then(|s| s.params.get(r.param as usize))
            .map_or("memory", |p| p.name);
        if r.param != m.param {
            return Some(format!(
                "the guest hands in `{name}` where the recording has another parameter"
            ));
        }
        let first_of_param = !seen.contains(&r.param);
        seen.push(r.param);
        let is_list = matches!(kind, Some(Kind::Iovecs { .. }))
            || (matches!(kind, Some(Kind::Ciovecs { .. })) && first_of_param);
        if is_list {
            let lens = |b: &[u8]| capture::iovecs(b).map(|(_, len)| len).collect::<Vec<_>>();
            if lens(&r.bytes) != lens(&m.bytes) {
                return Some(format!(
                    "the iovec lengths of `{name}` differ: recorded {:?}, now {:?}",
                    lens(&r.bytes),
                    lens(&m.bytes)
                ));
            }
            continue;
        }
        if r.bytes.len() != m.bytes.len() {
            return Some(format!(
                "the guest passes {} bytes of `{name}`, the recording {}",
                m.bytes.len(),
                r.bytes.len()
            ));
        }
        if let Some(at) = r.bytes.iter().zip(&m.bytes).position(|(a, b)| a != b) {
            return Some(format!(
                "the bytes of `{name}` differ at {:#x} (offset {at}): recorded {:#04x}, now {:#04x}",
                m.addr as usize + at,
                r.bytes[at],
                m.bytes[at]
            ));
        }
    }
    (recorded.len() != made.len()).then(|| {
        format!(
            "the guest hands in {} memory ranges, the recording {}",
            made.len(),
            recorded.len()
        )
    })
}

fn after_call(state: &mut ReplayState, call: Call) {
    if let Some(p) = &mut state.opts.print {
        eprintln!("#{} {}", call.seq, p.line(&state.header, &call));
    }
    served(state, call);
}

/// Whether the guest hands in exactly the recorded memory, at the recorded
/// addresses: compared in place, without copying.
fn reads_match(sys: &Syscall, args: &[u64], data: &[u8], recorded: &[Mem]) -> bool {
    let mut recorded = recorded.iter();
    let mut same = true;
    capture::read_ranges(sys, args, data, |r| {
        same &= recorded
            .next()
            .is_some_and(|m| m.param == r.param && m.addr == r.addr && m.bytes == r.bytes(data));
    });
    same && recorded.next().is_none()
}

/// Writes memory effects into guest memory; says so when one falls outside.
fn apply<'a>(
    data: &mut [u8],
    effects: impl Iterator<Item = (u32, &'a [u8])>,
) -> Result<(), String> {
    for (addr, bytes) in effects {
        let start = addr as usize;
        match data.get_mut(start..start + bytes.len()) {
            Some(dst) => dst.copy_from_slice(bytes),
            None => {
                return Err(format!(
                    "the recorded memory effect at {addr:#x} ({} bytes) is outside guest memory",
                    bytes.len()
                ))
            }
        }
    }
    Ok(())
}

/// The recorded memory effects moved to where the guest's pointers point
/// now: the same offset from each out-pointer, the same iovec buffer, and
/// argv/environ pointer arrays rebased onto the new string buffer.
fn relocate(
    sys: &Syscall,
    recorded: &Call,
    args: &[u64],
    reads: &[Mem],
) -> Result<Vec<(u32, Vec<u8>)>, String> {
    let arg = |a: &[u64], i: usize| a.get(i).copied().unwrap_or(0) as u32;
    let list = |mems: &[Mem], p: u8| -> Vec<(u32, u32)> {
        mems.iter()
            .find(|m| m.param == p)
            .map(|m| capture::iovecs(&m.bytes).collect())
            .unwrap_or_default()
    };
    let mut out = Vec::with_capacity(recorded.writes.len());
    for w in &recorded.writes {
        let p = w.param as usize;
        let shift = |addr: u32| {
            addr.wrapping_sub(arg(&recorded.args, p))
                .wrapping_add(arg(args, p))
        };
        let moved = match sys.params.get(p).map(|q| q.kind) {
            Some(Kind::Iovecs { .. }) => {
                let (was, now) = (list(&recorded.reads, w.param), list(reads, w.param));
                let j = was
                    .iter()
                    .position(|(buf, _)| *buf == w.addr)
                    .ok_or("a recorded read buffer is not in its iovec list")?;
                (now[j].0, w.bytes.clone())
            }
            Some(Kind::StringPtrs(_)) => {
                // The array holds pointers into the string buffer parameter.
                let q = sys
                    .params
                    .iter()
                    .position(|q| matches!(q.kind, Kind::StringBuf(_)))
                    .unwrap_or(p);
                let delta = arg(args, q).wrapping_sub(arg(&recorded.args, q));
                let bytes = w
                    .bytes
                    .chunks(4)
                    .flat_map(|c| match <[u8; 4]>::try_from(c) {
                        Ok(b) => u32::from_le_bytes(b)
                            .wrapping_add(delta)
                            .to_le_bytes()
                            .to_vec(),
                        Err(_) => c.to_vec(),
                    })
                    .collect();
                (shift(w.addr), bytes)
            }
            _ => (shift(w.addr), w.bytes.clone()),
        };
        out.push(moved);
    }
    Ok(out)
}

/// The recorded outcome, as what the host function returns.
fn outcome_result(outcome: &Outcome) -> wasmtime::Result<i32> {
    match outcome {
        Outcome::Errno(e) => Ok(*e as i32),
        Outcome::Exit(code) => Err(wasmtime::Error::new(wasmtime_wasi::I32Exit(*code))),
        Outcome::Trap(msg) => Err(wasmtime::Error::msg(msg.clone())),
    }
}

fn serve_foreign(
    state: &mut ReplayState,
    id: u16,
    args: &[u64],
) -> Result<wasmtime::Error, wasmtime::Error> {
    let made = Call {
        seq: state.next,
        func: id,
        args: args.to_vec(),
        outcome: Outcome::Errno(0),
        start_ns: 0,
        dur_ns: 0,
        reads: vec![],
        writes: vec![],
    };
    let recorded = next_recorded(state, || made.clone())?;
    if let Some(what) = compare(None, &state.header, &recorded, &made) {
        return Err(diverge(state, made.seq, what, Some(made)));
    }
    let err = outcome_result(&recorded.outcome)
        .err()
        .unwrap_or_else(|| wasmtime::Error::msg("unknown import returned"));
    after_call(state, recorded);
    Ok(err)
}

impl host::calls::CallHost for ReplayState {
    fn memory_slot(&mut self) -> &mut Option<Memory> {
        &mut self.memory
    }
}

/// Serves a preview1 call from the trace.
fn define_replayer(linker: &mut Linker<ReplayState>, sys: &'static Syscall) -> Result<()> {
    host::calls::define(linker, sys, move |call| {
        let GuestCall {
            state,
            memory: data,
            args,
            ..
        } = call;
        let seq = state.next;
        let made = |reads: Vec<Mem>| Call {
            seq,
            func: sys.func as u16,
            args: args.to_vec(),
            outcome: Outcome::Errno(0),
            start_ns: 0,
            dur_ns: 0,
            reads,
            writes: Vec::new(),
        };
        let recorded = next_recorded(state, || made(capture::reads(sys, args, data)))?;
        if recorded.func != sys.func as u16
            || recorded.args != args
            || !reads_match(sys, args, data, &recorded.reads)
        {
            // Not the same bytes: the same call at other addresses (a
            // rebuilt module) still replays; anything else diverges.
            let made = made(capture::reads(sys, args, data));
            if let Some(what) = compare(Some(sys), &state.header, &recorded, &made) {
                return Err(diverge(state, seq, what, Some(made)));
            }
            let effects = match relocate(sys, &recorded, args, &made.reads) {
                Ok(effects) => effects,
                Err(what) => return Err(diverge(state, seq, what, Some(made))),
            };
            if let Err(what) = apply(data, effects.iter().map(|(a, b)| (*a, &b[..]))) {
                return Err(diverge(state, seq, what, Some(made)));
            }
        } else if let Err(what) =
            apply(data, recorded.writes.iter().map(|w| (w.addr, &w.bytes[..])))
        {
            let made = made(capture::reads(sys, args, data));
            return Err(diverge(state, seq, what, Some(made)));
        }
        if sys.func == Func::fd_write && recorded.outcome == Outcome::Errno(0) && !state.opts.quiet
        {
            reemit_output(&recorded);
        }
        let ret = outcome_result(&recorded.outcome);
        after_call(state, recorded);
        ret
    })
}

/// Writes what the guest wrote to fd 1 and 2, as many bytes as the
/// recording says the host took, to wtrace's own stdout and stderr.
fn reemit_output(call: &Call) {
    let fd = call.args.first().copied().unwrap_or(0);
    if fd != 1 && fd != 2 {
        return;
    }
    let nwritten = call
        .writes
        .iter()
        .find(|m| m.param == 3 && m.bytes.len() == 4)
        .map_or(0, |m| {
            u32::from_le_bytes(m.bytes[..4].try_into().expect("4")) as usize
        });
    let data = capture::ciovec_data(&call.reads, 1, nwritten);
    // A closed stdout (a pipe to `head`) must not stop the replay.
    let _ = if fd == 1 {
        std::io::stdout().write_all(&data)
    } else {
        std::io::stderr().write_all(&data)
    };
}
