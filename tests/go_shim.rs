//! `wtrace go-shim`: `go test` and `go run` record through Go's
//! go_wasip1_wasm_exec hook.

mod common;

use common::{output, tempdir, wtrace};
use std::path::Path;
use std::process::Command;

fn go_cmd(go: &Path, shim_dir: &Path, cwd: &Path) -> Command {
    let mut c = Command::new(go);
    let path = format!(
        "{}:{}",
        shim_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    c.current_dir(cwd)
        .env("PATH", path)
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .env("GOTOOLCHAIN", "local")
        .env(
            "WTRACE_CACHE_DIR",
            common::target_dir().join("wtrace-test-cache"),
        )
        .env("PWD", cwd);
    c
}

fn shim(cache_home: &Path) -> std::path::PathBuf {
    let o = output(wtrace().env("XDG_CACHE_HOME", cache_home).arg("go-shim"));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dir = std::path::PathBuf::from(String::from_utf8(o.stdout).unwrap().trim());
    assert_eq!(dir, cache_home.join("wtrace/go-shim"));
    assert!(dir.join("go_wasip1_wasm_exec").is_file());
    dir
}

/// A Go module `shimtest` in `dir/pkg` holding one test file.
fn test_package(dir: &Path, file: &str, source: &str) -> std::path::PathBuf {
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("go.mod"), "module shimtest\n\ngo 1.21\n").unwrap();
    std::fs::write(pkg.join(file), source).unwrap();
    pkg
}

const TEST_GO: &str = r#"package shimtest

import (
	"os"
	"testing"
)

func TestReadsItsOwnSource(t *testing.T) {
	b, err := os.ReadFile("shim_test.go")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read %d bytes", len(b))
}
"#;

#[test]
fn go_test_records_each_test_binary_and_the_trace_replays() {
    let Some(go) = common::go() else { return };
    let d = tempdir();
    let shim_dir = shim(&d.path().join("cache"));
    let pkg = test_package(d.path(), "shim_test.go", TEST_GO);
    let traces = d.path().join("traces");
    let o = output(
        go_cmd(&go, &shim_dir, &pkg)
            .args(["test", "-v", "."])
            .env("WTRACE_DIR", &traces),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "go test failed:\n{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("--- PASS: TestReadsItsOwnSource"), "{out}");
    let names: Vec<String> = std::fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        names[0].starts_with("shimtest.test-") && names[0].ends_with(".wtrace"),
        "{names:?}"
    );

    // The test binary is gone (go test deletes it) and the source is not
    // needed: the replay serves the file read from the trace.
    let empty = tempdir();
    let r = output(
        wtrace()
            .current_dir(empty.path())
            .arg("replay")
            .arg(traces.join(&names[0])),
    );
    let replayed = String::from_utf8_lossy(&r.stdout);
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(
        replayed.contains("--- PASS: TestReadsItsOwnSource"),
        "{replayed}"
    );
    assert!(
        replayed.contains(&format!("read {} bytes", TEST_GO.len())),
        "{replayed}"
    );
}

#[test]
fn go_run_prints_what_a_plain_run_prints_and_wtrace_mode_run_records_nothing() {
    let Some(go) = common::go() else { return };
    let d = tempdir();
    let shim_dir = shim(&d.path().join("cache"));
    let examples = common::root().join("examples/go");
    let traces = d.path().join("traces");
    let recorded = output(
        go_cmd(&go, &shim_dir, &examples)
            .args(["run", "./hello", "one", "two"])
            .env("WTRACE_DIR", &traces),
    );
    assert_eq!(
        recorded.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    let wasm = common::go_example("hello").unwrap();
    let direct = output(wtrace().arg("run").arg(&wasm).args(["one", "two"]));
    assert_eq!(
        String::from_utf8_lossy(&recorded.stdout),
        String::from_utf8_lossy(&direct.stdout)
    );
    assert_eq!(std::fs::read_dir(&traces).unwrap().count(), 1);
    // The shim records silently: no "trace written" line among go's output.
    assert!(
        !String::from_utf8_lossy(&recorded.stderr).contains("wtrace"),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );

    let plain = d.path().join("plain");
    let ran = output(
        go_cmd(&go, &shim_dir, &examples)
            .args(["run", "./hello"])
            .env("WTRACE_MODE", "run")
            .env("WTRACE_DIR", &plain),
    );
    assert_eq!(ran.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ran.stdout).starts_with("Hello from Go on WASI!\n"));
    assert!(!plain.exists(), "WTRACE_MODE=run must not record");
}

const FLAKY_GO: &str = r#"package shimtest

import (
	"crypto/rand"
	"os"
	"testing"
)

func TestHalfTheTime(t *testing.T) {
	b := make([]byte, 1)
	rand.Read(b)
	if b[0] < 128 {
		t.Fatalf("unlucky: %d", b[0])
	}
}

