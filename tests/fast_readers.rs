//! `dump` and `stats` go through a trace a chunk at a time, the next chunk
//! read on another thread, each call decoded into reused buffers. Their
//! output must be exactly what reading call by call gives: the reference
//! here is `TraceReader::calls` (one owned `Call` each) and a fresh
//! `Decoder::decode` per call.

mod common;

use common::{output, tempdir, wtrace};
use std::path::{Path, PathBuf};
use wtrace::decode::{self, Decoder};
use wtrace::dump::{dump, end_line, DumpOptions};
use wtrace::filter::Filter;
use wtrace::inject::Marks;
use wtrace::report::stats;
use wtrace::trace::{CallBatch, Outcome, RunEnd, TraceReader};

fn fixtures() -> Vec<PathBuf> {
    let mut traces: Vec<PathBuf> = std::fs::read_dir(common::root().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wtrace"))
        .collect();
    traces.sort();
    assert!(traces.len() >= 7, "the fixtures are missing");
    traces
}

/// `dump`'s output, call by call, as it was before the fast path.
fn dump_call_by_call(path: &Path, opts: &DumpOptions) -> String {
    let mut reader = TraceReader::open(path).unwrap();
    let header = reader.header.clone();
    let marks = Marks::new(&header.faults);
    let mut decoder = Decoder::new(opts.strsize);
    decoder.verbose = opts.verbose;
    let mut out = String::new();
    let mut shown_exit = None;
    for call in reader.calls() {
        let call = call.unwrap();
        if !opts.filter.matches(&call) {
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
            out += &format!("{json}\n");
            continue;
        }
        if opts.relative {
            out += &format!("{:>12.6} ", call.start_ns as f64 / 1e9);
        }
        out += &format!(
            "#{} {}{}",
            call.seq,
            decoded.line(),
            marks.of(call.injection)
        );
        if opts.durations {
            out += &format!(" <{:.6}>", call.dur_ns as f64 / 1e9);
        }
        out.push('\n');
    }
    if !opts.json {
        let end = reader.end.as_ref().map(|e| &e.run_end);
        match (end, &reader.unfinished) {
            (_, Some(why)) => out += &format!("+++ unfinished trace: {why} +++\n"),
            (Some(RunEnd::Exit(c)), None) if shown_exit == Some(*c) => {}
            (Some(end), None) => out += &format!("{}\n", end_line(end)),
            (None, None) => {}
        }
    }
    out
}

#[test]
fn dump_of_every_fixture_with_every_option_is_what_call_by_call_decoding_gives() {
    let filters = [
        ("", false),
        ("trace=%fd", false),
        ("trace=!clock_time_get,fd_write", false),
        ("", true),
    ];
    let mut compared = 0;
    for path in fixtures() {
        for (expr, failed) in filters {
            let exprs: Vec<String> = [expr]
                .iter()
                .filter(|e| !e.is_empty())
                .map(|e| e.to_string())
                .collect();
            for (json, durations, relative, verbose, strsize) in [
                (false, false, false, false, 32),
                (false, true, true, true, 4),
                (true, false, false, false, 32),
                (true, false, false, true, 0),
            ] {
                let opts = DumpOptions {
                    strsize,
                    filter: Filter::parse(&exprs, failed).unwrap(),
                    json,
                    durations,
                    relative,
                    verbose,
                };
                let mut fast = Vec::new();
                dump(&mut TraceReader::open(&path).unwrap(), &opts, &mut fast).unwrap();
                let expected = dump_call_by_call(&path, &opts);
                assert!(!expected.is_empty() || failed, "{}", path.display());
                assert_eq!(
                    String::from_utf8(fast).unwrap(),
                    expected,
                    "{} {opts:?}",
                    path.display()
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 7 * 16);
}

#[test]
fn stats_of_every_fixture_is_what_counting_call_by_call_gives() {
    for path in fixtures() {
        let mut reader = TraceReader::open(&path).unwrap();
        let header = reader.header.clone();
        let mut counter = stats::Counter::default();
        for call in reader.calls() {
            let one = CallBatch::from_calls(&[call.unwrap()]);
            counter.count(&header, &one.view(0));
        }
        let expected = counter.finish(&header);
        let fast = stats::collect(&mut TraceReader::open(&path).unwrap()).unwrap();
        assert_eq!(fast, expected, "{}", path.display());
        assert!(!fast.funcs.is_empty(), "{}", path.display());
    }
}

/// The frames of a trace: (kind, offset, payload length).
fn frames(bytes: &[u8]) -> Vec<(u8, usize, usize)> {
    let mut frames = Vec::new();
    let mut at = 8;
    while at + 37 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
        frames.push((bytes[at], at, len));
        at += 37 + len;
    }
    frames
}

#[test]
fn a_damaged_chunk_ends_dump_and_stats_with_its_error_after_the_calls_before_it() {
    let d = tempdir();
    let bytes = std::fs::read(common::root().join("traces/manycalls.wtrace")).unwrap();
    let chunks: Vec<usize> = frames(&bytes)
        .iter()
        .filter(|f| f.0 == 2)
        .map(|f| f.1)
        .collect();
    assert_eq!(chunks.len(), 3);
    let mut flipped = bytes.clone();
    flipped[chunks[1] + 37 + 10] ^= 0x40;
    let bad = d.path().join("flipped.wtrace");
    std::fs::write(&bad, &flipped).unwrap();
    let error = format!(
        "wtrace: error: {}: chunk 1 (calls 4096..): call chunk: not valid zstd data: Data corruption detected\n",
        bad.display()
    );
    for (args, lines) in [
        (&["dump"][..], 4096),
        (&["dump", "--json"], 4096),
        (&["stats"], 0),
    ] {
        let o = output(wtrace().args(args).arg(&bad));
        assert_eq!(o.status.code(), Some(125), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr), error, "{args:?}");
        let text = String::from_utf8(o.stdout).unwrap();
        assert_eq!(text.lines().count(), lines, "{args:?}");
        if lines > 0 {
            assert!(text.lines().last().unwrap().contains("4095"), "{args:?}");
        }
    }
}
