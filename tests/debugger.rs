//! The debugger, computed by replaying the module a trace embeds: call
//! stacks (`dump -k`, `replay --print -k`), the state at a call (`--until N
//! --memory`, `--memory-args`), watches (`--watch`) and breakpoints
//! (`--break`).

mod common;

use common::{go_example, output, record_in as record, root, rust_example, tempdir, wtrace};
use std::path::{Path, PathBuf};
use std::process::Output;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// examples/wat/memory.wat recorded: known bytes at known addresses.
fn memory_trace(dir: &Path) -> PathBuf {
    record(
        dir,
        "memory",
        &[],
        &root().join("examples/wat/memory.wat"),
        &[],
    )
}

/// The frames after the call line that starts with `call_prefix`, as
/// (function, source location) pairs: ` > m.wasm(FUNC+0x1c) [0x2a1f] at LOC`.
fn frames_after(text: &str, call_prefix: &str) -> Vec<(String, Option<String>)> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(call_prefix));
    assert!(lines.next().is_some(), "no call {call_prefix} in:\n{text}");
    lines
        .take_while(|l| l.starts_with(" > "))
        .map(|l| {
            let (_, rest) = l.split_once('(').expect("module(");
            let (func_and_offset, rest) = rest.rsplit_once(") [").expect(") [");
            let func = func_and_offset
                .rsplit_once("+0x")
                .map_or(func_and_offset, |(f, _)| f);
            let loc = rest.split_once("] at ").map(|(_, loc)| loc.to_string());
            (func.to_string(), loc)
        })
        .collect()
}

/// A trace of examples/go/files run in a scratch directory preopened as
/// /work; `None` (the test skips) without Go.
fn record_go_files(dir: &Path) -> Option<PathBuf> {
    let wasm = go_example("files")?;
    std::fs::create_dir(dir.join("scratch")).unwrap();
    Some(record(
        dir,
        "files",
        &["--dir", "scratch::/work"],
        &wasm,
        &["/work"],
    ))
}

fn names(frames: &[(String, Option<String>)]) -> Vec<&str> {
    frames.iter().map(|(f, _)| f.as_str()).collect()
}

