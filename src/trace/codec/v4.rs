//! Calls records of format versions 4 to 6 (6 lays them out as 5): a call
//! that repeats the function and arguments of one of the 7 calls before it
//! in its chunk says so in one byte instead of writing them again, and may
//! take that call's memory ranges (parameter, address, length) too, so
//! that only their bytes follow. A Go program's clock read is then about
//! 12 bytes before compression instead of 31: zstd, the writer's largest
//! cost, has less than half the bytes to chew, and the encoder less than
//! half to write. Version 5 writes an 8-byte range of such a call as its
//! drift: how much its value differs from the referred call's, or (a head
//! bit says which) how much beyond the time between the two calls. A clock
//! read's 8 bytes of time become one or two and the call about 4 bytes; an
//! unchanged iovec list takes one. References never cross a chunk: every
//! chunk still decodes on its own. The layout is "Calls in versions 4 and
//! 5" in docs/trace-format.md.

use super::{WireReader, WireWriter};
use crate::syscalls::FuncId;
use crate::trace::batch::{BatchCall, CallBatch, Parts};
use crate::trace::{FuncCounts, Injection, Outcome};
use anyhow::{bail, Result};

/// How far back a call may refer: the head byte's low three bits.
const MAX_BACK: usize = 7;
const BACK_MASK: u8 = 0b111;
/// The memory ranges are the referred call's, with new bytes.
const SAME_RANGES: u8 = 1 << 3;
/// The outcome is `Errno(0)` and is not written.
const SUCCESS: u8 = 1 << 4;
/// An injection (u16) ends the call.
const INJECTED: u8 = 1 << 5;
const KNOWN_BITS: u8 = BACK_MASK | SAME_RANGES | SUCCESS | INJECTED;
/// Version 5: the drifts of 8-byte ranges are measured beyond the time
/// between the two calls (a clock's reading), not from the value itself.
const TIMED: u8 = 1 << 6;

/// The first version whose 8-byte ranges under SAME_RANGES are drifts.
const DRIFTS_FROM: u32 = 5;
/// The length of a range written as a drift (a timestamp, a file size).
const DRIFT_LEN: usize = 8;

/// What version 5 writes for an 8-byte `value` whose counterpart in the
/// referred call is `earlier`: the difference beyond `gap` (the time
/// between the two calls' starts under TIMED, else 0), zigzagged (0, -1,
/// 1, -2, … as 0, 1, 2, 3, …).
fn drift(value: u64, earlier: u64, gap: u64) -> u64 {
    let d = value.wrapping_sub(earlier).wrapping_sub(gap) as i64;
    ((d << 1) ^ (d >> 63)) as u64
}

/// The value [`drift`] was made from.
fn value_of_drift(z: u64, earlier: u64, gap: u64) -> u64 {
    let d = (z >> 1) as i64 ^ -((z & 1) as i64);
    earlier.wrapping_add(gap).wrapping_add(d as u64)
}

/// Writes `batch` as a calls record of `version` (4 or later) before
/// compression. The recorder writes the current version; version 4 is
/// written by tests of the reader.
pub(super) fn write_chunk(batch: &CallBatch, version: u32, out: &mut Vec<u8>) {
    let drifts = version >= DRIFTS_FROM;
    let p = batch.parts();
    let mut w = WireWriter(out);
    w.varint(batch.first_seq());
    w.varint(batch.len() as u64);
    let mut prev_start = 0;
    // The start times a reader will see (deltas that would go back are 0),
    // of the last MAX_BACK + 1 calls: a TIMED drift is measured from them.
    let mut seen = [0u64; MAX_BACK + 1];
    let mut seen_start = 0u64;
    let mut last_back = 0;
    for (i, c) in p.calls.iter().enumerate() {
        let (back, same_ranges) = reference(&p, i, last_back);
        last_back = back;
        let start_delta = c.start_ns.saturating_sub(prev_start);
        prev_start = c.start_ns;
        seen_start = seen_start.saturating_add(start_delta);
        seen[i % seen.len()] = seen_start;
        let mut head = back as u8;
        if same_ranges {
            head |= SAME_RANGES;
        }
        let success = c.outcome == Outcome::Errno(0);
        if success {
            head |= SUCCESS;
        }
        if c.injection.is_injected() {
            head |= INJECTED;
        }
        let head_at = w.0.len();
        w.0.push(head);
        if back == 0 {
            let args = p.args(c);
            w.varint(c.func.0 as u64);
            w.varint(args.len() as u64);
            for &a in args {
                w.varint(a);
            }
        }
        if !success {
            w.outcome(&c.outcome);
        }
        w.varint(start_delta);
        w.varint(c.dur_ns);
        if same_ranges && drifts {
            let gap = seen_start.wrapping_sub(seen[(i - back) % seen.len()]);
            if write_same_ranges(&mut w, &p, c, &p.calls[i - back], gap) {
                w.0[head_at] |= TIMED;
            }
        } else if same_ranges {
            w.0.extend_from_slice(p.all_bytes(c));
        } else {
            let (reads, writes) = p.ranges(c).split_at(c.reads as usize);
            for mems in [reads, writes] {
                w.varint(mems.len() as u64);
                for m in mems {
                    w.0.push(m.param);
                    w.varint(m.addr as u64);
                    w.varint(m.len as u64);
                    w.0.extend_from_slice(p.bytes(m));
                }
            }
        }
        if c.injection.is_injected() {
            w.varint(c.injection.0 as u64);
        }
    }
}

