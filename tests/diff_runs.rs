//! `wtrace diff` on real runs of a Go program: two passing runs are the
//! same (random bytes, clock values, file timestamps and inodes differ),
//! and a run that takes another path differs at the right calls.

mod common;

use common::{output, tempdir, wtrace};
use std::path::{Path, PathBuf};

/// Reads random and the time, lists /work/data, then creates
/// /work/out/items.txt unless /work/flag exists.
const PROGRAM: &str = r#"package main

import (
	"fmt"
	"math/rand"
	"os"
	"time"
)

func main() {
	start := time.Now()
	_ = rand.Int()
	entries, err := os.ReadDir("/work/data")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(100)
	}
	var total int64
	for _, e := range entries {
		info, _ := e.Info()
		total += info.Size()
	}
	os.MkdirAll("/work/out", 0o755)
	if _, err := os.Stat("/work/flag"); err != nil {
		os.WriteFile("/work/out/items.txt", []byte("items\n"), 0o644)
	}
	_, err = os.ReadFile("/work/out/items.txt")
	fmt.Println(len(entries), "entries,", total, "bytes; items:", err == nil, time.Since(start) >= 0)
}
"#;

/// Records one run in a fresh directory (new inodes and timestamps).
fn record(d: &Path, name: &str, flag: bool) -> Option<PathBuf> {
    let wasm = common::go_program("diffruns", PROGRAM)?;
    let work = d.join(format!("{name}-work"));
    std::fs::create_dir_all(work.join("data")).unwrap();
    std::fs::write(work.join("data/a.txt"), "alpha\n").unwrap();
    std::fs::write(work.join("data/b.txt"), "beta beta\n").unwrap();
    if flag {
        std::fs::write(work.join("flag"), "").unwrap();
    }
    let trace = d.join(format!("{name}.wtrace"));
    let o = output(
        wtrace()
            .args(["record", "-q", "-o"])
            .arg(&trace)
            .arg("--dir")
            .arg(format!("{}::/work", work.display()))
            .arg(&wasm),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(trace)
}

fn diff(args: &[&str], a: &Path, b: &Path) -> (Option<i32>, String) {
    let o = output(wtrace().arg("diff").args(args).arg(a).arg(b));
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// The number of the call whose dump line contains `text`.
fn call_number(trace: &Path, text: &str) -> u64 {
    let o = output(wtrace().arg("dump").arg(trace));
    let dump = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = dump
        .lines()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no {text} in\n{dump}"));
    line[1..line.find(' ').unwrap()].parse().unwrap()
}

#[test]
fn two_passing_runs_are_the_same_and_another_path_differs_at_the_right_calls() {
    let d = tempdir();
    let Some(a) = record(d.path(), "pass1", false) else {
        return;
    };
    let b = record(d.path(), "pass2", false).unwrap();
    let c = record(d.path(), "other", true).unwrap();

    let (code, text) = diff(&[], &a, &b);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.ends_with("--all compares everything)\nno difference\n"),
        "{text}"
    );
    // The user's filters add to the defaults: leaving random out does not
    // bring the clock back in.
    let (code, text) = diff(&["-e", "trace=!%random"], &a, &b);
    assert_eq!(code, Some(0), "{text}");
    // --all compares every value: random bytes and clock readings differ.
    let (code, text) = diff(&["--all"], &a, &b);
    assert_eq!(code, Some(1), "{text}");

    // The run with /work/flag stats it successfully and creates nothing.
    let (code, text) = diff(&[], &a, &c);
    assert_eq!(code, Some(1), "{text}");
    let stat_a = call_number(&a, "path=\"flag\"");
    let stat_c = call_number(&c, "path=\"flag\"");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[2].ends_with(" diverging stretch, first first:")
            || lines[2].ends_with(" diverging stretches, first first:"),
        "{text}"
    );
    assert!(
        lines[3].starts_with(&format!("@@ A #{stat_a}-#"))
            && lines[3].contains(&format!(", B #{stat_c}")),
        "{text}"
    );
    assert!(
        lines[4].starts_with(&format!(
            "- A #{stat_a} path_filestat_get(fd=3</work>, flags=SYMLINK_FOLLOW, path=\"flag\""
        )) && lines[4].contains("= 44 ENOENT"),
        "{text}"
    );
    // A then created out/items.txt, which C never opens for writing.
    assert!(
        text.contains("path=\"out/items.txt\", oflags=CREAT|TRUNC"),
        "{text}"
    );
    let plus = lines.iter().find(|l| l.starts_with("+ B ")).unwrap();
    assert!(
        plus.starts_with(&format!(
            "+ B #{stat_c} path_filestat_get(fd=3</work>, flags=SYMLINK_FOLLOW, path=\"flag\""
        )) && plus.contains(") = 0 "),
        "{text}"
    );
}
