//! `wtrace stats`: a summary like `strace -c`, plus the bytes read and
//! written through each fd with the path it was opened from.

use crate::capture;
use crate::decode::Decoder;
use crate::syscalls::FuncId;
use crate::syscalls::Kind;
use crate::trace::{func_name, Call, Header, Outcome, TraceReader};
use anyhow::Result;
use std::borrow::Cow;
use std::collections::BTreeMap;
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
fn bytes_moved(call: &Call) -> (u64, u64) {
    let Some(sys) = call.func.syscall() else {
        return (0, 0);
    };
    if call.outcome != Outcome::Errno(0) {
        return (0, 0);
    }
    let mut read = 0;
    let mut written = 0;
    for (i, p) in sys.params.iter().enumerate() {
        match p.kind {
            Kind::Iovecs { .. } => {
                read += call
                    .writes
                    .iter()
                    .filter(|m| m.param as usize == i)
                    .map(|m| m.bytes.len() as u64)
                    .sum::<u64>()
            }
            Kind::Ciovecs { consumed, .. } => {
                written += capture::out_u32(&call.writes, consumed).unwrap_or(0) as u64;
            }
            _ => {}
        }
    }
    (read, written)
}

pub fn stats(r: &mut TraceReader) -> Result<String> {
    Ok(render(&collect(r)?))
}

/// One pass over the trace, a chunk read ahead (see
/// [`TraceReader::each_batch`]), each call copied into one reused `Call`.
pub fn collect(r: &mut TraceReader) -> Result<Stats> {
    let header = r.header.clone();
    let mut decoder = Decoder::default();
    let mut stats = Stats::default();
    let mut call = Call::default();
    r.each_batch(|batch| {
        for v in batch.views() {
            call.copy_view(&v);
            stats.count(&header, &mut decoder, &call);
        }
        Ok(())
    })?;
    Ok(stats)
}

impl Stats {
    /// Counts `call`, the next call of the trace; `decoder` follows the
    /// fd table for the paths.
    pub fn count(&mut self, header: &Header, decoder: &mut Decoder, call: &Call) {
        let f = match self
            .funcs
            .get_mut(func_name_str(header, call.func).as_ref())
        {
            Some(f) => f,
            None => self.funcs.entry(func_name(header, call.func)).or_default(),
        };
        f.calls += 1;
        f.ns += call.dur_ns;
        if call.outcome.is_error() {
            f.errors += 1;
        }
        if call.injection.is_injected() {
            f.injected += 1;
        }
        let (read, written) = bytes_moved(call);
        if read + written > 0 {
            let fd = call
                .func
                .syscall()
                .and_then(|s| s.fd_param())
                .and_then(|i| call.args.get(i));
            let fd = fd.copied().unwrap_or(0) as u32;
            let path = match fd {
                0 => "<stdin>".to_string(),
                1 => "<stdout>".to_string(),
                2 => "<stderr>".to_string(),
                _ => decoder.fd_path(fd).unwrap_or("?").to_string(),
            };
            let e = self.fds.entry((fd, path)).or_default();
            e.read += read;
            e.written += written;
            e.calls += 1;
        }
        decoder.follow(header, call);
    }
}

/// A function's name without allocating for a preview1 function.
fn func_name_str(header: &Header, func: FuncId) -> Cow<'static, str> {
    match func.syscall() {
        Some(sys) => Cow::Borrowed(sys.name),
        None => Cow::Owned(func_name(header, func)),
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
