//! `wtrace stats`: a summary like `strace -c`, plus the bytes read and
//! written through each fd with the path it was opened from.

use crate::decode::Decoder;
use crate::syscalls::Kind;
use crate::trace::{func_name, Call, CallBatch, CallView, FuncCounts, Header, Outcome};
pub use crate::trace::{PerFd, PerFunc};
use crate::trace::{Summary, TraceReader};
use anyhow::Result;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Everything `stats` counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub funcs: BTreeMap<String, PerFunc>,
    pub fds: BTreeMap<(u32, String), PerFd>,
}

/// Bytes moved by a successful read or write call: (read, written).
fn bytes_moved(call: &CallView) -> (u64, u64) {
    let Some(sys) = call.func.syscall() else {
        return (0, 0);
    };
    if *call.outcome != Outcome::Errno(0) {
        return (0, 0);
    }
    let mut read = 0;
    let mut written = 0;
    for (i, p) in sys.params.iter().enumerate() {
        match p.kind {
            Kind::Iovecs { .. } => {
                read += call.writes.of_param(i).map(|b| b.len() as u64).sum::<u64>()
            }
            Kind::Ciovecs { consumed, .. } => {
                let count = call.writes.of_param(consumed).next();
                let count = count.and_then(|b| b.get(..4));
                written +=
                    count.map_or(0, |b| u32::from_le_bytes(b.try_into().expect("4 bytes"))) as u64;
            }
            _ => {}
        }
    }
    (read, written)
}

pub fn stats(r: &mut TraceReader) -> Result<String> {
    Ok(render(&collect(r)?))
}

/// The counts of a finished trace from its end record's summary (format
/// 6 on), without reading a call; otherwise one pass over the trace,
/// chunks read ahead on other threads (see [`TraceReader::each_batch`]).
pub fn collect(r: &mut TraceReader) -> Result<Stats> {
    if let Some(summary) = r.end.as_ref().and_then(|e| e.summary.as_ref()) {
        return Ok(Stats::from_summary(&r.header, summary));
    }
    recount(r)
}

/// The counts from the calls themselves, summary or not.
pub fn recount(r: &mut TraceReader) -> Result<Stats> {
    let header = r.header.clone();
    let mut counter = Counter::default();
    r.each_batch(|batch| {
        counter.count_batch(&header, batch);
        Ok(())
    })?;
    Ok(counter.finish(&header))
}

/// Counts calls in order, by function id (named once, at the end).
#[derive(Default)]
pub struct Counter {
    funcs: FuncCounts,
    fds: FdCounter,
}

impl Counter {
    /// Counts `v`, the next call of the trace.
    pub fn count(&mut self, header: &Header, v: &CallView) {
        let (failed, injected) = (v.outcome.is_error(), v.injection.is_injected());
        self.funcs.add(v.func, failed, injected, v.dur_ns);
        if v.func.touches_fds() {
            self.fds.count(header, v);
        }
    }

    /// Counts the calls of `batch`, the next of the trace (the recorder's
    /// writer, and `stats` of a trace without a summary): a view is made
    /// only of the calls that move bytes or change the fd table (one in a
    /// thousand in a Go program's clock-heavy stretch).
    pub fn count_batch(&mut self, header: &Header, batch: &CallBatch) {
        for (i, c) in batch.briefs().enumerate() {
            self.funcs.add(c.func, c.failed, c.injected, c.dur_ns);
            if c.func.touches_fds() {
                self.fds.count(header, &batch.view(i));
            }
        }
    }

    /// The (fd, path) entries so far.
    pub fn fd_entries(&self) -> usize {
        self.fds.fds.len()
    }

    /// The counts, functions by id: what the recorder keeps in the end
    /// record (the paths moved, not copied: there may be a hundred
    /// thousand).
    pub fn into_summary(self) -> Summary {
        let fds = self.fds.fds.into_iter();
        Summary {
            funcs: self.funcs.list(),
            fds: fds.map(|((fd, path), n)| (fd, path, n)).collect(),
        }
    }

