//! One WAT program per preview1 function, recorded: the trace must hold the
//! decoded arguments, the exact result and the exact memory effects. Every
//! program is then replayed from an empty directory with its sandbox
//! deleted: the same stdout, stderr and exit code, twice.
//!
//! Each program imports all 46 functions (declared from wtrace's own table)
//! and has two helpers: `$print(ptr, len)` writes to stdout, `$open(path,
//! len, oflags)` opens a file in the preopened sandbox (fd 3, `/sandbox`)
//! and returns the new fd. Memory: 0x000-0x7ff scratch, 0x800-0x8ff the
//! helpers', 0x1000 and up the program's data.

mod common;

use common::{output, tempdir, wtrace};
use std::path::{Path, PathBuf};
use std::process::Output;
use wtrace::syscalls::{Func, SYSCALLS};
use wtrace::trace::{Call, Outcome, TraceReader};

fn imports() -> String {
    SYSCALLS
        .iter()
        .map(|s| {
            let params: Vec<&str> = s
                .param_is_i64()
                .map(|w| if w { "i64" } else { "i32" })
                .collect();
            let result = if s.no_return { "" } else { " (result i32)" };
            format!(
                "  (import \"wasi_snapshot_preview1\" \"{0}\" (func ${0} (param {1}){result}))\n",
                s.name,
                params.join(" ")
            )
        })
        .collect()
}

fn module(data: &str, body: &str) -> String {
    format!(
        r#"(module
{imports}  (memory (export "memory") 2)
{data}
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0x800) (local.get $ptr))
    (i32.store (i32.const 0x804) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0x800) (i32.const 1) (i32.const 0x808))))
  (func $open (param $path i32) (param $len i32) (param $oflags i32) (result i32)
    (drop (call $path_open (i32.const 3) (i32.const 1) (local.get $path) (local.get $len) (local.get $oflags)
      (i64.const 0x3fffffff) (i64.const 0x3fffffff) (i32.const 0) (i32.const 0x810)))
    (i32.load (i32.const 0x810)))
  (func (export "_start")
    (local $fd i32) (local $fd2 i32) (local $e i32)
{body}))"#,
        imports = imports()
    )
}

/// A recorded program: its trace's calls, decoded lines and outputs.
struct Recorded {
    dir: tempfile::TempDir,
    trace: PathBuf,
    calls: Vec<Call>,
    /// `wtrace dump -s 4096` lines without the `#N ` prefix.
    lines: Vec<String>,
    out: Output,
}

impl Recorded {
    fn sandbox(&self) -> PathBuf {
        self.dir.path().join("sandbox")
    }

    /// The calls to `func`, in order.
    fn of(&self, func: Func) -> Vec<&Call> {
        self.calls.iter().filter(|c| c.func == func).collect()
    }

    /// The decoded lines of the calls to `func`.
    fn lines_of(&self, func: Func) -> Vec<&str> {
        let prefix = format!("{}(", func.syscall().name);
        self.lines
            .iter()
            .filter(|l| l.starts_with(&prefix))
            .map(String::as_str)
            .collect()
    }

    fn stdout(&self) -> &[u8] {
        &self.out.stdout
    }
}

/// Records `body` with a sandbox holding `files`, checks the replay, and
/// returns the recording.
fn record(files: &[(&str, &str)], data: &str, body: &str, extra: &[&str]) -> Recorded {
    let dir = tempdir();
    let sandbox = dir.path().join("sandbox");
    std::fs::create_dir_all(&sandbox).unwrap();
    for (name, text) in files {
        std::fs::write(sandbox.join(name), text).unwrap();
    }
    let wat = dir.path().join("prog.wat");
    std::fs::write(&wat, module(data, body)).unwrap();
    let trace = dir.path().join("prog.wtrace");
    let out = output(
        wtrace()
            .current_dir(dir.path())
            .args(["record", "-q", "-o"])
            .arg(&trace)
            .arg("--dir")
            .arg(format!("{}::/sandbox", sandbox.display()))
            .args(extra)
            .arg(&wat),
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("wtrace: error"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls: Vec<Call> = TraceReader::open(&trace)
        .unwrap()
        .calls()
        .map(Result::unwrap)
        .collect();
    let dump = output(wtrace().args(["dump", "-s", "4096"]).arg(&trace));
    let lines = String::from_utf8_lossy(&dump.stdout)
        .lines()
        .filter_map(|l| {
            l.split_once(' ')
                .filter(|_| l.starts_with('#'))
                .map(|(_, rest)| rest.to_string())
        })
        .collect();
    let rec = Recorded {
        dir,
        trace,
        calls,
        lines,
        out,
    };
    check_replay(&rec);
    rec
}

/// Replays from an empty directory with the sandbox moved away: the same
/// bytes and exit code as the recording, twice, and the sandbox untouched.
fn check_replay(rec: &Recorded) {
    let moved = rec.dir.path().join("moved-away");
    std::fs::rename(rec.sandbox(), &moved).unwrap();
    let empty = rec.dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for _ in 0..2 {
        let r = output(wtrace().current_dir(&empty).arg("replay").arg(&rec.trace));
        assert_eq!(r.stdout, rec.out.stdout, "replay stdout");
        assert_eq!(
            String::from_utf8_lossy(&r.stderr),
            String::from_utf8_lossy(&rec.out.stderr),
            "replay stderr"
        );
        assert_eq!(r.status.code(), rec.out.status.code(), "replay exit code");
    }
    assert!(!rec.sandbox().exists(), "replay recreated the sandbox");
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "replay created files"
    );
    std::fs::rename(&moved, rec.sandbox()).unwrap();
}

fn le64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().unwrap())
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().unwrap())
}

