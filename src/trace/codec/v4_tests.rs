//! Version 4 and 5 calls records: exact bytes, round trips, damage.

use super::tests::varied_calls;
use super::*;
use crate::syscalls::{Func, SYSCALLS};
use crate::trace::{Call, Mem, Outcome};

const CLOCK: FuncId = FuncId(Func::clock_time_get as u16);

/// A clock read as Go makes them: `id` 0 (realtime) or 1 (monotonic),
/// the result written to `addr`.
fn clock(seq: u64, id: u64, addr: u32, time: u64, start_ns: u64) -> Call {
    Call {
        seq,
        func: CLOCK,
        args: vec![id, 1000, addr as u64],
        outcome: Outcome::Errno(0),
        start_ns,
        dur_ns: 7,
        reads: vec![],
        writes: vec![Mem {
            param: 2,
            addr,
            bytes: time.to_le_bytes().to_vec(),
        }],
        injection: Injection::NONE,
    }
}

fn raw_of(calls: &[Call], version: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    v4::write_chunk(&CallBatch::from_calls(calls), version, &mut raw);
    raw
}

/// `calls` written in version 4 and in version 5 (the encoder's), each
/// read back; the two must agree.
fn round_trip(calls: &[Call]) -> Vec<Call> {
    let v4 = zstd::bulk::compress(&raw_of(calls, 4), 1).unwrap();
    let v4 = decode_calls(&v4, 4).unwrap();
    let v5 = ChunkEncoder::new()
        .unwrap()
        .encode(&CallBatch::from_calls(calls))
        .unwrap();
    let v5 = decode_calls(&v5, 5).unwrap();
    assert!(v4 == v5, "versions 4 and 5 read back different calls");
    v5
}

#[test]
fn a_repeated_clock_read_is_its_head_times_and_bytes() {
    let calls = [
        clock(9, 0, 0x1_0000, 1, 300),
        clock(10, 1, 0x1_0008, 2, 310),
        clock(11, 0, 0x1_0000, 3, 320),
        clock(12, 1, 0x1_0008, 4, 330),
    ];
    let mut calls = calls;
    calls[3].writes[0].addr = 0x1_0000;
    let mut want = vec![9, 4];
    // First of its kind: head (success), func, 3 args, times, 1 write.
    want.extend([0x10, 5, 3, 0, 251, 0xe8, 0x03, 252, 0, 0, 1, 0]);
    want.extend([251, 0x2c, 0x01, 7, 0, 1, 2, 252, 0, 0, 1, 0, 8]);
    want.extend(1u64.to_le_bytes());
    // Monotonic: other arguments, so written whole.
    want.extend([0x10, 5, 3, 1, 251, 0xe8, 0x03, 252, 8, 0, 1, 0]);
    want.extend([10, 7, 0, 1, 2, 252, 8, 0, 1, 0, 8]);
    want.extend(2u64.to_le_bytes());
    // Realtime again: two back, same ranges (0x02 | 0x08 | 0x10).
    want.extend([0x1a, 10, 7]);
    want.extend(3u64.to_le_bytes());
    // Monotonic's arguments two back, but its time goes elsewhere: the
    // ranges are written.
    want.extend([0x12, 10, 7, 0, 1, 2, 252, 0, 0, 1, 0, 8]);
    want.extend(4u64.to_le_bytes());
    assert_eq!(raw_of(&calls, 4), want);
    assert_eq!(round_trip(&calls), calls);
}

#[test]
fn a_reference_goes_back_seven_calls_at_most() {
    let other = |seq| Call {
        seq,
        func: FuncId(Func::sched_yield as u16),
        ..Call::default()
    };
    let mut calls = vec![clock(0, 0, 8, 1, 0)];
    calls.extend((1..7).map(other));
    calls.push(clock(7, 0, 8, 2, 0));
    calls.extend((8..15).map(other));
    calls.push(clock(15, 0, 8, 3, 0));
    let raw = raw_of(&calls, 4);
    // Call 7 refers 7 back (0x07 | 0x08 | 0x10): times, then its bytes.
    let mut seven_back = vec![0x1f, 0, 7];
    seven_back.extend(2u64.to_le_bytes());
    assert!(raw.windows(11).any(|w| w == seven_back));
    // Call 15 is 8 after call 7: written whole.
    let mut whole = vec![0x10, 5, 3, 0, 251, 0xe8, 3, 8, 0, 7, 0, 1, 2, 8, 8];
    whole.extend(3u64.to_le_bytes());
    assert!(raw.ends_with(&whole));
    assert_eq!(round_trip(&calls), calls);
}

