//! The Go examples (GOOS=wasip1 GOARCH=wasm) under run, record and replay:
//! record prints what run prints, exits alike and leaves the same files;
//! replay, from an empty directory with stdin closed and the recorded
//! directory deleted, prints the recording's bytes and exits with its code.

mod common;

use common::{output, tempdir, wtrace};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// How one example is run.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [&'static str],
    /// Preopen a scratch directory as /work (passed as the first argument).
    scratch: bool,
    stdin: Option<&'static [u8]>,
    exit_code: i32,
    /// Output that differs between real runs (random values, timing): run
    /// and record are compared by exit code only.
    varies: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "hello",
        args: &["one", "two words"],
        env: &["GREETING=hi"],
        scratch: false,
        stdin: None,
        exit_code: 0,
        varies: false,
    },
    Case {
        name: "files",
        args: &["/work"],
        env: &[],
        scratch: true,
        stdin: None,
        exit_code: 0,
        varies: false,
    },
    Case {
        name: "stdin",
        args: &[],
        env: &[],
        scratch: false,
        stdin: Some(b"alpha\nbeta\ngamma\n"),
        exit_code: 0,
        varies: false,
    },
    Case {
        name: "clock",
        args: &[],
        env: &[],
        scratch: false,
        stdin: None,
        exit_code: 0,
        varies: false,
    },
    Case {
        name: "random",
        args: &[],
        env: &[],
        scratch: false,
        stdin: None,
        exit_code: 0,
        varies: true,
    },
    Case {
        name: "goroutines",
        args: &[],
        env: &[],
        scratch: false,
        stdin: None,
        exit_code: 0,
        varies: false,
    },
    Case {
        name: "argsenv",
        args: &["3", "-flag", "--"],
        env: &["GREETING=hello there"],
        scratch: false,
        stdin: None,
        exit_code: 3,
        varies: false,
    },
    Case {
        name: "sched",
        args: &[],
        env: &[],
        scratch: false,
        stdin: None,
        exit_code: 0,
        varies: true,
    },
    Case {
        name: "panic",
        args: &[],
        env: &[],
        scratch: false,
        stdin: None,
        exit_code: 2,
        varies: false,
    },
];

fn case(name: &str) -> &'static Case {
    CASES.iter().find(|c| c.name == name).unwrap()
}

/// Runs `wtrace MODE [flags] MODULE ARGS` for a case in `dir`; returns the
/// output and the scratch directory used.
fn run_case(c: &Case, wasm: &Path, mode: &[&str], dir: &Path) -> (Output, PathBuf) {
    let scratch = dir.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let mut cmd = wtrace();
    cmd.current_dir(dir).args(mode);
    if c.scratch {
        cmd.arg("--dir")
            .arg(format!("{}::/work", scratch.display()));
    }
    for e in c.env {
        cmd.args(["--env", e]);
    }
    cmd.arg(wasm).args(c.args);
    let out = match c.stdin {
        None => output(&mut cmd),
        Some(input) => {
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(input).unwrap();
            child.wait_with_output().unwrap()
        }
    };
    (out, scratch)
}

/// Path → contents of every file below `dir`.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_dir() {
            for (k, v) in tree(&e.path()) {
                files.insert(format!("{name}/{k}"), v);
            }
            files.insert(format!("{name}/"), vec![]);
        } else {
            files.insert(name, std::fs::read(e.path()).unwrap());
        }
    }
    files
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Records `c`, checks record against run, replays from an empty directory
/// and returns the trace's path (kept in `d`).
fn check_case(c: &Case, d: &Path) -> PathBuf {
    let wasm = common::go_example(c.name).unwrap();
    let trace = d.join(format!("{}.wtrace", c.name));
    let run_dir = d.join("run");
    let rec_dir = d.join("rec");
    let (run, run_scratch) = run_case(c, &wasm, &["run"], &run_dir);
    let (rec, rec_scratch) = run_case(
        c,
        &wasm,
        &["record", "-q", "-o", trace.to_str().unwrap()],
        &rec_dir,
    );
    assert_eq!(
        run.status.code(),
        Some(c.exit_code),
        "{} under run:\n{}",
        c.name,
        show(&run)
    );
    assert_eq!(
        rec.status.code(),
        Some(c.exit_code),
        "{} under record:\n{}",
        c.name,
        show(&rec)
    );
    if !c.varies {
        assert_eq!(
            show(&run),
            show(&rec),
            "{}: record differs from run",
            c.name
        );
    }
    assert_eq!(
        tree(&run_scratch),
        tree(&rec_scratch),
        "{}: record left other files than run",
        c.name
    );

    // Replay: another empty directory, stdin closed, the recorded files gone.
    std::fs::remove_dir_all(&rec_dir).unwrap();
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for _ in 0..2 {
        let replay = output(wtrace().current_dir(&empty).arg("replay").arg(&trace));
        assert_eq!(
            show(&rec),
            show(&replay),
            "{}: replay differs from the recording",
            c.name
        );
    }
    assert!(tree(&empty).is_empty(), "{}: replay created files", c.name);
    trace
}

