//! `wtrace tui` driven as a person would: in tmux, with keys typed and the
//! screen read back.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of its own, running `wtrace tui TRACE` in a 160x45 window.
struct Tmux {
    socket: String,
    /// Where the shell writes wtrace's exit status once it quits.
    exit_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    fn open(trace: &str, name: &str) -> Tmux {
        let dir = common::tempdir();
        let tmux = Tmux {
            socket: format!("wtrace-test-{name}-{}", std::process::id()),
            exit_file: dir.path().join("exit"),
            _dir: dir,
        };
        // The code is written aside and then moved: the test, which waits
        // for the file, must not find it created but still empty.
        let script = format!(
            "{} tui {}; echo $? > {exit}.part && mv {exit}.part {exit}",
            env!("CARGO_BIN_EXE_wtrace"),
            common::root().join(trace).display(),
            exit = tmux.exit_file.display()
        );
        let ok = tmux
            .cmd()
            .args(["new-session", "-d", "-s", "tui", "-x", "160", "-y", "45"])
            .arg(&script)
            .status()
            .unwrap();
        assert!(ok.success(), "tmux is needed (scripts/setup installs it)");
        tmux
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    fn keys(&self, keys: &[&str]) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", "tui"])
            .args(keys)
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Types `text` as it is (tmux would take `0x200` for a key code).
    fn type_text(&self, text: &str) {
        let ok = self
            .cmd()
            .args(["send-keys", "-l", "-t", "tui", text])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// The screen as text; with `colours`, with the escape sequences that
    /// set them.
    fn capture(&self, colours: bool) -> String {
        let mut c = self.cmd();
        c.args(["capture-pane", "-p", "-t", "tui"]);
        if colours {
            c.arg("-e");
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.capture(false)
    }

    /// Waits until the screen shows `text` (the UI redraws asynchronously).
    fn wait_for(&self, text: &str) -> String {
        self.wait_for_all(&[text])
    }

    /// Waits until the screen shows every one of `texts` at once.
    fn wait_for_all(&self, texts: &[&str]) -> String {
        self.wait_until_shown(false, texts)
    }

    /// Waits until the screen shows every one of `texts` at once, and
    /// returns it with its colours.
    fn wait_for_coloured(&self, texts: &[&str]) -> String {
        self.wait_until_shown(true, texts)
    }

    fn wait_until_shown(&self, colours: bool, texts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.capture(colours);
            if texts.iter().all(|t| s.contains(t)) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{texts:?} never appeared together; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Quits with q and checks wtrace exited with 0.
    fn quit(&self) {
        self.keys(&["q"]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.exit_file.exists() {
            assert!(
                Instant::now() < deadline,
                "wtrace tui did not quit:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let code = std::fs::read_to_string(&self.exit_file).unwrap();
        assert_eq!(code.trim(), "0");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

/// The line of `screen` that holds `text`, split at the call list's right
/// border: the list's part and the detail pane's.
fn list_and_detail<'a>(screen: &'a str, text: &str) -> (&'a str, &'a str) {
    let line = screen
        .lines()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("{text:?} not on screen:\n{screen}"));
    let right_border = line
        .match_indices('│')
        .nth(1)
        .map_or(line.len(), |(i, _)| i);
    line.split_at(right_border)
}

/// Whether `s` sets palette colour 1 (tmux writes it either way).
fn has_red(s: &str) -> bool {
    s.contains("\x1b[31m") || s.contains("\x1b[38;5;1m")
}

#[test]
fn open_jump_to_the_end_search_filter_and_quit() {
    let tmux = Tmux::open("traces/go-files.wtrace", "go-files");
    let s = tmux.wait_for("#0 (69 calls)  ? help");
    assert!(s.starts_with("go-files.wasm blake3 "), "{s}");
    assert!(
        s.lines()
            .next()
            .unwrap()
            .ends_with("  argv: go-files.wasm /work"),
        "{s}"
    );
    let first = s.lines().find(|l| l.starts_with("│#0 ")).unwrap();
    let row = first.split("││").next().unwrap();
    let words: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        words,
        [
            "│#0",
            "0.000765",
            "clock_time_get",
            "id=MONOTONIC,",
            "precision=0",
            "0"
        ],
        "{s}"
    );

    tmux.keys(&["G"]);
    // The output pane fills in from a background pass: it may come after
    // the status line.
    let s = tmux.wait_for_all(&["#68 (69 calls)", "│reading a missing file fails: true"]);
    assert!(
        s.contains("#68 proc_exit"),
        "the detail pane shows the last call:\n{s}"
    );
    assert!(
        s.contains("│reading a missing file fails: true"),
        "the guest's output as it stood at the end:\n{s}"
    );

    tmux.keys(&["g", "/", "path_rename", "Enter"]);
    let s = tmux.wait_for("matches \"path_rename\"");
    let line = s
        .lines()
        .find(|l| l.contains("matches \"path_rename\""))
        .unwrap();
    let seq: u64 = line
        .trim_start_matches('#')
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(s.contains(&format!("#{seq} path_rename  at")), "{s}");
    assert!(s.contains("  old_path = \"notes.txt\""), "{s}");

    // The prompt offers the classes and functions of wtrace's table.
    tmux.keys(&["f"]);
    let s = tmux.wait_for(" filter, as dump -e takes it (Esc closes) ");
    for entry in ["  %args", "  %clock", "  %fd", "  %sock", "  args_get"] {
        assert!(
            s.contains(&format!("│{entry}")),
            "{entry:?} not in the menu:\n{s}"
        );
    }
    tmux.keys(&["%", "f", "Tab", "Enter"]);
    tmux.wait_for(" calls: filter %fd, 42 of 69 ");

    tmux.keys(&["?"]);
    tmux.wait_for(" keys (Up/Down scroll, q or ? closes) ");
    let s = tmux.wait_for("  Ctrl-C           quit");
    for line in [
        "  PgDn, Space      a page down",
        "  Home, g          first call",
        "  End, G           last call",
        "  Ctrl-C           quit",
    ] {
        assert!(s.contains(line), "{line:?} not in the help:\n{s}");
    }
    // The help is taller than the window: its end is a few pages away.
    tmux.keys(&["PgDn", "PgDn", "PgDn", "PgDn", "PgDn", "PgDn"]);
    tmux.wait_for("  q, Esc, ?        close the help");
    tmux.keys(&["q"]);
    tmux.quit();
}

#[test]
fn failed_calls_are_red_and_an_exit_with_61_is_not() {
    let tmux = Tmux::open("traces/readfile.wtrace", "readfile");
    let s = tmux.wait_for(" calls (8) ");
    assert!(
        s.lines()
            .next()
            .unwrap()
            .ends_with("argv: examples/wat/readfile.wat"),
        "{s}"
    );
    assert!(
        s.lines().nth(1).unwrap().ends_with(", exited with 61"),
        "{s}"
    );
    // The title can be on screen before the list's rows are.
    let coloured = tmux.wait_for_coloured(&["44 ENOENT", "? exit 61"]);
    let (failed, _) = list_and_detail(&coloured, "44 ENOENT");
    assert!(
        failed.contains("path_open") && has_red(failed),
        "{failed:?}"
    );
    let (exit, _) = list_and_detail(&coloured, "? exit 61");
    assert!(exit.contains("proc_exit") && !has_red(exit), "{exit:?}");

    tmux.keys(&["G"]);
    tmux.wait_for("#7 (8 calls)");
    let coloured = tmux.wait_for_coloured(&["result: ? +++ exited with 61 +++"]);
    let (_, result) = list_and_detail(&coloured, "result: ? +++ exited with 61 +++");
    assert!(!has_red(result), "{result:?}");
    tmux.keys(&["k"]);
    tmux.wait_for("#6 (8 calls)");
    let failed = "result: 44 ENOENT (No such file or directory)";
    let coloured = tmux.wait_for_coloured(&[failed]);
    let (_, result) = list_and_detail(&coloured, failed);
    assert!(has_red(result), "{result:?}");
    tmux.quit();
}

#[test]
fn tui_without_a_terminal_says_so() {
    let o = common::output(
        common::wtrace()
            .arg("tui")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/readfile.wtrace")),
    );
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "wtrace: error: wtrace tui needs a terminal; use wtrace dump to print the calls\n"
    );
}

/// The debugger in a real terminal, on examples/wat/memory.wat recorded:
/// the state at a call, the memory view, a breakpoint continued to
/// forward and back.
#[test]
fn memory_view_and_breakpoints_in_a_terminal() {
    let dir = common::tempdir();
    let trace = dir.path().join("memory.wtrace");
    let o = common::output(
        common::wtrace()
            .args(["record", "-q", "-o"])
            .arg(&trace)
            .arg(common::root().join("examples/wat/memory.wat")),
    );
    assert_eq!(o.status.code(), Some(0));
    let tmux = Tmux::open(trace.to_str().unwrap(), "memory");
    tmux.wait_for("#0 (6 calls)");
    tmux.keys(&["j"]);
    tmux.wait_for("  stage = 1 (0x1, i32)");
    tmux.keys(&["m", "g"]);
    tmux.type_text("0x200");
    tmux.keys(&["Enter"]);
    // The window's bytes come from the time machine a moment later; the
    // line at 0x200 may show before the jump too (a tall window from 0).
    let s = tmux.wait_for_all(&["0x200 at #1", "│00000200  88 77"]);
    assert!(
        s.contains(
            "│00000200  88 77 66 55 44 33 22 11  00 00 00 00 00 00 00 00  .wfUD3\".........  "
        ),
        "{s}"
    );
    tmux.keys(&["m", "b"]);
    tmux.type_text("fd_write fd=2");
    tmux.keys(&["Enter", "c"]);
    tmux.wait_for("breakpoint 1 (fd_write fd=2) at #3");
    // A key clears the status line: the next message is the continue's.
    tmux.keys(&["G"]);
    tmux.wait_for("#5 (6 calls)");
    tmux.keys(&["C"]);
    let s = tmux.wait_for("breakpoint 1 (fd_write fd=2) at #3  ");
    assert!(s.contains("#3 (6 calls)"), "{s}");
    tmux.keys(&["C"]);
    tmux.wait_for("no breakpoint matches a call before #3");
    tmux.quit();
}

#[test]
fn tui_help_lists_the_debugger_keys_from_the_key_map() {
    let o = common::output(common::wtrace().args(["tui", "--help"]));
    let help = String::from_utf8_lossy(&o.stdout);
    for line in [
        "Keys in the call list:",
        "  m                memory view: the guest's memory when the selected call returned",
        "  C                continue back to the previous call a breakpoint matches",
        "Keys in the memory view (m):",
        "  Tab              follow the call's next pointer argument (path, iovs, buf...)",
        "Keys in the list of breakpoints (B):",
        "  d, Del           delete the breakpoint picked",
    ] {
        assert!(help.lines().any(|l| l == line), "{line:?} not in:\n{help}");
    }
}