/// (param, addr, bytes) of a call's memory effects.
fn effects(c: &Call) -> Vec<(u8, u32, Vec<u8>)> {
    c.writes
        .iter()
        .map(|m| (m.param, m.addr, m.bytes.clone()))
        .collect()
}

const F_TXT: &str = r#"(data (i32.const 0x1000) "f.txt")"#;

// --- args and environment -------------------------------------------------

#[test]
fn args_sizes_get_and_args_get() {
    let body = r#"
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $args_get (i32.const 0x100) (i32.const 0x200)))
    (call $print (i32.const 0x200) (i32.load (i32.const 4)))"#;
    // Record with two guest arguments after the module.
    let dir = tempdir();
    let wat = dir.path().join("a.wat");
    std::fs::write(&wat, module("", body)).unwrap();
    let trace = dir.path().join("a.wtrace");
    let out = output(
        wtrace()
            .arg("record")
            .arg("-o")
            .arg(&trace)
            .arg(&wat)
            .args(["x", "yz"]),
    );
    let path = wat.display().to_string();
    let argv_buf = format!("{path}\0x\0yz\0");
    assert_eq!(out.stdout, argv_buf.as_bytes());
    let calls: Vec<Call> = TraceReader::open(&trace)
        .unwrap()
        .calls()
        .map(Result::unwrap)
        .collect();
    assert_eq!(calls[0].func, Func::args_sizes_get);
    assert_eq!(
        effects(&calls[0]),
        vec![
            (0, 0, 3u32.to_le_bytes().to_vec()),
            (1, 4, (argv_buf.len() as u32).to_le_bytes().to_vec())
        ]
    );
    let ptrs: Vec<u8> = [
        0x200u32,
        0x200 + path.len() as u32 + 1,
        0x200 + path.len() as u32 + 3,
    ]
    .iter()
    .flat_map(|p| p.to_le_bytes())
    .collect();
    assert_eq!(
        effects(&calls[1]),
        vec![(0, 0x100, ptrs), (1, 0x200, argv_buf.as_bytes().to_vec())]
    );
    let dump =
        String::from_utf8_lossy(&output(wtrace().arg("dump").arg(&trace)).stdout).into_owned();
    assert!(
        dump.contains(&format!(
            "#1 args_get(argv=0x100, argv_buf=0x200) = 0 ([\"{path}\", \"x\", \"yz\"])"
        )),
        "{dump}"
    );
    let r = output(wtrace().current_dir(dir.path()).arg("replay").arg(&trace));
    assert_eq!(r.stdout, out.stdout);
}

#[test]
fn environ_sizes_get_and_environ_get() {
    let body = r#"
    (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $environ_get (i32.const 0x100) (i32.const 0x200)))
    (call $print (i32.const 0x200) (i32.load (i32.const 4)))"#;
    let rec = record(&[], "", body, &["--env", "A=1", "--env", "BB=22"]);
    assert_eq!(rec.stdout(), b"A=1\0BB=22\0");
    assert_eq!(
        rec.lines_of(Func::environ_sizes_get),
        ["environ_sizes_get() = 0 (environc=2, environ_buf_size=10)"]
    );
    assert_eq!(
        rec.lines_of(Func::environ_get),
        ["environ_get(environ=0x100, environ_buf=0x200) = 0 ([\"A=1\", \"BB=22\"])"]
    );
    let ptrs: Vec<u8> = [0x200u32, 0x204]
        .iter()
        .flat_map(|p| p.to_le_bytes())
        .collect();
    assert_eq!(effects(rec.of(Func::environ_get)[0])[0], (0, 0x100, ptrs));
}

// --- clocks, random, scheduling --------------------------------------------

#[test]
fn clock_time_get_writes_the_timestamp_the_guest_sees() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let rec = record(
        &[],
        "",
        r#"
    (drop (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 0x10)))
    (call $print (i32.const 0x10) (i32.const 8))"#,
        &[],
    );
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let c = rec.of(Func::clock_time_get)[0];
    assert_eq!(c.args, vec![0, 1, 0x10]);
    assert_eq!(effects(c), vec![(2, 0x10, rec.stdout().to_vec())]);
    let t = le64(rec.stdout());
    assert!(before <= t && t <= after, "{before} <= {t} <= {after}");
    assert_eq!(
        rec.lines_of(Func::clock_time_get),
        [format!(
            "clock_time_get(id=REALTIME, precision=1) = 0 (time={t})"
        )]
    );
}

#[test]
fn clock_res_get_and_a_bad_clock_id() {
    let rec = record(
        &[],
        "",
        r#"
    (drop (call $clock_res_get (i32.const 1) (i32.const 0x10)))
    (call $print (i32.const 0x10) (i32.const 8))
    (call $proc_exit (call $clock_res_get (i32.const 9) (i32.const 0x20)))"#,
        &[],
    );
    let c = rec.of(Func::clock_res_get);
    assert_eq!(effects(c[0]), vec![(1, 0x10, rec.stdout().to_vec())]);
    assert_eq!(
        rec.lines_of(Func::clock_res_get)[0],
        format!(
            "clock_res_get(id=MONOTONIC) = 0 (resolution={})",
            le64(rec.stdout())
        )
    );
    // wasmtime-wasi traps on a clock id outside the enum (no EINVAL).
    assert_eq!(rec.lines_of(Func::clock_res_get)[1], "clock_res_get(id=9) = ? <trap: In func wasi_snapshot_preview1::clock_res_get at convert Clockid: Invalid enum value Clockid>");
    assert!(matches!(&c[1].outcome, Outcome::Trap(m) if m.contains("Invalid enum value Clockid")));
    assert!(c[1].writes.is_empty());
    assert_eq!(rec.out.status.code(), Some(134));
}

