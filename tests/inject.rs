//! `record --inject`, `--chaos` and `--repeat` on real programs: each action
//! changes what the program sees as it says, the trace marks the injected
//! calls, and every injected recording replays identically.

mod common;

use common::{output, tempdir, wtrace};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A scratch directory with a config file, preopened as /work.
fn scratch(dir: &Path) -> PathBuf {
    let s = dir.join("scratch");
    std::fs::create_dir_all(&s).unwrap();
    std::fs::write(s.join("config.toml"), "name = \"demo\"\n").unwrap();
    s
}

/// Records examples/go/faults with `extra` options; returns the trace and
/// the recording's output. None when Go tests are skipped.
fn record_faults(
    dir: &Path,
    name: &str,
    extra: &[&str],
    args: &[&str],
) -> Option<(PathBuf, Output)> {
    let wasm = common::go_example("faults")?;
    let trace = dir.join(format!("{name}.wtrace"));
    let mut cmd = wtrace();
    cmd.arg("record").arg("-q").arg("-o").arg(&trace);
    cmd.arg("--dir")
        .arg(format!("{}::/work", scratch(dir).display()));
    cmd.args(extra).arg(&wasm).arg("/work").args(args);
    Some((trace, output(&mut cmd)))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Replays from an empty directory: same stdout, stderr and exit code.
fn assert_replays(trace: &Path, recorded: &Output) {
    let empty = tempdir();
    let replayed = output(wtrace().current_dir(empty.path()).arg("replay").arg(trace));
    common::assert_same_output("replay of an injected run", recorded, &replayed);
}

fn dump(trace: &Path) -> String {
    stdout(&output(wtrace().arg("dump").arg(trace)))
}

/// The dump lines that end with (INJECTED).
fn injected_lines(trace: &Path) -> Vec<String> {
    dump(trace)
        .lines()
        .filter(|l| l.ends_with("(INJECTED)"))
        .map(str::to_string)
        .collect()
}

#[test]
fn error_injection_makes_the_config_file_vanish_and_replays() {
    let dir = tempdir();
    let Some((trace, out)) = record_faults(
        dir.path(),
        "enoent",
        &["--inject", "path_open:path~config:error=ENOENT"],
        &[],
    ) else {
        return;
    };
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).starts_with("config: open /work/config.toml: No such file or directory\n"),
        "{}",
        stdout(&out)
    );
    let injected = injected_lines(&trace);
    assert_eq!(injected.len(), 1, "{injected:?}");
    assert!(
        injected[0].contains("path=\"config.toml\""),
        "{}",
        injected[0]
    );
    assert!(injected[0].contains(") = 44 ENOENT (No such file or directory) (INJECTED)"));
    assert_replays(&trace, &out);
    let info = stdout(&output(wtrace().arg("info").arg(&trace)));
    assert!(
        info.contains("injected:   --inject path_open:path~config:error=ENOENT\n"),
        "{info}"
    );
    let stats = stdout(&output(wtrace().arg("stats").arg(&trace)));
    assert!(stats.contains("injected: 1 call (path_open 1)"), "{stats}");
}

#[test]
fn a_full_disk_fails_the_write_and_replays() {
    let dir = tempdir();
    let Some((trace, out)) = record_faults(
        dir.path(),
        "enospc",
        &["--inject", "fd_write:fd>2:error=ENOSPC"],
        &[],
    ) else {
        return;
    };
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).ends_with("write: write /work/out.txt: No space left on device\n"));
    let injected = injected_lines(&trace);
    assert_eq!(injected.len(), 1);
    assert!(
        injected[0].contains("fd_write(fd=4</work/out.txt>"),
        "{}",
        injected[0]
    );
    assert_replays(&trace, &out);
}

