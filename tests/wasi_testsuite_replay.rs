//! The WebAssembly wasi-testsuite's 46 preview1 programs, built from source
//! for wasm32-wasip1, each
//! run three ways: `wtrace run` (wasmtime-wasi's own preview1 host, the
//! baseline), `wtrace record`, and `wtrace replay` from an empty directory
//! with the recorded root deleted. A test passes as the suite says (its
//! JSON's exit code, 0 by default) under run and record, and the replay
//! prints the same bytes and exits with the same code as the recording;
//! so does its `export --wasm` reproducer under `wtrace run` and node:wasi.
//!
//! The suite is not part of this repository: it is looked for in the
//! directory `WTRACE_WASI_TESTSUITE` names, else in `../shared/wasi-testsuite`
//! beside the checkout. Without it every test here says so on stderr and
//! passes without running (`scripts/test` says so too).

mod common;

use common::{output, tempdir, wtrace};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The suite's Rust programs, when the suite is there.
fn suite_dir() -> Option<PathBuf> {
    let root = match std::env::var_os("WTRACE_WASI_TESTSUITE") {
        Some(dir) => PathBuf::from(dir),
        None => common::root().join("../shared/wasi-testsuite"),
    };
    let dir = root.join("rust/wasm32-wasip1");
    if dir.is_dir() {
        return Some(dir);
    }
    eprintln!(
        "skipped: no wasi-testsuite at {} (set WTRACE_WASI_TESTSUITE to the suite's directory to run it)",
        root.display()
    );
    None
}

/// The suite's Rust programs; only called once [`suite_dir`] found them.
fn suite() -> PathBuf {
    suite_dir().expect("checked before")
}

/// Builds the suite once per test process (cargo's lock makes concurrent
/// builds of other test processes wait, then find it fresh).
fn built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target = common::target_dir().join("wasi-testsuite");
        let out = Command::new("cargo")
            .args([
                "build",
                "--release",
                "--quiet",
                "--target",
                "wasm32-wasip1",
                "--manifest-path",
            ])
            .arg(suite().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "building the wasi-testsuite failed (scripts/setup adds the wasm32-wasip1 target):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        target.join("wasm32-wasip1/release")
    })
}

struct Spec {
    root: Option<PathBuf>,
    args: Vec<String>,
    exit_code: i32,
}

fn spec(name: &str) -> Spec {
    let json = suite().join("src/bin").join(format!("{name}.json"));
    let Ok(text) = std::fs::read_to_string(&json) else {
        return Spec {
            root: None,
            args: vec![],
            exit_code: 0,
        };
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    Spec {
        root: v["root"].as_str().map(|r| json.parent().unwrap().join(r)),
        args: v["args"].as_array().map_or(vec![], |a| {
            a.iter().map(|x| x.as_str().unwrap().to_string()).collect()
        }),
        exit_code: v["exit_code"].as_i64().unwrap_or(0) as i32,
    }
}

/// A fresh, writable copy of the test's root, without `.cleanup` leftovers.
fn fresh_root(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name.to_string_lossy().ends_with(".cleanup") {
            continue;
        }
        let ty = e.file_type().unwrap();
        if ty.is_dir() {
            fresh_root(&e.path(), &to.join(&name));
        } else if ty.is_file() {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
            let mut perms = std::fs::metadata(to.join(&name)).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(to.join(&name), perms).unwrap();
        }
    }
}