#[test]
fn random_get_fills_the_buffer() {
    let rec = record(
        &[],
        "",
        r#"
    (drop (call $random_get (i32.const 0x40) (i32.const 16)))
    (call $print (i32.const 0x40) (i32.const 16))"#,
        &[],
    );
    assert_eq!(rec.stdout().len(), 16);
    assert_eq!(
        effects(rec.of(Func::random_get)[0]),
        vec![(0, 0x40, rec.stdout().to_vec())]
    );
    assert!(rec.lines_of(Func::random_get)[0]
        .starts_with("random_get(buf=0x40, buf_len=16) = 0 (buf=\""));
}

#[test]
fn sched_yield_returns_success() {
    let rec = record(
        &[],
        "",
        "    (call $proc_exit (i32.add (i32.const 40) (call $sched_yield)))",
        &[],
    );
    assert_eq!(rec.lines_of(Func::sched_yield), ["sched_yield() = 0"]);
    assert_eq!(rec.out.status.code(), Some(40));
}

#[test]
fn poll_oneoff_with_a_relative_clock_and_stdin() {
    // Subscription 0 at 0x100: clock, userdata 0x11, MONOTONIC, 1 s relative:
    // long enough that stdin's readiness (wasmtime-wasi learns it on a
    // thread of its own) comes first even on a loaded machine.
    // Subscription 1 at 0x130: fd_read on stdin (closed: /dev/null), userdata 0x22.
    let rec = record(
        &[],
        "",
        r#"
    (i64.store (i32.const 0x100) (i64.const 0x11))
    (i32.store8 (i32.const 0x108) (i32.const 0))
    (i32.store (i32.const 0x110) (i32.const 1))
    (i64.store (i32.const 0x118) (i64.const 1000000000))
    (i64.store (i32.const 0x120) (i64.const 1000))
    (i64.store (i32.const 0x130) (i64.const 0x22))
    (i32.store8 (i32.const 0x138) (i32.const 1))
    (i32.store (i32.const 0x140) (i32.const 0))
    (drop (call $poll_oneoff (i32.const 0x100) (i32.const 0x200) (i32.const 2) (i32.const 0x2f0)))
    (call $print (i32.const 0x2f0) (i32.const 4))"#,
        &[],
    );
    let c = rec.of(Func::poll_oneoff)[0];
    assert_eq!(c.outcome, Outcome::Errno(0));
    let nevents = le32(rec.stdout());
    assert!(nevents >= 1);
    assert_eq!(c.reads[0].bytes.len(), 96, "two 48-byte subscriptions read");
    let events = &c.writes[0];
    assert_eq!(
        (events.param, events.addr, events.bytes.len()),
        (1, 0x200, 32 * nevents as usize)
    );
    assert_eq!(effects(c)[1], (3, 0x2f0, nevents.to_le_bytes().to_vec()));
    let line = rec.lines_of(Func::poll_oneoff)[0];
    assert!(line.starts_with(&format!("poll_oneoff(subscriptions=[{{userdata=0x11, CLOCK, id=MONOTONIC, timeout=1000000000, precision=1000, flags=0}}, {{userdata=0x22, FD_READ, fd=0}}]) = 0 (nevents={nevents}, events=[")), "{line}");
    // stdin (/dev/null) is readable at once; the clock may have fired too.
    let userdata: Vec<u64> = events.bytes.chunks(32).map(le64).collect();
    assert!(userdata.contains(&0x22) && nevents <= 2, "{userdata:x?}");
    assert!(
        line.contains("{userdata=0x22, error=0, type=FD_READ, nbytes="),
        "{line}"
    );
}

/// An absolute deadline on the monotonic clock is kept on the clock the
/// guest read it from: after a poll until 50 ms past a reading, a second
/// reading is past the deadline (the recorder's clock is the guest's, and
/// wasmtime-wasi's).
#[test]
fn poll_oneoff_until_a_monotonic_time_waits_until_the_guest_s_clock_passes_it() {
    // Subscription at 0x100: clock, userdata 0x33, MONOTONIC, the deadline
    // (the first reading, at 0x10, + 50 ms), precision 0, flags ABSTIME.
    let rec = record(
        &[],
        "",
        r#"
    (drop (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 0x10)))
    (i64.store (i32.const 0x100) (i64.const 0x33))
    (i32.store8 (i32.const 0x108) (i32.const 0))
    (i32.store (i32.const 0x110) (i32.const 1))
    (i64.store (i32.const 0x118) (i64.add (i64.load (i32.const 0x10)) (i64.const 50000000)))
    (i64.store (i32.const 0x120) (i64.const 0))
    (i32.store16 (i32.const 0x128) (i32.const 1))
    (drop (call $poll_oneoff (i32.const 0x100) (i32.const 0x200) (i32.const 1) (i32.const 0x2f0)))
    (drop (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 0x18)))
    (call $proc_exit (i64.lt_u (i64.load (i32.const 0x18)) (i64.load (i32.const 0x118))))"#,
        &[],
    );
    let readings: Vec<u64> = (rec.of(Func::clock_time_get).iter())
        .map(|c| le64(&c.writes[0].bytes))
        .collect();
    let deadline = readings[0] + 50_000_000;
    assert!(readings[1] >= deadline, "{readings:?}");
    assert_eq!(rec.out.status.code(), Some(0));
    assert_eq!(
        rec.lines_of(Func::poll_oneoff),
        [format!("poll_oneoff(subscriptions=[{{userdata=0x33, CLOCK, id=MONOTONIC, timeout={deadline}, precision=0, flags=ABSTIME}}]) = 0 (nevents=1, events=[{{userdata=0x33, error=0, type=CLOCK}}])")]
    );
}

