//! Time travel (`wtrace::timetravel`): the state at a call from forked
//! checkpoints equals a replay from the start, checkpoints survive being
//! used and thinned out, requests can be cancelled, and nothing outlives
//! the machine.
#![cfg(target_os = "linux")]

mod common;

use common::{root, rust_example, tempdir};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use wtrace::replay::CallState;
use wtrace::timetravel::{Cancelled, Options, Region, Snapshot, Spacing, TimeMachine};

/// The compile cache the wtrace binary and this process share (one test per
/// process under nextest: the variable is this test's).
fn shared_cache() {
    std::env::set_var(
        "WTRACE_CACHE_DIR",
        common::target_dir().join("wtrace-test-cache"),
    );
}

fn record(dir: &Path, name: &str, args: &[&str], module: &Path) -> PathBuf {
    common::record_in(dir, name, args, module, &[])
}

/// examples/wat/memory.wat recorded: known bytes at known addresses.
fn memory_trace(dir: &Path) -> PathBuf {
    record(dir, "memory", &[], &root().join("examples/wat/memory.wat"))
}

/// examples/wat/manycalls.wat recorded: 10,003 calls.
fn manycalls_trace(dir: &Path) -> PathBuf {
    record(
        dir,
        "manycalls",
        &[],
        &root().join("examples/wat/manycalls.wat"),
    )
}

/// A machine served by the wtrace binary of this build.
fn machine(trace: &Path, spacing: Spacing, max_checkpoints: usize) -> TimeMachine {
    let options = Options {
        server: Some(PathBuf::from(env!("CARGO_BIN_EXE_wtrace"))),
        spacing,
        max_checkpoints,
        ..Options::default()
    };
    TimeMachine::open_with(trace, options).unwrap()
}

