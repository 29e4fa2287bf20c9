//! `wtrace export --wasm`: the reproducer module replays the recorded run
//! by itself under `wtrace run` and under Node's `node:wasi`, from an empty
//! directory with stdin closed, and touches no host file; leaving the
//! recorded path stops it with a message and a trap.

mod common;

use common::{output, tempdir, wtrace};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use wtrace::trace::{Call, End, RunEnd, TraceReader, TraceWriter};

fn example_wat(name: &str) -> PathBuf {
    common::root().join("examples/wat").join(name)
}

fn data_dir() -> String {
    format!("{}::/data", common::root().join("examples/data").display())
}

/// `wtrace record -q -o TRACE [flags] MODULE ARGS` with `stdin` fed in.
fn record(trace: &Path, flags: &[&str], module: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = wtrace();
    cmd.args(["record", "-q", "-o"]).arg(trace).args(flags);
    cmd.arg(module).args(args);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// `wtrace export --wasm -o OUT TRACE`, which must succeed.
fn export(trace: &Path, out: &Path) {
    let o = output(
        wtrace()
            .args(["export", "--wasm", "-o"])
            .arg(out)
            .arg(trace),
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
}

/// The reproducer under `wtrace run` and under node:wasi, each in an
/// empty directory of its own with stdin closed.
fn run_both(repro: &Path, d: &Path) -> Vec<(&'static str, Output)> {
    let mut runs = Vec::new();
    let empty = d.join("empty-wtrace");
    std::fs::create_dir_all(&empty).unwrap();
    runs.push((
        "wtrace run",
        output(wtrace().current_dir(&empty).arg("run").arg(repro)),
    ));
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    let empty = d.join("empty-node");
    std::fs::create_dir_all(&empty).unwrap();
    if let Some(run) = common::node_wasi_run(repro, &empty) {
        runs.push(("node", run));
        assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    }
    runs
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The reproducer's function imports, as `module::name`.
fn imports(wasm: &Path) -> Vec<String> {
    let bytes = std::fs::read(wasm).unwrap();
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let wasmparser::Payload::ImportSection(s) = payload.unwrap() {
            for i in s.into_imports() {
                let i = i.unwrap();
                names.push(format!("{}::{}", i.module, i.name));
            }
        }
    }
    wasmparser::Validator::new().validate_all(&bytes).unwrap();
    names
}

#[test]
fn a_go_program_reproduces_byte_for_byte_under_wtrace_and_node() {
    let Some(wasm) = common::go_example("mixed") else {
        return;
    };
    let d = tempdir();
    let trace = d.path().join("mixed.wtrace");
    let stdin = b"alpha\nbeta\ngamma\n";
    let rec = record(&trace, &["--dir", &data_dir()], &wasm, &["/data"], stdin);
    assert_eq!(rec.status.code(), Some(3), "{}", show(&rec));
    let text = String::from_utf8_lossy(&rec.stdout);
    assert!(text.contains("stdin: 3 lines, last \"gamma\""), "{text}");
    assert!(text.contains("Hello from a preopened directory!"), "{text}");
    assert!(
        text.contains("sums: [299995 599994 899997 1199997]"),
        "{text}"
    );

    let repro = d.path().join("mixed-repro.wasm");
    export(&trace, &repro);
    assert_eq!(
        imports(&repro),
        [
            "wasi_snapshot_preview1::fd_write",
            "wasi_snapshot_preview1::proc_exit"
        ]
    );
    for (host, run) in run_both(&repro, d.path()) {
        assert_eq!(run.stdout, rec.stdout, "{host}: stdout\n{}", show(&run));
        assert_eq!(run.stderr, rec.stderr, "{host}: stderr\n{}", show(&run));
        assert_eq!(run.status.code(), Some(3), "{host}: exit code");
    }
}

#[test]
fn a_reproducer_of_a_file_reader_reads_no_host_file() {
    let d = tempdir();
    let trace = readfile_trace(d.path());
    let repro = d.path().join("readfile-repro.wasm");
    export(&trace, &repro);

    // Record the reproducer itself, even with the directory preopened:
    // only writes to stdout and proc_exit reach the host.
    let second = d.path().join("second.wtrace");
    let again = record(&second, &["--dir", &data_dir()], &repro, &[], b"");
    let greeting = std::fs::read(common::root().join("examples/data/greeting.txt")).unwrap();
    assert_eq!(again.stdout, greeting, "{}", show(&again));
    assert_eq!(again.status.code(), Some(61));
    let calls: Vec<Call> = TraceReader::open(&second)
        .unwrap()
        .calls()
        .map(Result::unwrap)
        .collect();
    let names: Vec<String> = calls
        .iter()
        .map(|c| {
            let name = c.func.syscall().unwrap().name;
            match name {
                "fd_write" => format!("fd_write({})", c.args[0]),
                _ => name.to_string(),
            }
        })
        .collect();
    assert_eq!(names, ["fd_write(1)", "proc_exit"]);
}

/// Copies `trace` with its calls edited by `edit` (then renumbered),
/// ending as `end` says.
fn edited_trace(trace: &Path, out: &Path, edit: impl FnOnce(&mut Vec<Call>), end: RunEnd) {
    let mut r = TraceReader::open(trace).unwrap();
    let mut header = r.header.clone();
    header.module = r.module.clone();
    let mut calls: Vec<Call> = r.calls().map(Result::unwrap).collect();
    edit(&mut calls);
    for (i, c) in calls.iter_mut().enumerate() {
        c.seq = i as u64;
    }
    let n = calls.len() as u64;
    let mut w = TraceWriter::create(out, &header).unwrap();
    w.write_calls(calls).unwrap();
    w.finish(End {
        run_end: end,
        calls: n,
        duration_ns: 1,
        summary: None,
    })
    .unwrap();
}

/// readfile.wat's calls: clock_time_get, random_get, path_open, fd_read,
/// fd_write, fd_close, path_open, proc_exit.
fn readfile_trace(d: &Path) -> PathBuf {
    let trace = d.join("readfile.wtrace");
    let rec = record(
        &trace,
        &["--dir", &data_dir()],
        &example_wat("readfile.wat"),
        &[],
        b"",
    );
    assert_eq!(rec.status.code(), Some(61), "{}", show(&rec));
    trace
}

fn assert_stops(repro: &Path, d: &Path, stdout: &[u8], message: &str) {
    for (host, run) in run_both(repro, d) {
        assert_eq!(run.status.code(), Some(134), "{host}: {}", show(&run));
        assert_eq!(run.stdout, stdout, "{host}: {}", show(&run));
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(err.starts_with(message), "{host}: {}", show(&run));
        assert!(err.contains("unreachable"), "{host}: a trap\n{err}");
    }
}

#[test]
fn a_call_the_recording_does_not_have_stops_with_a_message_and_a_trap() {
    let d = tempdir();
    let trace = readfile_trace(d.path());
    let edited = d.path().join("no-random.wtrace");
    edited_trace(&trace, &edited, |c| drop(c.remove(1)), RunEnd::Exit(61));
    let repro = d.path().join("no-random.wasm");
    export(&edited, &repro);
    assert_stops(
        &repro,
        d.path(),
        b"",
        "wtrace reproducer: call #1: the program called random_get where the recording has path_open; it left the recorded path\n",
    );
}

#[test]
fn running_past_the_end_of_the_recording_stops_with_a_message_and_a_trap() {
    let d = tempdir();
    let trace = readfile_trace(d.path());
    let edited = d.path().join("short.wtrace");
    edited_trace(&trace, &edited, |c| c.truncate(4), RunEnd::Exit(61));
    let repro = d.path().join("short.wasm");
    export(&edited, &repro);
    assert_stops(
        &repro,
        d.path(),
        b"",
        "wtrace reproducer: call #4: the program called fd_write after the last recorded call (the recording has 4 calls)\n",
    );
}

/// Records `module`, exports and runs the reproducer: same stdout, stderr
/// up to the trap report, and exit code as the recording under both hosts.
fn reproduces(module: &Path, flags: &[&str], code: i32, d: &Path) -> Vec<(&'static str, Output)> {
    let trace = d.join("t.wtrace");
    let rec = record(&trace, flags, module, &[], b"");
    assert_eq!(rec.status.code(), Some(code), "{}", show(&rec));
    let repro = d.join("t-repro.wasm");
    export(&trace, &repro);
    let runs = run_both(&repro, d);
    for (host, run) in &runs {
        assert_eq!(run.stdout, rec.stdout, "{host}: {}", show(run));
        assert_eq!(run.status.code(), Some(code), "{host}: {}", show(run));
        if code != 134 {
            assert_eq!(run.stderr, rec.stderr, "{host}: {}", show(run));
        }
    }
    runs
}

#[test]
fn exit_codes_and_traps_reproduce() {
    let d = tempdir();
    reproduces(&example_wat("trap.wat"), &[], 134, d.path());
    let d = tempdir();
    let runs = reproduces(
        &example_wat("foreign.wat"),
        &["--trap-unknown-imports"],
        134,
        d.path(),
    );
    for (host, run) in runs {
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(
            err.starts_with("wtrace reproducer: call #1: env::host_log trapped in the recording\n"),
            "{host}: {err}"
        );
    }
    if let Some(panic) = common::go_example("panic") {
        let d = tempdir();
        reproduces(&panic, &[], 2, d.path());
    }
}

#[test]
fn a_trace_without_its_module_gets_a_clear_error() {
    let d = tempdir();
    let trace = d.path().join("t.wtrace");
    let rec = record(&trace, &["--no-embed"], &example_wat("trap.wat"), &[], b"");
    assert_eq!(rec.status.code(), Some(134));
    let out = d.path().join("r.wasm");
    let o = output(
        wtrace()
            .args(["export", "--wasm", "-o"])
            .arg(&out)
            .arg(&trace),
    );
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "wtrace: error: the trace does not embed its module (recorded with --no-embed): a reproducer needs it; record again without --no-embed\n"
    );
    assert!(!out.exists());
}

#[test]
fn export_wasm_writes_to_a_pipe_and_takes_either_wasm_or_a_format() {
    let d = tempdir();
    let trace = readfile_trace(d.path());
    let file = d.path().join("r.wasm");
    export(&trace, &file);
    let piped = output(wtrace().args(["export", "--wasm"]).arg(&trace));
    assert_eq!(piped.status.code(), Some(0), "{}", show(&piped));
    assert_eq!(piped.stdout, std::fs::read(&file).unwrap());

    let neither = output(wtrace().arg("export").arg(&trace));
    assert_eq!(neither.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&neither.stderr).contains("--format"));
    let both = output(
        wtrace()
            .args(["export", "--wasm", "--format", "jsonl"])
            .arg(&trace),
    );
    assert_eq!(both.status.code(), Some(125));
    assert!(
        String::from_utf8_lossy(&both.stderr).contains("cannot be used with"),
        "{}",
        show(&both)
    );
}