    /// The counts, functions by name.
    pub fn finish(self, header: &Header) -> Stats {
        Stats::from_summary(header, &self.into_summary())
    }
}

impl Stats {
    /// The counts of `summary`, functions by name.
    pub fn from_summary(header: &Header, summary: &Summary) -> Stats {
        let mut funcs: BTreeMap<String, PerFunc> = BTreeMap::new();
        for (func, f) in &summary.funcs {
            // Two foreign ids may carry one name (`func#N` is not one).
            // A summary is read from the file: it may hold any numbers.
            let e = funcs.entry(func_name(header, *func)).or_default();
            e.calls = e.calls.saturating_add(f.calls);
            e.errors = e.errors.saturating_add(f.errors);
            e.ns = e.ns.wrapping_add(f.ns);
            e.injected = e.injected.saturating_add(f.injected);
        }
        let fds = summary.fds.iter();
        let fds = fds.map(|(fd, path, f)| ((*fd, path.clone()), f.clone()));
        Stats {
            funcs,
            fds: fds.collect(),
        }
    }
}

/// The bytes moved through each fd, by the path it was opened from: the
/// decoder follows the fd table. Only calls whose function
/// [touches fds](crate::syscalls::FuncId::touches_fds) need counting.
#[derive(Default)]
pub struct FdCounter {
    fds: BTreeMap<(u32, String), PerFd>,
    /// The key of the last call counted.
    last: Option<(u32, String)>,
    decoder: Decoder,
    /// Calls that change the fd table are copied here to be followed.
    call: Call,
}

impl FdCounter {
    /// The bytes `v` moved through its fd, and its change of the fd table.
    pub fn count(&mut self, header: &Header, v: &CallView) {
        let (moved, follows) = fd_effect(v);
        if let Some((fd, read, written)) = moved {
            self.moved(header, fd, read, written);
        }
        if follows {
            self.call.copy_view(v);
            self.decoder.follow(header, &self.call);
        }
    }

    /// Counts what a call did, as [`FdEvent::of_calls`] found it.
    pub fn apply(&mut self, header: &Header, event: &FdEvent) {
        match event {
            FdEvent::Moved { fd, read, written } => self.moved(header, *fd, *read, *written),
            FdEvent::Follow(call) => self.decoder.follow(header, call),
        }
    }

    /// Counts one call through `fd` that moved `read` and `written` bytes.
    fn moved(&mut self, header: &Header, fd: u32, read: u64, written: u64) {
        let path = match fd {
            0 => "<stdin>",
            1 => "<stdout>",
            2 => "<stderr>",
            _ => self.decoder.fd_path_in(header, fd).unwrap_or("?"),
        };
        // Most calls go through the fd and path of the call before: their
        // entry is found without making a key.
        if self
            .last
            .as_ref()
            .is_none_or(|(f, p)| *f != fd || p != path)
        {
            self.last = Some((fd, path.to_string()));
        }
        let key = self.last.as_ref().expect("just set");
        let e = match self.fds.get_mut(key) {
            Some(e) => e,
            None => self.fds.entry(key.clone()).or_default(),
        };
        e.read = e.read.wrapping_add(read);
        e.written = e.written.wrapping_add(written);
        e.calls += 1;
    }

    /// The counts, by fd and path: the summary's `fds`.
    pub fn list(&self) -> Vec<(u32, String, PerFd)> {
        let fds = self.fds.iter();
        fds.map(|((fd, path), f)| (*fd, path.clone(), f.clone()))
            .collect()
    }
}

/// What `v` does to the fd counts: the bytes it moved through its fd (its
/// first fd argument), if it moved any, and whether it changes the fd
/// table.
fn fd_effect(v: &CallView) -> (Option<(u32, u64, u64)>, bool) {
    let (read, written) = bytes_moved(v);
    let moved = (read + written > 0).then(|| {
        let fd = v.func.syscall().and_then(|s| s.fd_param());
        let fd = fd.and_then(|i| v.args.get(i)).copied().unwrap_or(0) as u32;
        (fd, read, written)
    });
    (moved, Decoder::is_followed(v.func))
}

