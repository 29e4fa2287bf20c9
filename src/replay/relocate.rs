//! Memory effects: compared and applied in place when the guest's pointers
//! are the recorded ones, moved to the new addresses when a rebuilt module
//! put its buffers elsewhere.

use crate::capture;
use crate::syscalls::{Kind, Syscall};
use crate::trace::{Call, Mem, MemsView};

/// Whether the guest hands in exactly the recorded memory, at the recorded
/// addresses: compared in place, without copying.
pub(super) fn reads_match(sys: &Syscall, args: &[u64], data: &[u8], recorded: MemsView) -> bool {
    let mut recorded = recorded.iter();
    let mut same = true;
    capture::read_ranges(sys, args, data, |r| {
        same &= recorded.next().is_some_and(|(param, addr, bytes)| {
            param == r.param && addr == r.addr && bytes == r.bytes(data)
        });
    });
    same && recorded.next().is_none()
}

/// Writes memory effects into guest memory; says so when one falls outside.
pub(super) fn apply<'a>(
    data: &mut [u8],
    effects: impl Iterator<Item = (u32, &'a [u8])>,
) -> Result<(), String> {
    for (addr, bytes) in effects {
        let start = addr as usize;
        match data.get_mut(start..start + bytes.len()) {
            Some(dst) => dst.copy_from_slice(bytes),
            None => {
                return Err(format!(
                    "the recorded memory effect at {addr:#x} ({} bytes) is outside guest memory",
                    bytes.len()
                ))
            }
        }
    }
    Ok(())
}

/// The recorded memory effects moved to where the guest's pointers point
/// now: the same offset from each out-pointer, the same iovec buffer, and
/// argv/environ pointer arrays rebased onto the new string buffer.
pub(super) fn relocate(
    sys: &Syscall,
    recorded: &Call,
    args: &[u64],
    reads: &[Mem],
) -> Result<Vec<(u32, Vec<u8>)>, String> {
    let arg = |a: &[u64], i: usize| a.get(i).copied().unwrap_or(0) as u32;
    let list = |mems: &[Mem], p: u8| -> Vec<(u32, u32)> {
        mems.iter()
            .find(|m| m.param == p)
            .map(|m| capture::iovecs(&m.bytes).collect())
            .unwrap_or_default()
    };
    let mut out = Vec::with_capacity(recorded.writes.len());
    for w in &recorded.writes {
        let p = w.param as usize;
        let shift = |addr: u32| {
            addr.wrapping_sub(arg(&recorded.args, p))
                .wrapping_add(arg(args, p))
        };
        let moved = match sys.params.get(p).map(|q| q.kind) {
            Some(Kind::Iovecs { .. }) => {
                let (was, now) = (list(&recorded.reads, w.param), list(reads, w.param));
                let j = was
                    .iter()
                    .position(|(buf, _)| *buf == w.addr)
                    .ok_or("a recorded read buffer is not in its iovec list")?;
                (now[j].0, w.bytes.clone())
            }
            Some(Kind::StringPtrs(_)) => {
                // The array holds pointers into the string buffer parameter.
                let q = sys
                    .params
                    .iter()
                    .position(|q| matches!(q.kind, Kind::StringBuf(_)))
                    .unwrap_or(p);
                let delta = arg(args, q).wrapping_sub(arg(&recorded.args, q));
                let bytes = w
                    .bytes
                    .chunks(4)
                    .flat_map(|c| match <[u8; 4]>::try_from(c) {
                        Ok(b) => u32::from_le_bytes(b)
                            .wrapping_add(delta)
                            .to_le_bytes()
                            .to_vec(),
                        Err(_) => c.to_vec(),
                    })
                    .collect();
                (shift(w.addr), bytes)
            }
            _ => (shift(w.addr), w.bytes.clone()),
        };
        out.push(moved);
    }
    Ok(out)
}
