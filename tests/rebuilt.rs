//! `wtrace replay --module NEW --allow-extra-writes`: a rebuilt Go program
//! with added debug prints replays its recorded run, the prints shown; one
//! that does something else diverges with a report.

mod common;

use common::{output, tempdir, wtrace};
use std::path::{Path, PathBuf};

/// The recorded program: reads a file, the clock and random bytes, sums
/// the bytes on goroutines and exits with the number of lines. The
/// markers are where the rebuilt versions differ.
const PROGRAM: &str = r#"package main

import (
	"fmt"
	"math/rand"
	"os"
	"strings"
	"sync"
	"time"
)

func main() {
	start := time.Now()
	data, err := os.ReadFile("/data/input.txt")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(100)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	//PRINT1
	//EXTRA
	sums := make([]int, 4)
	var wg sync.WaitGroup
	for g := range sums {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for _, b := range data {
				sums[g] += int(b) * (g + 1)
			}
			time.Sleep(time.Millisecond)
		}(g)
	}
	wg.Wait()
	//PRINT2
	fmt.Println("lines:", lines)
	fmt.Println("sums:", sums, "random:", rand.Intn(1000), "took:", time.Since(start) > 0)
	os.Exit(len(lines))
}
"#;

fn build(name: &str, edits: &[(&str, &str)]) -> Option<PathBuf> {
    let mut src = PROGRAM.to_string();
    for (marker, code) in edits {
        src = src.replace(marker, code);
    }
    common::go_program(name, &src)
}

/// Records the original program reading a three-line file; returns the
/// trace, its directory and the recorded stdout.
fn record(dir: &Path) -> Option<(PathBuf, Vec<u8>)> {
    let wasm = build("rebuilt_original", &[])?;
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("input.txt"), "one\ntwo\nthree\n").unwrap();
    std::fs::write(data.join("extra.txt"), "not read when recorded\n").unwrap();
    let trace = dir.join("run.wtrace");
    let o = output(
        wtrace()
            .arg("record")
            .arg("-q")
            .arg("--dir")
            .arg(format!("{}::/data", data.display()))
            .arg("-o")
            .arg(&trace)
            .arg(&wasm),
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The files are gone: the replay must serve them from the trace.
    std::fs::remove_dir_all(&data).unwrap();
    Some((trace, o.stdout))
}