#[test]
fn edge_values_and_every_function_come_back_as_they_went_in() {
    let mut calls = varied_calls();
    // Every function of the table, twice, with edge arguments.
    for (k, sys) in SYSCALLS.iter().enumerate() {
        let args: Vec<u64> = (0..sys.params.len() as u64)
            .map(|i| [0, u64::MAX, 250, 251][(i as usize + k) % 4])
            .collect();
        for again in 0..2u8 {
            calls.push(Call {
                func: sys.func.id(),
                args: args.clone(),
                outcome: [Outcome::Errno(0), Outcome::Errno(u16::MAX)][k % 2].clone(),
                start_ns: u64::MAX / 2,
                dur_ns: u64::MAX,
                reads: vec![Mem {
                    param: 0,
                    addr: u32::MAX,
                    bytes: vec![again; k],
                }],
                writes: vec![],
                injection: Injection(again as u16),
                ..Call::default()
            });
        }
    }
    // Empty and huge payloads under the same ranges, then other ranges.
    let huge = |seq, len, byte| Call {
        seq,
        func: FuncId(Func::fd_read as u16),
        args: vec![3, 0, 1, 0],
        writes: vec![Mem {
            param: 1,
            addr: 0,
            bytes: vec![byte; len],
        }],
        ..Call::default()
    };
    calls.extend([huge(0, 0, 0), huge(0, 0, 0), huge(0, 3 << 20, 1)]);
    calls.extend([huge(0, 3 << 20, 2), huge(0, 5, 3)]);
    calls.push(clock(0, u64::MAX, u32::MAX, u64::MAX, u64::MAX));
    calls.push(clock(0, u64::MAX, u32::MAX, 0, u64::MAX));
    // Times are stored as deltas: they must not go back.
    let mut start = 0;
    for (i, c) in calls.iter_mut().enumerate() {
        c.seq = 1000 + i as u64;
        start = c.start_ns.max(start);
        c.start_ns = start;
    }
    let back = round_trip(&calls);
    assert_eq!(back.len(), calls.len());
    for (got, want) in back.iter().zip(&calls) {
        assert!(got == want, "call {} changed", want.seq);
    }
}

/// A version 4 record with one call whose head is `head`, then `rest`.
fn one_call(head: u8, rest: &[u8]) -> Result<Vec<Call>> {
    let mut raw = vec![0, 1, head];
    raw.extend(rest);
    decode_calls(&zstd::bulk::compress(&raw, 1).unwrap(), 4)
}

