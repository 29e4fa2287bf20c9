//! `wtrace info`, `verify`, `stats`, `diff` and `export` on recorded traces.

mod common;

use common::{output, tempdir, wtrace};
use std::path::{Path, PathBuf};
use wtrace::trace::TraceReader;

fn readfile_trace(dir: &Path, name: &str) -> PathBuf {
    let t = dir.join(name);
    let root = common::root();
    let o = output(
        wtrace()
            .arg("record")
            .arg("-o")
            .arg(&t)
            .arg("--dir")
            .arg(format!("{}::/data", root.join("examples/data").display()))
            .args(["--env", "MODE=test"])
            .arg(root.join("examples/wat/readfile.wat")),
    );
    assert_eq!(o.status.code(), Some(61));
    t
}

/// 10,000 clock_time_get calls: three chunks of at most 4096 calls.
fn many_calls_trace(dir: &Path) -> PathBuf {
    let m = dir.join("clock.wat");
    std::fs::write(
        &m,
        r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $t (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $i i32)
    (loop $l
      (drop (call $t (i32.const 1) (i64.const 1) (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 10000))))))"#,
    )
    .unwrap();
    let t = dir.join("clock.wtrace");
    assert!(output(wtrace().arg("record").arg("-o").arg(&t).arg(&m))
        .status
        .success());
    t
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn info_says_what_the_trace_holds() {
    let d = tempdir();
    let t = readfile_trace(d.path(), "r.wtrace");
    let o = output(wtrace().arg("info").arg(&t));
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    let module = std::fs::read(common::root().join("examples/wat/readfile.wat")).unwrap();
    let want = [
        format!("format:     version {v} (this wtrace reads up to {v}), written by wtrace 0.1.0 with wasmtime 48.0.8", v = wtrace::trace::FORMAT_VERSION),
        format!("module:     readfile.wat ({} bytes, embedded)", module.len()),
        format!("blake3:     {}", blake3::hash(&module).to_hex()),
        "env:        MODE=test".to_string(),
        format!("preopens:   fd 3: /data (host {})", common::root().join("examples/data").display()),
        "calls:      8 in 1 chunk(s)".to_string(),
        "status:     exited with 61".to_string(),
        "complete:   yes".to_string(),
    ];
    for line in want {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
    assert!(text.contains("started:    20"), "{text}");
}

#[test]
fn verify_accepts_an_intact_trace() {
    let d = tempdir();
    let t = many_calls_trace(d.path());
    let o = output(wtrace().arg("verify").arg(&t));
    assert_eq!(
        stdout(&o),
        "ok: 6 frames, 3 chunk(s), 10000 calls, finished\n"
    );
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn verify_names_the_damaged_chunk_and_its_calls() {
    let d = tempdir();
    let t = many_calls_trace(d.path());
    let chunks = TraceReader::open(&t).unwrap().chunks().to_vec();
    assert_eq!(chunks.len(), 3);
    let bytes = std::fs::read(&t).unwrap();

    // A flipped byte inside the second chunk's payload.
    let mut flipped = bytes.clone();
    flipped[chunks[1].offset as usize + 37 + 10] ^= 0x40;
    let bad = d.path().join("flipped.wtrace");
    std::fs::write(&bad, &flipped).unwrap();
    let o = output(wtrace().arg("verify").arg(&bad));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        format!(
            "damaged: chunk 1 at byte {} (calls #4096..#8191) fails its blake3 check\n  intact before it: 2 frames, 1 chunk(s), 4096 calls\n",
            chunks[1].offset
        )
    );

    // The tail cut off in the middle of the last chunk.
    let cut = d.path().join("cut.wtrace");
    std::fs::write(&cut, &bytes[..chunks[2].offset as usize + 50]).unwrap();
    let o = output(wtrace().arg("verify").arg(&cut));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        format!(
            "damaged: the trace is cut in the middle of a frame at byte {}\n  intact before it: 3 frames, 2 chunk(s), 8192 calls\n",
            chunks[2].offset
        )
    );

    // The first two chunks swapped: the chain breaks where chunk 0 stood.
    let (a, b, c) = (
        chunks[0].offset as usize,
        chunks[1].offset as usize,
        chunks[2].offset as usize,
    );
    let mut swapped = bytes[..a].to_vec();
    swapped.extend_from_slice(&bytes[b..c]);
    swapped.extend_from_slice(&bytes[a..b]);
    swapped.extend_from_slice(&bytes[c..]);
    let sw = d.path().join("swapped.wtrace");
    std::fs::write(&sw, &swapped).unwrap();
    let o = output(wtrace().arg("verify").arg(&sw));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).starts_with(&format!(
            "damaged: chunk 0 at byte {a} (calls #0..#4095) fails its blake3 check\n"
        )),
        "{}",
        stdout(&o)
    );

    // Not a trace at all.
    let o = output(wtrace().arg("verify").arg(common::root().join("README.md")));
    assert_eq!(o.status.code(), Some(125));
}

