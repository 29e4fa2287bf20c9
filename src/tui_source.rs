//! `wtrace tui`: the terminal UI's view of a trace ([`wtrace_tui::TraceSource`]
//! over [`TraceReader`] and [`Decoder`]).
//!
//! Opening reads only the header and the index, so a trace of millions of
//! calls opens at once. Rows and details are decoded when shown, a chunk at a
//! time. One background pass, a few chunks per UI tick, gathers what needs
//! the whole trace: the timeline, the fd table at the start of each chunk
//! (so rows anywhere show `fd=4</data/x>`), and where the guest wrote to
//! stdout and stderr (for the output pane).

mod scan;
mod state;

use crate::decode::{result_text, short_result, Decoder, Field, Named};
use crate::filter::Filter;
use crate::matcher::Trigger;
use crate::report::stats;
use crate::syscalls::{Class, SYSCALLS};
use crate::trace::{func_name, Faults, Injection, Outcome, RunEnd, TraceReader};
use wtrace_tui::{
    BreakHit, CallResult, Detail, Item, MemBlock, Row, RunStatus, SearchHit, StatRow, Summary,
    Task, TraceSource, Value, ValueKind,
};

/// Chunks the background pass handles per UI tick.
const CHUNKS_PER_STEP: usize = 8;
/// Resolution of the timeline the pass gathers.
const TIMELINE_BUCKETS: usize = 1024;
/// Data shown per string in rows and details.
const STRSIZE: usize = 64;

pub struct TraceView {
    reader: TraceReader,
    /// Duration of the run: from the end record, or the last call's start.
    duration_ns: u64,
    /// The fd table as it stood at the start of each chunk the pass reached.
    checkpoints: Vec<Decoder>,
    /// Guest writes to fd 1 and 2: (call, fd, bytes), for the chunks reached.
    output: Vec<(u64, u8, Vec<u8>)>,
    timeline: Vec<u64>,
    /// Decoder at the end of the chunks reached: the next checkpoint.
    pass: Decoder,
    /// The guest's state at the selected call.
    states: state::States,
}

impl TraceView {
    pub fn new(mut reader: TraceReader) -> anyhow::Result<TraceView> {
        let duration_ns = match &reader.end {
            Some(end) => end.duration_ns,
            None => match reader.call_count() {
                0 => 0,
                n => reader.call(n - 1)?.start_ns,
            },
        };
        Ok(TraceView {
            states: state::States::new(reader.path()),
            reader,
            duration_ns,
            checkpoints: Vec::new(),
            output: Vec::new(),
            timeline: vec![0; TIMELINE_BUCKETS],
            pass: Decoder::new(STRSIZE),
        })
    }

    fn done(&self) -> bool {
        self.checkpoints.len() >= self.reader.chunks().len()
    }

    /// A decoder that knows the fds as they stood before call `seq`.
    fn decoder_before(&mut self, seq: u64) -> Decoder {
        let header = self.reader.header.clone();
        let Some(k) = self.reader.chunk_of(seq) else {
            return Decoder::new(STRSIZE);
        };
        let mut p = self
            .checkpoints
            .get(k)
            .cloned()
            .unwrap_or_else(|| Decoder::new(STRSIZE));
        let first = self.reader.chunks()[k].first_seq;
        for s in first..seq {
            if let Ok(c) = self.reader.call(s) {
                p.follow(&header, &c);
            }
        }
        p
    }

    fn run_status(&self) -> RunStatus {
        match (&self.reader.end, &self.reader.unfinished) {
            (_, Some(why)) => RunStatus::Unfinished(Some(why.clone())),
            (Some(end), None) => match &end.run_end {
                RunEnd::Exit(code) => RunStatus::Exited(*code),
                // The cause is the message's last line, under the backtrace.
                RunEnd::Trap(msg) => {
                    RunStatus::Trapped(msg.lines().last().unwrap_or("").trim().to_string())
                }
                RunEnd::Signal(sig) => RunStatus::Killed(*sig),
                RunEnd::WriteFailed(why) => RunStatus::RecordingStopped(why.clone()),
            },
            (None, None) => RunStatus::Unfinished(None),
        }
    }
}

impl TraceSource for TraceView {
    fn summary(&self) -> Summary {
        let h = &self.reader.header;
        Summary {
            module: h.module_name.clone(),
            blake3: h.module_blake3_hex(),
            argv: h.argv.clone(),
            status: self.run_status(),
            calls: self.reader.call_count(),
            duration_ns: self.duration_ns,
        }
    }

