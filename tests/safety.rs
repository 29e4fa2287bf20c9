//! Safety: a recorded guest cannot leave its preopens; a full disk stops
//! the recording with a clear error and keeps what was written; a replay
//! opens no host file of the recording (proved under strace).

mod common;

use common::{output, tempdir, wtrace};
use std::path::Path;
use std::process::Command;

const ESCAPES: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x100) "../outside.txt")
  (data (i32.const 0x180) "escape")
  (data (i32.const 0x190) "escape2")
  (func $try (param $p i32) (param $l i32) (param $follow i32)
    (drop (call $path_open (i32.const 3) (local.get $follow) (local.get $p) (local.get $l) (i32.const 0)
      (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0))))
  (func (export "_start")
    (call $try (i32.const 0x100) (i32.const 14) (i32.const 1))
    (call $try (i32.const 0x120) (i32.load (i32.const 0x11c)) (i32.const 1))
    (call $try (i32.const 0x180) (i32.const 6) (i32.const 1))
    (call $try (i32.const 0x190) (i32.const 7) (i32.const 1))
    (call $try (i32.const 0x180) (i32.const 6) (i32.const 0))))"#;

#[test]
fn a_recorded_guest_cannot_leave_its_preopen() {
    let d = tempdir();
    let outside = d.path().join("outside.txt");
    std::fs::write(&outside, "secret").unwrap();
    let sandbox = d.path().join("sb");
    std::fs::create_dir(&sandbox).unwrap();
    std::os::unix::fs::symlink(&outside, sandbox.join("escape")).unwrap();
    std::os::unix::fs::symlink("../outside.txt", sandbox.join("escape2")).unwrap();
    // The absolute path of the outside file, written into the module's data.
    let abs = outside.display().to_string();
    let wat = ESCAPES.replace(
        "(data (i32.const 0x180) \"escape\")",
        &format!("(data (i32.const 0x11c) \"\\{:02x}\") (data (i32.const 0x120) \"{abs}\") (data (i32.const 0x180) \"escape\")", abs.len()),
    );
    let m = d.path().join("esc.wat");
    std::fs::write(&m, wat).unwrap();
    let t = d.path().join("esc.wtrace");
    let rec = output(
        wtrace()
            .arg("record")
            .arg("-o")
            .arg(&t)
            .arg("--dir")
            .arg(format!("{}::/sb", sandbox.display()))
            .arg(&m),
    );
    assert_eq!(
        rec.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&rec.stderr)
    );
    let dump = String::from_utf8_lossy(&output(wtrace().arg("dump").arg(&t)).stdout).into_owned();
    let results: Vec<(&str, &str)> = dump
        .lines()
        .filter(|l| l.contains("path_open("))
        .map(|l| {
            (
                l.split("path=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap(),
                l.rsplit(") = ").next().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        results,
        vec![
            ("../outside.txt", "63 EPERM (Operation not permitted)"),
            (abs.as_str(), "63 EPERM (Operation not permitted)"),
            ("escape", "63 EPERM (Operation not permitted)"),
            ("escape2", "63 EPERM (Operation not permitted)"),
            ("escape", "32 ELOOP (Too many levels of symbolic links)"),
        ]
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "secret");
}

const SPIN: &str = r#"(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (drop (call $yield)) (br $l))))"#;

#[test]
fn an_unwritable_trace_is_an_error_before_the_guest_runs() {
    let d = tempdir();
    let m = d.path().join("spin.wat");
    std::fs::write(&m, SPIN).unwrap();
    let o = output(wtrace().args(["record", "-o", "/dev/full"]).arg(&m));
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "wtrace: error: cannot write trace file /dev/full: No space left on device (os error 28)\n"
    );
}

/// A small tmpfs, unmounted on drop.
struct SmallFs(std::path::PathBuf);

impl SmallFs {
    fn mount(dir: &Path, kib: u32) -> Option<SmallFs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallFs(dir.to_path_buf()))
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_stops_the_guest_and_keeps_the_complete_chunks() {
    let d = tempdir();
    let m = d.path().join("spin.wat");
    std::fs::write(&m, SPIN).unwrap();
    // Needs root to mount (CI and the developers' machines run as root).
    let Some(fs) = SmallFs::mount(&d.path().join("small"), 256) else {
        panic!("cannot mount a tmpfs: this test needs root");
    };
    let t = fs.0.join("spin.wtrace");
    let o = output(wtrace().arg("record").arg("-o").arg(&t).arg(&m));
    assert_eq!(o.status.code(), Some(125));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err,
        format!(
            "wtrace: error: recording stopped, the trace could not be written: No space left on device (os error 28); {} keeps every complete chunk before it\n",
            t.display()
        )
    );
    let dump = output(wtrace().arg("dump").arg(&t));
    assert_eq!(dump.status.code(), Some(0));
    let text = String::from_utf8_lossy(&dump.stdout);
    let calls = text.lines().filter(|l| l.starts_with('#')).count();
    assert!(calls > 10_000, "{calls} calls kept");
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("+++ unfinished trace: "),
        "{}",
        text.lines().last().unwrap()
    );
    let r = output(wtrace().arg("replay").arg(&t));
    assert_eq!(r.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&r.stderr).contains(&format!(
        "reached the end of an unfinished recording ({calls} calls replayed)"
    )));
}

