//! The command-line contract: exit codes, one-line errors for bad input,
//! host flags as wasmtime has them, where record writes and what it never
//! replaces, signals and killed recordings, completions and man pages.

mod common;

use common::{output, tempdir, wtrace};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const HELLO: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 6))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

/// Calls sched_yield forever: stopped only by a signal.
const SPIN: &str = r#"(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (drop (call $yield)) (br $l))))"#;

/// Prints its argv and the value of FOO, one per line.
const ARGS_ENV: &str = r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; Prints the NUL-separated buffer at 1024 (len at 4) with NULs turned into newlines.
  (func $print_buf (param $len i32)
    (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (if (i32.eqz (i32.load8_u (i32.add (i32.const 1024) (local.get $i))))
        (then (i32.store8 (i32.add (i32.const 1024) (local.get $i)) (i32.const 10))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (i32.store (i32.const 16) (i32.const 1024))
    (i32.store (i32.const 20) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $args_get (i32.const 512) (i32.const 1024)))
    (call $print_buf (i32.load (i32.const 4)))
    (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $environ_get (i32.const 512) (i32.const 1024)))
    (call $print_buf (i32.load (i32.const 4)))))"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A wtrace error: exit 125, one `wtrace: error:` line first, no panic.
fn assert_error(o: &std::process::Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(125), "stderr: {err}");
    assert!(err.starts_with("wtrace: error: "), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
}

#[test]
fn run_and_record_print_the_same_and_exit_alike() {
    let d = tempdir();
    let m = write(d.path(), "hello.wat", HELLO);
    let run = output(wtrace().arg("run").arg(&m));
    let rec = output(
        wtrace()
            .current_dir(d.path())
            .args(["record", "-q"])
            .arg(&m),
    );
    assert_eq!(run.stdout, b"hello\n");
    common::assert_same_output("run vs record", &run, &rec);
    // Default output: the module's stem in the current directory.
    assert!(d.path().join("hello.wtrace").is_file());
}