macro_rules! go_cases {
    ($($name:ident)*) => { $(
        #[test]
        fn $name() {
            if common::go().is_none() { return; }
            let d = tempdir();
            check_case(case(stringify!($name)), d.path());
        }
    )* };
}

go_cases! { hello files stdin goroutines argsenv panic }

#[test]
fn clock_sleeps_in_poll_oneoff_and_the_replay_serves_the_sleeps() {
    if common::go().is_none() {
        return;
    }
    let d = tempdir();
    let trace = check_case(case("clock"), d.path());
    let dump = output(
        wtrace()
            .args(["dump", "-e", "trace=poll_oneoff"])
            .arg(&trace),
    );
    let text = String::from_utf8_lossy(&dump.stdout);
    let polls: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" poll_oneoff("))
        .collect();
    assert!(
        polls.len() >= 3,
        "three sleeps, three polls at least:\n{text}"
    );
    assert!(
        polls
            .iter()
            .any(|l| l.contains("CLOCK, id=MONOTONIC, timeout=")),
        "{text}"
    );
    // While recording, the guest's monotonic clock is the calls' clock:
    // each reading is its call's start time, and readings never go back.
    let mut r = wtrace::trace::TraceReader::open(&trace).unwrap();
    let (mut monotonic, mut last) = (0, 0);
    for call in r.calls() {
        let call = call.unwrap();
        let clock_read = call.func == wtrace::syscalls::Func::clock_time_get.id();
        let read_monotonic = clock_read && call.args[0] == 1;
        if read_monotonic && call.outcome == wtrace::trace::Outcome::Errno(0) {
            let [time] = &call.writes[..] else {
                panic!("#{}: {:?}", call.seq, call.writes)
            };
            let time = u64::from_le_bytes(time.bytes[..].try_into().unwrap());
            assert_eq!(time, call.start_ns, "#{}", call.seq);
            assert!(time >= last, "#{}: {time} after {last}", call.seq);
            (monotonic, last) = (monotonic + 1, time);
        }
    }
    assert!(monotonic >= 6, "{monotonic} monotonic readings");
}

#[test]
fn random_values_differ_between_recordings_and_replay_reproduces_each() {
    if common::go().is_none() {
        return;
    }
    let (a, b) = (tempdir(), tempdir());
    let ta = check_case(case("random"), a.path());
    let tb = check_case(case("random"), b.path());
    let ra = output(wtrace().arg("replay").arg(&ta));
    let rb = output(wtrace().arg("replay").arg(&tb));
    assert_ne!(
        ra.stdout, rb.stdout,
        "two recordings drew the same random values"
    );
    assert!(String::from_utf8_lossy(&ra.stdout).starts_with("math/rand: "));
}

#[test]
fn sched_stress_replays_exactly() {
    if common::go().is_none() {
        return;
    }
    let d = tempdir();
    let trace = check_case(case("sched"), d.path());
    let replay = output(wtrace().arg("replay").arg(&trace));
    let text = String::from_utf8_lossy(&replay.stdout);
    assert!(
        text.contains("wake order: [") && text.contains("busy-loop clock reads: "),
        "{text}"
    );
}

/// Builds a copy of examples/go/hello with one string changed: another
/// build of the "same" program.
fn modified_hello(d: &Path) -> PathBuf {
    let go = common::go().unwrap();
    let src = d.join("src");
    std::fs::create_dir_all(src.join("hello")).unwrap();
    std::fs::write(src.join("go.mod"), "module wtrace.example\n\ngo 1.21\n").unwrap();
    let text = std::fs::read_to_string(common::root().join("examples/go/hello/main.go")).unwrap();
    std::fs::write(
        src.join("hello/main.go"),
        text.replace("Hello from Go", "Jello from Go"),
    )
    .unwrap();
    let wasm = d.join("hello2.wasm");
    let out = Command::new(go)
        .current_dir(&src)
        .args(["build", "-o"])
        .arg(&wasm)
        .arg("./hello")
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .env("GOTOOLCHAIN", "local")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wasm
}