/// Writes the bytes of `c`'s ranges, which are `earlier`'s: 8-byte ones
/// as their drifts from `earlier`'s beyond `gap` (the time between the two
/// calls), or from 0 if that is not shorter (then they are written again);
/// the others whole. Returns whether `gap` was kept: the head's TIMED.
fn write_same_ranges(
    w: &mut WireWriter,
    p: &Parts,
    c: &BatchCall,
    earlier: &BatchCall,
    gap: u64,
) -> bool {
    let mark = w.0.len();
    let (mut timed, mut plain) = (0, 0);
    write_drifts(w, p, c, earlier, |now, was| {
        let beyond_gap = drift(now, was, gap);
        timed += varint_len(beyond_gap);
        plain += varint_len(drift(now, was, 0));
        beyond_gap
    });
    if timed < plain {
        return true;
    }
    if gap != 0 && timed > 0 {
        w.0.truncate(mark);
        write_drifts(w, p, c, earlier, |now, was| drift(now, was, 0));
    }
    false
}

/// The bytes of `c`'s ranges, 8-byte ones as `encode(value, earlier's)`.
fn write_drifts(
    w: &mut WireWriter,
    p: &Parts,
    c: &BatchCall,
    earlier: &BatchCall,
    mut encode: impl FnMut(u64, u64) -> u64,
) {
    for (m, e) in p.ranges(c).iter().zip(p.ranges(earlier)) {
        let bytes = p.bytes(m);
        let number = |b| <[u8; DRIFT_LEN]>::try_from(b).map(u64::from_le_bytes);
        match (number(bytes), number(p.bytes(e))) {
            (Ok(now), Ok(was)) => w.varint(encode(now, was)),
            _ => w.0.extend_from_slice(bytes),
        }
    }
}

/// The bytes of `v` as a varint.
fn varint_len(v: u64) -> usize {
    match v {
        0..=250 => 1,
        251..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// A call before call `i` with its function and arguments (back 0: none),
/// and whether it shares its ranges too. The distance the call before
/// referred to is tried first (a Go program alternates two clocks: every
/// read refers two back), then the nearest of the 7 calls before, one
/// whose ranges it shares preferred.
fn reference(p: &Parts, i: usize, last_back: usize) -> (usize, bool) {
    if last_back != 0 && last_back <= i && p.repeats(i - last_back, i) == Some(true) {
        return (last_back, true);
    }
    let mut found = 0;
    for back in 1..=MAX_BACK.min(i) {
        match p.repeats(i - back, i) {
            Some(true) => return (back, true),
            Some(false) if found == 0 => found = back,
            _ => {}
        }
    }
    (found, false)
}

/// Scratch buffers a reader keeps between chunks.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) args: Vec<u64>,
    bytes: Vec<u8>,
}

/// Where the calls of a chunk go as [`read_calls`] reads them: a batch
/// (every reader of calls), or a tally that keeps only what reading on
/// needs (`verify`, which only asks whether the chunk reads).
pub(super) trait ChunkSink {
    fn reset(&mut self, first_seq: u64);
    fn add_read(&mut self, param: u8, addr: u32, bytes: &[u8]);
    fn add_write(&mut self, param: u8, addr: u32, bytes: &[u8]);
    /// Reads the ranges of the open call, which are call `earlier`'s: its
    /// ranges' bytes, 8-byte ones as drifts if `drifts` (beyond the time
    /// since `earlier` started if `timed_start` is this call's start).
    fn same_ranges(
        &mut self,
        r: &mut WireReader,
        earlier: usize,
        drifts: bool,
        timed_start: Option<u64>,
    ) -> Result<()>;
    fn push(&mut self, func: FuncId, args: &[u64], outcome: Outcome, start: u64, dur: u64);
    fn push_repeat(&mut self, earlier: usize, outcome: Outcome, start: u64, dur: u64);
    fn mark_injected(&mut self, injection: Injection);
}

/// A batch being filled by [`read_calls`]: a call that refers back is
/// pushed as a repeat (it shares the referred call's arguments), and its
/// ranges' bytes go in with one copy.
pub(super) struct Filling<'a> {
    pub(super) batch: &'a mut CallBatch,
    pub(super) bytes: &'a mut Vec<u8>,
}