#[test]
fn a_rebuild_with_two_stderr_prints_replays_the_recorded_run_and_shows_them() {
    let d = tempdir();
    let Some((trace, recorded_stdout)) = record(d.path()) else {
        return;
    };
    let rebuilt = build(
        "rebuilt_prints",
        &[
            (
                "//PRINT1",
                r#"fmt.Fprintln(os.Stderr, "debug: read", len(data), "bytes in", len(lines), "lines")"#,
            ),
            ("//PRINT2", r#"fmt.Fprintln(os.Stderr, "debug: sums", sums)"#),
        ],
    )
    .unwrap();
    let r = output(
        wtrace()
            .current_dir(d.path())
            .args(["replay", "--allow-extra-writes", "--module"])
            .arg(&rebuilt)
            .arg(&trace),
    );
    assert_eq!(
        String::from_utf8_lossy(&r.stderr),
        "debug: read 14 bytes in 3 lines\n\
         debug: sums [1234 2468 3702 4936]\n\
         wtrace: --allow-extra-writes: performed 2 writes the recording lacks; \
         served 0 clock reads and 0 sleeps the recording lacks from recorded values; \
         passed over 0 recorded clock reads and sleeps not made now\n"
    );
    assert_eq!(r.stdout, recorded_stdout);
    assert_eq!(r.status.code(), Some(3));

    // Without the flag the first extra print is a divergence.
    let plain = output(
        wtrace()
            .args(["replay", "--force", "--module"])
            .arg(&rebuilt)
            .arg(&trace),
    );
    assert_eq!(plain.status.code(), Some(126));
    let report = String::from_utf8_lossy(&plain.stderr);
    assert!(
        report.contains("the guest called fd_write, the recording has"),
        "{report}"
    );
    // --quiet drops the guest's output, the extra prints too.
    let quiet = output(
        wtrace()
            .args(["replay", "-q", "--allow-extra-writes", "--module"])
            .arg(&rebuilt)
            .arg(&trace),
    );
    assert!(quiet.stdout.is_empty());
    assert!(String::from_utf8_lossy(&quiet.stderr)
        .starts_with("wtrace: --allow-extra-writes: performed 2 writes"));
    assert_eq!(quiet.status.code(), Some(3));
}

#[test]
fn a_rebuild_that_reads_another_file_diverges_with_a_report() {
    let d = tempdir();
    let Some((trace, _)) = record(d.path()) else {
        return;
    };
    let rebuilt = build(
        "rebuilt_extra_read",
        &[
            (
                "//PRINT1",
                r#"fmt.Fprintln(os.Stderr, "debug: reading extra.txt")"#,
            ),
            (
                "//EXTRA",
                r#"extra, _ := os.ReadFile("/data/extra.txt"); _ = extra"#,
            ),
        ],
    )
    .unwrap();
    let r = output(
        wtrace()
            .args(["replay", "--allow-extra-writes", "--module"])
            .arg(&rebuilt)
            .arg(&trace),
    );
    assert_eq!(r.status.code(), Some(126));
    let stderr = String::from_utf8_lossy(&r.stderr);
    let mut lines = stderr.lines();
    assert_eq!(lines.next(), Some("debug: reading extra.txt"), "{stderr}");
    // The recorded clock reads and sleeps before the recording's next call
    // were passed over, the print performed: what was tolerated comes first.
    assert!(
        lines
            .next()
            .unwrap_or_default()
            .starts_with("wtrace: --allow-extra-writes: performed 1 write the recording lacks;"),
        "{stderr}"
    );
    let report = lines.next().unwrap_or_default();
    assert!(
        report.starts_with("wtrace: replay diverged at call #")
            && report.ends_with(": the guest called path_open, the recording has fd_write"),
        "{stderr}"
    );
    assert!(
        stderr.contains(", path=\"extra.txt\", oflags=0,"),
        "the report shows the call made: {stderr}"
    );
    assert!(
        stderr.contains("  recorded: #") && stderr.contains("fd_write(fd=1, "),
        "{stderr}"
    );
}

#[test]
fn allow_extra_writes_needs_module() {
    let r = output(wtrace().args(["replay", "--allow-extra-writes", "x.wtrace"]));
    assert_eq!(r.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--module <MODULE>"));
}

/// Allocates 50 MiB on four goroutines: the garbage collector and the
/// scheduler read the clock and sleep at moments that move when prints
/// are added. PRINT marks where the rebuild prints.
const ALLOCATING: &str = r#"package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

var sink [][]byte

func main() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				b := make([]byte, 64<<10)
				mu.Lock()
				sink = append(sink, b)
				if len(sink) > 50 {
					sink = sink[1:]
				}
				total += len(b)
				mu.Unlock()
				//PRINT
				if i%50 == 0 {
					time.Sleep(100 * time.Microsecond)
				}
			}
		}(g)
	}
	wg.Wait()
	fmt.Println("total", total)
	_ = os.Stderr
}
"#;

#[test]
fn a_rebuild_that_moves_the_runtimes_clock_reads_and_sleeps_still_replays() {
    let Some(original) = common::go_program("rebuilt_alloc", ALLOCATING) else {
        return;
    };
    let print = r#"if i%40 == 0 { fmt.Fprintln(os.Stderr, "debug:", g, i) }"#;
    let rebuilt = common::go_program(
        "rebuilt_alloc_prints",
        &ALLOCATING.replace("//PRINT", print),
    )
    .unwrap();
    let d = tempdir();
    let trace = d.path().join("alloc.wtrace");
    let rec = output(
        wtrace()
            .args(["record", "-q", "-o"])
            .arg(&trace)
            .arg(&original),
    );
    assert_eq!(rec.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&rec.stdout), "total 52428800\n");
    let r = output(
        wtrace()
            .args(["replay", "--allow-extra-writes", "--module"])
            .arg(&rebuilt)
            .arg(&trace),
    );
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(0), "{stderr}");
    assert_eq!(r.stdout, rec.stdout);
    // Five prints per goroutine, in whatever order the recorded scheduling
    // gives; then what was tolerated.
    let mut debug: Vec<&str> = stderr.lines().filter(|l| l.starts_with("debug:")).collect();
    debug.sort();
    let mut want: Vec<String> = (0..4)
        .flat_map(|g| (0..200).step_by(40).map(move |i| format!("debug: {g} {i}")))
        .collect();
    want.sort();
    assert_eq!(debug, want);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("wtrace: --allow-extra-writes: performed 20 writes the recording lacks;"),
        "{stderr}"
    );
}