#[test]
fn replaying_a_damaged_chunk_is_wtraces_error_not_a_divergence() {
    let d = tempdir();
    let t = many_calls_trace(d.path());
    let chunks = TraceReader::open(&t).unwrap().chunks().to_vec();
    let mut bytes = std::fs::read(&t).unwrap();
    bytes[chunks[1].offset as usize + 37 + 10] ^= 0x40;
    let bad = d.path().join("flipped.wtrace");
    std::fs::write(&bad, &bytes).unwrap();
    let o = output(wtrace().arg("replay").arg(&bad));
    assert_eq!(o.status.code(), Some(125));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with(&format!(
            "wtrace: error: the replay stopped at call #4096: the trace cannot be read on: {}: chunk 1 (calls 4096..)",
            bad.display()
        )),
        "{err}"
    );
    assert!(err.contains("`wtrace verify`"), "{err}");
}

#[test]
fn stats_counts_calls_errors_and_bytes_per_fd() {
    let d = tempdir();
    let t = readfile_trace(d.path(), "r.wtrace");
    let o = output(wtrace().arg("stats").arg(&t));
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    // (calls, errors, function) of each row; times vary from run to run.
    let mut rows: Vec<(String, String, String)> = text
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with("---"))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let (calls, errors) = if w.len() == 6 {
                (w[3], w[4])
            } else {
                (w[3], "")
            };
            (
                w.last().unwrap().to_string(),
                calls.to_string(),
                errors.to_string(),
            )
        })
        .collect();
    rows.sort();
    let want: Vec<(String, String, String)> = [
        ("clock_time_get", "1", ""),
        ("fd_close", "1", ""),
        ("fd_read", "1", ""),
        ("fd_write", "1", ""),
        ("path_open", "2", "1"),
        ("proc_exit", "1", ""),
        ("random_get", "1", ""),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(rows, want, "{text}");
    assert!(text.contains("\n100.00 "), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("100.00") && l.ends_with("8         1 total")),
        "{text}"
    );
    assert!(text.ends_with(
        "   fd      calls   bytes read  bytes written path\n    1          1            0             61 <stdout>\n    4          1           61              0 /data/greeting.txt\n"
    ), "{text}");
}

#[test]
fn diff_leaves_random_bytes_and_clock_values_out_unless_all() {
    let d = tempdir();
    let a = readfile_trace(d.path(), "a.wtrace");
    let b = readfile_trace(d.path(), "b.wtrace");
    // Two runs differ only in their random bytes and clock readings.
    let o = output(wtrace().arg("diff").arg(&a).arg(&b));
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).ends_with("compared: 7 calls of A with 7 of B (left out: %clock and %poll calls, whose number depends on timing; not compared: random bytes, clock values, file timestamps, inode and device numbers; --all compares everything)\nno difference\n"), "{}", stdout(&o));

    // --all compares every value: the clock reading, then the random bytes.
    let all = output(wtrace().args(["diff", "--all"]).arg(&a).arg(&b));
    assert_eq!(all.status.code(), Some(1));
    let text = stdout(&all);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("modules: the same (readfile.wat, blake3 "),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "compared: 8 calls of A with 8 of B (every call and value)"
    );
    assert_eq!(lines[2], "1 diverging stretch, first first:", "{text}");
    assert_eq!(
        lines[3], "@@ A #0-#1 (2 calls), B #0-#1 (2 calls) @@",
        "{text}"
    );
    assert!(
        lines[4].starts_with("- A #0 clock_time_get(id=REALTIME, precision=1000) = 0 (time="),
        "{text}"
    );
    assert!(
        lines[5].starts_with("- A #1 random_get(buf=0x48, buf_len=8) = 0 (buf=\""),
        "{text}"
    );
    assert!(lines[6].starts_with("+ B #0 clock_time_get("), "{text}");
    assert!(lines[7].starts_with("+ B #1 random_get("), "{text}");
    assert_eq!(lines.len(), 8, "{text}");

    // A user filter naming the clock compares it, its values still not.
    let clock = output(
        wtrace()
            .args(["diff", "-e", "trace=%clock"])
            .arg(&a)
            .arg(&b),
    );
    assert_eq!(clock.status.code(), Some(0), "{}", stdout(&clock));
    assert!(
        stdout(&clock).contains("compared: 1 calls of A with 1 of B ("),
        "{}",
        stdout(&clock)
    );
    assert!(
        stdout(&clock).contains("; and only -e trace=%clock)\n"),
        "{}",
        stdout(&clock)
    );
}