func TestReadsItsOwnSource(t *testing.T) {
	if _, err := os.ReadFile("flaky_test.go"); err != nil {
		t.Fatal(err)
	}
}
"#;

#[test]
fn wtrace_repeat_keeps_the_failing_run_and_wtrace_inject_fails_a_test() {
    let Some(go) = common::go() else { return };
    let d = tempdir();
    let shim_dir = shim(&d.path().join("cache"));
    let pkg = test_package(d.path(), "flaky_test.go", FLAKY_GO);

    let traces = d.path().join("repeat");
    let o = output(
        go_cmd(&go, &shim_dir, &pkg)
            .args(["test", "-run", "TestHalfTheTime", "."])
            .env("WTRACE_DIR", &traces)
            .env("WTRACE_REPEAT", "40"),
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.status.success(), "{all}");
    assert!(all.contains(" of 40 exited with 1; its trace is "), "{all}");
    let names: Vec<_> = std::fs::read_dir(&traces).unwrap().collect();
    assert_eq!(names.len(), 1, "only the failing attempt's trace: {all}");
    let trace = names[0].as_ref().unwrap().path();
    let r = output(wtrace().arg("replay").arg(&trace));
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stdout).contains("unlucky"));

    let traces = d.path().join("inject");
    let o = output(
        go_cmd(&go, &shim_dir, &pkg)
            .args(["test", "-run", "TestReadsItsOwnSource", "."])
            .env("WTRACE_DIR", &traces)
            .env(
                "WTRACE_INJECT",
                "path_open:path~flaky_test:error=EACCES; random_get:zero",
            ),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success());
    assert!(out.contains("flaky_test.go: Permission denied"), "{out}");
    let trace = std::fs::read_dir(&traces)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let dumped =
        String::from_utf8_lossy(&output(wtrace().arg("dump").arg(&trace)).stdout).into_owned();
    assert!(
        dumped.contains("flaky_test.go\"")
            && dumped.contains("= 2 EACCES (Permission denied) (INJECTED)")
    );

    let o = output(
        go_cmd(&go, &shim_dir, &pkg)
            .args(["test", "."])
            .env("WTRACE_DIR", &traces)
            .env("WTRACE_REPEAT", "0"),
    );
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("WTRACE_REPEAT=0: the most runs, a number from 1")
            || String::from_utf8_lossy(&o.stdout)
                .contains("WTRACE_REPEAT=0: the most runs, a number from 1")
    );
}

const PASSING_GO: &str = r#"package passing

import "testing"

func TestPasses(t *testing.T) {}
"#;

const FAILING_GO: &str = r#"package failing

import (
	"os"
	"testing"
)

func TestFails(t *testing.T) {
	if _, err := os.Stat("expected.txt"); err != nil {
		t.Fatalf("no expected.txt: %v", err)
	}
}
"#;

/// `go test ./...` over a passing and a failing package with
/// WTRACE_KEEP=failed: the one trace left is the failing binary's, go test
/// shows its path and the replay command with the failure, and replaying it
/// (from an empty directory: the stat is served from the trace) fails again.
#[test]
fn wtrace_keep_failed_keeps_only_the_failing_binarys_trace_and_it_replays_the_failure() {
    let Some(go) = common::go() else { return };
    let d = tempdir();
    let shim_dir = shim(&d.path().join("cache"));
    let module = d.path().join("mod");
    for (pkg, src) in [("passing", PASSING_GO), ("failing", FAILING_GO)] {
        std::fs::create_dir_all(module.join(pkg)).unwrap();
        std::fs::write(module.join(pkg).join("x_test.go"), src).unwrap();
    }
    std::fs::write(module.join("go.mod"), "module keeptest\n\ngo 1.21\n").unwrap();
    let traces = d.path().join("traces");
    let o = output(
        go_cmd(&go, &shim_dir, &module)
            .args(["test", "-count=1", "./..."])
            .env("WTRACE_DIR", &traces)
            .env("WTRACE_KEEP", "failed"),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("ok  \tkeeptest/passing"), "{out}");
    assert!(out.contains("FAIL\tkeeptest/failing"), "{out}");
    let names: Vec<String> = std::fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("failing.test-"), "{names:?}");
    let trace = traces.join(&names[0]);
    assert!(
        out.contains(&format!(
            "wtrace: this test binary failed; its trace is {}\nwtrace: replay it with: wtrace replay {}\n",
            trace.display(),
            trace.display()
        )),
        "{out}"
    );
    // Only the failing package's output says so.
    assert_eq!(out.matches("wtrace: this test binary failed").count(), 1);

    let empty = tempdir();
    let r = output(wtrace().current_dir(empty.path()).arg("replay").arg(&trace));
    let replayed = String::from_utf8_lossy(&r.stdout);
    assert_eq!(
        r.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(replayed.contains("--- FAIL: TestFails"), "{replayed}");
    assert!(
        replayed.contains("no expected.txt: stat expected.txt: No such file or directory"),
        "{replayed}"
    );
}