/// Writes three iovecs (an empty one, "ab", "cd") to stdout, reads stdin
/// into two buffers, echoes the first to stdout and the second to stderr,
/// exits with the number of bytes read.
const IOVECS_WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "ab")
  (data (i32.const 110) "cd")
  (func $iov (param $at i32) (param $buf i32) (param $len i32)
    (i32.store (local.get $at) (local.get $buf))
    (i32.store offset=4 (local.get $at) (local.get $len)))
  (func (export "_start")
    (call $iov (i32.const 0) (i32.const 100) (i32.const 0))
    (call $iov (i32.const 8) (i32.const 100) (i32.const 2))
    (call $iov (i32.const 16) (i32.const 110) (i32.const 2))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 3) (i32.const 40)))
    (call $iov (i32.const 48) (i32.const 200) (i32.const 3))
    (call $iov (i32.const 56) (i32.const 300) (i32.const 10))
    (drop (call $fd_read (i32.const 0) (i32.const 48) (i32.const 2) (i32.const 44)))
    (call $iov (i32.const 64) (i32.const 200) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 40)))
    (call $iov (i32.const 64) (i32.const 300) (i32.sub (i32.load (i32.const 44)) (i32.const 3)))
    (drop (call $fd_write (i32.const 2) (i32.const 64) (i32.const 1) (i32.const 40)))
    (call $proc_exit (i32.load (i32.const 44)))))
