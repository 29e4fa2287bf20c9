//! Helpers shared by the integration tests: the wtrace binary with a shared
//! compile cache, Go for wasip1, and building the example guests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The committed sample traces (`traces/*.wtrace`), by name.
pub fn committed_traces() -> Vec<PathBuf> {
    let mut traces: Vec<PathBuf> = std::fs::read_dir(root().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wtrace"))
        .collect();
    traces.sort();
    traces
}

/// `target/` of this build: compiled modules and Go builds are cached there.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The wtrace binary, with the compile cache shared by all tests so that
/// each Go module is compiled once per test run, not once per test.
pub fn wtrace() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wtrace"));
    c.env("WTRACE_CACHE_DIR", target_dir().join("wtrace-test-cache"));
    c.stdin(Stdio::null());
    c
}

/// Runs a command and returns its output, with stdin closed.
pub fn output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Go >= 1.21 (wasip1). `scripts/setup` installs it; the tests fail when
/// it is missing, unless WTRACE_SKIP_GO=1 says to skip Go tests on purpose.
pub fn go() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("WTRACE_GO").map(PathBuf::from),
        Some(PathBuf::from("/usr/lib/go-1.23/bin/go")),
        Some(PathBuf::from("go")),
    ];
    for go in candidates.into_iter().flatten() {
        let Ok(out) = Command::new(&go).args(["env", "GOVERSION"]).output() else {
            continue;
        };
        let v = String::from_utf8_lossy(&out.stdout)
            .trim()
            .trim_start_matches("go")
            .to_string();
        let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        if out.status.success() && (major, minor) >= (1, 21) {
            return Some(go);
        }
    }
    if std::env::var("WTRACE_SKIP_GO").as_deref() == Ok("1") {
        return None;
    }
    panic!("Go >= 1.21 is needed for the Go examples: run scripts/setup (or set WTRACE_SKIP_GO=1 to skip Go tests)");
}

static GO_BUILD: Mutex<()> = Mutex::new(());

/// Builds `examples/go/<name>` (or any package path under examples/go) for
/// GOOS=wasip1 GOARCH=wasm, once per test run; returns the .wasm path, or
/// None when Go tests are skipped.
pub fn go_example(name: &str) -> Option<PathBuf> {
    let go = go()?;
    let _guard = GO_BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let out_dir = target_dir().join("go-examples");
    std::fs::create_dir_all(&out_dir).unwrap();
    let wasm = out_dir.join(format!("{}.wasm", name.replace('/', "-")));
    let src_dir = root().join("examples/go").join(name);
    let newest_src = newest_mtime(&src_dir);
    if wasm.exists() && std::fs::metadata(&wasm).unwrap().modified().unwrap() >= newest_src {
        return Some(wasm);
    }
    let tmp = wasm.with_extension(format!("tmp{}", std::process::id()));
    let out = Command::new(&go)
        .current_dir(root().join("examples/go"))
        .args(["build", "-o"])
        .arg(&tmp)
        .arg(format!("./{name}"))
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .output()
        .expect("run go build");
    assert!(
        out.status.success(),
        "go build {name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp, &wasm).unwrap();
    Some(wasm)
}

fn newest_mtime(dir: &Path) -> std::time::SystemTime {
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    for e in std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
    {
        if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
            newest = newest.max(m);
        }
    }
    newest
}

/// A fresh temporary directory.
/// Records `module` (with wtrace's `args` before it and the guest's
/// `guest_args` after) into `dir/name.wtrace`; the guest may exit as it
/// likes, but the recording must end with an exit code.
pub fn record_in(
    dir: &Path,
    name: &str,
    args: &[&str],
    module: &Path,
    guest_args: &[&str],
) -> PathBuf {
    let trace = dir.join(format!("{name}.wtrace"));
    let o = output(
        wtrace()
            .current_dir(dir)
            .args(["record", "-q", "-o"])
            .arg(&trace)
            .args(args)
            .arg(module)
            .args(guest_args),
    );
    assert!(
        o.status.code().is_some(),
        "record {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    trace
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Asserts two outputs match byte for byte, with a readable message.
pub fn assert_same_output(what: &str, a: &Output, b: &Output) {
    assert_eq!(
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout),
        "{what}: stdout differs"
    );
    assert_eq!(a.stdout, b.stdout, "{what}: stdout bytes differ");
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr),
        "{what}: stderr differs"
    );
    assert_eq!(
        a.status.code(),
        b.status.code(),
        "{what}: exit code differs"
    );
}