#[test]
fn go_stacks_name_the_functions_that_made_the_call() {
    let d = tempdir();
    let Some(trace) = record_go_files(d.path()) else {
        return;
    };
    let dump = output(
        wtrace()
            .args(["dump", "-k", "-e", "trace=path_open"])
            .arg(&trace),
    );
    assert_eq!(dump.status.code(), Some(0), "{}", stderr(&dump));
    let text = stdout(&dump);
    let first = text.lines().next().unwrap();
    assert!(
        first.contains(r#"path="notes.txt", oflags=CREAT|TRUNC"#),
        "{first}"
    );
    let calling = [
        "syscall.path_open",
        "syscall.Open",
        "os.open",
        "os.openFileNolog.func1",
        "os.openFileNolog",
        "os.OpenFile",
    ];
    let frames = frames_after(&text, first);
    let mut want: Vec<&str> = calling.to_vec();
    want.extend([
        "os.WriteFile",
        "main.main",
        "runtime.main",
        "wasm_pc_f_loop",
        "_rt0_wasm_wasip1",
    ]);
    assert_eq!(names(&frames), want);
    // The third path_open is os.ReadFile's.
    let third = text.lines().filter(|l| l.starts_with('#')).nth(2).unwrap();
    let frames = frames_after(&text, third);
    assert_eq!(names(&frames)[6..8], ["os.ReadFile", "main.main"]);
    // Only path_open calls are shown, each with its stack.
    assert!(text
        .lines()
        .all(|l| l.starts_with(" > ") || l.contains("path_open(") || l.starts_with("+++")));
    // replay --print -k prints the same lines on stderr.
    let replay = output(wtrace().args(["replay", "-q", "--print", "-k"]).arg(&trace));
    assert_eq!(replay.status.code(), Some(0), "{}", stderr(&replay));
    assert_eq!(
        frames_after(&stderr(&replay), first),
        frames_after(&text, first)
    );
}

#[test]
fn rust_stacks_have_demangled_names_and_source_lines_from_dwarf() {
    let wasm = rust_example("myapp");
    let d = tempdir();
    let trace = record(d.path(), "myapp", &[], &wasm, &[]);
    let dump = output(wtrace().args(["dump", "-k"]).arg(&trace));
    assert_eq!(dump.status.code(), Some(0), "{}", stderr(&dump));
    let text = stdout(&dump);
    let src = root().join("examples/rust/myapp.rs");
    let at = |line: u32, col: u32| Some(format!("{}:{line}:{col}", src.display()));
    let frames = frames_after(&text, "#0 fd_write(fd=1");
    assert_eq!(
        frames[..2],
        [
            ("myapp::config::parse".to_string(), at(18, 30)),
            ("myapp::main".to_string(), at(25, 13)),
        ],
        "{text}"
    );
    assert_eq!(names(&frames).last(), Some(&"_start"), "{text}");
    let exit = frames_after(&text, "#1 proc_exit(rval=0)");
    let main = exit
        .iter()
        .find(|(f, _)| f == "myapp::main")
        .expect("main calls exit");
    assert_eq!(main.1, at(26, 5));
}

#[test]
fn the_stack_of_a_trace_without_its_module_needs_module() {
    let d = tempdir();
    let wat = root().join("examples/wat/memory.wat");
    let trace = record(d.path(), "noembed", &["--no-embed"], &wat, &[]);
    for cmd in [&["dump", "-k"][..], &["replay", "--print", "-k"][..]] {
        let o = output(wtrace().args(cmd).arg(&trace));
        assert_eq!(o.status.code(), Some(125), "{cmd:?}");
        assert_eq!(
            stderr(&o),
            "wtrace: error: the trace does not embed its module (recorded with --no-embed): pass --module memory.wat\n"
        );
    }
    let o = output(
        wtrace()
            .args(["dump", "-k", "--module"])
            .arg(&wat)
            .arg(&trace),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        frames_after(&stdout(&o), "#1 random_get"),
        [("main".to_string(), None)]
    );
}

#[test]
fn memory_at_call_n_is_what_the_program_wrote_by_then() {
    let d = tempdir();
    let trace = memory_trace(d.path());
    let o = output(
        wtrace()
            .args([
                "replay", "--until", "1", "--memory", "0x200:8", "--memory", "512:12",
            ])
            .arg(&trace),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Call #2 onwards never ran: only #0's output.
    assert_eq!(stdout(&o), "one\n");
    assert_eq!(
        stderr(&o),
        "memory 0x200:8 after #1:\n\
         00000200: 8877 6655 4433 2211                      .wfUD3\".\n\
         memory 0x200:12 after #1:\n\
         00000200: 8877 6655 4433 2211 0000 0000            .wfUD3\".....\n\
         exported globals after #1:\n  \
         stage = 1 (0x1, i32)\n  \
         magic = 1234605616436508552 (0x1122334455667788, i64)\n\
         wtrace: replay stopped after call #1 (--until) (2 calls replayed)\n"
    );
    // After #2 the guest's $mark has run: 0x204 holds ef be ad de.
    let o = output(
        wtrace()
            .args(["replay", "-q", "--until", "2", "--memory", "0x204:4"])
            .arg(&trace),
    );
    assert!(stderr(&o).contains("00000204: efbe adde"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("stage = 2 (0x2, i32)"),
        "{}",
        stderr(&o)
    );
}

/// The bytes random_get returned in the recording, from `dump --json`.
fn recorded_random(trace: &Path) -> Vec<u8> {
    let o = output(
        wtrace()
            .args(["dump", "--json", "-e", "trace=random_get"])
            .arg(trace),
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    let hex = v["outs"]["buf"]["hex"]
        .as_str()
        .unwrap_or_else(|| panic!("no outs.buf.hex in {v}"));
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn hex_line(addr: u32, bytes: &[u8]) -> String {
    let mut s = format!("{addr:08x}: ");
    for (i, b) in bytes.iter().enumerate() {
        s.push_str(&format!("{b:02x}"));
        if i % 2 == 1 {
            s.push(' ');
        }
    }
    s
}

#[test]
fn memory_args_show_what_is_behind_each_pointer_of_the_call() {
    let d = tempdir();
    let trace = memory_trace(d.path());
    let random = recorded_random(&trace);
    let o = output(
        wtrace()
            .args(["replay", "-q", "--until", "1", "--memory-args"])
            .arg(&trace),
    );
    let text = stderr(&o);
    assert!(
        text.starts_with("memory behind the pointer arguments of #1:\nbuf 0x300:4:\n"),
        "{text}"
    );
    assert!(text.contains(&hex_line(0x300, &random)), "{text}");
    // fd_write #3: the iovec list, the bytes it points at, nwritten.
    let o = output(
        wtrace()
            .args(["replay", "-q", "--until", "3", "--memory-args"])
            .arg(&trace),
    );
    let text = stderr(&o);
    assert!(text.starts_with("memory behind the pointer arguments of #3:\niovs 0x10:8:\n00000010: 1001 0000 0600 0000 "), "{text}");
    assert!(
        text.contains("iovs 0x110:6:\n00000110: 7468 7265 650a "),
        "{text}"
    );
    assert!(
        text.contains("nwritten 0x18:4:\n00000018: 0600 0000 "),
        "{text}"
    );
}

#[test]
fn a_watch_reports_each_change_by_the_guest_and_by_the_host() {
    let d = tempdir();
    let trace = memory_trace(d.path());
    let random = recorded_random(&trace);
    let o = output(
        wtrace()
            .args([
                "replay", "-q", "--watch", "0x200:8", "--watch", "0x300:4", "--watch", "0x400:1",
            ])
            .arg(&trace),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let random_line = output(
        wtrace()
            .args(["dump", "-e", "trace=random_get"])
            .arg(&trace),
    );
    let random_call = stdout(&random_line).lines().next().unwrap().to_string();
    let pad = |s: String, n: usize| format!("{s:<n$}");
    let want = format!(
        "wtrace: watch 0x200:8: written by the guest before {random_call}\n\
         \x20 old 00000200: 0000 0000 0000 0000                      ........\n\
         \x20 new 00000200: 8877 6655 4433 2211                      .wfUD3\".\n\
         \x20> memory.wat(main+0x11) [0x149]\n\
         wtrace: watch 0x300:4: written by the host in {random_call}\n\
         \x20 old 00000300: 0000 0000                                ....\n\
         \x20 new {}{}\n\
         wtrace: watch 0x200:8: written by the guest before #2 fd_write(fd=1, iovs=[{{buf=0x108, len=4, \"two\\n\"}}]) = 0 (nwritten=4)\n\
         \x20 old 00000200: 8877 6655 4433 2211                      .wfUD3\".\n\
         \x20 new 00000200: 8877 6655 efbe adde                      .wfU....\n\
         \x20> memory.wat(say+0x17) [0xfe]\n\
         \x20> memory.wat(main+0x1d) [0x155]\n\
         wtrace: watch 0x400:1: written by the guest after #5, its last call\n\
         \x20 old 00000400: 00                                       .\n\
         \x20 new 00000400: 2a                                       *\n",
        pad(hex_line(0x300, &random), 51),
        random
            .iter()
            .map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' })
            .collect::<String>()
    );
    assert_eq!(stderr(&o), want);
}

#[test]
fn bad_regions_are_named_in_one_line() {
    let d = tempdir();
    let trace = memory_trace(d.path());
    let o = output(
        wtrace()
            .args(["replay", "--until", "1", "--memory", "0x10"])
            .arg(&trace),
    );
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("\"0x10\": expected ADDR:LEN, e.g. 0x1000:64"),
        "{}",
        stderr(&o)
    );
    let o = output(
        wtrace()
            .args(["replay", "-q", "--until", "1", "--memory", "0xffff0:32"])
            .arg(&trace),
    );
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        stderr(&o),
        "wtrace: error: --memory 0xffff0:32 is outside the guest's memory (65536 bytes)\n"
    );
    let o = output(
        wtrace()
            .args(["replay", "--until", "6", "--memory", "0:4"])
            .arg(&trace),
    );
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        stderr(&o),
        "wtrace: error: --until 6: the trace has calls #0 to #5\n"
    );
    let o = output(wtrace().args(["replay", "--memory", "0:4"]).arg(&trace));
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("--until"), "{}", stderr(&o));
}

/// The guest's output of memory.wat's calls: (fd, bytes) per call number.
const MEMORY_WAT_OUTPUT: [(u64, &str, &str); 4] = [
    (0, "one\n", ""),
    (2, "two\n", ""),
    (3, "", "three\n"),
    (4, "one\n", ""),
];

#[test]
fn each_breakpoint_form_stops_before_its_call_and_no_guest_output_follows() {
    let d = tempdir();
    let trace = memory_trace(d.path());
    let cases: [(&str, u64); 10] = [
        ("fd_write", 0),
        ("%random", 1),
        ("fd_write fd=2", 3),
        ("#2", 2),
        ("fd_write when=3", 3),
        ("len>5", 3),
        ("errno!=0", 5),
        ("errno=EBADF", 5),
        ("path_open path~config", 5),
        ("%fd fd=1 when=2..3", 2),
    ];
    for (expr, at) in cases {
        let o = output(wtrace().args(["replay", "--break", expr]).arg(&trace));
        assert_eq!(o.status.code(), Some(133), "{expr}: {}", stderr(&o));
        let before = MEMORY_WAT_OUTPUT.iter().filter(|(n, _, _)| *n < at);
        let want_out: String = before.clone().map(|(_, out, _)| *out).collect();
        let want_err: String = before.map(|(_, _, err)| *err).collect();
        assert_eq!(
            stdout(&o),
            want_out,
            "{expr}: guest output after the breakpoint"
        );
        let err = stderr(&o);
        let (guest_err, report) = err
            .split_once("wtrace: breakpoint ")
            .unwrap_or_else(|| panic!("{expr}: no report in {err}"));
        assert_eq!(guest_err, want_err, "{expr}");
        let mut lines = report.lines();
        assert_eq!(
            lines.next(),
            Some(format!("{expr:?} at call #{at}:").as_str())
        );
        assert!(
            lines.next().unwrap().starts_with(&format!("#{at} ")),
            "{expr}: {report}"
        );
        let stack: Vec<&str> = lines
            .by_ref()
            .take_while(|l| l.starts_with(" > "))
            .collect();
        assert_eq!(
            stack.last().map(|l| l.starts_with(" > memory.wat(main+")),
            Some(true),
            "{expr}: {report}"
        );
        assert!(report.ends_with(&format!(
            "wtrace: replay stopped before call #{at} at breakpoint {expr:?} ({at} calls replayed)\n"
        )), "{expr}: {report}");
    }
}

#[test]
fn a_breakpoint_prints_the_call_and_its_stack() {
    let d = tempdir();
    let trace = memory_trace(d.path());
    let o = output(
        wtrace()
            .args(["replay", "-q", "--break", "fd_write fd=2"])
            .arg(&trace),
    );
    assert_eq!(
        stderr(&o),
        "wtrace: breakpoint \"fd_write fd=2\" at call #3:\n\
         #3 fd_write(fd=2, iovs=[{buf=0x110, len=6, \"three\\n\"}]) = 0 (nwritten=6)\n \
         > memory.wat(say+0x17) [0xfe]\n \
         > memory.wat(main+0x26) [0x15e]\n\
         wtrace: replay stopped before call #3 at breakpoint \"fd_write fd=2\" (3 calls replayed)\n"
    );
    // Go: the stack names the functions that made the call.
    let Some(trace) = record_go_files(d.path()) else {
        return;
    };
    let o = output(
        wtrace()
            .args(["replay", "-q", "--break", "path_open path~notes when=3"])
            .arg(&trace),
    );
    assert_eq!(o.status.code(), Some(133), "{}", stderr(&o));
    let err = stderr(&o);
    let call = err.lines().nth(1).unwrap();
    assert!(
        call.contains("path_open(") && call.contains(r#"path="notes.txt""#),
        "{err}"
    );
    assert_eq!(
        names(&frames_after(&err, call))[6..8],
        ["os.ReadFile", "main.main"]
    );
}

#[test]
fn a_bad_break_expression_is_named() {
    let d = tempdir();
    let trace = memory_trace(d.path());
    let o = output(wtrace().args(["replay", "--break", "path_opn"]).arg(&trace));
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).starts_with(
            "error: invalid value 'path_opn' for '--break <EXPR>': unknown function \"path_opn\""
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn foreign_imports_have_stacks_and_breakpoints_too() {
    let trace = root().join("traces/foreign.wtrace");
    let o = output(wtrace().args(["dump", "-k"]).arg(&trace));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let frames = frames_after(&text, "#1 env::host_log(");
    assert_eq!(frames, [("<wasm function 3>".to_string(), None)]);
    assert!(
        text.ends_with(" +++\n") && text.lines().filter(|l| l.starts_with(" > ")).count() == 2,
        "{text}"
    );
    let o = output(wtrace().args(["replay", "--break", "#1"]).arg(&trace));
    assert_eq!(o.status.code(), Some(133));
    assert_eq!(stdout(&o), "calling env::host_log\n");
    assert!(
        stderr(&o)
            .starts_with("wtrace: breakpoint \"#1\" at call #1:\n#1 env::host_log(arg0=0x12c,"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn state_at_gives_the_stack_memory_and_globals_of_a_call() {
    // One test per process (nextest): the cache variable is this test's.
    std::env::set_var(
        "WTRACE_CACHE_DIR",
        common::target_dir().join("wtrace-test-cache"),
    );
    let d = tempdir();
    let trace = memory_trace(d.path());
    let at1 = wtrace::replay::state_at(&trace, None, 1).unwrap();
    assert_eq!(at1.seq, 1);
    let funcs: Vec<&str> = at1.frames.iter().map(|f| f.func.as_str()).collect();
    assert_eq!(funcs, ["main"]);
    assert_eq!(
        at1.memory[0x200..0x208],
        [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]
    );
    assert_eq!(at1.memory[0x300..0x304], recorded_random(&trace)[..]);
    assert_eq!(
        at1.memory[0x204..0x208],
        [0x44, 0x33, 0x22, 0x11],
        "$mark has not run yet"
    );
    assert_eq!(
        at1.globals,
        [
            ("stage".to_string(), "1 (0x1, i32)".to_string()),
            (
                "magic".to_string(),
                "1234605616436508552 (0x1122334455667788, i64)".to_string()
            ),
        ]
    );
    let at2 = wtrace::replay::state_at(&trace, None, 2).unwrap();
    let funcs: Vec<&str> = at2.frames.iter().map(|f| f.func.as_str()).collect();
    assert_eq!(funcs, ["say", "main"]);
    assert_eq!(at2.memory[0x204..0x208], [0xef, 0xbe, 0xad, 0xde]);
    let err = wtrace::replay::state_at(&trace, None, 9).unwrap_err();
    assert_eq!(err.to_string(), "the replay ended before call #9");
}

/// Recurses 40 deep, then writes "deep\n" from the innermost call.
const DEEP: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "deep\n")
  (func $down (param $n i32)
    (if (i32.eqz (local.get $n))
      (then
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 5))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
      (else (call $down (i32.sub (local.get $n) (i32.const 1))))))
  (func $main (export "_start") (call $down (i32.const 40))))"#;

#[test]
fn deep_stacks_are_shown_whole() {
    let d = tempdir();
    let wat = d.path().join("deep.wat");
    std::fs::write(&wat, DEEP).unwrap();
    let trace = record(d.path(), "deep", &[], &wat, &[]);
    let o = output(wtrace().args(["dump", "-k"]).arg(&trace));
    let frames = frames_after(&stdout(&o), "#0 fd_write(");
    let mut want = vec!["down"; 41];
    want.push("main");
    assert_eq!(names(&frames), want);
    let o = output(
        wtrace()
            .args(["replay", "-q", "--break", "fd_write"])
            .arg(&trace),
    );
    let err = stderr(&o);
    assert_eq!(names(&frames_after(&err, "#0 fd_write(")), want, "{err}");
}
