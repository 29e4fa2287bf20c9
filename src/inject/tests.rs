//! Plans and their effects on hand-made calls and guest memory.

use super::*;
use crate::syscalls::Func;
use crate::trace::{Call, CallBatch, Mem, Outcome};

fn spec(text: &str) -> InjectSpec {
    InjectSpec::parse(text).unwrap()
}

/// Plans for each call of `calls`, by an injector of `specs`.
fn plans(specs: &[&str], chaos: Option<Chaos>, calls: &[Call]) -> Vec<Option<Plan>> {
    let mut injector = Injector::new(specs.iter().map(|s| spec(s)).collect(), chaos);
    let batch = CallBatch::from_calls(calls);
    batch
        .views()
        .map(|c| {
            let facts = CallFacts {
                result: None,
                ..CallFacts::from(&c)
            };
            let plan = injector.plan(c.func.syscall().unwrap(), &facts);
            injector.observe(&c);
            plan
        })
        .collect()
}

fn call(seq: u64, func: Func, args: Vec<u64>, reads: Vec<Mem>) -> Call {
    Call {
        seq,
        func: func.id(),
        args,
        reads,
        ..Call::default()
    }
}

fn open(seq: u64, path: &str) -> Call {
    let m = Mem {
        param: 2,
        addr: 64,
        bytes: path.as_bytes().to_vec(),
    };
    call(
        seq,
        Func::path_open,
        vec![3, 0, 64, path.len() as u64, 0, 0, 0, 0, 0],
        vec![m],
    )
}

#[test]
fn when_counts_matching_calls_per_function_as_strace() {
    let calls: Vec<Call> = (0..8)
        .map(|i| match i % 2 {
            0 => open(i, if i == 4 { "config.toml" } else { "data" }),
            _ => call(i, Func::fd_close, vec![4], vec![]),
        })
        .collect();
    let injected = |specs: &[&str]| -> Vec<u64> {
        plans(specs, None, &calls)
            .iter()
            .zip(0..)
            .filter(|(p, _)| p.is_some_and(|p| p.injection.is_injected()))
            .map(|(_, seq)| seq)
            .collect()
    };
    assert_eq!(injected(&["path_open:error=ENOENT"]), [0, 2, 4, 6]);
    assert_eq!(injected(&["path_open:error=ENOENT:when=2"]), [2]);
    assert_eq!(injected(&["path_open:error=ENOENT:when=2+"]), [2, 4, 6]);
    assert_eq!(injected(&["path_open:error=ENOENT:when=1..3"]), [0, 2, 4]);
    assert_eq!(injected(&["path_open:error=ENOENT:when=1+2"]), [0, 4]);
    // Counted per function: the second path_open and the second fd_close.
    assert_eq!(injected(&["path_open,fd_close:error=EIO:when=2"]), [2, 3]);
    // Conditions narrow what is counted.
    assert_eq!(injected(&["path_open:path~config:error=ENOENT"]), [4]);
    assert_eq!(injected(&["path_open:path=data:error=EIO:when=3"]), [6]);
    // The first spec that selects a call injects it.
    let p = plans(&["fd_close:error=EBADF", "%fd:error=EIO"], None, &calls);
    assert_eq!(p[1].unwrap().injection, Injection::spec(0));
}

#[test]
fn actions_change_memory_as_they_say() {
    let mut memory = vec![0xaau8; 256];
    // random_get(buf=16, len=8)
    let random = Func::random_get.syscall();
    let mut injector = Injector::new(vec![spec("random_get:zero")], None);
    let facts = |args: &'static [u64]| CallFacts {
        seq: 0,
        func: Func::random_get.id(),
        args,
        reads: Default::default(),
        result: None,
    };
    let plan = injector.plan(random, &facts(&[16, 8])).unwrap();
    assert!(plan.replaces_host());
    assert_eq!(
        injector.serve(&plan, random, &[16, 8], &mut memory),
        Some(0)
    );
    assert_eq!(memory[16..24], [0; 8]);
    assert_eq!(memory[24], 0xaa);
    // A seeded stream: the same seed gives the same bytes.
    let seeded = |memory: &mut Vec<u8>| {
        let mut injector = Injector::new(vec![spec("random_get:seed=42")], None);
        let plan = injector.plan(random, &facts(&[16, 8])).unwrap();
        injector.serve(&plan, random, &[16, 8], memory);
        memory[16..24].to_vec()
    };
    let first = seeded(&mut memory);
    assert_ne!(first, [0; 8]);
    assert_eq!(seeded(&mut vec![0; 256]), first);
    // The clock: offset, at=, freeze, after the host wrote the time at 64.
    let clock = Func::clock_time_get.syscall();
    let args = [0u64, 1000, 64];
    let read_clock = |spec_text: &str, readings: &[u64]| -> Vec<u64> {
        let mut injector = Injector::new(vec![spec(spec_text)], None);
        readings
            .iter()
            .map(|&t| {
                let mut memory = vec![0u8; 128];
                memory[64..72].copy_from_slice(&t.to_le_bytes());
                let facts = CallFacts {
                    seq: 0,
                    func: Func::clock_time_get.id(),
                    args: &args,
                    reads: Default::default(),
                    result: None,
                };
                let plan = injector.plan(clock, &facts).unwrap();
                assert_eq!(injector.serve(&plan, clock, &args, &mut memory), None);
                injector.after_host(&plan, clock, &args, &mut memory, None, true);
                u64::from_le_bytes(memory[64..72].try_into().unwrap())
            })
            .collect()
    };
    assert_eq!(
        read_clock("clock_time_get:offset=+1s", &[5, 9]),
        [1_000_000_005, 1_000_000_009]
    );
    assert_eq!(
        read_clock("clock_time_get:offset=-1h", &[5]),
        [0],
        "never before 1970"
    );
    assert_eq!(
        read_clock("clock_time_get:at=2038-01-19", &[1000, 1500]),
        [2_147_472_000_000_000_000, 2_147_472_000_000_000_500]
    );
    assert_eq!(read_clock("clock_time_get:freeze", &[7, 8, 9]), [7, 7, 7]);
}