/// Node >= 20 (node:wasi preview1): the second host reproducers are run
/// under. Without it (Debian 12's own nodejs is 18) the Node runs are
/// skipped, loudly; `scripts/test` says so too.
pub fn node() -> Option<PathBuf> {
    let node = PathBuf::from(std::env::var_os("WTRACE_NODE").unwrap_or("node".into()));
    let version = Command::new(&node).arg("--version").output();
    let major = version.ok().filter(|o| o.status.success()).and_then(|o| {
        let v = String::from_utf8_lossy(&o.stdout).trim().to_string();
        v.trim_start_matches('v')
            .split('.')
            .next()?
            .parse::<u32>()
            .ok()
    });
    match major {
        Some(m) if m >= 20 => Some(node),
        _ => {
            eprintln!("NOTE: no Node >= 20 (WTRACE_NODE or node on PATH): the node:wasi runs of this test are skipped");
            None
        }
    }
}

/// Runs `module` under Node's node:wasi (scripts/node-wasi-run.mjs: no
/// arguments, environment or preopens) in `dir` with stdin closed; None
/// when Node tests are skipped.
pub fn node_wasi_run(module: &Path, dir: &Path) -> Option<Output> {
    let runner = root().join("scripts/node-wasi-run.mjs");
    let mut cmd = Command::new(node()?);
    cmd.current_dir(dir)
        .arg("--no-warnings")
        .arg(runner)
        .arg(module);
    Some(output(cmd.stdin(Stdio::null())))
}

static RUST_BUILD: Mutex<()> = Mutex::new(());

/// Builds `examples/rust/<name>.rs` for wasm32-wasip1 with debug info
/// (DWARF) and no optimisation, as crate `name`, once per test run; the
/// source path in the DWARF is `<repository root>/examples/rust/<name>.rs`.
pub fn rust_example(name: &str) -> PathBuf {
    let _guard = RUST_BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let out_dir = target_dir().join("rust-examples");
    std::fs::create_dir_all(&out_dir).unwrap();
    let wasm = out_dir.join(format!("{name}.wasm"));
    let src = root().join("examples/rust").join(format!("{name}.rs"));
    let src_time = std::fs::metadata(&src).unwrap().modified().unwrap();
    if wasm.exists() && std::fs::metadata(&wasm).unwrap().modified().unwrap() >= src_time {
        return wasm;
    }
    let tmp = wasm.with_extension(format!("tmp{}", std::process::id()));
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .current_dir(root())
        .args([
            "--target",
            "wasm32-wasip1",
            "-g",
            "-C",
            "opt-level=0",
            "--crate-name",
            name,
        ])
        .arg(format!("examples/rust/{name}.rs"))
        .arg("-o")
        .arg(&tmp)
        .output()
        .expect("run rustc");
    assert!(
        out.status.success(),
        "rustc --target wasm32-wasip1 {name}.rs failed (is the target installed? rustup target add wasm32-wasip1):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp, &wasm).unwrap();
    wasm
}

/// Builds a one-file Go program (`main.go` = `source`) for wasip1 under
/// `target/go-src/<name>`, once per change of its source; returns the .wasm
/// path, or None when Go tests are skipped.
pub fn go_program(name: &str, source: &str) -> Option<PathBuf> {
    let go = go()?;
    let _guard = GO_BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let dir = target_dir().join("go-src").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let main = dir.join("main.go");
    if std::fs::read_to_string(&main).ok().as_deref() != Some(source) {
        std::fs::write(&main, source).unwrap();
        std::fs::write(dir.join("go.mod"), format!("module {name}\n\ngo 1.21\n")).unwrap();
    }
    let wasm = dir.join(format!("{name}.wasm"));
    let fresh = wasm.exists()
        && std::fs::metadata(&wasm).unwrap().modified().unwrap() >= newest_mtime(&dir);
    if fresh {
        return Some(wasm);
    }
    let out = Command::new(&go)
        .current_dir(&dir)
        .args(["build", "-o"])
        .arg(&wasm)
        .arg(".")
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .env("GOTOOLCHAIN", "local")
        .output()
        .expect("run go build");
    assert!(
        out.status.success(),
        "go build {name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(wasm)
}
