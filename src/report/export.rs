//! `wtrace export`: Chrome trace-event JSON (for Perfetto and
//! chrome://tracing) or one JSON object per call. Streamed: a trace larger
//! than memory exports in constant memory.

use crate::decode::{self, Decoder};
use crate::trace::TraceReader;
use anyhow::Result;
use serde_json::json;
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Chrome trace-event JSON: each call a complete ("X") event.
    Chrome,
    /// One JSON object per call, as `wtrace dump --json`.
    Jsonl,
}

pub fn export(r: &mut TraceReader, format: Format, out: &mut dyn Write) -> Result<()> {
    let header = r.header.clone();
    let mut decoder = Decoder::new(64);
    match format {
        Format::Jsonl => {
            for call in r.calls() {
                let call = call?;
                let decoded = decoder.decode(&header, &call);
                serde_json::to_writer(&mut *out, &decode::call_json(&call, &decoded))?;
                out.write_all(b"\n")?;
            }
        }
        Format::Chrome => {
            out.write_all(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")?;
            let meta = [
                json!({"ph": "M", "name": "process_name", "pid": 1, "tid": 1, "args": {"name": header.module_name}}),
                json!({"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {"name": "guest"}}),
            ];
            for m in &meta {
                serde_json::to_writer(&mut *out, m)?;
                out.write_all(b",\n")?;
            }
            // Every event is followed by a comma; the end-of-run event
            // below closes the list.
            let end = r.end.clone();
            for call in r.calls() {
                let call = call?;
                let d = decoder.decode(&header, &call);
                // The same fields as `dump --json`, under the event's args.
                let args = json!({
                    "seq": call.seq,
                    "args": decode::object(&d.args),
                    "result": decode::outcome_json(&call.outcome),
                    "outs": decode::object(&d.outs),
                });
                let event = json!({
                    "name": d.name,
                    "cat": d.class,
                    "ph": "X",
                    "ts": call.start_ns as f64 / 1000.0,
                    "dur": call.dur_ns as f64 / 1000.0,
                    "pid": 1,
                    "tid": 1,
                    "args": args,
                });
                serde_json::to_writer(&mut *out, &event)?;
                out.write_all(b",\n")?;
            }
            // A last event closes the list without a trailing comma: the
            // end of the run, at the time the recording ended.
            let end_ts = end.as_ref().map_or(0.0, |e| e.duration_ns as f64 / 1000.0);
            let status = end.as_ref().map_or("unfinished".to_string(), |e| {
                crate::dump::end_line(&e.run_end)
            });
            serde_json::to_writer(
                &mut *out,
                &json!({"ph": "i", "s": "p", "name": "end", "ts": end_ts, "pid": 1, "tid": 1, "args": {"status": status}}),
            )?;
            out.write_all(b"\n]}\n")?;
        }
    }
    Ok(())
}
