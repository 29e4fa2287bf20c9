//! `wtrace info`: what a trace holds, without decoding its calls.

use crate::timefmt::{duration, utc};
use crate::trace::{Header, TraceReader, FORMAT_VERSION};
use std::fmt::Write as _;

pub fn info(r: &TraceReader) -> String {
    let mut s = String::new();
    let size = std::fs::metadata(r.path()).map_or(0, |m| m.len());
    let _ = writeln!(s, "trace:      {} ({size} bytes)", r.path().display());
    guest_lines(&mut s, &r.header, r.module.is_some());
    run_lines(&mut s, r);
    s
}

/// What was run, and how it was set up.
fn guest_lines(s: &mut String, h: &Header, embedded: bool) {
    let _ = writeln!(
        s,
        "format:     version {} (this wtrace reads up to {FORMAT_VERSION}), written by wtrace {} with wasmtime {}",
        h.format_version, h.wtrace_version, h.wasmtime_version
    );
    let embedded = if embedded {
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
    let env = h.env.iter().map(|(k, v)| format!("{k}={v}"));
    labelled_lines(s, "env:", env.collect());
    let preopens = h
        .preopens
        .iter()
        .enumerate()
        .map(|(i, p)| format!("fd {}: {} (host {})", 3 + i, p.guest, p.host));
    labelled_lines(s, "preopens:", preopens.collect());
    if !h.foreign_imports.is_empty() {
        let _ = writeln!(s, "trapping:   {}", h.foreign_imports.join(", "));
    }
    if !h.faults.is_empty() {
        let mut faults: Vec<String> = h
            .faults
            .injections
            .iter()
            .map(|spec| format!("--inject {spec}"))
            .collect();
        if let Some(c) = h.faults.chaos {
            let percent = c.rate_ppm as f64 / 1e4;
            faults.push(format!(
                "--chaos {}:{percent}% (seed {}, {} calls in a million)",
                c.seed, c.seed, c.rate_ppm
            ));
        }
        labelled_lines(s, "injected:", faults);
    }
    let _ = writeln!(s, "platform:   {}", h.platform);
    let _ = writeln!(s, "started:    {}", utc(h.start_unix_ns));
}

/// How long the run took, how many calls it made, how it ended.
fn run_lines(s: &mut String, r: &TraceReader) {
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
            e.run_end.describe()
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
}

/// `label` and the first item, then the rest aligned under it; `(none)`
/// when there are none.
fn labelled_lines(s: &mut String, label: &str, items: Vec<String>) {
    if items.is_empty() {
        let _ = writeln!(s, "{label:<12}(none)");
    }
    for (i, item) in items.iter().enumerate() {
        let label = if i == 0 { label } else { "" };
        let _ = writeln!(s, "{label:<12}{item}");
    }
}