#[test]
fn a_short_transfer_caps_the_iovec_list_and_puts_it_back() {
    let write = Func::fd_write.syscall();
    let mut memory = vec![0u8; 256];
    // Two iovecs at 32: {buf=100, len=6}, {buf=120, len=6}.
    let list: Vec<u8> = [100u32, 6, 120, 6]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    memory[32..48].copy_from_slice(&list);
    let args = [1u64, 32, 2, 200];
    let reads = CallBatch::from_calls(&[call(
        0,
        Func::fd_write,
        args.to_vec(),
        vec![Mem {
            param: 1,
            addr: 32,
            bytes: list.clone(),
        }],
    )]);
    let view = reads.view(0);
    let mut injector = Injector::new(vec![spec("fd_write:short=8")], None);
    let plan = injector
        .plan(
            write,
            &CallFacts {
                result: None,
                ..CallFacts::from(&view)
            },
        )
        .unwrap();
    let saved = injector.before_host(&plan, write, &args, &mut memory);
    let capped: Vec<u32> = memory[32..48]
        .chunks(4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(capped, [100, 6, 120, 2]);
    injector.after_host(&plan, write, &args, &mut memory, saved, true);
    assert_eq!(memory[32..48], list[..]);
    // A transfer already short enough is left alone.
    let mut injector = Injector::new(vec![spec("fd_write:short=12")], None);
    assert_eq!(
        injector.plan(
            write,
            &CallFacts {
                result: None,
                ..CallFacts::from(&view)
            }
        ),
        None
    );
}

#[test]
fn chaos_with_one_seed_injects_the_same_calls_twice() {
    let calls: Vec<Call> = (0..2000)
        .map(|i| match i % 3 {
            0 => call(i, Func::clock_time_get, vec![1, 0, 64], vec![]),
            1 => call(
                i,
                Func::fd_write,
                vec![1, 32, 1, 200],
                vec![Mem {
                    param: 1,
                    addr: 32,
                    bytes: [100u32, 50].iter().flat_map(|v| v.to_le_bytes()).collect(),
                }],
            ),
            _ => call(i, Func::fd_close, vec![9], vec![]),
        })
        .collect();
    let chaos = |seed| {
        plans(
            &[],
            Some(Chaos {
                seed,
                rate_ppm: 100_000,
            }),
            &calls,
        )
        .iter()
        .map(|p| p.map(|p| (p.injection, p.fault)))
        .collect::<Vec<_>>()
    };
    let a = chaos(7);
    assert_eq!(a, chaos(7));
    assert_ne!(a, chaos(8));
    let injected: Vec<usize> = (0..a.len())
        .filter(|&i| a[i].is_some_and(|(inj, _)| inj == Injection::CHAOS))
        .collect();
    // About 10% of the 1334 calls that can fail, none of the fd_closes.
    assert!((80..200).contains(&injected.len()), "{}", injected.len());
    assert!(injected.iter().all(|i| i % 3 != 2));
    // Clock jumps add up: after a jump, every reading carries it.
    let offsets: Vec<i64> = a
        .iter()
        .step_by(3)
        .map(|p| match p {
            Some((_, Fault::Offset(ns))) => *ns,
            _ => 0,
        })
        .collect();
    assert!(
        offsets.windows(2).all(|w| w[1] >= w[0]),
        "the clock never goes back"
    );
    assert!(offsets.last().unwrap() > &0);
    // Faults are those a host may produce: EINTR or short writes here
    // (fd 1 is not non-blocking), never more than was asked.
    for i in (1..a.len()).step_by(3) {
        match a[i] {
            None => {}
            Some((_, Fault::Error(e))) => assert_eq!(e, 27),
            Some((_, Fault::Short(n))) => assert!((1..50).contains(&n)),
            other => panic!("call {i}: {other:?}"),
        }
    }
}

#[test]
fn chaos_makes_non_blocking_fds_fail_with_eagain() {
    // fd_fdstat_set_flags(1, NONBLOCK), then many writes to fd 1.
    let mut calls = vec![Call {
        outcome: Outcome::Errno(0),
        ..call(0, Func::fd_fdstat_set_flags, vec![1, 4], vec![])
    }];
    calls.extend((1..3000).map(|i| {
        call(
            i,
            Func::fd_write,
            vec![1, 32, 1, 200],
            vec![Mem {
                param: 1,
                addr: 32,
                bytes: [100u32, 50].iter().flat_map(|v| v.to_le_bytes()).collect(),
            }],
        )
    }));
    let errors: Vec<u16> = plans(
        &[],
        Some(Chaos {
            seed: 1,
            rate_ppm: 200_000,
        }),
        &calls,
    )
    .iter()
    .filter_map(|p| match p.map(|p| p.fault) {
        Some(Fault::Error(e)) => Some(e),
        _ => None,
    })
    .collect();
    assert!(!errors.is_empty());
    assert!(errors.iter().all(|&e| e == 6), "EAGAIN only: {errors:?}");
}