/// What a call does to an [`FdCounter`]'s counts, found from the call
/// alone, so on any thread (`verify`'s decoding threads), and applied in
/// call order: the bytes it moved, then its change of the fd table (a copy
/// of the call, which is small: a path, an fd).
pub enum FdEvent {
    Moved { fd: u32, read: u64, written: u64 },
    Follow(Call),
}

impl FdEvent {
    /// The events of `batch`'s calls, in order.
    pub fn of_calls(batch: &CallBatch) -> Vec<FdEvent> {
        let mut events = Vec::new();
        for v in batch.views().filter(|v| v.func.touches_fds()) {
            let (moved, follows) = fd_effect(&v);
            if let Some((fd, read, written)) = moved {
                events.push(FdEvent::Moved { fd, read, written });
            }
            if follows {
                let mut call = Call::default();
                call.copy_view(&v);
                events.push(FdEvent::Follow(call));
            }
        }
        events
    }
}

/// The table `wtrace stats` prints.
pub fn render(stats: &Stats) -> String {
    let (funcs, fds) = (&stats.funcs, &stats.fds);
    // Counts read from a summary may hold any numbers: no sum may panic.
    let total = |of: fn(&PerFunc) -> u64| funcs.values().map(of).fold(0u64, u64::saturating_add);
    let total_ns = funcs.values().fold(0u64, |sum, f| sum.wrapping_add(f.ns));
    let (total_calls, total_errors) = (total(|f| f.calls), total(|f| f.errors));
    let mut rows: Vec<(&String, &PerFunc)> = funcs.iter().collect();
    rows.sort_by(|a, b| {
        b.1.ns
            .cmp(&a.1.ns)
            .then(b.1.calls.cmp(&a.1.calls))
            .then(a.0.cmp(b.0))
    });
    let pct = |ns: u64| {
        if total_ns == 0 {
            0.0
        } else {
            ns as f64 * 100.0 / total_ns as f64
        }
    };
    let rule = "------ ----------- ----------- --------- --------- ------------------------";
    let mut s = String::new();
    let _ = writeln!(
        s,
        "% time     seconds  usecs/call     calls    errors function"
    );
    let _ = writeln!(s, "{rule}");
    for (name, f) in rows {
        let errors = if f.errors > 0 {
            f.errors.to_string()
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "{:>6.2} {:>11.6} {:>11} {:>9} {:>9} {name}",
            pct(f.ns),
            f.ns as f64 / 1e9,
            f.ns / 1000 / f.calls.max(1),
            f.calls,
            errors
        );
    }
    let _ = writeln!(s, "{rule}");
    let errors = if total_errors > 0 {
        total_errors.to_string()
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "100.00 {:>11.6} {:>11} {:>9} {:>9} total",
        total_ns as f64 / 1e9,
        "",
        total_calls,
        errors
    );
    let injected: Vec<String> = funcs
        .iter()
        .filter(|(_, f)| f.injected > 0)
        .map(|(name, f)| format!("{name} {}", f.injected))
        .collect();
    if !injected.is_empty() {
        let total = total(|f| f.injected);
        let _ = writeln!(
            s,
            "\ninjected: {total} call{} ({})",
            if total == 1 { "" } else { "s" },
            injected.join(", ")
        );
    }
    if !fds.is_empty() {
        s.push('\n');
        for line in fd_lines(fds) {
            let _ = writeln!(s, "{line}");
        }
    }
    s
}

/// The bytes-per-fd table, a line each, with its column titles first.
pub fn fd_lines(fds: &BTreeMap<(u32, String), PerFd>) -> Vec<String> {
    let mut lines = vec!["   fd      calls   bytes read  bytes written path".to_string()];
    for ((fd, path), e) in fds {
        lines.push(format!(
            "{fd:>5} {:>10} {:>12} {:>14} {path}",
            e.calls, e.read, e.written
        ));
    }
    lines
}