    fn filter_words(&self) -> Vec<String> {
        let classes = Class::ALL.iter().map(|c| format!("%{}", c.name()));
        let funcs = SYSCALLS.iter().map(|s| s.name.to_string());
        classes.chain(funcs).chain(["--failed".into()]).collect()
    }

    fn len(&self) -> u64 {
        self.reader.call_count()
    }

    fn rows(&mut self, start: u64, count: usize) -> Vec<Row> {
        let header = self.reader.header.clone();
        let end = (start + count as u64).min(self.len());
        if start >= end {
            return Vec::new();
        }
        let mut p = self.decoder_before(start);
        (start..end)
            .filter_map(|seq| self.reader.call(seq).ok())
            .map(|c| {
                let d = p.decode(&header, &c);
                Row {
                    seq: c.seq,
                    time_ns: c.start_ns,
                    args: items(&d.args),
                    func: d.name,
                    result: call_result(&c.outcome, c.injection, &header.faults),
                }
            })
            .collect()
    }

    fn detail(&mut self, seq: u64) -> Option<Detail> {
        let header = self.reader.header.clone();
        let mut p = self.decoder_before(seq);
        let c = self.reader.call(seq).ok()?;
        let d = p.decode(&header, &c);
        let sys = c.func.syscall();
        let param = |i: u8| {
            sys.and_then(|s| s.params.get(i as usize))
                .map_or("memory", |p| p.name)
        };
        let mut memory: Vec<MemBlock> = c
            .reads
            .iter()
            .map(|m| MemBlock {
                label: format!("read {}", param(m.param)),
                addr: m.addr,
                bytes: m.bytes.clone(),
            })
            .collect();
        memory.extend(c.writes.iter().map(|m| MemBlock {
            label: format!("wrote {}", param(m.param)),
            addr: m.addr,
            bytes: m.bytes.clone(),
        }));
        Some(Detail {
            seq,
            func: func_name(&header, c.func),
            args: items(&d.args),
            result: call_result(&c.outcome, c.injection, &header.faults),
            outs: items(&d.outs),
            time_ns: c.start_ns,
            dur_ns: c.dur_ns,
            memory,
        })
    }

    fn output_at(&mut self, seq: u64, max: usize) -> (Vec<u8>, Vec<u8>) {
        // Only what the background pass has reached so far; the UI asks
        // again while the pass runs.
        let mut out = (Vec::new(), Vec::new());
        let upto = self.output.partition_point(|(s, _, _)| *s <= seq);
        for (_, fd, bytes) in self.output[..upto].iter().rev() {
            let buf = if *fd == 1 { &mut out.0 } else { &mut out.1 };
            if buf.len() < max {
                let mut b = bytes.clone();
                b.extend_from_slice(buf);
                *buf = b;
            }
            if out.0.len() >= max && out.1.len() >= max {
                break;
            }
        }
        let tail = |v: Vec<u8>| v[v.len().saturating_sub(max)..].to_vec();
        (tail(out.0), tail(out.1))
    }

    fn search(&mut self, from: u64, forward: bool, text: &str) -> Task<Option<SearchHit>> {
        let path = self.reader.path().to_path_buf();
        let search = scan::Search {
            from,
            forward,
            text: text.to_string(),
            checkpoints: self.checkpoints.clone(),
        };
        Task::spawn(self.len(), move |progress| {
            scan::search(&path, search, progress)
        })
    }

    /// Replays the embedded module up to the call, on a thread of its
    /// own: the list stays responsive.
    fn state(&mut self, seq: u64) -> Option<Task<Result<wtrace_tui::CallState, String>>> {
        self.reader.module.as_ref()?;
        Some(self.states.state(seq))
    }

    fn memory(&mut self, seq: u64, addr: u32, len: u32) -> Task<Result<Vec<u8>, String>> {
        self.states.memory(seq, addr, len)
    }

    fn check_breakpoint(&self, expr: &str) -> Result<(), String> {
        Trigger::parse(expr).map(drop).map_err(|e| format!("{e:#}"))
    }

    fn continue_to(
        &mut self,
        from: u64,
        forward: bool,
        breakpoints: &[String],
    ) -> Result<Task<Option<BreakHit>>, String> {
        let triggers = breakpoints
            .iter()
            .map(|b| Trigger::parse(b).map_err(|e| format!("breakpoint {b:?}: {e:#}")))
            .collect::<Result<Vec<_>, _>>()?;
        let path = self.reader.path().to_path_buf();
        let c = scan::Continue {
            from,
            forward,
            triggers,
        };
        Ok(Task::spawn(self.len(), move |progress| {
            scan::continue_to(&path, c, scan::workers(), progress)
        }))
    }