impl ChunkSink for Filling<'_> {
    fn reset(&mut self, first_seq: u64) {
        self.batch.reset(first_seq);
    }

    fn add_read(&mut self, param: u8, addr: u32, bytes: &[u8]) {
        self.batch.add_read(param, addr, bytes);
    }

    fn add_write(&mut self, param: u8, addr: u32, bytes: &[u8]) {
        self.batch.add_write(param, addr, bytes);
    }

    fn same_ranges(
        &mut self,
        r: &mut WireReader,
        earlier: usize,
        drifts: bool,
        timed_start: Option<u64>,
    ) -> Result<()> {
        let p = self.batch.parts();
        let e = &p.calls[earlier];
        let bytes = if drifts && p.ranges(e).iter().any(|m| m.len == DRIFT_LEN) {
            let gap = timed_start.map_or(0, |start| start.wrapping_sub(e.start_ns));
            read_same_ranges(r, &p, e, gap, self.bytes)?;
            &self.bytes[..]
        } else {
            r.take(p.all_bytes(e).len())?
        };
        self.batch.add_ranges_of(earlier, bytes);
        Ok(())
    }

    fn push(&mut self, func: FuncId, args: &[u64], outcome: Outcome, start: u64, dur: u64) {
        self.batch.push(func, args, outcome, start, dur);
    }

    fn push_repeat(&mut self, earlier: usize, outcome: Outcome, start: u64, dur: u64) {
        self.batch.push_repeat(earlier, outcome, start, dur);
    }

    fn mark_injected(&mut self, injection: Injection) {
        self.batch.mark_injected(injection);
    }
}

/// A chunk read for `verify`: the number of its calls, each function's
/// counts as the summary counts them, and, for the last 8 calls, their
/// functions and the lengths of their ranges (what a later call taking
/// them needs to read on). Nothing is copied, nothing kept: a fifth of
/// the work of filling a batch.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) first_seq: u64,
    pub(super) calls: usize,
    pub(super) funcs: FuncCounts,
    /// Range lengths of the last MAX_BACK + 1 calls, by number mod 8.
    lens: [Vec<usize>; MAX_BACK + 1],
    /// Functions of the last MAX_BACK + 1 calls, by number mod 8.
    recent: [FuncId; MAX_BACK + 1],
    /// The open call's range lengths.
    open: Vec<usize>,
}

impl Tally {
    #[inline(always)]
    fn close(&mut self, func: FuncId, outcome: Outcome, dur: u64) {
        let slot = self.calls % self.lens.len();
        std::mem::swap(&mut self.lens[slot], &mut self.open);
        self.open.clear();
        self.recent[slot] = func;
        self.funcs.add(func, outcome.is_error(), false, dur);
        self.calls += 1;
    }
}

impl ChunkSink for Tally {
    fn reset(&mut self, first_seq: u64) {
        self.first_seq = first_seq;
        self.calls = 0;
        self.funcs = FuncCounts::default();
        self.open.clear();
    }

    fn add_read(&mut self, _: u8, _: u32, bytes: &[u8]) {
        self.open.push(bytes.len());
    }

    fn add_write(&mut self, _: u8, _: u32, bytes: &[u8]) {
        self.open.push(bytes.len());
    }

    #[inline]
    fn same_ranges(
        &mut self,
        r: &mut WireReader,
        earlier: usize,
        drifts: bool,
        _: Option<u64>,
    ) -> Result<()> {
        let Tally { lens, open, .. } = self;
        for &len in &lens[earlier % lens.len()] {
            if drifts && len == DRIFT_LEN {
                r.varint(8)?;
            } else {
                r.take(len)?;
            }
            open.push(len);
        }
        Ok(())
    }