/// The number of the first call to `func` in a trace, from `wtrace dump`.
fn first_call(trace: &Path, func: &str) -> u64 {
    let dump = output(wtrace().arg("dump").arg(trace));
    let text = String::from_utf8_lossy(&dump.stdout);
    let line = text
        .lines()
        .find(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|w| w.starts_with(&format!("{func}(")))
        })
        .unwrap();
    line[1..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_different_build_diverges_at_the_first_different_write() {
    if common::go().is_none() {
        return;
    }
    let d = tempdir();
    let trace = check_case(case("hello"), d.path());
    let other = modified_hello(d.path());
    let refused = output(
        wtrace()
            .arg("replay")
            .arg("--module")
            .arg(&other)
            .arg(&trace),
    );
    assert_eq!(refused.status.code(), Some(125), "{}", show(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("is not the recorded module"),
        "{}",
        show(&refused)
    );

    let forced = output(
        wtrace()
            .args(["replay", "--force", "--module"])
            .arg(&other)
            .arg(&trace),
    );
    assert_eq!(forced.status.code(), Some(126), "{}", show(&forced));
    let write = first_call(&trace, "fd_write");
    let err = String::from_utf8_lossy(&forced.stderr);
    assert!(
        err.contains(&format!(
            "replay diverged at call #{write}: the bytes of `iovs` differ"
        )),
        "expected a divergence at #{write}:\n{err}"
    );
    assert!(
        err.contains("recorded: #")
            && err.contains("Hello from Go")
            && err.contains("Jello from Go"),
        "{err}"
    );
    assert!(
        forced.stdout.is_empty(),
        "nothing was written before the divergent write"
    );
}

#[test]
fn an_altered_random_value_is_caught_where_the_output_changes() {
    use wtrace::trace::{End, TraceReader, TraceWriter};
    if common::go().is_none() {
        return;
    }
    let d = tempdir();
    let trace = check_case(case("random"), d.path());
    let mut reader = TraceReader::open(&trace).unwrap();
    // The reader keeps the embedded module apart from the header.
    let mut header = reader.header.clone();
    header.module = reader.module.clone();
    let end: End = reader.end.clone().unwrap();
    let mut calls: Vec<_> = reader.calls().map(Result::unwrap).collect();
    // crypto/rand's 16 bytes come from the last random_get of 16 bytes.
    let target = calls
        .iter()
        .rposition(|c| c.func == wtrace::syscalls::Func::random_get && c.args[1] == 16)
        .expect("a random_get of 16 bytes");
    for b in calls[target].writes[0].bytes.iter_mut() {
        *b ^= 0xff;
    }
    let altered = d.path().join("altered.wtrace");
    let mut w = TraceWriter::create(&altered, &header).unwrap();
    w.write_calls(std::mem::take(&mut calls)).unwrap();
    w.finish(end).unwrap();

    let r = output(wtrace().arg("replay").arg(&altered));
    assert_eq!(r.status.code(), Some(126), "{}", show(&r));
    let err = String::from_utf8_lossy(&r.stderr);
    // The guest prints the altered bytes: the write of that line differs.
    assert!(err.contains("the bytes of `iovs` differ"), "{err}");
    let seq: u64 = err
        .split("diverged at call #")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        seq > target as u64,
        "diverged at #{seq}, after the altered random_get #{target}"
    );
    assert_eq!(
        String::from_utf8_lossy(&r.stdout).lines().count(),
        1,
        "only the math/rand line was printed"
    );
}

/// Node's built-in WASI (preview1) as an independent host.
fn node_run(wasm: &Path, args: &[&str], env: &[&str], preopen: Option<&Path>) -> Option<Output> {
    let node = which("node")?;
    let d = tempdir();
    let js = d.path().join("run.mjs");
    std::fs::write(
        &js,
        "import { readFile } from 'node:fs/promises';\nimport { WASI } from 'node:wasi';\n\
         const [wasm, pre, envJson, ...args] = process.argv.slice(2);\n\
         const wasi = new WASI({ version: 'preview1', args: [wasm, ...args], env: JSON.parse(envJson), \
         preopens: pre === '-' ? {} : { '/work': pre }, returnOnExit: true });\n\
         const m = await WebAssembly.compile(await readFile(wasm));\n\
         process.exitCode = wasi.start(await WebAssembly.instantiate(m, wasi.getImportObject()));\n",
    )
    .unwrap();
    let env_json = serde_json::to_string(
        &env.iter()
            .map(|e| e.split_once('=').unwrap())
            .collect::<BTreeMap<&str, &str>>(),
    )
    .unwrap();
    let mut cmd = Command::new(node);
    cmd.arg("--no-warnings")
        .arg(&js)
        .arg(wasm)
        .arg(preopen.map_or("-".into(), |p| p.display().to_string()))
        .arg(env_json)
        .args(args);
    Some(output(cmd.stdin(Stdio::null())))
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

#[test]
fn deterministic_programs_print_what_node_prints() {
    if common::go().is_none() || which("node").is_none() {
        assert!(
            which("node").is_some(),
            "Node 20 is expected on the machine"
        );
        return;
    }
    for name in ["hello", "goroutines", "argsenv", "files"] {
        let c = case(name);
        let wasm = common::go_example(name).unwrap();
        let d = tempdir();
        let (ours, _) = run_case(c, &wasm, &["run"], d.path());
        let node_scratch = d.path().join("node-scratch");
        std::fs::create_dir_all(&node_scratch).unwrap();
        let node = node_run(
            &wasm,
            c.args,
            c.env,
            c.scratch.then_some(node_scratch.as_path()),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&node.stdout),
            "{name}: stdout"
        );
        assert_eq!(ours.status.code(), node.status.code(), "{name}: exit code");
    }
}
