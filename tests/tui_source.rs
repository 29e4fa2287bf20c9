//! `wtrace tui`'s trace source on committed traces: searches and filters
//! run on worker threads with readers of their own.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;
use wtrace::trace::TraceReader;
use wtrace::tui_source::TraceView;
use wtrace_tui::task::Poll;
use wtrace_tui::{Pointer, SearchHit, Task, TraceSource};

fn view(trace: &str) -> TraceView {
    let reader = TraceReader::open(&common::root().join(trace)).unwrap();
    TraceView::new(reader).unwrap()
}

/// The view once its background pass has read the whole trace, as the UI
/// has it a moment after opening: the fd table of every chunk is known,
/// and searches spread over the cores.
fn passed(trace: &str) -> TraceView {
    let mut v = view(trace);
    while v.density(1).is_none() {
        v.step();
    }
    v
}

fn wait<T>(mut task: Task<T>) -> T {
    loop {
        match task.poll() {
            Poll::Done(result) => return result,
            Poll::Running => std::thread::sleep(std::time::Duration::from_millis(1)),
            Poll::Failed => panic!("the worker ended without a result"),
        }
    }
}

fn search(v: &mut TraceView, from: u64, forward: bool, text: &str) -> Option<SearchHit> {
    wait(v.search(from, forward, text))
}

fn hit(seq: u64, wrapped: bool) -> Option<SearchHit> {
    Some(SearchHit { seq, wrapped })
}

#[test]
fn a_search_crosses_chunks_and_says_when_it_wrapped() {
    // 10,003 calls in 3 chunks: #0 and #10001 read the clock, the rest
    // yield, the last returns from _start.
    let mut v = view("traces/manycalls.wtrace");
    assert_eq!(search(&mut v, 0, true, "clock"), hit(10001, false));
    assert_eq!(search(&mut v, 10001, true, "clock"), hit(0, true));
    assert_eq!(search(&mut v, 0, false, "clock"), hit(10001, true));
    assert_eq!(search(&mut v, 10001, false, "clock"), hit(0, false));
    assert_eq!(
        search(&mut v, 5000, true, "time=77052611"),
        hit(10001, false)
    );
    assert_eq!(search(&mut v, 0, true, "no such text"), None);
}

#[test]
fn a_search_sees_fd_paths_and_data() {
    let mut v = passed("traces/go-files.wtrace");
    assert_eq!(search(&mut v, 0, true, "</work/sub>"), hit(51, false));
    assert_eq!(
        search(&mut v, 51, true, "d_type=REGULAR_FILE"),
        hit(51, true),
        "a dirent"
    );
    assert_eq!(search(&mut v, 42, true, "renamed.txt"), hit(51, false));
    assert_eq!(
        search(&mut v, 60, false, "(23 bytes)]"),
        hit(56, false),
        "written data"
    );
}

#[test]
fn the_state_of_a_call_is_replayed_in_the_background() {
    let mut v = view("traces/go-files.wtrace");
    let state = wait(v.state(1).expect("the module is embedded")).unwrap();
    assert_eq!(
        state.frames[..3],
        [
            "runtime.clock_time_get",
            "runtime.nanotime1",
            "runtime.__ticksType_.init",
        ]
    );
    assert_eq!(state.frames.last().unwrap(), "_rt0_wasm_wasip1");
}

