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
    let traces = common::committed_traces();
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

/// How a test damages one frame.
#[derive(Clone, Copy, Debug)]
enum How {
    /// The file ends where the frame starts.
    CutAt,
    /// The file ends inside the frame's header.
    CutIn,
    /// A bit of the payload flipped.
    Flip,
    /// The kind byte made unknown.
    Kind,
}

/// `verify` reads the frames on one thread and hashes and decodes them on
/// others: the first problem it names is still the first in the file, with
/// the counts of what came before it (as a walk on one thread found them),
/// with `--deep` or without.
#[test]
fn verify_names_the_first_damage_in_the_file_wherever_it_is() {
    let d = tempdir();
    let bytes = std::fs::read(common::root().join("traces/manycalls.wtrace")).unwrap();
    let frames = frames(&bytes);
    assert_eq!(frames.len(), 6);
    let before = |n: usize| {
        let (chunks, calls) = [(0, 0), (0, 0), (1, 4096), (2, 8192), (3, 10003), (3, 10003)][n];
        format!("\n  intact before it: {n} frames, {chunks} chunk(s), {calls} calls\n")
    };
    let cases = [
        (1, "chunk 0 at byte 723 (calls #0..#4095)"),
        (2, "chunk 1 at byte 7962 (calls #4096..#8191)"),
        (3, "chunk 2 at byte 14952 (calls #8192..#10002)"),
        (4, "the End frame at byte 17869"),
        (5, "the Index frame at byte 17929"),
    ];
    for (i, what) in cases {
        let (_, at, len) = frames[i];
        for how in [How::CutAt, How::CutIn, How::Flip, How::Kind] {
            let mut damaged = bytes.clone();
            let expected = match how {
                How::CutAt => {
                    damaged.truncate(at);
                    "damaged: the recording did not finish: no end record and no index".to_string()
                }
                How::CutIn => {
                    damaged.truncate(at + 20);
                    format!("damaged: the trace is cut in the middle of a frame at byte {at}")
                }
                How::Flip => {
                    damaged[at + 37 + 5.min(len - 1)] ^= 1;
                    format!("damaged: {what} fails its blake3 check")
                }
                How::Kind => {
                    damaged[at] = 9;
                    let what = match i {
                        4 | 5 => format!("the Unknown(9) frame at byte {at}"),
                        _ => what.to_string(),
                    };
                    format!("damaged: {what} fails its blake3 check")
                }
            };
            let path = d.path().join("damaged.wtrace");
            std::fs::write(&path, &damaged).unwrap();
            let expected = expected + &before(i);
            for deep in [&[][..], &["--deep"]] {
                let o = output(wtrace().arg("verify").args(deep).arg(&path));
                assert_eq!(o.status.code(), Some(1), "frame {i} {how:?} {deep:?}");
                let stdout = String::from_utf8_lossy(&o.stdout);
                assert_eq!(stdout, expected, "frame {i} {how:?} {deep:?}");
            }
        }
    }
}

/// A recording that moves bytes through more fds than the writer's
/// summary keeps gets no summary; `stats` counts its calls instead, and
/// says the same.
#[test]
fn past_its_fd_limit_the_summary_is_left_out_and_stats_counts_the_calls() {
    use wtrace::syscalls::FuncId;
    use wtrace::trace::{Call, End, Header, Mem, TraceWriter, FORMAT_VERSION};
    let d = tempdir();
    // fd_write to fds 1 and 2 and fd_read from 0: three (fd, path) entries.
    let calls: Vec<Call> = [(26, 1), (26, 2), (20, 0)]
        .into_iter()
        .enumerate()
        .map(|(seq, (func, fd))| Call {
            seq: seq as u64,
            func: FuncId(func),
            args: vec![fd, 16, 1, 8],
            writes: vec![match func {
                26 => Mem {
                    param: 3,
                    addr: 8,
                    bytes: 5u32.to_le_bytes().to_vec(),
                },
                _ => Mem {
                    param: 1,
                    addr: 64,
                    bytes: b"input".to_vec(),
                },
            }],
            ..Call::default()
        })
        .collect();
    for (limit, kept) in [(2, false), (3, true)] {
        let path = d.path().join(format!("limit{limit}.wtrace"));
        let header = Header {
            format_version: FORMAT_VERSION,
            ..Header::default()
        };
        let mut w = TraceWriter::create_with(&path, header, limit).unwrap();
        w.write_calls(calls.clone()).unwrap();
        w.finish(End {
            run_end: RunEnd::Exit(0),
            calls: 3,
            duration_ns: 1,
            summary: None,
        })
        .unwrap();
        let mut r = TraceReader::open(&path).unwrap();
        let summary = r.end.as_ref().unwrap().summary.clone();
        assert_eq!(summary.is_some(), kept, "limit {limit}");
        let shown = stats::collect(&mut r).unwrap();
        let fds: Vec<(u32, String, u64, u64)> = (shown.fds.iter())
            .map(|((fd, path), n)| (*fd, path.clone(), n.read, n.written))
            .collect();
        assert_eq!(
            fds,
            [
                (0, "<stdin>".into(), 5, 0),
                (1, "<stdout>".into(), 0, 5),
                (2, "<stderr>".into(), 0, 5)
            ],
            "limit {limit}"
        );
        assert_eq!(shown, stats::recount(&mut r).unwrap(), "limit {limit}");
    }
}

/// A trace whose recorder was killed has no end record, so no summary:
/// `stats` counts its calls, and gives what the finished trace's summary
/// says when every chunk is there.
#[test]
fn stats_of_an_unfinished_trace_counts_the_calls_the_summary_counted() {
    let d = tempdir();
    let fixture = common::root().join("traces/readfile-v6.wtrace");
    let bytes = std::fs::read(&fixture).unwrap();
    let end = frames(&bytes).iter().find(|f| f.0 == 3).unwrap().1;
    let cut = d.path().join("cut.wtrace");
    std::fs::write(&cut, &bytes[..end]).unwrap();
    let mut finished = TraceReader::open(&fixture).unwrap();
    assert!(finished.end.as_ref().unwrap().summary.is_some());
    let mut unfinished = TraceReader::open(&cut).unwrap();
    assert!(unfinished.end.is_none() && unfinished.unfinished.is_some());
    let counted = stats::collect(&mut unfinished).unwrap();
    assert_eq!(counted, stats::collect(&mut finished).unwrap());
    assert_eq!(counted.funcs.values().map(|f| f.calls).sum::<u64>(), 8);
    let o = output(wtrace().arg("stats").arg(&cut));
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.ends_with("    4          1           61              0 /data/greeting.txt\n"),
        "{text}"
    );
}
