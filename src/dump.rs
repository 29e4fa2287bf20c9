//! `wtrace dump`: every call of a trace, one strace-style line (or JSON
//! object, `docs/json.md`) each.

use crate::decode::{self, Decoder};
use crate::filter::Filter;
use crate::trace::{RunEnd, TraceReader};
use anyhow::Result;
use std::io::Write;

#[derive(Clone, Debug, Default)]
pub struct DumpOptions {
    pub strsize: usize,
    pub filter: Filter,
    pub json: bool,
    /// `-T`: time spent in each call.
    pub durations: bool,
    /// `-r`: time since the start of the recording.
    pub relative: bool,
    /// `-v`: every right, not the first few.
    pub verbose: bool,
}

pub fn dump(reader: &mut TraceReader, opts: &DumpOptions, out: &mut dyn Write) -> Result<()> {
    let header = reader.header.clone();
    let mut printer = Decoder::new(opts.strsize);
    printer.verbose = opts.verbose;
    let mut line = String::with_capacity(256);
    for call in reader.calls() {
        let call = call?;
        let shown = opts.filter.matches(&call);
        if !shown {
            // The fd table still has to follow every call.
            printer.follow(&header, &call);
            continue;
        }
        let decoded = printer.decode(&header, &call);
        if opts.json {
            serde_json::to_writer(&mut *out, &decode::call_json(&call, &decoded))?;
            out.write_all(b"\n")?;
            continue;
        }
        line.clear();
        if opts.relative {
            line.push_str(&format!("{:>12.6} ", call.start_ns as f64 / 1e9));
        }
        line.push_str(&format!("#{} ", call.seq));
        line.push_str(&decoded.line());
        if opts.durations {
            line.push_str(&format!(" <{:.6}>", call.dur_ns as f64 / 1e9));
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    if !opts.json {
        match (&reader.end, &reader.unfinished) {
            (_, Some(why)) => writeln!(out, "+++ unfinished trace: {why} +++")?,
            (Some(end), None) => writeln!(out, "{}", end_line(&end.run_end))?,
            (None, None) => {}
        }
    }
    Ok(())
}

/// strace's last line: `+++ exited with 0 +++`.
pub fn end_line(end: &RunEnd) -> String {
    format!("+++ {} +++", end.describe())
}
