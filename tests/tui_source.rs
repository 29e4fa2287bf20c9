//! `wtrace tui`'s trace source on committed traces: searches and filters
//! run on worker threads with readers of their own.

mod common;

use std::time::Instant;
use wtrace::trace::TraceReader;
use wtrace::tui_source::TraceView;
use wtrace_tui::task::Poll;
use wtrace_tui::{SearchHit, Task, TraceSource};

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
fn the_stack_of_a_call_is_replayed_in_the_background() {
    let mut v = view("traces/go-files.wtrace");
    let stack = wait(v.stack(1).expect("the module is embedded"));
    assert_eq!(
        stack[..3],
        [
            "runtime.clock_time_get",
            "runtime.nanotime1",
            "runtime.__ticksType_.init",
        ]
    );
    assert_eq!(stack.last().unwrap(), "_rt0_wasm_wasip1");
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
