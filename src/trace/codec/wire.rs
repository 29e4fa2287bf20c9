//! bincode 2's standard encoding of the primitives, written and read by
//! hand for the calls records (every length bounded by the bytes left):
//! the spec's "Encoding of records".

use crate::trace::Outcome;
use anyhow::{bail, Context, Result};

/// bincode 2's standard encoding, written by hand (see [`WireReader`]).
pub(super) struct WireWriter<'a>(pub(super) &'a mut Vec<u8>);

impl WireWriter<'_> {
    #[inline]
    pub(super) fn varint(&mut self, v: u64) {
        match v {
            0..=250 => self.0.push(v as u8),
            251..=0xffff => {
                self.0.push(251);
                self.0.extend_from_slice(&(v as u16).to_le_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.0.push(252);
                self.0.extend_from_slice(&(v as u32).to_le_bytes());
            }
            _ => {
                self.0.push(253);
                self.0.extend_from_slice(&v.to_le_bytes());
            }
        }
    }

    pub(super) fn outcome(&mut self, o: &Outcome) {
        match o {
            Outcome::Errno(e) => {
                self.varint(0);
                self.varint(*e as u64);
            }
            Outcome::Exit(code) => {
                self.varint(1);
                // zigzag: 0, -1, 1, -2, … as 0, 1, 2, 3, …
                self.varint(((code << 1) ^ (code >> 31)) as u32 as u64);
            }
            Outcome::Trap(msg) => {
                self.varint(2);
                self.varint(msg.len() as u64);
                self.0.extend_from_slice(msg.as_bytes());
            }
        }
    }
}

/// bincode 2's standard encoding, read by hand: varints (a value below 251
/// in one byte, else 251/252/253 and 2/4/8 bytes little-endian), zigzag for
/// signed integers, `u8` as a raw byte, lengths as varints.
pub(super) struct WireReader<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) at: usize,
}

impl<'a> WireReader<'a> {
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .context("call chunk: cut short")?;
        let b = &self.bytes[self.at..end];
        self.at = end;
        Ok(b)
    }

    /// An unsigned varint of a type `width` bytes wide.
    #[inline]
    pub(super) fn varint(&mut self, width: usize) -> Result<u64> {
        // Most values are below 251: one byte.
        if let Some(&b) = self.bytes.get(self.at) {
            if b <= 250 {
                self.at += 1;
                return Ok(b as u64);
            }
        }
        self.wide_varint(width)
    }

    /// A varint of more than one byte (or cut short, or damaged).
    fn wide_varint(&mut self, width: usize) -> Result<u64> {
        let rest = &self.bytes[self.at.min(self.bytes.len())..];
        let (n, value) = match rest {
            [251, b @ ..] if b.len() >= 2 => (2, u16::from_le_bytes([b[0], b[1]]) as u64),
            [252, b @ ..] if b.len() >= 4 => (4, u32::from_le_bytes(b[..4].try_into()?) as u64),
            [253, b @ ..] if b.len() >= 8 => (8, u64::from_le_bytes(b[..8].try_into()?)),
            [] | [251..=253, ..] => bail!("call chunk: cut short"),
            [other, ..] => bail!("call chunk: invalid varint marker {other}"),
        };
        if n > width {
            bail!("call chunk: a {n}-byte varint for a {width}-byte integer");
        }
        self.at += 1 + n;
        Ok(value)
    }

    /// A length of items at least `min_item` bytes each: never more than
    /// the bytes left could hold, so a damaged length cannot run away.
    pub(super) fn len(&mut self, min_item: usize) -> Result<usize> {
        let n = self.varint(8)?;
        let left = (self.bytes.len() - self.at) as u64;
        if n.saturating_mul(min_item as u64) > left {
            bail!("call chunk: a length of {n} with {left} bytes left");
        }
        Ok(n as usize)
    }

    pub(super) fn outcome(&mut self) -> Result<Outcome> {
        Ok(match self.varint(4)? {
            0 => Outcome::Errno(self.varint(2)? as u16),
            1 => {
                let z = self.varint(4)? as u32;
                Outcome::Exit(((z >> 1) as i32) ^ -((z & 1) as i32))
            }
            2 => {
                let n = self.len(1)?;
                let text = std::str::from_utf8(self.take(n)?)
                    .context("call chunk: a trap message that is not UTF-8")?;
                Outcome::Trap(text.to_string())
            }
            other => bail!("call chunk: unknown outcome {other}"),
        })
    }

    pub(super) fn mem(&mut self) -> Result<(u8, u32, &'a [u8])> {
        let param = self.take(1)?[0];
        let addr = self.varint(4)? as u32;
        let n = self.len(1)?;
        Ok((param, addr, self.take(n)?))
    }
}