    #[inline(always)]
    fn push(&mut self, func: FuncId, _: &[u64], outcome: Outcome, _: u64, dur: u64) {
        self.close(func, outcome, dur);
    }

    #[inline(always)]
    fn push_repeat(&mut self, earlier: usize, outcome: Outcome, _: u64, dur: u64) {
        self.close(self.recent[earlier % self.recent.len()], outcome, dur);
    }

    fn mark_injected(&mut self, injection: Injection) {
        if injection.is_injected() {
            let last = (self.calls - 1) % self.recent.len();
            self.funcs.add_injected(self.recent[last]);
        }
    }
}

/// Reads a calls record of `version` (4 or later) into a batch.
pub(super) fn read_chunk(
    raw: &[u8],
    version: u32,
    batch: &mut CallBatch,
    scratch: &mut Scratch,
) -> Result<()> {
    let mut filling = Filling {
        batch,
        bytes: &mut scratch.bytes,
    };
    read_calls(raw, version, &mut filling, &mut scratch.args)
}

/// Reads a calls record of `version` (4 or later) into `sink`; `args` is a
/// scratch buffer.
pub(super) fn read_calls(
    raw: &[u8],
    version: u32,
    sink: &mut impl ChunkSink,
    args: &mut Vec<u64>,
) -> Result<()> {
    let drifts = version >= DRIFTS_FROM;
    let known = if drifts {
        KNOWN_BITS | TIMED
    } else {
        KNOWN_BITS
    };
    let mut r = WireReader { bytes: raw, at: 0 };
    let first_seq = r.varint(8)?;
    sink.reset(first_seq);
    // A call takes at least its head, a start and a duration: 3 bytes.
    let calls = r.len(3)?;
    let mut start = 0u64;
    for i in 0..calls {
        let head = r.take(1)?[0];
        if head & !known != 0 {
            bail!("call chunk: call {i} has unknown flags {head:#04x}");
        }
        let back = (head & BACK_MASK) as usize;
        let same_ranges = head & SAME_RANGES != 0;
        if head & TIMED != 0 && !same_ranges {
            bail!("call chunk: call {i} is timed but has ranges of its own");
        }
        let func = if back == 0 {
            if same_ranges {
                bail!("call chunk: call {i} takes the ranges of no call");
            }
            args.clear();
            let func = FuncId(r.varint(2)? as u16);
            for _ in 0..r.len(1)? {
                args.push(r.varint(8)?);
            }
            Some(func)
        } else if back > i {
            bail!("call chunk: call {i} refers to a call {back} before it");
        } else {
            None
        };
        let outcome = match head & SUCCESS {
            0 => r.outcome()?,
            _ => Outcome::Errno(0),
        };
        start = start.saturating_add(r.varint(8)?);
        let dur_ns = r.varint(8)?;
        if same_ranges {
            let timed_start = (head & TIMED != 0).then_some(start);
            sink.same_ranges(&mut r, i - back, drifts, timed_start)?;
        } else {
            for _ in 0..r.len(3)? {
                let (param, addr, bytes) = r.mem()?;
                sink.add_read(param, addr, bytes);
            }
            for _ in 0..r.len(3)? {
                let (param, addr, bytes) = r.mem()?;
                sink.add_write(param, addr, bytes);
            }
        }
        match func {
            Some(func) => sink.push(func, args, outcome, start, dur_ns),
            None => sink.push_repeat(i - back, outcome, start, dur_ns),
        };
        if head & INJECTED != 0 {
            sink.mark_injected(Injection(r.varint(2)? as u16));
        }
    }
    if r.at != raw.len() {
        bail!(
            "call chunk: {} stray bytes after the record",
            raw.len() - r.at
        );
    }
    Ok(())
}

/// The bytes of a call's ranges, which are `earlier`'s, into `out`: 8-byte
/// ones from their drifts from `earlier`'s beyond `gap`, others as
/// written.
fn read_same_ranges(
    r: &mut WireReader,
    p: &Parts,
    earlier: &BatchCall,
    gap: u64,
    out: &mut Vec<u8>,
) -> Result<()> {
    out.clear();
    for m in p.ranges(earlier) {
        match <[u8; DRIFT_LEN]>::try_from(p.bytes(m)) {
            Ok(was) => {
                let value = value_of_drift(r.varint(8)?, u64::from_le_bytes(was), gap);
                out.extend_from_slice(&value.to_le_bytes());
            }
            Err(_) => out.extend_from_slice(r.take(m.len)?),
        }
    }
    Ok(())
}