fn run_mode(mode: &str, name: &str, work: &Path, trace: &Path) -> Output {
    let wasm = built().join(format!("{name}.wasm"));
    let spec = spec(name);
    let mut cmd = wtrace();
    cmd.arg(mode).current_dir(work);
    if mode == "record" {
        cmd.arg("-q").arg("-o").arg(trace);
    }
    if let Some(root) = &spec.root {
        let copy = work.join("root");
        fresh_root(root, &copy);
        cmd.arg("--dir").arg(format!("{}::/", copy.display()));
    }
    output(cmd.arg(&wasm).args(&spec.args))
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Programs whose output differs from run to run, so record and run are
/// compared by exit code only. Replay must still reproduce the recording.
/// poll_oneoff_stdio prints a HashMap, whose order comes from std's hash
/// keys, which Rust's std seeds from random_get.
const NONDETERMINISTIC_OUTPUT: &[&str] = &["poll_oneoff_stdio"];

fn check(name: &str) {
    if suite_dir().is_none() {
        return;
    }
    let expected = spec(name).exit_code;
    let d = tempdir();
    let (run_dir, rec_dir, replay_dir) = (
        d.path().join("run"),
        d.path().join("record"),
        d.path().join("replay"),
    );
    for dir in [&run_dir, &rec_dir, &replay_dir] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let trace = d.path().join(format!("{name}.wtrace"));
    let run = run_mode("run", name, &run_dir, &trace);
    assert_eq!(
        run.status.code(),
        Some(expected),
        "{name} under wtrace run:\n{}",
        text(&run)
    );
    let rec = run_mode("record", name, &rec_dir, &trace);
    assert_eq!(
        rec.status.code(),
        Some(expected),
        "{name} under wtrace record:\n{}",
        text(&rec)
    );
    if !NONDETERMINISTIC_OUTPUT.contains(&name) {
        assert_eq!(text(&run), text(&rec), "{name}: record differs from run");
    }

    // Replay with the recorded root gone, from an empty directory.
    std::fs::remove_dir_all(&rec_dir).unwrap();
    for _ in 0..2 {
        let replay = output(wtrace().current_dir(&replay_dir).arg("replay").arg(&trace));
        assert_eq!(
            text(&rec),
            text(&replay),
            "{name}: replay differs from the recording"
        );
    }
    assert_eq!(
        std::fs::read_dir(&replay_dir).unwrap().count(),
        0,
        "{name}: replay wrote files"
    );
    check_reproducer(name, &trace, &rec, &replay_dir);
}

/// `export --wasm`: the reproducer, run from an empty directory under
/// `wtrace run` and under node:wasi, prints and exits as the recording did.
fn check_reproducer(name: &str, trace: &Path, rec: &Output, empty: &Path) {
    let repro = trace.with_extension("wasm");
    let export = output(
        wtrace()
            .args(["export", "--wasm", "-o"])
            .arg(&repro)
            .arg(trace),
    );
    assert_eq!(export.status.code(), Some(0), "{name}: {}", text(&export));
    let run = output(wtrace().current_dir(empty).arg("run").arg(&repro));
    assert_eq!(
        text(rec),
        text(&run),
        "{name}: the reproducer under wtrace run"
    );
    if let Some(node) = common::node_wasi_run(&repro, empty) {
        assert_eq!(text(rec), text(&node), "{name}: the reproducer under node");
    }
    assert_eq!(
        std::fs::read_dir(empty).unwrap().count(),
        0,
        "{name}: files"
    );
}

macro_rules! suite {
    ($($name:ident)*) => { $( #[test] fn $name() { check(stringify!($name)); } )* };
}

suite! {
    big_random_buf clock_time_get close_preopen dangling_fd dangling_symlink dir_fd_op_failures
    directory_seek fd_advise fd_fdstat_set_rights fd_filestat_set fd_flags_set fd_readdir
    file_allocate file_pread_pwrite file_seek_tell file_truncation file_unbuffered_write
    fstflags_validate interesting_paths isatty nofollow_errors overwrite_preopen path_exists
    path_filestat path_link path_open_create_existing path_open_dirfd_not_dir path_open_missing
    path_open_nonblock path_open_preopen path_open_read_write path_rename
    path_rename_dir_trailing_slashes path_symlink_trailing_slashes poll_oneoff_stdio readlink
    remove_directory_trailing_slashes remove_nonempty_directory renumber sched_yield stdio
    symlink_create symlink_filestat symlink_loop truncation_rights unlink_file_trailing_slashes
}

#[test]
fn every_program_of_the_suite_is_listed_here() {
    let Some(dir) = suite_dir() else {
        return;
    };
    let mut names: Vec<String> = std::fs::read_dir(dir.join("src/bin"))
        .unwrap()
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".rs")
                .map(String::from)
        })
        .collect();
    names.sort();
    let listed = include_str!("wasi_testsuite_replay.rs");
    for n in &names {
        assert!(
            listed.contains(&format!(" {n} ")) || listed.contains(&format!(" {n}\n")),
            "{n} is not tested"
        );
    }
    assert_eq!(names.len(), 46);
}