"#;

#[test]
fn stdout_gets_exactly_the_bytes_the_recorded_host_took_and_reads_land_in_their_buffers() {
    let d = tempdir();
    let wat = d.path().join("iovecs.wat");
    std::fs::write(&wat, IOVECS_WAT).unwrap();
    let trace = d.path().join("iovecs.wtrace");
    let rec = record(&trace, &[], &wat, &[], b"hello world\n");
    // wasmtime takes the first non-empty iovec only: "cd" is not written.
    assert!(rec.stdout.starts_with(b"abhel"), "{}", show(&rec));
    assert!(!rec.stdout.starts_with(b"abcd"), "{}", show(&rec));
    let nread = rec.status.code().unwrap();
    assert!(nread >= 3, "{}", show(&rec));
    let repro = d.path().join("iovecs.wasm");
    export(&trace, &repro);
    for (host, run) in run_both(&repro, d.path()) {
        assert_eq!(run.stdout, rec.stdout, "{host}: {}", show(&run));
        assert_eq!(run.stderr, rec.stderr, "{host}: {}", show(&run));
        assert_eq!(run.status.code(), Some(nread), "{host}");
    }
}

#[test]
fn returning_from_start_before_the_recording_ends_stops_with_a_message_and_a_trap() {
    let d = tempdir();
    let wat = d.path().join("hi.wat");
    std::fs::write(
        &wat,
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "hi\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
"#,
    )
    .unwrap();
    let trace = d.path().join("hi.wtrace");
    let rec = record(&trace, &[], &wat, &[], b"");
    assert_eq!(
        (rec.status.code(), &rec.stdout[..]),
        (Some(0), &b"hi\n"[..])
    );
    // As recorded, returning from _start ends the run.
    let repro = d.path().join("hi.wasm");
    export(&trace, &repro);
    for (host, run) in run_both(&repro, d.path()) {
        assert_eq!(
            (run.status.code(), &run.stdout[..]),
            (Some(0), &b"hi\n"[..]),
            "{host}"
        );
        assert_eq!(run.stderr, b"", "{host}");
    }
    // A recording with one more write than the program makes.
    let edited = d.path().join("two.wtrace");
    edited_trace(&trace, &edited, |c| c.push(c[0].clone()), RunEnd::Exit(0));
    let repro = d.path().join("two.wasm");
    export(&edited, &repro);
    assert_stops(
        &repro,
        d.path(),
        b"hi\n",
        "wtrace reproducer: call #1: the program returned from _start where the recording has fd_write; it left the recorded path\n",
    );
}

#[test]
fn an_empty_memory_reproduces_and_no_memory_is_a_clear_error() {
    let d = tempdir();
    let exit = r#"(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func (export "_start") (call $exit (i32.const 7)))"#;
    let empty = d.path().join("empty.wat");
    std::fs::write(
        &empty,
        format!("(module {exit}\n  (memory (export \"memory\") 0))"),
    )
    .unwrap();
    reproduces(&empty, &[], 7, d.path());

    let none = d.path().join("none.wat");
    std::fs::write(&none, format!("(module {exit})")).unwrap();
    let trace = d.path().join("none.wtrace");
    record(&trace, &[], &none, &[], b"");
    let o = output(
        wtrace()
            .args(["export", "--wasm", "-o"])
            .arg(d.path().join("n.wasm"))
            .arg(&trace),
    );
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "wtrace: error: the recorded module has no memory: a reproducer stores the recorded effects in memory 0\n"
    );
}