#[test]
fn bad_references_and_flags_are_named() {
    let err = |r: Result<Vec<Call>>| r.unwrap_err().to_string();
    assert_eq!(
        err(one_call(0x01, &[0, 0])),
        "call chunk: call 0 refers to a call 1 before it"
    );
    assert_eq!(
        err(one_call(0x08, &[5, 0, 0, 0, 0, 0])),
        "call chunk: call 0 takes the ranges of no call"
    );
    assert_eq!(
        err(one_call(0x40, &[5, 0, 0, 0, 0, 0])),
        "call chunk: call 0 has unknown flags 0x40"
    );
    // Version 5 knows TIMED (0x40), on a call that takes its ranges.
    let v5 = |head: u8, rest: &[u8]| {
        let mut raw = vec![0, 1, head];
        raw.extend(rest);
        decode_calls(&zstd::bulk::compress(&raw, 1).unwrap(), 5)
    };
    assert_eq!(
        err(v5(0x50, &[5, 0, 0, 0, 0, 0])),
        "call chunk: call 0 is timed but has ranges of its own"
    );
    assert_eq!(
        err(v5(0x80, &[5, 0, 0, 0, 0, 0])),
        "call chunk: call 0 has unknown flags 0x80"
    );
    // A plain call decodes; with one byte more, the byte is stray.
    let ok = one_call(0x10, &[5, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!((ok[0].func, &ok[0].outcome), (CLOCK, &Outcome::Errno(0)));
    assert_eq!(
        err(one_call(0x10, &[5, 0, 0, 0, 0, 0, 9])),
        "call chunk: 1 stray bytes after the record"
    );
}

#[test]
fn a_damaged_chunk_is_an_error_never_a_panic() {
    let mut calls = varied_calls();
    calls.extend((0..12).map(|i| clock(0, i % 2, 8 * (i % 3) as u32, i, i)));
    for (i, c) in calls.iter_mut().enumerate() {
        c.seq = 1000 + i as u64;
    }
    for version in [4, 5] {
        let raw = raw_of(&calls, version);
        let compress = |b: &[u8]| zstd::bulk::compress(b, 1).unwrap();
        let mut decoder = ChunkDecoder::default();
        let mut batch = CallBatch::default();
        for cut in 0..raw.len() {
            let r = decoder.decode_into(&compress(&raw[..cut]), version, &mut batch);
            assert!(
                r.is_err(),
                "v{version}: cut at {cut} of {} decoded",
                raw.len()
            );
        }
        for at in 0..raw.len() {
            let mut bad = raw.clone();
            bad[at] ^= 0xa5;
            let _ = decoder.decode_into(&compress(&bad), version, &mut batch);
        }
    }
}

/// Version 5: a clock read that repeats an earlier one writes how far its
/// time moved beyond the time between the two calls, zigzagged, and says
/// so in its head (TIMED, 0x40) when that is shorter than the move itself.
#[test]
fn version_5_writes_a_repeated_clock_read_as_its_drift() {
    let calls = [
        clock(9, 0, 0x1_0000, 1_000_000, 1000),
        clock(10, 1, 0x1_0008, 5_000, 1100),
        // 260 ns after call 9, its time 250 later: -10, zigzagged 19.
        clock(11, 0, 0x1_0000, 1_000_250, 1260),
        // 250 ns after call 10, its time 260 later: +10, zigzagged 20.
        clock(12, 1, 0x1_0008, 5_260, 1350),
        // The call just before has its arguments now: one back. The clock
        // went back: beyond the 150 ns between them -5410, from its own
        // value -5260, zigzagged 10519 (three bytes either way: not timed).
        clock(13, 1, 0x1_0008, 0, 1500),
    ];
    let raw = raw_of(&calls, 5);
    let tail = [
        0x5a, 160, 7, 19, 0x5a, 90, 7, 20, 0x19, 150, 7, 251, 0x17, 0x29,
    ];
    assert!(raw.ends_with(&tail), "{raw:?}");
    // Version 4 writes the 8 bytes of each of the three times.
    assert_eq!(raw_of(&calls, 4).len(), raw.len() - 5 + 3 * 8);
    assert_eq!(round_trip(&calls), calls);
}

/// Only 8-byte ranges are drifts; the others keep their bytes, in order.
#[test]
fn version_5_leaves_ranges_of_other_lengths_as_they_are() {
    let call = |seq, a: u64, b: &[u8], c: u64| Call {
        seq,
        func: FuncId(Func::fd_read as u16),
        args: vec![3, 16, 2, 40],
        writes: [
            a.to_le_bytes().to_vec(),
            b.to_vec(),
            c.to_le_bytes().to_vec(),
        ]
        .into_iter()
        .enumerate()
        .map(|(k, bytes)| Mem {
            param: 1,
            addr: 100 * k as u32,
            bytes,
        })
        .collect(),
        start_ns: 10 * seq,
        ..Call::default()
    };
    let calls = [call(1, 7, b"abc", 9), call(2, 8, b"xyz", 1 << 40)];
    let raw = raw_of(&calls, 5);
    // Head (back 1, same ranges, success; not timed: the drifts take as
    // many bytes), start +10, duration 0, then 8 - 7 = 1 (zigzagged 2),
    // the 3 bytes, 2^40 - 9 (253 and 8 bytes).
    let mut tail = vec![0x19, 10, 0, 2, b'x', b'y', b'z', 253];
    tail.extend(((1u64 << 40) - 9).wrapping_mul(2).to_le_bytes());
    assert!(raw.ends_with(&tail), "{raw:?}");
    assert_eq!(round_trip(&calls), calls);
}

/// `verify`'s check reads a chunk into a tally, not a batch: it must take
/// and refuse exactly the chunks decoding takes and refuses, with the same
/// words, cut anywhere or with any byte damaged, in both versions.
#[test]
fn the_check_takes_and_refuses_what_decoding_does() {
    let mut calls = varied_calls();
    calls.extend((0..12).map(|i| clock(0, i % 2, 8 * (i % 3) as u32, i << 20, i * 300)));
    for (i, c) in calls.iter_mut().enumerate() {
        c.seq = 1000 + i as u64;
    }
    let compress = |b: &[u8]| zstd::bulk::compress(b, 1).unwrap();
    let (mut decoder, mut checker) = (ChunkDecoder::default(), ChunkDecoder::default());
    let (mut batch, mut unused) = (CallBatch::default(), CallBatch::default());
    for version in [4, 5, 6] {
        let raw = raw_of(&calls, version);
        let mut damaged: Vec<Vec<u8>> = (0..raw.len()).map(|cut| raw[..cut].to_vec()).collect();
        for at in 0..raw.len() {
            let mut bad = raw.clone();
            bad[at] ^= 0xa5;
            damaged.push(bad);
        }
        damaged.push(raw.clone());
        let mut taken = 0;
        for chunk in damaged {
            let payload = compress(&chunk);
            let decoded = decoder
                .decode_into(&payload, version, &mut batch)
                .map(|()| {
                    let mut funcs = FuncCounts::default();
                    for c in batch.briefs() {
                        funcs.add(c.func, c.failed, c.injected, c.dur_ns);
                    }
                    let touches_fds = batch.briefs().any(|c| c.func.touches_fds());
                    (batch.first_seq(), batch.len(), funcs.list(), touches_fds)
                });
            let checked = checker
                .check(&payload, version, &mut unused)
                .map(|c| (c.first_seq, c.calls, c.funcs.list(), c.funcs.touches_fds()));
            match (decoded, checked) {
                (Ok(d), Ok(c)) => {
                    assert_eq!(d, c, "v{version}");
                    taken += 1;
                }
                (Err(d), Err(c)) => assert_eq!(d.to_string(), c.to_string()),
                (d, c) => panic!("v{version}: decoding {d:?}, the check {c:?}"),
            }
        }
        assert!(taken >= 1, "v{version}: the whole chunk is taken");
    }
}
