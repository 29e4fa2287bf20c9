//! Go standard-library tests under record and replay (a subset that fits
//! CI; `scripts/go-conformance` with no arguments runs the full table, in
//! docs/go-conformance.md), and a program with a non-WASI
//! `//go:wasmimport`.

mod common;

use common::{output, wtrace};
use std::process::Command;

#[test]
fn standard_packages_pass_under_record_and_replay_identically() {
    let Some(go) = common::go() else { return };
    let pkgs = [
        "strings",
        "path/filepath",
        "encoding/json",
        "bufio",
        "sync",
        "os",
    ];
    let out = Command::new("bash")
        .arg(common::root().join("scripts/go-conformance"))
        .args(pkgs)
        .env("WTRACE", env!("CARGO_BIN_EXE_wtrace"))
        .env("WTRACE_GO", &go)
        .env(
            "WTRACE_CACHE_DIR",
            common::target_dir().join("wtrace-test-cache"),
        )
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for pkg in pkgs {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| {pkg} |")))
            .unwrap_or_else(|| panic!("no row for {pkg}:\n{table}"));
        let cols: Vec<&str> = row.split('|').map(str::trim).collect();
        let (run, record, replay) = (cols[2], cols[3], cols[4]);
        assert_eq!(record, run, "{pkg}: record must end as run does: {row}");
        assert!(replay.starts_with("identical"), "{pkg}: {row}");
        // Debian's Go leaves out $GOROOT/LICENSE and CONTRIBUTING.md, which
        // three os tests read (TestFileReadDir and friends), and
        // lib/time/zoneinfo.zip, which time's TestLoadLocationFromTZData
        // reads: they fail under plain wasmtime as well. See
        // docs/go-conformance.md.
        if !["os", "time"].contains(&pkg) {
            assert_eq!(run, "PASS", "{row}");
        }
    }
}

#[test]
fn a_go_wasmimport_of_another_module_is_named_and_can_trap() {
    let Some(wasm) = common::go_example("wasmimport") else {
        return;
    };
    let o = output(wtrace().arg("run").arg(&wasm));
    assert_eq!(o.status.code(), Some(125));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("the module has 1 import that wtrace cannot provide"),
        "{err}"
    );
    assert!(
        err.contains("  env::host_add (func (param i32 i32) (result i32))"),
        "{err}"
    );
    assert!(
        err.contains("Go //go:wasmimport") && err.contains("--trap-unknown-imports"),
        "{err}"
    );
    assert!(o.stdout.is_empty());

    let d = common::tempdir();
    let t = d.path().join("w.wtrace");
    let o = output(
        wtrace()
            .args(["record", "--trap-unknown-imports", "-o"])
            .arg(&t)
            .arg(&wasm),
    );
    assert_eq!(o.status.code(), Some(134));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "calling env.host_add\n");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("main.hostAdd"),
        "the wasm backtrace names the caller"
    );
    let dump = String::from_utf8_lossy(&output(wtrace().arg("dump").arg(&t)).stdout).into_owned();
    assert!(dump.contains(" env::host_add(arg0=0x2, arg1=0x28) = ? <trap: unknown import env::host_add was called"), "{dump}");
    let r = output(wtrace().arg("replay").arg(&t));
    assert_eq!(r.status.code(), Some(134));
    assert_eq!(r.stdout, o.stdout);
}