#[test]
fn short_reads_and_writes_leave_go_s_output_whole() {
    let dir = tempdir();
    let Some((trace, out)) = record_faults(
        dir.path(),
        "short",
        &[
            "--inject",
            "fd_read:short=4",
            "--inject",
            "fd_write:fd=1:short=1",
        ],
        &[],
    ) else {
        return;
    };
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.starts_with("config: \"name = \\\"demo\\\"\\n\"\n"),
        "{text}"
    );
    assert!(text.ends_with("wrote out.txt\n"));
    let dumped = dump(&trace);
    let reads: Vec<&str> = dumped
        .lines()
        .filter(|l| l.contains("fd_read(fd=4"))
        .collect();
    // 14 bytes, at most 4 at a time, then the end of the file.
    let nread: Vec<&str> = reads
        .iter()
        .map(|l| l.split("nread=").nth(1).unwrap().split(',').next().unwrap())
        .collect();
    assert_eq!(nread, ["4", "4", "4", "2", "0"]);
    // Every write to stdout took one byte.
    let writes: Vec<&str> = dumped
        .lines()
        .filter(|l| l.contains("fd_write(fd=1,"))
        .collect();
    assert_eq!(writes.len(), text.len());
    assert!(writes.iter().all(|l| l.contains("(nwritten=1)")));
    assert_replays(&trace, &out);
}

#[test]
fn random_bytes_zero_or_seeded() {
    let dir = tempdir();
    let random_line = |name: &str, spec: &str| -> Option<String> {
        let (trace, out) = record_faults(dir.path(), name, &["--inject", spec], &[])?;
        assert_eq!(out.status.code(), Some(0));
        assert_replays(&trace, &out);
        Some(stdout(&out).lines().nth(1).unwrap().to_string())
    };
    let Some(zero) = random_line("zero", "random_get:zero") else {
        return;
    };
    assert_eq!(zero, "random: 0000000000000000");
    let a = random_line("seed7a", "random_get:seed=7").unwrap();
    let b = random_line("seed7b", "random_get:seed=7").unwrap();
    let c = random_line("seed8", "random_get:seed=8").unwrap();
    assert_eq!(a, b, "one seed, one stream");
    assert_ne!(a, c);
    assert_ne!(a, zero);
}

#[test]
fn the_clock_in_another_time() {
    let dir = tempdir();
    let Some((trace, out)) = record_faults(
        dir.path(),
        "y2038",
        &[
            "--inject",
            "clock_time_get:id=REALTIME:at=2038-01-19T03:14:08Z",
        ],
        &[],
    ) else {
        return;
    };
    let text = stdout(&out);
    assert!(
        text.contains("\nyear: 2038\nwall clock moved: true\nunix: 2147483648\n"),
        "{text}"
    );
    assert_replays(&trace, &out);

    let (trace, out) = record_faults(
        dir.path(),
        "frozen",
        &["--inject", "clock_time_get:id=REALTIME:freeze"],
        &[],
    )
    .unwrap();
    assert!(
        stdout(&out).contains("\nwall clock moved: false\n"),
        "{}",
        stdout(&out)
    );
    assert_replays(&trace, &out);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (trace, out) = record_faults(
        dir.path(),
        "later",
        &["--inject", "clock_time_get:id=REALTIME:offset=+1h"],
        &[],
    )
    .unwrap();
    let unix: i64 = stdout(&out)
        .lines()
        .find_map(|l| l.strip_prefix("unix: "))
        .unwrap()
        .parse()
        .unwrap();
    // An hour ahead of the time the test started (the run takes seconds).
    assert!(
        (now + 3600..now + 3600 + 600).contains(&unix),
        "{unix} vs {now}"
    );
    assert_replays(&trace, &out);
}

#[test]
fn delays_are_marked_delayed_and_change_nothing_else() {
    let dir = tempdir();
    let Some((trace, out)) = record_faults(
        dir.path(),
        "delay",
        &["--inject", "path_open:delay_enter=20ms:delay_exit=1000"],
        &[],
    ) else {
        return;
    };
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("config: \"name"));
    let delayed: Vec<String> = dump(&trace)
        .lines()
        .filter(|l| l.ends_with("(DELAYED)"))
        .map(str::to_string)
        .collect();
    assert!(!delayed.is_empty());
    assert!(delayed.iter().all(|l| l.contains(" path_open(")));
    assert_replays(&trace, &out);
}

/// The call numbers and functions of a dump's injected calls.
fn injected_calls(trace: &Path) -> Vec<String> {
    injected_lines(trace)
        .iter()
        .map(|l| l.split('(').next().unwrap().to_string())
        .collect()
}