    fn select(&mut self, expr: &str) -> Result<Task<Vec<u64>>, String> {
        let filter = parse_filter(expr).map_err(|e| format!("{e:#}"))?;
        let path = self.reader.path().to_path_buf();
        Ok(Task::spawn(self.len(), move |progress| {
            scan::select(&path, &filter, progress)
        }))
    }

    fn step(&mut self) {
        let header = self.reader.header.clone();
        for _ in 0..CHUNKS_PER_STEP {
            let k = self.checkpoints.len();
            if k >= self.reader.chunks().len() {
                return;
            }
            self.checkpoints.push(self.pass.clone());
            let Ok(calls) = self.reader.take_chunk(k) else {
                // A damaged chunk: the pass stops; what it has stays.
                self.checkpoints
                    .resize(self.reader.chunks().len(), self.pass.clone());
                return;
            };
            for c in &calls {
                let b = (c.start_ns as u128 * TIMELINE_BUCKETS as u128
                    / self.duration_ns.max(1) as u128) as usize;
                self.timeline[b.min(TIMELINE_BUCKETS - 1)] += 1;
                if let Some((fd, bytes)) = crate::capture::stdio_output(c) {
                    self.output.push((c.seq, fd as u8, bytes));
                }
                self.pass.follow(&header, c);
            }
        }
    }

    fn density(&mut self, buckets: usize) -> Option<Vec<u64>> {
        if !self.done() || buckets == 0 {
            return None;
        }
        let mut out = vec![0; buckets];
        for (i, n) in self.timeline.iter().enumerate() {
            out[i * buckets / TIMELINE_BUCKETS] += n;
        }
        Some(out)
    }

    fn stats(&mut self) -> (Vec<StatRow>, Vec<String>) {
        match stats::collect(&mut self.reader) {
            Ok(s) => {
                let mut rows: Vec<StatRow> = s
                    .funcs
                    .iter()
                    .map(|(name, f)| StatRow {
                        name: name.clone(),
                        calls: f.calls,
                        errors: f.errors,
                        ns: f.ns,
                    })
                    .collect();
                rows.sort_by(|a, b| b.ns.cmp(&a.ns).then(a.name.cmp(&b.name)));
                (rows, stats::fd_lines(&s.fds))
            }
            Err(e) => (Vec::new(), vec![format!("cannot read the trace: {e:#}")]),
        }
    }
}

/// A filter as the TUI takes it: what `dump` takes after `-e`, and
/// `--failed` (or `-Z`), as space-separated words.
fn parse_filter(expr: &str) -> anyhow::Result<Filter> {
    let (failed, lists): (Vec<&str>, Vec<&str>) = expr
        .split_whitespace()
        .partition(|w| matches!(*w, "--failed" | "-Z"));
    let lists: Vec<String> = lists.into_iter().map(str::to_string).collect();
    Filter::parse(&lists, !failed.is_empty())
}

fn call_result(outcome: &Outcome, injection: Injection, faults: &Faults) -> CallResult {
    let mut full = result_text(outcome);
    full.push_str(crate::inject::Marks::new(faults).of(injection));
    CallResult {
        // `44 ENOENT`: the errno's text is in the detail pane.
        short: short_result(outcome),
        full,
        is_error: outcome.is_error(),
        injected: injection.is_injected(),
    }
}

/// The decoder's named fields as the UI's items.
fn items(fields: &[Named]) -> Vec<Item> {
    fields
        .iter()
        .map(|f| Item {
            name: f.name.to_string(),
            bare: f.bare,
            value: value(&f.field),
        })
        .collect()
}

/// A decoded field as the UI's value: scalars keep the decoder's text and
/// say what they are; fds, lists and structures keep their parts.
fn value(field: &Field) -> Value {
    let scalar = |kind| Value::scalar(field.text(), kind);
    match field {
        Field::Uint(_) | Field::Int(_) | Field::Errno(0) => scalar(ValueKind::Number),
        Field::Hex(_) => scalar(ValueKind::Address),
        Field::Enum { .. } | Field::Flags { .. } => scalar(ValueKind::Name),
        Field::Errno(_) => scalar(ValueKind::Error),
        Field::Text(_) | Field::Data { .. } => scalar(ValueKind::Str),
        Field::Note(_) => scalar(ValueKind::Note),
        Field::Fd { fd, path } => Value::Fd {
            fd: *fd,
            path: path.clone(),
        },
        Field::List(values) => Value::List(values.iter().map(value).collect()),
        Field::Record(fields) => Value::Record(items(fields)),
    }
}
