//! `wtrace info`: what a trace holds, without decoding its calls.

use crate::dump::end_line;
use crate::timefmt::{duration, utc};
use crate::trace::{TraceReader, FORMAT_VERSION};
use std::fmt::Write as _;

pub fn info(r: &TraceReader) -> String {
    let h = &r.header;
    let mut s = String::new();
    let size = std::fs::metadata(r.path()).map_or(0, |m| m.len());
    let _ = writeln!(s, "trace:      {} ({size} bytes)", r.path().display());
    let _ = writeln!(
        s,
        "format:     version {} (this wtrace reads up to {FORMAT_VERSION}), written by wtrace {} with wasmtime {}",
        h.format_version, h.wtrace_version, h.wasmtime_version
    );
    let embedded = if h.module.is_some() {
        "embedded"
    } else {
        "not embedded: replay needs --module"
    };
    let _ = writeln!(
        s,
        "module:     {} ({} bytes, {embedded})",
        h.module_name, h.module_size
    );
    let _ = writeln!(s, "blake3:     {}", h.module_blake3_hex());
    let _ = writeln!(s, "argv:       {:?}", h.argv);
    if h.env.is_empty() {
        let _ = writeln!(s, "env:        (none)");
    }
    for (i, (k, v)) in h.env.iter().enumerate() {
        let _ = writeln!(
            s,
            "{}{k}={v}",
            if i == 0 {
                "env:        "
            } else {
                "            "
            }
        );
    }
    if h.preopens.is_empty() {
        let _ = writeln!(s, "preopens:   (none)");
    }
    for (i, p) in h.preopens.iter().enumerate() {
        let label = if i == 0 {
            "preopens:   "
        } else {
            "            "
        };
        let _ = writeln!(s, "{label}fd {}: {} (host {})", 3 + i, p.guest, p.host);
    }
    if !h.foreign_imports.is_empty() {
        let _ = writeln!(s, "trapping:   {}", h.foreign_imports.join(", "));
    }
    let _ = writeln!(s, "platform:   {}", h.platform);
    let _ = writeln!(s, "started:    {}", utc(h.start_unix_ns));
    match &r.end {
        Some(end) => {
            let _ = writeln!(s, "duration:   {}", duration(end.duration_ns));
        }
        None => {
            let _ = writeln!(s, "duration:   unknown (no end record)");
        }
    }
    let _ = writeln!(
        s,
        "calls:      {} in {} chunk(s)",
        r.call_count(),
        r.chunks().len()
    );
    let status = r
        .end
        .as_ref()
        .map_or("unknown: the recording did not finish".to_string(), |e| {
            end_line(&e.run_end)
                .trim_start_matches("+++ ")
                .trim_end_matches(" +++")
                .to_string()
        });
    let _ = writeln!(s, "status:     {status}");
    match &r.unfinished {
        None if r.end.is_some() => {
            let _ = writeln!(s, "complete:   yes");
        }
        None => {
            let _ = writeln!(s, "complete:   no");
        }
        Some(why) => {
            let _ = writeln!(s, "complete:   no: {why}");
        }
    }
    s
}
