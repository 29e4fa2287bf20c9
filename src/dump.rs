//! `wtrace dump`: every call of a trace, one strace-style line (or JSON
//! object, `docs/json.md`) each.

use crate::decode::{self, DecodedCall, Decoder};
use crate::filter::Filter;
use crate::inject::Marks;
use crate::trace::{Call, CallView, Header, Outcome, RunEnd, TraceReader};
use anyhow::Result;
use std::fmt::Write as _;
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
    let mut lines = Lines::new(reader, opts);
    // The calls of a chunk are written out together, as one buffer.
    let mut text = String::with_capacity(1 << 16);
    reader.each_batch(|batch| {
        text.clear();
        for v in batch.views() {
            lines.add(&v, &mut text)?;
        }
        out.write_all(text.as_bytes())?;
        Ok(())
    })?;
    if !opts.json {
        match (&reader.end, &reader.unfinished) {
            (_, Some(why)) => writeln!(out, "+++ unfinished trace: {why} +++")?,
            (Some(end), None) if !said_already(&end.run_end, lines.shown_exit) => {
                writeln!(out, "{}", end_line(&end.run_end))?
            }
            (Some(_) | None, None) => {}
        }
    }
    Ok(())
}

/// What goes from one call's line to the next: the fd table, and one
/// call and one decoded call whose buffers are reused.
struct Lines<'o> {
    opts: &'o DumpOptions,
    header: Header,
    marks: Marks,
    decoder: Decoder,
    call: Call,
    decoded: DecodedCall,
    /// The exit code the last line shown ends with (`proc_exit(...) = ?
    /// +++ exited with N +++`): strace prints that line once.
    shown_exit: Option<i32>,
}

impl<'o> Lines<'o> {
    fn new(reader: &TraceReader, opts: &'o DumpOptions) -> Lines<'o> {
        let mut decoder = Decoder::new(opts.strsize);
        decoder.verbose = opts.verbose;
        Lines {
            opts,
            header: reader.header.clone(),
            marks: Marks::new(&reader.header.faults),
            decoder,
            call: Call::default(),
            decoded: DecodedCall::default(),
            shown_exit: None,
        }
    }

    /// Appends the line of `v` to `text`, when the filter shows it.
    fn add(&mut self, v: &CallView, text: &mut String) -> Result<()> {
        let opts = self.opts;
        if !opts.filter.keeps(v.func, v.outcome) {
            // The fd table still has to follow every call.
            if Decoder::is_followed(v.func) {
                self.call.copy_view(v);
                self.decoder.follow(&self.header, &self.call);
            }
            return Ok(());
        }
        let call = &mut self.call;
        call.copy_view(v);
        let decoded = &mut self.decoded;
        self.decoder.decode_into(&self.header, call, decoded);
        self.shown_exit = match call.outcome {
            Outcome::Exit(code) => Some(code),
            _ => None,
        };
        if opts.json {
            let mut json = decode::call_json(call, decoded);
            if call.injection.is_injected() {
                json["injected"] = serde_json::Value::Bool(true);
            }
            text.push_str(&serde_json::to_string(&json)?);
            text.push('\n');
            return Ok(());
        }
        if opts.relative {
            let _ = write!(text, "{:>12.6} ", call.start_ns as f64 / 1e9);
        }
        text.push('#');
        text.push_str(itoa::Buffer::new().format(call.seq));
        text.push(' ');
        decoded.write_line(text);
        text.push_str(self.marks.of(call.injection));
        if opts.durations {
            let _ = write!(text, " <{:.6}>", call.dur_ns as f64 / 1e9);
        }
        text.push('\n');
        Ok(())
    }
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