/// Waits for the background pass to end (the machine answers before it
/// does; this is for the tests that look at the checkpoints kept).
fn until_done(tm: &TimeMachine) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !tm.progress().done {
        assert!(Instant::now() < deadline, "the pass never ended");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The snapshot must be what a replay from the start keeps: the same
/// frames, globals, pointer ranges, memory size and bytes.
fn assert_same(snap: &Snapshot, state: &CallState, regions: &[Region]) {
    assert_eq!(snap.seq, state.seq);
    assert_eq!(snap.frames, state.frames, "frames at #{}", state.seq);
    assert_eq!(snap.globals, state.globals, "globals at #{}", state.seq);
    let pointers: Vec<(&str, u32, u32)> = snap
        .pointers
        .iter()
        .map(|p| (p.param.as_str(), p.addr, p.len))
        .collect();
    let expected: Vec<(&str, u32, u32)> = state
        .pointers
        .iter()
        .map(|p| (p.name, p.addr, p.len))
        .collect();
    assert_eq!(pointers, expected, "pointers at #{}", state.seq);
    assert_eq!(snap.memory_size, state.memory.len() as u64);
    assert_eq!(snap.regions.len(), regions.len());
    for (r, (addr, bytes)) in regions.iter().zip(&snap.regions) {
        assert_eq!(*addr, r.addr);
        let end = (r.addr + r.len) as usize;
        assert_eq!(
            bytes[..],
            state.memory[r.addr as usize..end],
            "memory {r} at #{}",
            state.seq
        );
    }
}

/// Asks for each call of `order` twice over (a checkpoint must survive
/// being used) and compares with `replay::state_at`.
fn check_calls(tm: &TimeMachine, trace: &Path, order: &[u64], regions: &[Region]) {
    let no = AtomicBool::new(false);
    for round in 0..2 {
        for &seq in order {
            let snap = tm
                .state(seq, regions, &no)
                .unwrap_or_else(|e| panic!("round {round}, call #{seq}: {e:#}"));
            let state = wtrace::replay::state_at(trace, None, seq).unwrap();
            assert_same(&snap, &state, regions);
        }
    }
}

#[test]
fn the_state_at_any_call_is_a_replay_from_the_start() {
    shared_cache();
    let d = tempdir();
    let trace = memory_trace(d.path());
    // Checkpoints at #0, #2 and #4: calls on them and between them.
    let tm = machine(&trace, Spacing::Calls(2), 64);
    let regions = [
        Region {
            addr: 0,
            len: 0x500,
        },
        Region {
            addr: 0x200,
            len: 8,
        },
    ];
    check_calls(&tm, &trace, &[3, 0, 5, 1, 4, 2], &regions);
    until_done(&tm);
    assert_eq!(tm.checkpoints(), [0, 2, 4]);
    let no = AtomicBool::new(false);
    // Known bytes: $mark wrote ef be ad de at 0x204 before call #2.
    let at2 = tm.state(2, &regions[1..], &no).unwrap();
    assert_eq!(
        at2.regions,
        [(0x200, vec![0x88, 0x77, 0x66, 0x55, 0xef, 0xbe, 0xad, 0xde])]
    );
    let funcs: Vec<&str> = at2.frames.iter().map(|f| f.func.as_str()).collect();
    assert_eq!(funcs, ["say", "main"]);
    assert_eq!(at2.memory_size, 65536);
    let names: Vec<(&str, u32, u32)> = at2
        .pointers
        .iter()
        .map(|p| (p.param.as_str(), p.addr, p.len))
        .collect();
    assert_eq!(
        names,
        [("iovs", 0x10, 8), ("iovs", 0x108, 4), ("nwritten", 0x18, 4)]
    );
    // A region past the end of memory is cut there.
    let far = [Region {
        addr: 65530,
        len: 100,
    }];
    assert_eq!(
        tm.state(0, &far, &no).unwrap().regions,
        [(65530, vec![0; 6])]
    );
    let err = tm.state(6, &[], &no).unwrap_err();
    assert_eq!(err.to_string(), "call #6: the trace has calls #0 to #5");
}

#[test]
fn a_rust_program_s_source_lines_come_from_the_checkpoint() {
    shared_cache();
    let d = tempdir();
    let trace = record(d.path(), "myapp", &[], &rust_example("myapp"));
    let tm = machine(&trace, Spacing::Calls(1), 64);
    let calls = tm.progress().total;
    assert!(calls >= 2, "myapp makes {calls} calls");
    let order: Vec<u64> = (0..calls).rev().collect();
    check_calls(&tm, &trace, &order, &[Region { addr: 0, len: 64 }]);
    let no = AtomicBool::new(false);
    let at = tm.state(order[order.len() - 1], &[], &no).unwrap();
    assert!(
        at.frames.iter().any(|f| f.location().is_some()),
        "no file:line in {:?}",
        at.frames
    );
}

#[test]
fn thinned_checkpoints_stay_evenly_spread_and_still_answer() {
    shared_cache();
    let d = tempdir();
    let trace = manycalls_trace(d.path());
    // Every 1000 calls, at most 4: thinned at #3000 and at #6000.
    let tm = machine(&trace, Spacing::Calls(1000), 4);
    until_done(&tm);
    assert_eq!(tm.checkpoints(), [0, 4000, 8000]);
    assert_eq!(tm.progress().calls, 10_003);
    check_calls(
        &tm,
        &trace,
        &[10_002, 0, 5000, 3999, 8000],
        &[Region { addr: 0, len: 96 }],
    );
}

#[test]
fn a_cancelled_request_leaves_the_machine_usable_and_nothing_outlives_it() {
    shared_cache();
    let d = tempdir();
    let trace = manycalls_trace(d.path());
    let tm = machine(&trace, Spacing::Calls(1000), 64);
    until_done(&tm);
    // Asked from the UI's worker threads.
    fn shared<T: Send + Sync + Clone>(_: &T) {}
    shared(&tm);
    let cancel = AtomicBool::new(true);
    let err = tm.state(9999, &[], &cancel).unwrap_err();
    assert_eq!(err.downcast_ref::<Cancelled>(), Some(&Cancelled), "{err:#}");
    // The checkpoint that was asked serves again, as do the others.
    check_calls(&tm, &trace, &[9999, 10], &[Region { addr: 0, len: 32 }]);
    let pids = tm.processes();
    assert_eq!(
        pids.len(),
        1 + 11,
        "the server and 11 checkpoints: {pids:?}"
    );
    for &pid in &pids {
        assert!(alive(pid), "process {pid} is not running");
    }
    let clone = tm.clone();
    drop(tm);
    assert!(alive(pids[0]), "a clone keeps the server");
    drop(clone);
    // The server is reaped by the drop; its checkpoints get SIGKILL as it
    // dies, and may take a moment to be gone.
    assert!(!alive(pids[0]), "the server outlived the machine");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|&p| alive(p)) {
        assert!(
            Instant::now() < deadline,
            "checkpoints outlived the machine"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether `pid` is a live process (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => !matches!(
            stat.rsplit_once(") ").map(|(_, s)| &s[..1]),
            Some("Z" | "X")
        ),
        Err(_) => false,
    }
}

#[test]
fn a_trace_without_its_module_names_module() {
    shared_cache();
    let d = tempdir();
    let wat = root().join("examples/wat/memory.wat");
    let trace = record(d.path(), "bare", &["--no-embed"], &wat);
    let err = TimeMachine::open(&trace, None).err().expect("an error");
    assert_eq!(
        err.to_string(),
        "the trace does not embed its module (recorded with --no-embed): pass --module memory.wat"
    );
    let options = Options {
        module: Some(wat.clone()),
        server: Some(PathBuf::from(env!("CARGO_BIN_EXE_wtrace"))),
        spacing: Spacing::Calls(2),
        ..Options::default()
    };
    let tm = TimeMachine::open_with(&trace, options).unwrap();
    let no = AtomicBool::new(false);
    let snap = tm.state(3, &[], &no).unwrap();
    let state = wtrace::replay::state_at(&trace, Some(wat), 3).unwrap();
    assert_same(&snap, &state, &[]);
}

/// The figures of docs/performance.md ("Call stacks"): on a big trace
/// (`WTRACE_BIG_TRACE`, release build), the time to the end of the
/// background pass, the checkpoints and their memory, and the time to the
/// stack and 4 KiB of memory near the start, the middle and the end.
///
///     WTRACE_BIG_TRACE=/tmp/time.wtrace cargo test --release --test timetravel -- --ignored --nocapture
#[test]
#[ignore]
fn measure_on_a_big_trace() {
    shared_cache();
    let Some(trace) = std::env::var_os("WTRACE_BIG_TRACE").map(PathBuf::from) else {
        eprintln!("set WTRACE_BIG_TRACE to a trace to measure");
        return;
    };
    let options = Options {
        server: Some(PathBuf::from(env!("CARGO_BIN_EXE_wtrace"))),
        ..Options::default()
    };
    let t0 = Instant::now();
    let tm = TimeMachine::open_with(&trace, options).unwrap();
    let opened = t0.elapsed();
    until_done(&tm);
    let pass = t0.elapsed();
    let server = tm.processes()[0];
    let total = tm.progress().total;
    eprintln!(
        "open {:.1} ms; pass done after {:.2} s wall, server CPU {:.2} s; {} calls; checkpoints at {:?}",
        opened.as_secs_f64() * 1e3,
        pass.as_secs_f64(),
        cpu_secs(server),
        total,
        tm.checkpoints()
    );
    let (pss, rss) = tm
        .processes()
        .iter()
        .map(|&p| (rollup(p, "Pss:"), rollup(p, "Rss:")))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let server_pss = rollup(server, "Pss:");
    let checkpoints = tm.processes().len() as u64 - 1;
    eprintln!(
        "{} processes: Pss {} MiB in all (Rss {} MiB summed); server Pss {} MiB, a checkpoint {} MiB on average",
        checkpoints + 1,
        pss / 1024,
        rss / 1024,
        server_pss / 1024,
        (pss - server_pss) / 1024 / checkpoints.max(1)
    );
    let region = [Region {
        addr: 0x10000,
        len: 4096,
    }];
    let no = AtomicBool::new(false);
    // The worst case: the call just before a checkpoint, replayed from
    // the one before (the spacing is in CPU time: all gaps cost alike).
    let kept = tm.checkpoints();
    let worst = kept[kept.len() - 1] - 1;
    let probes = [
        ("start", 1000),
        ("middle", total / 2),
        ("end", total - 1),
        ("worst", worst),
    ];
    for (name, seq) in probes {
        let mut runs = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            let snap = tm.state(seq, &region, &no).unwrap();
            runs.push((t.elapsed().as_secs_f64(), snap.cpu_ns as f64 / 1e9));
            assert_eq!(snap.regions[0].1.len(), 4096);
            assert!(!snap.frames.is_empty());
            if runs.len() == 7 {
                eprintln!(
                    "{name} #{seq}: {} frames, memory {} MiB, replayed {} calls from #{}",
                    snap.frames.len(),
                    snap.memory_size >> 20,
                    seq - snap.replayed_from,
                    snap.replayed_from
                );
            }
        }
        let mut wall: Vec<f64> = runs.iter().map(|r| r.0).collect();
        let mut cpu: Vec<f64> = runs.iter().map(|r| r.1).collect();
        wall.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        eprintln!(
            "  wall median {:.3} s ({:.3}-{:.3}), replaying child's CPU median {:.3} s ({:.3}-{:.3})",
            wall[3], wall[0], wall[6], cpu[3], cpu[0], cpu[6]
        );
    }
    let t = Instant::now();
    let from_start = wtrace::replay::state_at(&trace, None, total - 1).unwrap();
    let snap = tm.state(total - 1, &region, &no).unwrap();
    eprintln!(
        "state_at #{} (from the start): {:.2} s",
        total - 1,
        t.elapsed().as_secs_f64()
    );
    assert_same(&snap, &from_start, &region);
}

/// User + system CPU seconds of a process, from /proc.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// A field of /proc/PID/smaps_rollup, in KiB.
fn rollup(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn without_a_server_each_request_replays_from_the_start() {
    shared_cache();
    let d = tempdir();
    let trace = memory_trace(d.path());
    // Not a wtrace: it never says that it serves.
    let options = Options {
        server: Some(PathBuf::from("/bin/true")),
        ..Options::default()
    };
    let tm = TimeMachine::open_with(&trace, options).unwrap();
    let regions = [Region {
        addr: 0x200,
        len: 8,
    }];
    check_calls(&tm, &trace, &[4, 1], &regions);
    assert_eq!(tm.checkpoints(), Vec::<u64>::new());
    assert!(tm.progress().done);
}