#[test]
fn proc_exit_codes_pass_through() {
    for code in [0, 1, 3, 125] {
        let rec = record(
            &[],
            "",
            &format!("    (call $proc_exit (i32.const {code}))"),
            &[],
        );
        assert_eq!(rec.out.status.code(), Some(code));
        assert_eq!(
            rec.lines_of(Func::proc_exit),
            [format!(
                "proc_exit(rval={code}) = ? +++ exited with {code} +++"
            )]
        );
        assert_eq!(rec.of(Func::proc_exit)[0].outcome, Outcome::Exit(code));
    }
}

#[test]
fn proc_raise_is_not_supported() {
    let rec = record(
        &[],
        "",
        "    (call $proc_exit (call $proc_raise (i32.const 2)))",
        &[],
    );
    let line = rec.lines_of(Func::proc_raise)[0];
    assert!(line.starts_with("proc_raise(sig=INT) = "), "{line}");
    let c = rec.of(Func::proc_raise)[0];
    match &c.outcome {
        Outcome::Errno(e) => assert_eq!(rec.out.status.code(), Some(*e as i32)),
        Outcome::Trap(_) => assert_eq!(rec.out.status.code(), Some(134)),
        other => panic!("{other:?}"),
    }
}

// --- file descriptors ------------------------------------------------------

#[test]
fn fd_prestat_get_and_dir_name_describe_the_preopen() {
    let rec = record(
        &[],
        "",
        r#"
    (drop (call $fd_prestat_get (i32.const 3) (i32.const 0x10)))
    (drop (call $fd_prestat_dir_name (i32.const 3) (i32.const 0x20) (i32.load (i32.const 0x14))))
    (call $print (i32.const 0x20) (i32.load (i32.const 0x14)))
    (call $proc_exit (call $fd_prestat_get (i32.const 4) (i32.const 0x10)))"#,
        &[],
    );
    assert_eq!(rec.stdout(), b"/sandbox");
    assert_eq!(
        rec.lines_of(Func::fd_prestat_get),
        [
            "fd_prestat_get(fd=3</sandbox>) = 0 (buf={tag=DIR, name_len=8})",
            "fd_prestat_get(fd=4) = 8 EBADF (Bad file descriptor)"
        ]
    );
    assert_eq!(
        effects(rec.of(Func::fd_prestat_get)[0]),
        vec![(1, 0x10, vec![0, 0, 0, 0, 8, 0, 0, 0])]
    );
    assert_eq!(
        rec.lines_of(Func::fd_prestat_dir_name),
        ["fd_prestat_dir_name(fd=3</sandbox>, path=0x20, path_len=8) = 0 (path=\"/sandbox\")"]
    );
    assert_eq!(rec.out.status.code(), Some(8));
}

#[test]
fn fd_write_takes_the_first_nonempty_iovec() {
    let rec = record(
        &[],
        r#"(data (i32.const 0x1000) "first\n") (data (i32.const 0x1010) "second\n")"#,
        r#"
    (i32.store (i32.const 0) (i32.const 0x1000))
    (i32.store (i32.const 4) (i32.const 6))
    (i32.store (i32.const 8) (i32.const 0x1010))
    (i32.store (i32.const 12) (i32.const 7))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 0x20)))
    (call $proc_exit (i32.load (i32.const 0x20)))"#,
        &[],
    );
    // wasmtime-wasi writes only the first non-empty buffer: a short write.
    assert_eq!(rec.stdout(), b"first\n");
    assert_eq!(rec.out.status.code(), Some(6));
    assert_eq!(rec.lines_of(Func::fd_write), ["fd_write(fd=1, iovs=[{buf=0x1000, len=6, \"first\\n\"}, {buf=0x1010, len=7, \"second\\n\"}]) = 0 (nwritten=6)"]);
    let c = rec.of(Func::fd_write)[0];
    assert_eq!(c.reads.len(), 3, "the list and both buffers");
    assert_eq!(effects(c), vec![(3, 0x20, 6u32.to_le_bytes().to_vec())]);
}