#[test]
fn diff_says_when_the_modules_differ() {
    let d = tempdir();
    let a = readfile_trace(d.path(), "a.wtrace");
    let b = many_calls_trace(d.path());
    let o = output(wtrace().arg("diff").arg(&a).arg(&b));
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(
        text.starts_with("modules: DIFFERENT: A is readfile.wat (blake3 "),
        "{text}"
    );
    assert!(
        text.contains("calls per function that differ (A, B):\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  proc_exit                       1        0\n"),
        "{text}"
    );
}

#[test]
fn chrome_export_has_one_complete_event_per_call() {
    let d = tempdir();
    let t = readfile_trace(d.path(), "r.wtrace");
    let o = output(wtrace().args(["export", "--format", "chrome"]).arg(&t));
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let events = v["traceEvents"].as_array().unwrap();
    let calls: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    let mut reader = TraceReader::open(&t).unwrap();
    let recorded: Vec<_> = reader.calls().map(Result::unwrap).collect();
    assert_eq!(calls.len(), recorded.len());
    let names: Vec<&str> = calls.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "clock_time_get",
            "random_get",
            "path_open",
            "fd_read",
            "fd_write",
            "fd_close",
            "path_open",
            "proc_exit"
        ]
    );
    let mut last_ts = -1.0;
    for (e, c) in calls.iter().zip(&recorded) {
        let ts = e["ts"].as_f64().unwrap();
        assert!(ts >= last_ts);
        last_ts = ts;
        assert_eq!(ts, c.start_ns as f64 / 1000.0);
        assert_eq!(e["dur"].as_f64().unwrap(), c.dur_ns as f64 / 1000.0);
        assert_eq!(e["args"]["seq"], c.seq);
    }
    // The event's args hold the call as `dump --json` has it: typed.
    assert_eq!(calls[2]["args"]["args"]["path"], "greeting.txt");
    assert_eq!(calls[2]["args"]["args"]["fd"], 3);
    assert_eq!(calls[2]["args"]["args"]["fd_path"], "/data");
    assert_eq!(
        calls[6]["args"]["result"],
        serde_json::json!({"errno": 44, "name": "ENOENT", "error": true})
    );
    assert_eq!(calls[2]["cat"], "path");
    assert!(events
        .iter()
        .any(|e| e["ph"] == "M" && e["args"]["name"] == "readfile.wat"));
    assert_eq!(
        events.last().unwrap()["args"]["status"],
        "+++ exited with 61 +++"
    );

    let jsonl = d.path().join("r.jsonl");
    let o = output(
        wtrace()
            .args(["export", "--format", "jsonl", "-o"])
            .arg(&jsonl)
            .arg(&t),
    );
    assert_eq!(o.status.code(), Some(0));
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let objs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), 8);
    assert_eq!(objs[6]["result"]["name"], "ENOENT");
    assert_eq!(objs[3]["outs"]["nread"], 61);
    assert_eq!(
        objs[3]["outs"]["data"]["text"],
        "Hello from a preopened directory!\nwtrace recorded this read.\n"
    );
    assert_eq!(objs[3]["outs"]["data"]["len"], 61);
    assert_eq!(objs[3]["outs"]["data"].get("truncated"), None);
    // `jq 'select(.args.path=="greeting.txt")'` finds the open.
    let opens: Vec<_> = objs
        .iter()
        .filter(|o| o["args"]["path"] == "greeting.txt")
        .collect();
    assert_eq!(opens.len(), 1);
    assert_eq!(opens[0]["outs"]["opened_fd"], 4);
}
