//! `wtrace stats`: a summary like `strace -c`, plus the bytes read and
//! written through each fd with the path it was opened from.

use crate::decode::Decoder;
use crate::syscalls::{FuncId, Kind, SYSCALLS};
use crate::trace::{func_name, Call, CallView, Header, Outcome, TraceReader};
use anyhow::Result;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// Calls, errors and host time of one function.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PerFunc {
    pub calls: u64,
    pub errors: u64,
    pub ns: u64,
    /// Calls whose result was injected (`record --inject`, `--chaos`).
    pub injected: u64,
}

/// Read and write calls through one fd (opened from one path).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PerFd {
    pub read: u64,
    pub written: u64,
    pub calls: u64,
}

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

/// One pass over the trace, chunks read ahead on other threads (see
/// [`TraceReader::each_batch`]).
pub fn collect(r: &mut TraceReader) -> Result<Stats> {
    let header = r.header.clone();
    let mut counter = Counter::default();
    r.each_batch(|batch| {
        for v in batch.views() {
            counter.count(&header, &v);
        }
        Ok(())
    })?;
    Ok(counter.finish(&header))
}

/// Counts calls in order, by function id (named once, at the end); the
/// decoder follows the fd table for the paths.
#[derive(Default)]
pub struct Counter {
    /// Preview1's functions by id, grown as ids come; the rest (foreign
    /// imports) in `other`. A hash map for all took a quarter of `stats`'
    /// time on a clock-heavy trace (SipHash per call).
    funcs: Vec<PerFunc>,
    other: HashMap<FuncId, PerFunc>,
    fds: BTreeMap<(u32, String), PerFd>,
    decoder: Decoder,
    /// Calls that change the fd table are copied here to be followed.
    call: Call,
}

impl Counter {
    /// Counts `v`, the next call of the trace.
    pub fn count(&mut self, header: &Header, v: &CallView) {
        let f = self.per_func(v.func);
        f.calls += 1;
        f.ns += v.dur_ns;
        if v.outcome.is_error() {
            f.errors += 1;
        }
        if v.injection.is_injected() {
            f.injected += 1;
        }
        let (read, written) = bytes_moved(v);
        if read + written > 0 {
            let fd = v.func.syscall().and_then(|s| s.fd_param());
            let fd = fd.and_then(|i| v.args.get(i)).copied().unwrap_or(0) as u32;
            let path = match fd {
                0 => "<stdin>",
                1 => "<stdout>",
                2 => "<stderr>",
                _ => self.decoder.fd_path(fd).unwrap_or("?"),
            };
            let e = match self.fds.get_mut(&(fd, path.to_string())) {
                Some(e) => e,
                None => self.fds.entry((fd, path.to_string())).or_default(),
            };
            e.read += read;
            e.written += written;
            e.calls += 1;
        }
        if Decoder::is_followed(v.func) {
            self.call.copy_view(v);
            self.decoder.follow(header, &self.call);
        }
    }

    fn per_func(&mut self, func: FuncId) -> &mut PerFunc {
        let i = func.0 as usize;
        if i >= SYSCALLS.len() {
            return self.other.entry(func).or_default();
        }
        if i >= self.funcs.len() {
            self.funcs.resize_with(i + 1, PerFunc::default);
        }
        &mut self.funcs[i]
    }

    /// The counts, functions by name.
    pub fn finish(self, header: &Header) -> Stats {
        let mut funcs: BTreeMap<String, PerFunc> = BTreeMap::new();
        let preview1 = (self.funcs.into_iter().enumerate())
            .filter(|(_, f)| f.calls > 0)
            .map(|(i, f)| (FuncId(i as u16), f));
        for (func, f) in preview1.chain(self.other) {
            // Two foreign ids may carry one name (`func#N` is not one).
            let e = funcs.entry(func_name(header, func)).or_default();
            e.calls += f.calls;
            e.errors += f.errors;
            e.ns += f.ns;
            e.injected += f.injected;
        }
        Stats {
            funcs,
            fds: self.fds,
        }
    }
}

/// The table `wtrace stats` prints.
pub fn render(stats: &Stats) -> String {
    let (funcs, fds) = (&stats.funcs, &stats.fds);
    let total_ns: u64 = funcs.values().map(|f| f.ns).sum();
    let total_calls: u64 = funcs.values().map(|f| f.calls).sum();
    let total_errors: u64 = funcs.values().map(|f| f.errors).sum();
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
        let total: u64 = funcs.values().map(|f| f.injected).sum();
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