#[test]
fn path_open_fd_read_fd_close_and_errors() {
    let rec = record(
        &[("f.txt", "hello world")],
        &format!("{F_TXT} (data (i32.const 0x1010) \"nope\")"),
        r#"
    (local.set $fd (call $open (i32.const 0x1000) (i32.const 5) (i32.const 0)))
    (i32.store (i32.const 0) (i32.const 0x100))
    (i32.store (i32.const 4) (i32.const 5))
    (i32.store (i32.const 8) (i32.const 0x200))
    (i32.store (i32.const 12) (i32.const 100))
    (drop (call $fd_read (local.get $fd) (i32.const 0) (i32.const 2) (i32.const 0x20)))
    (call $print (i32.const 0x100) (i32.load (i32.const 0x20)))
    (drop (call $fd_close (local.get $fd)))
    (local.set $e (call $fd_close (local.get $fd)))
    (drop (call $path_open (i32.const 3) (i32.const 1) (i32.const 0x1010) (i32.const 4) (i32.const 0)
      (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0x30)))
    (call $proc_exit (local.get $e))"#,
        &[],
    );
    assert_eq!(rec.stdout(), b"hello");
    assert_eq!(rec.out.status.code(), Some(8), "closing twice: EBADF");
    let opens = rec.lines_of(Func::path_open);
    assert_eq!(opens[0], "path_open(fd=3</sandbox>, dirflags=SYMLINK_FOLLOW, path=\"f.txt\", oflags=0, fs_rights_base=FD_DATASYNC|FD_READ|...(30 rights), fs_rights_inheriting=FD_DATASYNC|FD_READ|...(30 rights), fdflags=0) = 0 (opened_fd=4)");
    assert_eq!(opens[1], "path_open(fd=3</sandbox>, dirflags=SYMLINK_FOLLOW, path=\"nope\", oflags=0, fs_rights_base=FD_READ, fs_rights_inheriting=0, fdflags=0) = 44 ENOENT (No such file or directory)");
    assert_eq!(rec.lines_of(Func::fd_read), ["fd_read(fd=4</sandbox/f.txt>, iovs=[{buf=0x100, len=5}, {buf=0x200, len=100}]) = 0 (nread=5, \"hello\")"]);
    let read = rec.of(Func::fd_read)[0];
    assert_eq!(
        effects(read),
        vec![
            (1, 0x100, b"hello".to_vec()),
            (3, 0x20, 5u32.to_le_bytes().to_vec())
        ]
    );
    assert_eq!(
        rec.lines_of(Func::fd_close),
        [
            "fd_close(fd=4</sandbox/f.txt>) = 0",
            "fd_close(fd=4) = 8 EBADF (Bad file descriptor)"
        ]
    );
}

/// Opens f.txt (read/write) into $fd, then runs `then`.
fn with_file(contents: &str, then: &str) -> Recorded {
    record(&[("f.txt", contents)], F_TXT, &format!("    (local.set $fd (call $open (i32.const 0x1000) (i32.const 5) (i32.const 0)))\n{then}"), &[])
}

#[test]
fn fd_pread_and_fd_pwrite_at_offsets() {
    let rec = with_file(
        "hello",
        r#"
    (i32.store (i32.const 0) (i32.const 0x100))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_pread (local.get $fd) (i32.const 0) (i32.const 1) (i64.const 2) (i32.const 0x20)))
    (call $print (i32.const 0x100) (i32.load (i32.const 0x20)))
    (i32.store8 (i32.const 0x300) (i32.const 0x58))
    (i32.store8 (i32.const 0x301) (i32.const 0x59))
    (i32.store (i32.const 0x40) (i32.const 0x300))
    (i32.store (i32.const 0x44) (i32.const 2))
    (drop (call $fd_pwrite (local.get $fd) (i32.const 0x40) (i32.const 1) (i64.const 1) (i32.const 0x50)))"#,
    );
    assert_eq!(rec.stdout(), b"llo");
    assert_eq!(
        std::fs::read_to_string(rec.sandbox().join("f.txt")).unwrap(),
        "hXYlo"
    );
    assert_eq!(rec.lines_of(Func::fd_pread), ["fd_pread(fd=4</sandbox/f.txt>, iovs=[{buf=0x100, len=3}], offset=2) = 0 (nread=3, \"llo\")"]);
    assert_eq!(rec.lines_of(Func::fd_pwrite), ["fd_pwrite(fd=4</sandbox/f.txt>, iovs=[{buf=0x300, len=2, \"XY\"}], offset=1) = 0 (nwritten=2)"]);
    assert_eq!(
        effects(rec.of(Func::fd_pwrite)[0]),
        vec![(4, 0x50, 2u32.to_le_bytes().to_vec())]
    );
}

#[test]
fn fd_seek_and_fd_tell() {
    let rec = with_file(
        "hello",
        r#"
    (drop (call $fd_seek (local.get $fd) (i64.const 2) (i32.const 0) (i32.const 0x10)))
    (drop (call $fd_seek (local.get $fd) (i64.const -1) (i32.const 2) (i32.const 0x18)))
    (drop (call $fd_tell (local.get $fd) (i32.const 0x20)))
    (call $proc_exit (i32.wrap_i64 (i64.load (i32.const 0x20))))"#,
    );
    assert_eq!(
        rec.lines_of(Func::fd_seek),
        [
            "fd_seek(fd=4</sandbox/f.txt>, offset=2, whence=SET) = 0 (newoffset=2)",
            "fd_seek(fd=4</sandbox/f.txt>, offset=-1, whence=END) = 0 (newoffset=4)",
        ]
    );
    assert_eq!(
        rec.lines_of(Func::fd_tell),
        ["fd_tell(fd=4</sandbox/f.txt>) = 0 (offset=4)"]
    );
    assert_eq!(
        effects(rec.of(Func::fd_tell)[0]),
        vec![(1, 0x20, 4u64.to_le_bytes().to_vec())]
    );
    assert_eq!(rec.out.status.code(), Some(4));
}

#[test]
fn fd_fdstat_get_and_set_flags() {
    let rec = with_file(
        "x",
        r#"
    (drop (call $fd_fdstat_get (local.get $fd) (i32.const 0x10)))
    (call $print (i32.const 0x10) (i32.const 24))
    (call $proc_exit (call $fd_fdstat_set_flags (local.get $fd) (i32.const 1)))"#,
    );
    let stat = rec.stdout();
    assert_eq!(stat[0], 4, "REGULAR_FILE");
    assert_eq!(
        effects(rec.of(Func::fd_fdstat_get)[0]),
        vec![(1, 0x10, stat.to_vec())]
    );
    assert!(rec.lines_of(Func::fd_fdstat_get)[0].starts_with("fd_fdstat_get(fd=4</sandbox/f.txt>) = 0 (stat={filetype=REGULAR_FILE, flags=0, rights_base="));
    let code = rec.out.status.code().unwrap();
    assert_eq!(
        rec.lines_of(Func::fd_fdstat_set_flags)[0],
        format!(
            "fd_fdstat_set_flags(fd=4</sandbox/f.txt>, flags=APPEND) = {}",
            wtrace::decode::result_text(&Outcome::Errno(code as u16))
        )
    );
}