const READER: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x100) "data.txt")
  (func (export "_start")
    (drop (call $fd_readdir (i32.const 3) (i32.const 0x1000) (i32.const 512) (i64.const 0) (i32.const 0x20)))
    (drop (call $path_open (i32.const 3) (i32.const 1) (i32.const 0x100) (i32.const 8) (i32.const 0)
      (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0x10)))
    (i32.store (i32.const 0) (i32.const 0x200))
    (i32.store (i32.const 4) (i32.const 64))
    (drop (call $fd_read (i32.load (i32.const 0x10)) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 4) (i32.load (i32.const 8)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

#[test]
fn replay_opens_no_host_file_of_the_recording() {
    let d = tempdir();
    let data = d.path().join("recorded-dir");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("data.txt"), "from the recorded directory\n").unwrap();
    let m = d.path().join("reader.wat");
    std::fs::write(&m, READER).unwrap();
    let t = d.path().join("reader.wtrace");
    let rec = output(
        wtrace()
            .arg("record")
            .arg("-o")
            .arg(&t)
            .arg("--dir")
            .arg(format!("{}::/data", data.display()))
            .arg(&m),
    );
    assert_eq!(rec.stdout, b"from the recorded directory\n");

    // The directory is still there: a replay that opened it would succeed,
    // so strace is what proves it does not.
    let log = d.path().join("strace.log");
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-e", "trace=%file", "-o"])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_wtrace"))
        .arg("replay")
        .arg(&t)
        .current_dir(&empty)
        .env(
            "WTRACE_CACHE_DIR",
            common::target_dir().join("wtrace-test-cache"),
        );
    let r = output(&mut cmd);
    assert_eq!(
        r.stdout,
        rec.stdout,
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let trace_log = std::fs::read_to_string(&log).unwrap();
    let recorded = data.display().to_string();
    let opened: Vec<&str> = trace_log.lines().filter(|l| l.contains("open")).collect();
    assert!(
        !opened.is_empty(),
        "strace saw no open at all:\n{trace_log}"
    );
    for line in trace_log.lines() {
        assert!(
            !line.contains(&recorded),
            "replay touched the recorded directory: {line}"
        );
        assert!(
            !line.contains("data.txt"),
            "replay touched a recorded file: {line}"
        );
        assert!(
            !line.contains("reader.wat"),
            "replay read the module file: {line}"
        );
    }
    // Every file it opened is the trace, the compile cache, or the
    // process's own libraries and /proc, /sys entries.
    let cache = common::target_dir()
        .join("wtrace-test-cache")
        .display()
        .to_string();
    for line in opened {
        let Some(path) = line.split('"').nth(1) else {
            continue;
        };
        let allowed = path == t.display().to_string()
            || path.starts_with(&cache)
            || path.starts_with("/proc/")
            || path.starts_with("/sys/")
            || path.starts_with("/etc/ld.so")
            || path.starts_with("/lib")
            || path.starts_with("/usr/lib")
            || path == "/dev/urandom"
            // the dynamic loader's search along LD_LIBRARY_PATH
            || path.ends_with(".so") || path.contains(".so.");
        assert!(allowed, "replay opened {path}: {line}");
    }
}

/// Peak RSS in KiB of a wtrace command, from GNU time.
fn peak_rss_kib(args: &[&std::ffi::OsStr]) -> (std::process::Output, u64) {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "%M", env!("CARGO_BIN_EXE_wtrace")])
        .args(args);
    let o = output(cmd.env(
        "WTRACE_CACHE_DIR",
        common::target_dir().join("wtrace-test-cache"),
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    let kib = err
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(u64::MAX);
    (o, kib)
}

/// 50 million calls: recording, replay, verify and dump stay in flat
/// memory. Minutes long, so not in CI: `cargo test --test safety -- --ignored`
/// (measured: docs/performance.md).
#[test]
#[ignore]
fn fifty_million_calls_in_flat_memory() {
    let d = tempdir();
    let m = d.path().join("clock.wat");
    std::fs::write(
        &m,
        r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $t (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $i i32)
    (loop $l
      (drop (call $t (i32.const 1) (i64.const 1) (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 50000000))))))"#,
    )
    .unwrap();
    let t = d.path().join("c.wtrace");
    let (rec, rec_kib) = peak_rss_kib(&[
        "record".as_ref(),
        "-o".as_ref(),
        t.as_os_str(),
        m.as_os_str(),
    ]);
    assert_eq!(rec.status.code(), Some(0));
    let (rep, rep_kib) = peak_rss_kib(&["replay".as_ref(), t.as_os_str()]);
    assert_eq!(rep.status.code(), Some(0));
    let (ver, ver_kib) = peak_rss_kib(&["verify".as_ref(), t.as_os_str()]);
    assert_eq!(
        String::from_utf8_lossy(&ver.stdout),
        "ok: 12211 frames, 12208 chunk(s), 50000000 calls, finished\n"
    );
    for (what, kib) in [
        ("record", rec_kib),
        ("replay", rep_kib),
        ("verify", ver_kib),
    ] {
        assert!(kib < 100 * 1024, "{what} peaked at {kib} KiB");
    }
}