#[test]
fn guest_argv_starts_with_the_module_path_and_env_follows_wasmtime_flags() {
    let d = tempdir();
    let m = write(d.path(), "args.wat", ARGS_ENV);
    let o = output(
        wtrace()
            .env("FOO", "from-wtrace")
            .args(["run", "--env", "FOO", "--env", "BAR=1"])
            .arg(&m)
            .args(["--not-a-wtrace-flag", "two words"]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let want = format!(
        "{}\n--not-a-wtrace-flag\ntwo words\nFOO=from-wtrace\nBAR=1\n",
        m.display()
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), want);
}

#[test]
fn bad_inputs_get_one_line_errors() {
    let d = tempdir();
    let not_wasm = write(d.path(), "notes.txt", "just some text\n");
    assert_error(
        &output(wtrace().arg("run").arg(&not_wasm)),
        "is not a WebAssembly module",
    );
    assert_error(
        &output(wtrace().arg("record").arg(d.path().join("missing.wasm"))),
        "cannot read module",
    );
    let component = d.path().join("c.wasm");
    std::fs::write(&component, b"\0asm\x0d\x00\x01\x00").unwrap();
    assert_error(
        &output(wtrace().arg("run").arg(&component)),
        "is a WebAssembly component",
    );
    let broken = d.path().join("broken.wasm");
    std::fs::write(&broken, b"\0asm\x01\x00\x00\x00\x01\xff").unwrap();
    assert_error(&output(wtrace().arg("run").arg(&broken)), "cannot compile");
    let m = write(d.path(), "hello.wat", HELLO);
    assert_error(
        &output(
            wtrace()
                .arg("record")
                .arg("-o")
                .arg(d.path().join("no/such/dir/t.wtrace"))
                .arg(&m),
        ),
        "cannot create trace file",
    );
    assert_error(
        &output(wtrace().args(["run", "--dir", "/no/such/dir"]).arg(&m)),
        "is not a directory",
    );
    assert_error(
        &output(wtrace().args(["run", "-W", "fuel=3"]).arg(&m)),
        "unsupported",
    );
    assert_error(
        &output(wtrace().arg("dump").arg(&not_wasm)),
        "is not a wtrace trace",
    );
    assert_error(
        &output(wtrace().arg("replay").arg(d.path().join("none.wtrace"))),
        "cannot open trace",
    );
    let usage = output(wtrace().args(["dump"]));
    assert_eq!(usage.status.code(), Some(125));
}

const UNKNOWN_IMPORTS: &str = r#"(module
  (import "env" "host_add" (func $add (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "gojs" "debug" (func (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "before\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 7))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $add (i32.const 2) (i32.const 40)))))"#;

#[test]
fn unknown_imports_are_all_named_before_the_run() {
    let d = tempdir();
    let m = write(d.path(), "u.wat", UNKNOWN_IMPORTS);
    let o = output(wtrace().current_dir(d.path()).arg("record").arg(&m));
    assert_error(&o, "2 imports that wtrace cannot provide");
    let err = stderr(&o);
    assert!(
        err.contains("env::host_add (func (param i32 i32) (result i32))"),
        "{err}"
    );
    assert!(err.contains("gojs::debug (func (param i32))"), "{err}");
    assert!(err.contains("--trap-unknown-imports"), "{err}");
    assert!(o.stdout.is_empty(), "nothing ran");
    assert!(!d.path().join("u.wtrace").exists(), "no trace left behind");
}

#[test]
fn trap_unknown_imports_records_the_trapping_call_and_replays_it() {
    let d = tempdir();
    let m = write(d.path(), "u.wat", UNKNOWN_IMPORTS);
    let t = d.path().join("u.wtrace");
    let o = output(
        wtrace()
            .args(["record", "--trap-unknown-imports", "-o"])
            .arg(&t)
            .arg(&m),
    );
    assert_eq!(o.status.code(), Some(134), "{}", stderr(&o));
    assert_eq!(o.stdout, b"before\n");
    assert!(
        stderr(&o).contains("unknown import env::host_add was called"),
        "{}",
        stderr(&o)
    );
    let dump = output(wtrace().arg("dump").arg(&t));
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        text.contains("#1 env::host_add(arg0=0x2, arg1=0x28) = ? <trap: unknown import env::host_add was called"),
        "{text}"
    );
    let replay = output(wtrace().arg("replay").arg(&t));
    assert_eq!(replay.status.code(), Some(134), "{}", stderr(&replay));
    assert_eq!(replay.stdout, b"before\n");
}

#[test]
fn a_trap_exits_134_with_the_message_and_backtrace() {
    let d = tempdir();
    let m = write(
        d.path(),
        "trap.wat",
        r#"(module (memory (export "memory") 1) (func $boom unreachable) (func (export "_start") (call $boom)))"#,
    );
    for mode in ["run", "record"] {
        let o = output(wtrace().current_dir(d.path()).arg(mode).arg(&m));
        assert_eq!(o.status.code(), Some(134), "{mode}");
        let err = stderr(&o);
        assert!(
            err.contains("wasm trap: wasm `unreachable` instruction executed"),
            "{mode}: {err}"
        );
        assert!(err.contains("wasm backtrace"), "{mode}: {err}");
    }
}

fn spin_until_calls(trace: &Path, sig: Option<&str>) -> std::process::ExitStatus {
    let d = trace.parent().unwrap();
    let m = write(d, "spin.wat", SPIN);
    let mut child = wtrace()
        .arg("record")
        .arg("-o")
        .arg(trace)
        .arg(&m)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until at least one chunk is on disk (header + a chunk > 2 KiB).
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(trace).map_or(0, |m| m.len()) < 4096 {
        assert!(
            Instant::now() < deadline,
            "the recording never wrote a chunk"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    match sig {
        Some(sig) => {
            let ok = std::process::Command::new("kill")
                .args(["-s", sig, &child.id().to_string()])
                .status()
                .unwrap();
            assert!(ok.success());
        }
        None => child.kill().unwrap(),
    }
    child.wait().unwrap()
}

#[test]
fn sigint_and_sigterm_finish_the_trace() {
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        let d = tempdir();
        let t = d.path().join("spin.wtrace");
        let status = spin_until_calls(&t, Some(sig));
        assert_eq!(status.code(), Some(code), "SIG{sig}");
        let dump = output(wtrace().arg("dump").arg("-e").arg("trace=%proc").arg(&t));
        let text = String::from_utf8_lossy(&dump.stdout);
        assert!(
            text.ends_with(&format!("+++ killed by signal {} +++\n", code - 128)),
            "{text}"
        );
        // The replay stops where the recording was stopped, with its code.
        let r = output(wtrace().arg("replay").arg(&t));
        assert_eq!(r.status.code(), Some(code), "{}", stderr(&r));
        assert!(
            stderr(&r).contains(&format!("recording stopped by signal {}", code - 128)),
            "{}",
            stderr(&r)
        );
    }
}

#[test]
fn a_killed_recording_keeps_its_complete_chunks() {
    let d = tempdir();
    let t = d.path().join("spin.wtrace");
    let status = spin_until_calls(&t, None);
    assert_eq!(status.code(), None, "killed by SIGKILL");
    let dump = output(wtrace().arg("dump").arg(&t));
    assert_eq!(dump.status.code(), Some(0));
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        text.starts_with("#0 sched_yield() = 0\n"),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(text.ends_with("+++ unfinished trace: the recording did not finish (no end record): the recorder was killed or crashed +++\n")
        || text.contains("+++ unfinished trace: the recording did not finish: the trace is cut in the middle of a frame"));
    let calls = text.lines().filter(|l| l.starts_with('#')).count();
    assert!(calls >= 1);
    // dump -k: the same calls, each with its stack, and the same last line.
    let k = output(wtrace().args(["dump", "-k"]).arg(&t));
    assert_eq!(k.status.code(), Some(0), "{}", stderr(&k));
    let k_text = String::from_utf8_lossy(&k.stdout);
    let k_calls: Vec<&str> = k_text.lines().filter(|l| !l.starts_with(" > ")).collect();
    assert_eq!(k_calls, text.lines().collect::<Vec<_>>());
    assert_eq!(
        k_text.lines().filter(|l| l.starts_with(" > ")).count(),
        calls
    );
    let r = output(wtrace().arg("replay").arg(&t));
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(
        stderr(&r).contains(&format!(
            "reached the end of an unfinished recording ({calls} calls replayed)"
        )),
        "{}",
        stderr(&r)
    );
    let until = output(wtrace().args(["replay", "--until", "0"]).arg(&t));
    assert_eq!(until.status.code(), Some(0));
    assert!(
        stderr(&until).contains("stopped after call #0 (--until) (1 calls replayed)"),
        "{}",
        stderr(&until)
    );
}

#[test]
fn traces_of_other_formats_and_newer_versions_are_refused() {
    let d = tempdir();
    let m = write(d.path(), "hello.wat", HELLO);
    let t = d.path().join("h.wtrace");
    assert!(output(wtrace().arg("record").arg("-o").arg(&t).arg(&m))
        .status
        .success());
    let bytes = std::fs::read(&t).unwrap();
    let mut newer = bytes.clone();
    newer[7] = wtrace::trace::FORMAT_VERSION as u8 + 1;
    let newer_path = d.path().join("newer.wtrace");
    std::fs::write(&newer_path, &newer).unwrap();
    assert_error(
        &output(wtrace().arg("dump").arg(&newer_path)),
        &format!(
            "format version {}, made by a newer wtrace",
            wtrace::trace::FORMAT_VERSION + 1
        ),
    );
    let cut = d.path().join("cut.wtrace");
    std::fs::write(&cut, &bytes[..20]).unwrap();
    assert_error(
        &output(wtrace().arg("dump").arg(&cut)),
        "the trace is cut before its header ends",
    );
    let mut flipped = bytes.clone();
    flipped[60] ^= 0xff;
    let flipped_path = d.path().join("flipped.wtrace");
    std::fs::write(&flipped_path, &flipped).unwrap();
    assert_error(
        &output(wtrace().arg("dump").arg(&flipped_path)),
        "the trace header is damaged",
    );
}

#[test]
fn replay_refuses_a_different_module_unless_forced() {
    let d = tempdir();
    let m = write(d.path(), "hello.wat", HELLO);
    let t = d.path().join("h.wtrace");
    assert!(output(
        wtrace()
            .args(["record", "--no-embed", "-o"])
            .arg(&t)
            .arg(&m)
    )
    .status
    .success());
    assert_error(
        &output(wtrace().arg("replay").arg(&t)),
        "does not embed its module",
    );
    let ok = output(wtrace().arg("replay").arg("--module").arg(&m).arg(&t));
    assert_eq!(ok.stdout, b"hello\n");
    let other = write(d.path(), "other.wat", &HELLO.replace("hello", "jello"));
    assert_error(
        &output(wtrace().arg("replay").arg("--module").arg(&other).arg(&t)),
        "is not the recorded module",
    );
    let forced = output(
        wtrace()
            .args(["replay", "--force", "--module"])
            .arg(&other)
            .arg(&t),
    );
    assert_eq!(forced.status.code(), Some(126));
    let err = stderr(&forced);
    assert!(err.contains("replay diverged at call #0: the bytes of `iovs` differ at 0x10 (offset 0): recorded 0x68, now 0x6a"), "{err}");
}

#[test]
fn completions_are_generated_for_every_shell() {
    let bash = output(wtrace().args(["completions", "bash"]));
    assert_eq!(bash.status.code(), Some(0), "{}", stderr(&bash));
    let script = String::from_utf8(bash.stdout).unwrap();
    assert!(script.starts_with("_wtrace() {\n"), "{script}");
    assert!(script.contains("wtrace,record)"), "{script}");
    assert!(script.contains("--dir"), "{script}");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let o = output(wtrace().args(["completions", shell]));
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = String::from_utf8(o.stdout).unwrap();
        assert!(
            script.contains("record") && script.contains("dir"),
            "{shell}"
        );
    }
    let bad = output(wtrace().args(["completions", "tcsh"]));
    assert_eq!(bad.status.code(), Some(125));
    assert!(
        stderr(&bad).starts_with("error: invalid value 'tcsh' for '<SHELL>'\n"),
        "{}",
        stderr(&bad)
    );
}

/// The first lines of a page made by clap_mangen: roff's apostrophe
/// definition, then the title line.
fn man_title(page: &str) -> Vec<&str> {
    page.lines().take(3).collect()
}

#[test]
fn the_man_page_names_wtrace_and_lists_the_subcommands() {
    let o = output(wtrace().arg("man"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = String::from_utf8(o.stdout).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        man_title(&page),
        [
            r".ie \n(.g .ds Aq \(aq",
            ".el .ds Aq '",
            &format!(".TH wtrace 1  \"wtrace {version}\" "),
        ]
    );
    for sub in [
        "run",
        "record",
        "replay",
        "dump",
        "tui",
        "info",
        "verify",
        "stats",
        "diff",
        "export",
        r"go\-shim",
        "completions",
        "man",
    ] {
        assert!(
            page.contains(&format!("\n.TP\nwtrace\\-{sub}(1)\n")),
            "{sub}: {page}"
        );
    }
    assert!(!page.contains(r"go\-exec"), "hidden: {page}");
    assert!(
        page.contains("130, 143  recording stopped by SIGINT, SIGTERM"),
        "{page}"
    );

    let record = output(wtrace().args(["man", "record"]));
    let page = String::from_utf8(record.stdout).unwrap();
    assert_eq!(
        man_title(&page)[2],
        format!(".TH wtrace-record 1  \"wtrace {version}\" ")
    );
    assert!(
        page.contains("\\fB\\-\\-dir\\fR \\fI<HOST[::GUEST]>\\fR\n"),
        "{page}"
    );

    let bad = output(wtrace().args(["man", "go-exec"]));
    assert_eq!(bad.status.code(), Some(125));
    assert_eq!(
        stderr(&bad),
        "wtrace: error: no subcommand \"go-exec\"; the subcommands are run, record, replay, dump, tui, info, verify, stats, diff, export, go-shim, completions, man\n"
    );
}

#[test]
fn help_shows_examples_and_the_readmes_exit_codes() {
    let stats = output(wtrace().args(["stats", "--help"]));
    assert_eq!(stats.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&stats.stdout).ends_with(
            "Examples:\n  wtrace stats hello.wtrace\n  diff <(wtrace stats passing.wtrace) <(wtrace stats failing.wtrace)\n"
        ),
        "{}",
        String::from_utf8_lossy(&stats.stdout)
    );
    // Every row of the README's exit-code table is in `wtrace --help`,
    // code and meaning (the help's first words of the meaning).
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let table = readme.split("### Exit codes").nth(1).unwrap();
    let help = String::from_utf8(output(wtrace().arg("--help")).stdout).unwrap();
    let help_rows: Vec<&str> = help
        .split("Exit codes:\n")
        .nth(1)
        .unwrap()
        .lines()
        .collect();
    let mut codes = vec![];
    for row in table
        .lines()
        .filter(|l| l.starts_with("| 1") || l.starts_with("| 0"))
    {
        let code = row.split('|').nth(1).unwrap().trim().replace('–', "-");
        assert!(
            help_rows
                .iter()
                .any(|h| h.trim_start().starts_with(&format!("{code}  "))),
            "README code {code} missing from --help:\n{help}"
        );
        codes.push(code);
    }
    assert_eq!(codes, ["0-125", "125", "126", "130, 143", "133", "134"]);
    assert!(help.contains("  130, 143  recording stopped by SIGINT, SIGTERM (trace finished)\n"));
    assert!(readme.contains("| 130, 143 | recording stopped by SIGINT, SIGTERM (trace finished) |"));
}

#[test]
fn every_trace_reader_names_the_path_it_cannot_read() {
    let d = tempdir();
    let dir = d.path().join("traces");
    std::fs::create_dir(&dir).unwrap();
    let missing = d.path().join("missing.wtrace");
    let empty = write(d.path(), "empty.wtrace", "");
    let device = PathBuf::from("/dev/null");
    let module = write(d.path(), "hello.wat", HELLO);
    let good = d.path().join("good.wtrace");
    assert!(
        output(wtrace().arg("record").arg("-o").arg(&good).arg(&module))
            .status
            .success()
    );
    let cases = [
        (
            &dir,
            format!(
                "cannot open trace {}: it is a directory, not a trace file",
                dir.display()
            ),
        ),
        (
            &missing,
            format!(
                "cannot open trace {}: No such file or directory (os error 2)",
                missing.display()
            ),
        ),
        (
            &empty,
            format!(
                "{} is not a wtrace trace: the file is empty",
                empty.display()
            ),
        ),
        (
            &device,
            "cannot open trace /dev/null: it is not a regular file".to_string(),
        ),
        (
            &module,
            format!(
                "{} is not a wtrace trace (no wtrace magic bytes at its start)",
                module.display()
            ),
        ),
    ];
    let commands: [&[&str]; 9] = [
        &["dump"],
        &["replay"],
        &["info"],
        &["verify"],
        &["stats"],
        &["export", "--format", "jsonl"],
        &["tui"],
        &["diff"],
        &["diff", "GOOD"],
    ];
    for (path, message) in &cases {
        for args in commands {
            let mut cmd = wtrace();
            for a in args {
                match *a {
                    "GOOD" => cmd.arg(&good),
                    a => cmd.arg(a),
                };
            }
            cmd.arg(path);
            if args == ["diff"] {
                cmd.arg(&good);
            }
            let o = output(&mut cmd);
            assert_eq!(o.status.code(), Some(125), "{args:?} {}", path.display());
            assert_eq!(
                stderr(&o),
                format!("wtrace: error: {message}\n"),
                "{args:?} {}",
                path.display()
            );
            assert!(o.stdout.is_empty(), "{args:?}");
        }
    }
}

#[test]
fn an_unknown_option_before_the_module_is_named_not_taken_for_the_module() {
    let d = tempdir();
    let m = write(d.path(), "hello.wat", HELLO);
    let o = output(
        wtrace()
            .current_dir(d.path())
            .args(["record", "--mapdir", "a::b"])
            .arg(&m),
    );
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        stderr(&o),
        "error: unexpected argument '--mapdir' found\n\n  tip: to pass '--mapdir' as a value, use '-- --mapdir'\n\nUsage: wtrace record [OPTIONS] <MODULE [ARGS]...>...\n\nFor more information, try '--help'.\n"
    );
    let o = output(wtrace().args(["run", "-x"]).arg(&m));
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).starts_with("error: unexpected argument '-x' found\n"),
        "{}",
        stderr(&o)
    );
    assert!(
        std::fs::read_dir(d.path()).unwrap().count() == 1,
        "no trace"
    );
    // `--` still lets a module's name start with a dash.
    std::fs::copy(&m, d.path().join("-dash.wat")).unwrap();
    let o = output(
        wtrace()
            .current_dir(d.path())
            .args(["run", "--", "-dash.wat"]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(o.stdout, b"hello\n");
}

#[test]
fn wtrace_options_after_the_module_go_to_the_guest_with_a_warning() {
    let d = tempdir();
    let m = write(d.path(), "args.wat", ARGS_ENV);
    let guest_args = ["--dir", "d::/d", "--env=A=1", "--dir", "-o", "x", "--help"];
    let o = output(
        wtrace()
            .current_dir(d.path())
            .arg("run")
            .arg(&m)
            .args(guest_args),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "wtrace: warning: --dir after the module is passed to the guest; put wtrace's options before MODULE\n\
         wtrace: warning: --env after the module is passed to the guest; put wtrace's options before MODULE\n"
    );
    let want = format!("{}\n{}\n", m.display(), guest_args.join("\n"));
    assert_eq!(String::from_utf8_lossy(&o.stdout), want);
    // `--` before the module: the guest's arguments are meant as they are.
    let o = output(wtrace().args(["run", "--"]).arg(&m).args(guest_args));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    assert_eq!(String::from_utf8_lossy(&o.stdout), want);
}

#[test]
fn dir_with_one_colon_suggests_wasmtimes_host_guest_syntax() {
    let d = tempdir();
    let m = write(d.path(), "hello.wat", HELLO);
    let o = output(
        wtrace()
            .current_dir(d.path())
            .args(["run", "--dir", "data:/data"])
            .arg(&m),
    );
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        stderr(&o),
        "wtrace: error: --dir data:/data: data:/data is not a directory; did you mean --dir data::/data (HOST::GUEST)?\n"
    );
    // A directory whose name has a colon is taken as it is.
    std::fs::create_dir(d.path().join("a:b")).unwrap();
    let o = output(
        wtrace()
            .current_dir(d.path())
            .args(["run", "--dir", "a:b"])
            .arg(&m),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = output(wtrace().args(["run", "--dir", "/no/such::/x"]).arg(&m));
    assert_eq!(
        stderr(&o),
        "wtrace: error: --dir /no/such::/x: /no/such is not a directory\n"
    );
}

/// HELLO writing to stderr instead of stdout.
fn hello_on_stderr() -> String {
    HELLO.replace(
        "(call $fd_write (i32.const 1)",
        "(call $fd_write (i32.const 2)",
    )
}

#[test]
fn record_says_where_the_trace_went_after_the_guests_stderr() {
    let d = tempdir();
    let m = write(d.path(), "hello.wat", &hello_on_stderr());
    let o = output(wtrace().current_dir(d.path()).arg("record").arg(&m));
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stderr(&o),
        "hello\nwtrace: trace written to hello.wtrace (1 call)\n"
    );
    let t = d.path().join("explicit.wtrace");
    let o = output(wtrace().arg("record").arg("-o").arg(&t).arg(&m));
    assert_eq!(
        stderr(&o),
        format!("hello\nwtrace: trace written to {} (1 call)\n", t.display())
    );
    // -q: the guest's stderr alone, as under `wtrace run`.
    let q = output(
        wtrace()
            .current_dir(d.path())
            .args(["record", "-q"])
            .arg(&m),
    );
    assert_eq!(stderr(&q), "hello\n");
    // A trap: the guest's error first, then where its trace is.
    let trap = write(
        d.path(),
        "trap.wat",
        r#"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#,
    );
    let o = output(wtrace().current_dir(d.path()).arg("record").arg(&trap));
    assert_eq!(o.status.code(), Some(134));
    let err = stderr(&o);
    assert!(err.starts_with("Error: "), "{err}");
    assert!(
        err.ends_with("\nwtrace: trace written to trap.wtrace (0 calls)\n"),
        "{err}"
    );
    // A recording that could not be written says so instead.
    let full = output(wtrace().args(["record", "-o", "/dev/full"]).arg(&m));
    assert!(
        !stderr(&full).contains("trace written"),
        "{}",
        stderr(&full)
    );
}

#[test]
fn the_default_trace_name_is_numbered_instead_of_replacing_one() {
    let d = tempdir();
    let m = write(d.path(), "hello.wat", HELLO);
    let record = |args: &[&str]| {
        output(
            wtrace()
                .current_dir(d.path())
                .arg("record")
                .args(args)
                .arg(&m),
        )
    };
    assert_eq!(
        stderr(&record(&[])),
        "wtrace: trace written to hello.wtrace (1 call)\n"
    );
    let first = std::fs::read(d.path().join("hello.wtrace")).unwrap();
    for n in 1..=2 {
        let o = record(&[]);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(
            stderr(&o),
            format!("wtrace: trace written to hello-{n}.wtrace (1 call)\n")
        );
    }
    assert_eq!(std::fs::read(d.path().join("hello.wtrace")).unwrap(), first);
    // --force: the default name is replaced instead.
    assert_eq!(
        stderr(&record(&["--force"])),
        "wtrace: trace written to hello.wtrace (1 call)\n"
    );
    assert_ne!(std::fs::read(d.path().join("hello.wtrace")).unwrap(), first);
    let mut names: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "hello-1.wtrace",
            "hello-2.wtrace",
            "hello.wat",
            "hello.wtrace"
        ]
    );
    // A file of the user's that takes the default name is kept.
    let other = tempdir();
    let notes = write(other.path(), "hello.wtrace", "my notes\n");
    let o = output(wtrace().current_dir(other.path()).arg("record").arg(&m));
    assert_eq!(
        stderr(&o),
        "wtrace: trace written to hello-1.wtrace (1 call)\n"
    );
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n");
    let o = output(
        wtrace()
            .current_dir(other.path())
            .args(["record", "-f"])
            .arg(&m),
    );
    assert_error(&o, "");
    assert_eq!(
        stderr(&o),
        "wtrace: error: refusing to overwrite hello.wtrace: it is not a wtrace trace\n"
    );
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n");
}

#[test]
fn record_o_never_replaces_a_file_that_is_not_a_trace_and_a_trace_only_with_force() {
    let d = tempdir();
    let m = write(d.path(), "hello.wat", HELLO);
    let module_bytes = std::fs::read(&m).unwrap();
    for force in [&[][..], &["--force"]] {
        let o = output(wtrace().arg("record").args(force).arg("-o").arg(&m).arg(&m));
        assert_eq!(o.status.code(), Some(125));
        assert_eq!(
            stderr(&o),
            format!(
                "wtrace: error: refusing to overwrite {}: it is not a wtrace trace\n",
                m.display()
            )
        );
        assert!(o.stdout.is_empty(), "the guest did not run");
        assert_eq!(std::fs::read(&m).unwrap(), module_bytes);
    }
    let t = d.path().join("bug.wtrace");
    assert!(
        output(wtrace().args(["record", "-q", "-o"]).arg(&t).arg(&m))
            .status
            .success()
    );
    let trace_bytes = std::fs::read(&t).unwrap();
    let o = output(wtrace().arg("record").arg("-o").arg(&t).arg(&m));
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        stderr(&o),
        format!(
            "wtrace: error: refusing to overwrite {}: it is a trace already; --force replaces it\n",
            t.display()
        )
    );
    assert_eq!(std::fs::read(&t).unwrap(), trace_bytes);
    let o = output(wtrace().args(["record", "-f", "-o"]).arg(&t).arg(&m));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_ne!(std::fs::read(&t).unwrap(), trace_bytes);
    // An empty file (mktemp's) holds nothing to lose.
    let empty = write(d.path(), "empty", "");
    let o = output(wtrace().args(["record", "-q", "-o"]).arg(&empty).arg(&m));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = output(wtrace().args(["record", "-o"]).arg(d.path()).arg(&m));
    assert_eq!(
        stderr(&o),
        format!(
            "wtrace: error: cannot write the trace to {}: it is a directory\n",
            d.path().display()
        )
    );
}