#[test]
fn fd_fdstat_set_rights_is_accepted_or_refused_exactly() {
    let rec = with_file("x", "    (call $proc_exit (call $fd_fdstat_set_rights (local.get $fd) (i64.const 2) (i64.const 0)))");
    let code = rec.out.status.code().unwrap() as u16;
    assert_eq!(rec.lines_of(Func::fd_fdstat_set_rights), [format!("fd_fdstat_set_rights(fd=4</sandbox/f.txt>, fs_rights_base=FD_READ, fs_rights_inheriting=0) = {}", wtrace::decode::result_text(&Outcome::Errno(code)))]);
}

#[test]
fn fd_filestat_get_set_size_and_set_times() {
    let rec = with_file(
        "hello",
        r#"
    (drop (call $fd_filestat_set_size (local.get $fd) (i64.const 1234)))
    (drop (call $fd_filestat_get (local.get $fd) (i32.const 0x40)))
    (call $print (i32.const 0x40) (i32.const 64))
    (drop (call $fd_filestat_set_times (local.get $fd) (i64.const 1000000000) (i64.const 2000000000) (i32.const 5)))"#,
    );
    let stat = rec.stdout();
    assert_eq!(stat[16], 4, "REGULAR_FILE");
    assert_eq!(le64(&stat[32..]), 1234, "size");
    assert_eq!(
        effects(rec.of(Func::fd_filestat_get)[0]),
        vec![(1, 0x40, stat.to_vec())]
    );
    assert_eq!(
        rec.lines_of(Func::fd_filestat_set_size),
        ["fd_filestat_set_size(fd=4</sandbox/f.txt>, size=1234) = 0"]
    );
    assert_eq!(rec.lines_of(Func::fd_filestat_set_times), ["fd_filestat_set_times(fd=4</sandbox/f.txt>, atim=1000000000, mtim=2000000000, fst_flags=ATIM|MTIM) = 0"]);
    let meta = std::fs::metadata(rec.sandbox().join("f.txt")).unwrap();
    assert_eq!(meta.len(), 1234);
    assert_eq!(
        meta.modified().unwrap(),
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(2)
    );
}

#[test]
fn fd_advise_allocate_datasync_and_sync() {
    let rec = with_file(
        "hello",
        r#"
    (i32.store (i32.const 0) (call $fd_advise (local.get $fd) (i64.const 0) (i64.const 5) (i32.const 1)))
    (i32.store (i32.const 4) (call $fd_allocate (local.get $fd) (i64.const 0) (i64.const 100)))
    (i32.store (i32.const 8) (call $fd_datasync (local.get $fd)))
    (i32.store (i32.const 12) (call $fd_sync (local.get $fd)))
    (call $print (i32.const 0) (i32.const 16))"#,
    );
    let errnos: Vec<u16> = rec.stdout().chunks(4).map(|c| le32(c) as u16).collect();
    let text = |e: u16| wtrace::decode::result_text(&Outcome::Errno(e));
    assert_eq!(
        rec.lines_of(Func::fd_advise),
        [format!(
            "fd_advise(fd=4</sandbox/f.txt>, offset=0, len=5, advice=SEQUENTIAL) = {}",
            text(errnos[0])
        )]
    );
    assert_eq!(
        rec.lines_of(Func::fd_allocate),
        [format!(
            "fd_allocate(fd=4</sandbox/f.txt>, offset=0, len=100) = {}",
            text(errnos[1])
        )]
    );
    assert_eq!(
        rec.lines_of(Func::fd_datasync),
        [format!(
            "fd_datasync(fd=4</sandbox/f.txt>) = {}",
            text(errnos[2])
        )]
    );
    assert_eq!(
        rec.lines_of(Func::fd_sync),
        [format!(
            "fd_sync(fd=4</sandbox/f.txt>) = {}",
            text(errnos[3])
        )]
    );
    assert_eq!((errnos[0], errnos[2], errnos[3]), (0, 0, 0));
}

#[test]
fn fd_renumber_moves_a_descriptor() {
    let rec = record(
        &[("a", "A"), ("b", "B")],
        r#"(data (i32.const 0x1000) "a") (data (i32.const 0x1004) "b")"#,
        r#"
    (local.set $fd (call $open (i32.const 0x1000) (i32.const 1) (i32.const 0)))
    (local.set $fd2 (call $open (i32.const 0x1004) (i32.const 1) (i32.const 0)))
    (drop (call $fd_renumber (local.get $fd) (local.get $fd2)))
    (i32.store (i32.const 0) (i32.const 0x100))
    (i32.store (i32.const 4) (i32.const 1))
    (drop (call $fd_read (local.get $fd2) (i32.const 0) (i32.const 1) (i32.const 0x20)))
    (call $print (i32.const 0x100) (i32.const 1))
    (call $proc_exit (call $fd_close (local.get $fd)))"#,
        &[],
    );
    assert_eq!(rec.stdout(), b"A", "fd 5 now reads file a");
    assert_eq!(rec.out.status.code(), Some(8), "fd 4 is gone");
    assert_eq!(
        rec.lines_of(Func::fd_renumber),
        ["fd_renumber(fd=4</sandbox/a>, to=5</sandbox/b>) = 0"]
    );
    assert!(
        rec.lines_of(Func::fd_read)[0].starts_with("fd_read(fd=5</sandbox/a>, "),
        "the decoder follows the renumbering"
    );
}

