//! Calls records of format version 4: a call that repeats the function and
//! arguments of one of the 7 calls before it in its chunk says so in one
//! byte instead of writing them again, and may take that call's memory
//! ranges (parameter, address, length) too, so that only their bytes
//! follow. A Go program's clock read is then about 12 bytes before
//! compression instead of 31: zstd, the writer's largest cost, has less
//! than half the bytes to chew, and the encoder less than half to write.
//! References never cross a chunk: every chunk still decodes on its own.
//! The layout is "Calls in version 4" in docs/trace-format.md.

use super::{WireReader, WireWriter};
use crate::syscalls::FuncId;
use crate::trace::batch::CallBatch;
use crate::trace::{Injection, Outcome};
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

/// Writes `batch` as a version 4 calls record (before compression).
pub(super) fn write_chunk(batch: &CallBatch, out: &mut Vec<u8>) {
    let mut w = WireWriter(out);
    w.varint(batch.first_seq());
    w.varint(batch.len() as u64);
    let mut prev_start = 0;
    for (i, c) in batch.views().enumerate() {
        let (back, same_ranges) = reference(batch, i);
        let mut head = back as u8;
        if same_ranges {
            head |= SAME_RANGES;
        }
        let success = *c.outcome == Outcome::Errno(0);
        if success {
            head |= SUCCESS;
        }
        if c.injection.is_injected() {
            head |= INJECTED;
        }
        w.0.push(head);
        if back == 0 {
            w.varint(c.func.0 as u64);
            w.varint(c.args.len() as u64);
            for &a in c.args {
                w.varint(a);
            }
        }
        if !success {
            w.outcome(c.outcome);
        }
        w.varint(c.start_ns.saturating_sub(prev_start));
        prev_start = c.start_ns;
        w.varint(c.dur_ns);
        if same_ranges {
            for (_, _, bytes) in c.reads.iter().chain(c.writes.iter()) {
                w.0.extend_from_slice(bytes);
            }
        } else {
            for mems in [c.reads, c.writes] {
                w.varint(mems.iter().len() as u64);
                for (param, addr, bytes) in mems.iter() {
                    w.0.push(param);
                    w.varint(addr as u64);
                    w.varint(bytes.len() as u64);
                    w.0.extend_from_slice(bytes);
                }
            }
        }
        if c.injection.is_injected() {
            w.varint(c.injection.0 as u64);
        }
    }
}

/// The nearest of the 7 calls before call `i` with its function and
/// arguments (0: none), preferring one whose ranges it shares; and whether
/// it does.
fn reference(batch: &CallBatch, i: usize) -> (usize, bool) {
    let mut found = 0;
    for back in 1..=MAX_BACK.min(i) {
        match batch.repeats(i - back, i) {
            Some(true) => return (back, true),
            Some(false) if found == 0 => found = back,
            _ => {}
        }
    }
    (found, false)
}

/// Reads a version 4 calls record into `batch`. `args` is a scratch
/// buffer kept by the caller. A call that refers back is pushed as a
/// repeat: it shares the referred call's arguments in the batch, and its
/// ranges' bytes go in with one copy.
pub(super) fn read_chunk(raw: &[u8], batch: &mut CallBatch, args: &mut Vec<u64>) -> Result<()> {
    let mut r = WireReader { bytes: raw, at: 0 };
    let first_seq = r.varint(8)?;
    batch.reset(first_seq);
    // A call takes at least its head, a start and a duration: 3 bytes.
    let calls = r.len(3)?;
    let mut start = 0u64;
    for i in 0..calls {
        let head = r.take(1)?[0];
        if head & !KNOWN_BITS != 0 {
            bail!("call chunk: call {i} has unknown flags {head:#04x}");
        }
        let back = (head & BACK_MASK) as usize;
        let same_ranges = head & SAME_RANGES != 0;
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
            let bytes = r.take(batch.ranges_len(i - back))?;
            batch.add_ranges_of(i - back, bytes);
        } else {
            for _ in 0..r.len(3)? {
                let (param, addr, bytes) = r.mem()?;
                batch.add_read(param, addr, bytes);
            }
            for _ in 0..r.len(3)? {
                let (param, addr, bytes) = r.mem()?;
                batch.add_write(param, addr, bytes);
            }
        }
        match func {
            Some(func) => batch.push(func, args, outcome, start, dur_ns),
            None => batch.push_repeat(i - back, outcome, start, dur_ns),
        };
        if head & INJECTED != 0 {
            batch.mark_injected(Injection(r.varint(2)? as u16));
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
