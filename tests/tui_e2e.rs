//! `wtrace tui` driven as a person would: in tmux, with keys typed and the
//! screen read back.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
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

    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "tui"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `text` (the UI redraws asynchronously).
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{text:?} never appeared; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

#[test]
fn open_jump_to_the_end_search_filter_and_quit() {
    let d = common::tempdir();
    let trace = common::root().join("traces/go-files.wtrace");
    let exit_file = d.path().join("exit");
    let tmux = Tmux {
        socket: format!("wtrace-test-{}", std::process::id()),
    };
    let script = format!(
        "{} tui {}; echo $? > {}",
        env!("CARGO_BIN_EXE_wtrace"),
        trace.display(),
        exit_file.display()
    );
    let ok = tmux
        .cmd()
        .args([
            "new-session",
            "-d",
            "-s",
            "tui",
            "-x",
            "160",
            "-y",
            "45",
            &script,
        ])
        .status()
        .unwrap();
    assert!(ok.success(), "tmux is needed (scripts/setup installs it)");

    let s = tmux.wait_for(" calls (69) ");
    assert!(s.starts_with("go-files.wasm blake3 "), "{s}");
    assert!(
        s.contains("#0        0.000765   clock_time_get         id=MONOTONIC, precision=0"),
        "{s}"
    );
    assert!(s.contains("call 0 of 69  ? help  q quit"), "{s}");

    tmux.keys(&["G"]);
    let s = tmux.wait_for("call 68 of 69");
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
    assert!(s.contains("old_path = \"notes.txt\""), "{s}");

    tmux.keys(&["f"]);
    tmux.wait_for(" calls: fd filter, 42 of 69 ");
    tmux.keys(&["?"]);
    tmux.wait_for(" keys (q or ? closes) ");
    tmux.keys(&["q", "q"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !exit_file.exists() {
        assert!(
            Instant::now() < deadline,
            "wtrace tui did not quit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(std::fs::read_to_string(&exit_file).unwrap().trim(), "0");
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