#[test]
fn fd_readdir_lists_the_sandbox() {
    let rec = record(
        &[("one", "1"), ("two", "22")],
        "",
        r#"
    (drop (call $fd_readdir (i32.const 3) (i32.const 0x100) (i32.const 1024) (i64.const 0) (i32.const 0x20)))
    (call $print (i32.const 0x100) (i32.load (i32.const 0x20)))"#,
        &[],
    );
    let buf = rec.stdout();
    let c = rec.of(Func::fd_readdir)[0];
    assert_eq!(
        effects(c),
        vec![
            (1, 0x100, buf.to_vec()),
            (4, 0x20, (buf.len() as u32).to_le_bytes().to_vec())
        ]
    );
    let mut names = Vec::new();
    let mut at = 0;
    while at + 24 <= buf.len() {
        let len = le32(&buf[at + 16..]) as usize;
        names.push(String::from_utf8_lossy(&buf[at + 24..at + 24 + len]).into_owned());
        at += 24 + len;
    }
    names.sort();
    assert_eq!(names, [".", "..", "one", "two"]);
    let line = rec.lines_of(Func::fd_readdir)[0];
    assert!(line.starts_with(&format!("fd_readdir(fd=3</sandbox>, buf=0x100, buf_len=1024, cookie=0) = 0 (bufused={}, buf=[{{d_next=1, d_ino=", buf.len())), "{line}");
    assert!(
        line.contains("d_type=REGULAR_FILE, name=\"one\"}")
            && line.contains("d_type=DIRECTORY, name=\".\"}"),
        "{line}"
    );
}

// --- paths -----------------------------------------------------------------

#[test]
fn path_create_and_remove_directory() {
    let rec = record(
        &[],
        r#"(data (i32.const 0x1000) "newdir") (data (i32.const 0x1010) "gone")"#,
        r#"
    (drop (call $path_create_directory (i32.const 3) (i32.const 0x1000) (i32.const 6)))
    (drop (call $path_create_directory (i32.const 3) (i32.const 0x1010) (i32.const 4)))
    (drop (call $path_remove_directory (i32.const 3) (i32.const 0x1010) (i32.const 4)))
    (call $proc_exit (call $path_create_directory (i32.const 3) (i32.const 0x1000) (i32.const 6)))"#,
        &[],
    );
    assert!(rec.sandbox().join("newdir").is_dir());
    assert!(!rec.sandbox().join("gone").exists());
    assert_eq!(
        rec.lines_of(Func::path_create_directory),
        [
            "path_create_directory(fd=3</sandbox>, path=\"newdir\") = 0",
            "path_create_directory(fd=3</sandbox>, path=\"gone\") = 0",
            "path_create_directory(fd=3</sandbox>, path=\"newdir\") = 20 EEXIST (File exists)",
        ]
    );
    assert_eq!(
        rec.lines_of(Func::path_remove_directory),
        ["path_remove_directory(fd=3</sandbox>, path=\"gone\") = 0"]
    );
    assert_eq!(rec.out.status.code(), Some(20));
}

#[test]
fn path_filestat_get_and_set_times() {
    let rec = record(
        &[("f.txt", "twelve bytes")],
        F_TXT,
        r#"
    (drop (call $path_filestat_get (i32.const 3) (i32.const 1) (i32.const 0x1000) (i32.const 5) (i32.const 0x40)))
    (call $print (i32.const 0x40) (i32.const 64))
    (drop (call $path_filestat_set_times (i32.const 3) (i32.const 1) (i32.const 0x1000) (i32.const 5) (i64.const 0) (i64.const 3000000000) (i32.const 4)))"#,
        &[],
    );
    assert_eq!(le64(&rec.stdout()[32..]), 12);
    assert_eq!(
        effects(rec.of(Func::path_filestat_get)[0]),
        vec![(4, 0x40, rec.stdout().to_vec())]
    );
    assert!(rec.lines_of(Func::path_filestat_get)[0].starts_with(
        "path_filestat_get(fd=3</sandbox>, flags=SYMLINK_FOLLOW, path=\"f.txt\") = 0 (buf={dev="
    ));
    assert!(rec.lines_of(Func::path_filestat_get)[0]
        .contains("filetype=REGULAR_FILE, nlink=1, size=12,"));
    assert_eq!(rec.lines_of(Func::path_filestat_set_times), ["path_filestat_set_times(fd=3</sandbox>, flags=SYMLINK_FOLLOW, path=\"f.txt\", atim=0, mtim=3000000000, fst_flags=MTIM) = 0"]);
    let meta = std::fs::metadata(rec.sandbox().join("f.txt")).unwrap();
    assert_eq!(
        meta.modified().unwrap(),
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(3)
    );
}