/// examples/wat/memory.wat recorded: known bytes at known addresses (its
/// comment says which call sees which).
fn memory_trace(dir: &Path) -> PathBuf {
    let trace = dir.join("memory.wtrace");
    let o = common::output(
        common::wtrace()
            .args(["record", "-q", "-o"])
            .arg(&trace)
            .arg(common::root().join("examples/wat/memory.wat")),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    trace
}

#[test]
fn the_state_and_memory_at_a_call_are_what_the_program_wrote_by_then() {
    let dir = common::tempdir();
    let trace = memory_trace(dir.path());
    let mut v = TraceView::new(TraceReader::open(&trace).unwrap()).unwrap();
    // #1 is random_get: the host wrote its 4 bytes at 0x300.
    let random = v.detail(1).unwrap().memory[0].bytes.clone();
    assert_eq!(random.len(), 4);
    let at = |v: &mut TraceView, seq: u64| {
        let state = wait(v.state(seq).unwrap()).unwrap();
        let filled = wait(v.memory(seq, 0x200, 8)).unwrap();
        let random = wait(v.memory(seq, 0x300, 4)).unwrap();
        (state, filled, random)
    };
    let (s1, filled1, random1) = at(&mut v, 1);
    assert_eq!(s1.seq, 1);
    assert_eq!(filled1, [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
    assert_eq!(random1, random, "what the host wrote in #1");
    assert_eq!(s1.memory_size, 65536);
    assert_eq!(
        s1.globals,
        [
            ("stage".to_string(), "1 (0x1, i32)".to_string()),
            (
                "magic".to_string(),
                "1234605616436508552 (0x1122334455667788, i64)".to_string()
            ),
        ]
    );
    assert_eq!(
        s1.pointers,
        [Pointer {
            name: "buf".into(),
            addr: 0x300,
            len: 4
        }]
    );
    assert_eq!(s1.frames, ["main"]);

    // #3, after $mark wrote ef be ad de at 0x204: fd_write(2, "three\n").
    let (s3, filled3, _) = at(&mut v, 3);
    assert_eq!(filled3, [0x88, 0x77, 0x66, 0x55, 0xef, 0xbe, 0xad, 0xde]);
    assert_eq!(s3.globals[0].1, "2 (0x2, i32)");
    assert_eq!(s3.frames, ["say", "main"]);
    let names: Vec<(&str, u32, u32)> = s3
        .pointers
        .iter()
        .map(|p| (p.name.as_str(), p.addr, p.len))
        .collect();
    assert_eq!(
        names,
        [("iovs", 0x10, 8), ("iovs", 0x110, 6), ("nwritten", 0x18, 4)]
    );
    assert_eq!(wait(v.memory(3, 0x110, 6)).unwrap(), b"three\n");

    // Back to #1: the same state again.
    let again = at(&mut v, 1);
    assert_eq!(again, (s1, filled1, random1));
    assert_eq!(
        wait(v.memory(1, 0x10000, 4)).unwrap_err(),
        "0x10000 is past the end of the guest's memory at #1 (65536 bytes)"
    );
    assert_eq!(
        wait(v.memory(0, 0x1fc, 8)).unwrap(),
        [0; 8],
        "#0: $fill has not run yet"
    );
}

#[test]
fn a_state_given_up_on_stops_its_replay() {
    // The flag the UI's task sets when a newer selection drops it.
    let dir = common::tempdir();
    let trace = memory_trace(dir.path());
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let err = wtrace::replay::state_at_unless(&trace, None, 3, cancel).unwrap_err();
    assert_eq!(err.to_string(), "the replay ended before call #3");
    let mut v = TraceView::new(TraceReader::open(&trace).unwrap()).unwrap();
    drop(v.state(3).unwrap());
    assert_eq!(
        wait(v.state(2).unwrap()).unwrap().seq,
        2,
        "the next one runs"
    );
}

fn cont(v: &mut TraceView, from: u64, forward: bool, bps: &[&str]) -> Option<(u64, usize)> {
    let bps: Vec<String> = bps.iter().map(|b| b.to_string()).collect();
    wait(v.continue_to(from, forward, &bps).unwrap()).map(|h| (h.seq, h.breakpoint))
}

#[test]
fn continues_go_to_the_calls_breakpoints_match_forward_and_back() {
    let dir = common::tempdir();
    let mut v = TraceView::new(TraceReader::open(&memory_trace(dir.path())).unwrap()).unwrap();
    assert_eq!(cont(&mut v, 0, true, &["fd_write fd=2"]), Some((3, 0)));
    assert_eq!(cont(&mut v, 0, true, &["errno!=0"]), Some((5, 0)));
    assert_eq!(
        cont(&mut v, 0, true, &["#4", "path_open path~config"]),
        Some((4, 0))
    );
    assert_eq!(
        cont(&mut v, 4, true, &["#4", "path_open path~config"]),
        Some((5, 1))
    );
    assert_eq!(cont(&mut v, 5, false, &["fd_write fd=1"]), Some((4, 0)));
    assert_eq!(cont(&mut v, 4, false, &["fd_write fd=1"]), Some((2, 0)));
    // when=N counts from the start of the trace, whichever way.
    assert_eq!(cont(&mut v, 0, true, &["fd_write when=3"]), Some((3, 0)));
    assert_eq!(cont(&mut v, 5, false, &["fd_write when=2"]), Some((2, 0)));
    assert_eq!(cont(&mut v, 2, true, &["fd_write when=2"]), None);
    assert_eq!(cont(&mut v, 0, true, &["path_open path~nothing"]), None);
    assert_eq!(
        cont(&mut v, 5, true, &["fd_write"]),
        None,
        "nothing after the last"
    );
    assert_eq!(
        v.check_breakpoint("fd_write fd=").unwrap_err(),
        v.continue_to(0, true, &["fd_write fd=".into()])
            .err()
            .unwrap()
            .trim_start_matches("breakpoint \"fd_write fd=\": ")
    );

    // Across chunks: 10,003 calls in 3, #0 and #10001 read the clock.
    let mut v = view("traces/manycalls.wtrace");
    assert_eq!(cont(&mut v, 0, true, &["%clock"]), Some((10001, 0)));
    assert_eq!(cont(&mut v, 10001, false, &["%clock"]), Some((0, 0)));
    assert_eq!(
        cont(&mut v, 0, true, &["sched_yield when=5000"]),
        Some((5000, 0))
    );
    assert_eq!(
        cont(&mut v, 10002, false, &["sched_yield when=5000"]),
        Some((5000, 0))
    );
    assert_eq!(
        cont(&mut v, 10002, false, &["sched_yield"]),
        Some((10000, 0))
    );
}

#[test]
fn a_filter_takes_what_dump_takes() {
    let mut v = view("traces/manycalls.wtrace");
    assert_eq!(wait(v.select("%clock").unwrap()), [0, 10001]);
    assert_eq!(
        wait(v.select("trace=!sched_yield").unwrap()),
        [0, 10001, 10002]
    );
    let mut v = view("traces/go-files.wtrace");
    assert_eq!(wait(v.select("path_open --failed").unwrap()), [61]);
    assert_eq!(
        v.select("%nope").err().unwrap(),
        "unknown class %nope; the classes are %args %clock %fd %path %poll %proc %random %sock"
    );
    assert!(v.filter_words().contains(&"%path".to_string()));
    assert!(v.filter_words().contains(&"fd_readdir".to_string()));
}

/// How fast a search that finds nothing goes through a big trace:
/// `WTRACE_BIG_TRACE=clock10m.wtrace cargo test --release --test
/// tui_source -- --ignored --nocapture` (docs/performance.md).
#[test]
#[ignore]
fn search_speed() {
    let path = std::env::var("WTRACE_BIG_TRACE").expect("WTRACE_BIG_TRACE names a trace");
    let mut v = TraceView::new(TraceReader::open(path.as_ref()).unwrap()).unwrap();
    // As in the UI a few seconds after opening: the background pass is done.
    while v.density(1).is_none() {
        v.step();
    }
    let n = v.len();
    for _ in 0..5 {
        let (start, cpu) = (Instant::now(), cpu_seconds());
        assert_eq!(search(&mut v, 0, true, "no such text"), None);
        let (secs, cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
        println!(
            "{n} calls in {secs:.2} s ({cpu:.2} s of CPU): {:.2} M calls/s",
            n as f64 / secs / 1e6
        );
    }
}

/// How fast a continue to a breakpoint that matches nothing goes through
/// a big trace, forward from the start and back from the end (as
/// `search_speed`, with the same variable).
#[test]
#[ignore]
fn continue_speed() {
    let path = std::env::var("WTRACE_BIG_TRACE").expect("WTRACE_BIG_TRACE names a trace");
    let mut v = TraceView::new(TraceReader::open(path.as_ref()).unwrap()).unwrap();
    let n = v.len();
    // Nothing matches: forward from the start, back from the end. Then
    // every call matches and when= counts them all: back from the end and
    // forward past the one that fires go through the whole trace (on
    // clock10m.wtrace, the 65535th clock call is #65548).
    let none = [
        "path_open path~config".to_string(),
        "errno=ENOENT".to_string(),
    ];
    let counted = ["%clock when=65535".to_string()];
    let runs = [
        (&none[..], 0, true, None),
        (&none[..], n - 1, false, None),
        (&counted[..], n - 1, false, Some(65548)),
        (&counted[..], 100_000, true, None),
    ];
    for _ in 0..2 {
        for (bps, from, forward, want) in &runs {
            let (start, cpu) = (Instant::now(), cpu_seconds());
            let hit = wait(v.continue_to(*from, *forward, bps).unwrap());
            assert_eq!(hit.map(|h| h.seq), *want);
            let (secs, cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
            println!(
                "{bps:?} from #{from} {}: {n} calls in {secs:.2} s ({cpu:.2} s of CPU): {:.2} M calls/s",
                if *forward { "forward" } else { "back" },
                n as f64 / secs / 1e6
            );
        }
    }
}

/// User and system time of this process so far (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    // utime and stime are the line's fields 14 and 15: 12 and 13 after the name.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}
