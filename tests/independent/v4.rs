//! Calls payloads of format versions 4 and 5 ("Calls in versions 4 and 5"
//! in docs/trace-format.md).

use super::{mem, outcome, Bytes, Call, Chunk, Mem, Outcome, Res};

/// A version 4 calls payload: each call starts with a head byte; its low
/// three bits name an earlier call of the chunk (k calls back) whose
/// function and arguments it has, bit 3 says it has that call's memory
/// ranges too (only their bytes follow), bit 4 that the outcome is
/// `Errno(0)` (not written), bit 5 that an injection ends the call. From
/// version 5, an 8-byte range under bit 3 is a zigzag varint: its value
/// minus the earlier call's value, minus also the time between the two
/// starts if bit 6 is set.
pub(super) fn chunk(b: &mut Bytes, version: u32, offset: u64) -> Res<Chunk> {
    let first_seq = b.u64()?;
    let n = b.len()?;
    let mut calls: Vec<Call> = Vec::new();
    let mut start = 0u64;
    for i in 0..n {
        let head = b.u8()?;
        let timed = version >= 5 && head & 0x40 != 0;
        if head >> 7 != 0 || (head & 0x40 != 0 && !timed) {
            return Err(format!("call {i}: head {head:#x} has unknown bits set"));
        }
        let back = (head & 7) as usize;
        let same_ranges = head & 8 != 0;
        if timed && !same_ranges {
            return Err(format!("call {i}: timed without the ranges of a call"));
        }
        let earlier = match back {
            0 => None,
            k if k <= i => Some(calls[i - k].clone()),
            k => return Err(format!("call {i} refers {k} calls back")),
        };
        let (func, args) = match &earlier {
            Some(e) => (e.func, e.args.clone()),
            None if same_ranges => return Err(format!("call {i}: ranges of no call")),
            None => (b.u16()?, b.vec(Bytes::u64)?),
        };
        let outcome = match head & 16 {
            0 => outcome(b)?,
            _ => Outcome::Errno(0),
        };
        start = start
            .checked_add(b.u64()?)
            .ok_or("start times overflow u64")?;
        let dur_ns = b.u64()?;
        let (reads, writes) = match (&earlier, same_ranges) {
            (Some(e), true) => {
                let since = if timed {
                    start.wrapping_sub(e.start_ns)
                } else {
                    0
                };
                let mut refill = |ms: &[Mem]| -> Res<Vec<Mem>> {
                    ms.iter()
                        .map(|m| {
                            let bytes = match <[u8; 8]>::try_from(&m.bytes[..]) {
                                Ok(was) if version >= 5 => {
                                    let z = b.u64()?;
                                    let drift = (z >> 1) ^ (z & 1).wrapping_neg();
                                    u64::from_le_bytes(was)
                                        .wrapping_add(since)
                                        .wrapping_add(drift)
                                        .to_le_bytes()
                                        .to_vec()
                                }
                                _ => b.take(m.bytes.len())?.to_vec(),
                            };
                            Ok(Mem { bytes, ..m.clone() })
                        })
                        .collect()
                };
                (refill(&e.reads)?, refill(&e.writes)?)
            }
            _ => (b.vec(mem)?, b.vec(mem)?),
        };
        calls.push(Call {
            seq: first_seq + i as u64,
            func,
            args,
            outcome,
            start_ns: start,
            dur_ns,
            reads,
            writes,
            injection: if head & 32 != 0 { b.u16()? } else { 0 },
        });
    }
    Ok(Chunk {
        offset,
        first_seq,
        calls,
    })
}