#[test]
fn path_link_rename_and_unlink() {
    let rec = record(
        &[("f.txt", "data")],
        r#"(data (i32.const 0x1000) "f.txt") (data (i32.const 0x1010) "hard.txt") (data (i32.const 0x1020) "moved.txt")"#,
        r#"
    (drop (call $path_link (i32.const 3) (i32.const 0) (i32.const 0x1000) (i32.const 5) (i32.const 3) (i32.const 0x1010) (i32.const 8)))
    (drop (call $path_rename (i32.const 3) (i32.const 0x1000) (i32.const 5) (i32.const 3) (i32.const 0x1020) (i32.const 9)))
    (drop (call $path_unlink_file (i32.const 3) (i32.const 0x1010) (i32.const 8)))
    (call $proc_exit (call $path_unlink_file (i32.const 3) (i32.const 0x1010) (i32.const 8)))"#,
        &[],
    );
    assert_eq!(rec.lines_of(Func::path_link), ["path_link(old_fd=3</sandbox>, old_flags=0, old_path=\"f.txt\", new_fd=3</sandbox>, new_path=\"hard.txt\") = 0"]);
    assert_eq!(rec.lines_of(Func::path_rename), ["path_rename(fd=3</sandbox>, old_path=\"f.txt\", new_fd=3</sandbox>, new_path=\"moved.txt\") = 0"]);
    assert_eq!(rec.lines_of(Func::path_unlink_file), [
        "path_unlink_file(fd=3</sandbox>, path=\"hard.txt\") = 0",
        "path_unlink_file(fd=3</sandbox>, path=\"hard.txt\") = 44 ENOENT (No such file or directory)",
    ]);
    assert_eq!(
        std::fs::read_to_string(rec.sandbox().join("moved.txt")).unwrap(),
        "data"
    );
    assert!(!rec.sandbox().join("f.txt").exists() && !rec.sandbox().join("hard.txt").exists());
    assert_eq!(rec.out.status.code(), Some(44));
}

#[test]
fn path_symlink_and_readlink() {
    let rec = record(
        &[("f.txt", "x")],
        r#"(data (i32.const 0x1000) "f.txt") (data (i32.const 0x1010) "link")"#,
        r#"
    (drop (call $path_symlink (i32.const 0x1000) (i32.const 5) (i32.const 3) (i32.const 0x1010) (i32.const 4)))
    (drop (call $path_readlink (i32.const 3) (i32.const 0x1010) (i32.const 4) (i32.const 0x100) (i32.const 64) (i32.const 0x20)))
    (call $print (i32.const 0x100) (i32.load (i32.const 0x20)))"#,
        &[],
    );
    assert_eq!(rec.stdout(), b"f.txt");
    assert_eq!(
        std::fs::read_link(rec.sandbox().join("link")).unwrap(),
        Path::new("f.txt")
    );
    assert_eq!(
        rec.lines_of(Func::path_symlink),
        ["path_symlink(old_path=\"f.txt\", fd=3</sandbox>, new_path=\"link\") = 0"]
    );
    assert_eq!(rec.lines_of(Func::path_readlink), ["path_readlink(fd=3</sandbox>, path=\"link\", buf=0x100, buf_len=64) = 0 (bufused=5, buf=\"f.txt\")"]);
    assert_eq!(
        effects(rec.of(Func::path_readlink)[0]),
        vec![
            (3, 0x100, b"f.txt".to_vec()),
            (5, 0x20, 5u32.to_le_bytes().to_vec())
        ]
    );
}

// --- sockets: preview1 cannot open one; on other fds they fail -------------

#[test]
fn socket_calls_on_non_sockets_fail_exactly() {
    let rec = record(
        &[],
        "",
        r#"
    (i32.store (i32.const 0) (call $sock_accept (i32.const 1) (i32.const 0) (i32.const 0x20)))
    (i32.store (i32.const 0x40) (i32.const 0x100))
    (i32.store (i32.const 0x44) (i32.const 8))
    (i32.store (i32.const 4) (call $sock_recv (i32.const 0) (i32.const 0x40) (i32.const 1) (i32.const 0) (i32.const 0x24) (i32.const 0x28)))
    (i32.store (i32.const 8) (call $sock_send (i32.const 1) (i32.const 0x40) (i32.const 1) (i32.const 0) (i32.const 0x2c)))
    (i32.store (i32.const 12) (call $sock_shutdown (i32.const 1) (i32.const 3)))
    (call $print (i32.const 0) (i32.const 16))"#,
        &[],
    );
    let errnos: Vec<u16> = rec.stdout().chunks(4).map(|c| le32(c) as u16).collect();
    let text = |e: u16| wtrace::decode::result_text(&Outcome::Errno(e));
    assert!(errnos.iter().all(|e| *e != 0), "{errnos:?}");
    assert_eq!(
        rec.lines_of(Func::sock_accept),
        [format!("sock_accept(fd=1, flags=0) = {}", text(errnos[0]))]
    );
    assert_eq!(
        rec.lines_of(Func::sock_recv),
        [format!(
            "sock_recv(fd=0, ri_data=[{{buf=0x100, len=8}}], ri_flags=0) = {}",
            text(errnos[1])
        )]
    );
    assert_eq!(rec.lines_of(Func::sock_send), [format!("sock_send(fd=1, si_data=[{{buf=0x100, len=8, \"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"}}], si_flags=0) = {}", text(errnos[2]))]);
    assert_eq!(
        rec.lines_of(Func::sock_shutdown),
        [format!(
            "sock_shutdown(fd=1, how=RD|WR) = {}",
            text(errnos[3])
        )]
    );
    assert!(rec.of(Func::sock_recv)[0].writes.is_empty());
}

#[test]
fn every_preview1_function_is_exercised_here() {
    let source = include_str!("calls_wat.rs");
    for s in SYSCALLS {
        assert!(
            source.contains(&format!("(call ${} ", s.name))
                || source.contains(&format!("(call ${})", s.name)),
            "{} has no test",
            s.name
        );
    }
}
