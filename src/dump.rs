//! `wtrace dump`: every call of a trace, one strace-style line (or JSON
//! object, `docs/json.md`) each.

use crate::decode::{self, Decoder};
use crate::filter::Filter;
use crate::inject::Marks;
use crate::trace::{Outcome, RunEnd, TraceReader};
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
    let marks = Marks::new(&header.faults);
    let mut decoder = Decoder::new(opts.strsize);
    decoder.verbose = opts.verbose;
    let mut line = String::with_capacity(256);
    // The exit code the last line shown ends with (`proc_exit(...) = ?
    // +++ exited with N +++`): strace prints that line once.
    let mut shown_exit = None;
    for call in reader.calls() {
        let call = call?;
        let shown = opts.filter.matches(&call);
        if !shown {
            // The fd table still has to follow every call.
            decoder.follow(&header, &call);
            continue;
        }
        let decoded = decoder.decode(&header, &call);
        shown_exit = match call.outcome {
            Outcome::Exit(code) => Some(code),
            _ => None,
        };
        if opts.json {
            let mut json = decode::call_json(&call, &decoded);
            if call.injection.is_injected() {
                json["injected"] = serde_json::Value::Bool(true);
            }
            serde_json::to_writer(&mut *out, &json)?;
            out.write_all(b"\n")?;
            continue;
        }
        line.clear();
        if opts.relative {
            line.push_str(&format!("{:>12.6} ", call.start_ns as f64 / 1e9));
        }
        line.push_str(&format!("#{} ", call.seq));
        line.push_str(&decoded.line());
        line.push_str(marks.of(call.injection));
        if opts.durations {
            line.push_str(&format!(" <{:.6}>", call.dur_ns as f64 / 1e9));
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    if !opts.json {
        match (&reader.end, &reader.unfinished) {
            (_, Some(why)) => writeln!(out, "+++ unfinished trace: {why} +++")?,
            (Some(end), None) if !said_already(&end.run_end, shown_exit) => {
                writeln!(out, "{}", end_line(&end.run_end))?
            }
            (Some(_) | None, None) => {}
        }
    }
    Ok(())
}

/// Whether the last line shown, `proc_exit(...) = ? +++ exited with N +++`,
/// already gave the run's end.
fn said_already(end: &RunEnd, shown_exit: Option<i32>) -> bool {
    matches!((end, shown_exit), (RunEnd::Exit(code), Some(shown)) if *code == shown)
}

/// strace's last line: `+++ exited with 0 +++`.
pub fn end_line(end: &RunEnd) -> String {
    format!("+++ {} +++", end.describe())
}
