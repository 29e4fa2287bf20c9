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
    let mut v = view("traces/go-files.wtrace");
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
    let n = v.len();
    for _ in 0..3 {
        let start = Instant::now();
        assert_eq!(search(&mut v, 0, true, "no such text"), None);
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{n} calls in {secs:.2} s: {:.2} M calls/s",
            n as f64 / secs / 1e6
        );
    }
}