#[test]
fn chaos_with_one_seed_injects_the_same_calls_twice_and_replays() {
    let dir = tempdir();
    let module = common::root().join("examples/wat/readfile.wat");
    let data = common::root().join("examples/data");
    let record = |name: &str, chaos: &str| {
        let trace = dir.path().join(format!("{name}.wtrace"));
        let out = output(
            wtrace()
                .args(["record", "-q", "-o"])
                .arg(&trace)
                .arg("--dir")
                .arg(format!("{}::/data", data.display()))
                .args(["--chaos", chaos])
                .arg(&module),
        );
        assert_replays(&trace, &out);
        (trace, out)
    };
    let (a, out_a) = record("a", "11:50%");
    let (b, out_b) = record("b", "11:50%");
    assert_eq!(injected_calls(&a), injected_calls(&b));
    assert!(!injected_calls(&a).is_empty(), "{}", dump(&a));
    assert_eq!(out_a.status.code(), out_b.status.code());
    let info = stdout(&output(wtrace().arg("info").arg(&a)));
    assert!(
        info.contains("--chaos 11:50% (seed 11, 500000 calls in a million)"),
        "{info}"
    );
    // Some seed gives other faults.
    let others = (12..20).any(|seed| {
        let (c, _) = record(&format!("s{seed}"), &format!("{seed}:50%"));
        injected_calls(&c) != injected_calls(&a)
    });
    assert!(others);
}

#[test]
fn repeat_keeps_exactly_the_failing_attempt_and_it_replays_the_failure() {
    let dir = tempdir();
    let out_dir = dir.path().join("traces");
    std::fs::create_dir(&out_dir).unwrap();
    let Some(wasm) = common::go_example("faults") else {
        return;
    };
    let trace = out_dir.join("flaky.wtrace");
    let out = output(
        wtrace()
            .args(["record", "--repeat", "40", "-o"])
            .arg(&trace)
            .arg("--dir")
            .arg(format!("{}::/work", scratch(dir.path()).display()))
            .arg(&wasm)
            .args(["/work", "flaky"]),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = stderr
        .lines()
        .find(|l| l.starts_with("wtrace: attempt "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(said.ends_with(" of 40 exited with 1"), "{said}");
    // One trace, and no scratch file, is left.
    let files: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["flaky.wtrace"]);
    // Its run is the failing one: the last attempt's output is the replay's.
    let empty = tempdir();
    let replayed = output(wtrace().current_dir(empty.path()).arg("replay").arg(&trace));
    assert_eq!(replayed.status.code(), Some(1));
    let last_attempt = stdout(&out);
    let last_attempt = last_attempt.rsplit("config: ").next().unwrap();
    assert_eq!(stdout(&replayed), format!("config: {last_attempt}"));
    assert!(stdout(&replayed).ends_with("unlucky\n"));

    // A run that never fails keeps nothing and says so.
    let kept = out_dir.join("never.wtrace");
    let out = output(
        wtrace()
            .args(["record", "--repeat", "3", "-o"])
            .arg(&kept)
            .arg("--dir")
            .arg(format!("{}::/work", scratch(dir.path()).display()))
            .arg(&wasm)
            .arg("/work"),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr)
        .ends_with("wtrace: no failure in 3 attempts; no trace kept\n"));
    assert!(!kept.exists());
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1);
}

#[test]
fn a_bad_spec_is_one_line_and_exit_125() {
    let module = common::root().join("examples/wat/readfile.wat");
    for (spec, says) in [
        ("fd_read:zero", "wtrace: error: --inject fd_read:zero: zero applies to functions that fill a buffer with random bytes (random_get); the set also names fd_read\n"),
        ("path_opn:error=EIO", "wtrace: error: --inject path_opn:error=EIO: unknown function \"path_opn\": not a wasi_snapshot_preview1 function; did you mean path_open?\n"),
    ] {
        let dir = tempdir();
        let out = output(wtrace().current_dir(dir.path()).args(["record", "--inject", spec]).arg(&module));
        assert_eq!(out.status.code(), Some(125));
        assert_eq!(String::from_utf8_lossy(&out.stderr), says);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no trace left");
    }
    let out = output(wtrace().args(["record", "--chaos", "x"]).arg(&module));
    assert_eq!(out.status.code(), Some(125));
}