/// The lines of `text` that are calls (`#N ...`).
fn call_lines(text: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(text)
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn record_print_filters_its_lines_as_dump_does_and_the_trace_keeps_every_call() {
    let d = tempdir();
    let root = common::root();
    let data = format!("{}::/data", root.join("examples/data").display());
    let m = root.join("examples/wat/readfile.wat");
    for (exprs, failed) in [
        (&["trace=%path,fd_read"][..], false),
        (&["trace=!%clock", "trace=!random_get"], false),
        (&[], true),
        // The fd's path comes from a path_open that is not printed.
        (&["fd_read"], false),
    ] {
        let t = d
            .path()
            .join(format!("{}-{failed}.wtrace", exprs.join("+")));
        let mut rec = wtrace();
        rec.args(["record", "-q", "--print", "--dir", &data, "-o"])
            .arg(&t);
        let mut dump = wtrace();
        dump.arg("dump");
        for e in exprs {
            rec.args(["-e", e]);
            dump.args(["-e", e]);
        }
        if failed {
            rec.arg("--failed");
            dump.arg("--failed");
        }
        let rec = output(rec.arg(&m));
        assert_eq!(rec.status.code(), Some(61), "{}", stderr(&rec));
        let printed = call_lines(&rec.stderr);
        assert_eq!(printed, call_lines(&output(dump.arg(&t)).stdout));
        let all = call_lines(&output(wtrace().arg("dump").arg(&t)).stdout);
        assert_eq!(all.len(), 8, "the trace has every call: {all:?}");
        assert!(printed.len() < all.len(), "{exprs:?}: {printed:?}");
        if exprs == ["fd_read"] {
            assert!(printed[0].contains("greeting.txt"), "{printed:?}");
        }
    }
    let usage = output(wtrace().args(["record", "-e", "trace=%path"]).arg(&m));
    assert_eq!(usage.status.code(), Some(125));
    assert!(
        stderr(&usage)
            .starts_with("error: the following required arguments were not provided:\n  --print\n"),
        "{}",
        stderr(&usage)
    );
    let t = d.path().join("bad.wtrace");
    let bad = output(
        wtrace()
            .args(["record", "--print", "-e", "trace=open", "-o"])
            .arg(&t)
            .arg(&m),
    );
    assert_eq!(
        stderr(&bad),
        "wtrace: error: unknown function \"open\": not a wasi_snapshot_preview1 function; did you mean path_open?\n"
    );
    assert!(!t.exists(), "nothing ran");
}

#[test]
fn dump_says_how_the_run_ended_once() {
    let trace = common::root().join("traces/readfile.wtrace");
    let dump = |args: &[&str]| {
        let o = output(wtrace().arg("dump").args(args).arg(&trace));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let all = dump(&[]);
    assert_eq!(all.matches("+++ exited with 61 +++").count(), 1, "{all}");
    assert_eq!(
        all.lines().last(),
        Some("#7 proc_exit(rval=61) = ? +++ exited with 61 +++")
    );
    // proc_exit filtered out: the end line says it.
    let fd = dump(&["-e", "trace=%fd"]);
    assert_eq!(fd.matches("+++ exited with 61 +++").count(), 1, "{fd}");
    assert!(fd.ends_with("\n+++ exited with 61 +++\n"), "{fd}");
    // A run whose _start returns has no proc_exit: the end line only.
    let d = tempdir();
    let m = write(d.path(), "hello.wat", HELLO);
    let t = d.path().join("hello.wtrace");
    assert!(
        output(wtrace().args(["record", "-q", "-o"]).arg(&t).arg(&m))
            .status
            .success()
    );
    let o = output(wtrace().arg("dump").arg(&t));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.ends_with(") = 0 (nwritten=6)\n+++ exited with 0 +++\n"),
        "{text}"
    );
}

/// A reader that has gone (`wtrace stats t | head -1`) ends the output
/// quietly, as it does for cat: exit 0, nothing on stderr, no panic.
#[test]
fn a_closed_stdout_ends_every_report_quietly() {
    let trace = common::root().join("traces/manycalls-v4.wtrace");
    let t = trace.to_str().unwrap();
    let commands: [&[&str]; 6] = [
        &["info", t],
        &["stats", t],
        &["verify", t],
        &["dump", t],
        &["dump", "-k", t],
        &["diff", t, t],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = wtrace().args(args).stdout(writer).output().unwrap();
        assert_eq!(
            (o.status.code(), String::from_utf8_lossy(&o.stderr).as_ref()),
            (Some(0), ""),
            "wtrace {args:?}"
        );
    }
}
