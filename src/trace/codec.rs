//! Bytes on disk: framing, hashing, bincode 2 and zstd. The only module that
//! knows how trace records are encoded.
//!
//! ```text
//! file   = magic frame* [footer]
//! magic  = "WTRACE" 0x00 <format version: u8>                   8 bytes
//! frame  = <kind: u8> <payload length: u32 LE> <chain: 32 bytes> payload
//! chain  = blake3(previous frame's chain || kind || payload); 32 zero bytes before the first frame
//! payload= zstd(bincode(record))   (zstd frames carry their own checksum;
//!          from version 4 a calls record is bincode's primitives in the
//!          layout of [`v4`], which version 5 refines)
//! footer = <offset of the index frame: u64 LE> "WTRCIDX" 0x00   16 bytes
//! ```

use super::batch::CallBatch;
use super::{End, FuncCounts, Header, Injection};
use crate::syscalls::FuncId;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::io::Read;
use wire::{WireReader, WireWriter};

/// Version of the trace format. Readers refuse newer versions and read
/// every older one (see "Versions" in docs/trace-format.md).
/// 2: foreign imports have the ids 0x8000 + k (in version 1: 46 + k).
/// 3: calls say whether they were injected; the header ends with the faults.
/// 4: a call may take the function, arguments and memory ranges of one of
///    the 7 calls before it in its chunk (see [`v4`]).
/// 5: such a call's 8-byte ranges are drifts from the referred call's.
/// 6: the end record ends with the trace's summary (what `stats` shows).
pub const FORMAT_VERSION: u32 = 6;
/// The first version whose end record holds a [`super::Summary`].
pub const SUMMARY_FROM: u32 = 6;
pub const MAGIC_PREFIX: &[u8; 7] = b"WTRACE\0";
pub const MAGIC_LEN: u64 = 8;
pub const FRAME_HEADER_LEN: u64 = 1 + 4 + 32;
pub const FOOTER_MAGIC: &[u8; 8] = b"WTRCIDX\0";
pub const FOOTER_LEN: u64 = 16;
/// zstd level of chunks: -1, the first of zstd's "fast" levels. The
/// recorder's writer thread compresses while the guest runs; at level 3
/// (zstd's default) it took as much CPU as the guest's own thread on
/// clock-heavy code, and level -1 takes about 10% less of the writer's
/// CPU than level 1 for chunks about 13% larger (docs/performance.md).
const CHUNK_ZSTD_LEVEL: i32 = -1;
/// The header (with the module) is written once, at level 1: a 2.5 MB Go
/// module takes 8 ms to compress instead of zstd's default level 3's 14
/// (8% of the CPU of recording a 0.1 s run), for 9% more bytes (783 KB
/// instead of 721).
const HEADER_ZSTD_LEVEL: i32 = 1;
/// No record decompresses to more than this; a corrupt frame cannot make a
/// reader allocate without bound.
const MAX_RECORD: u64 = 8 << 30;

/// The first foreign import's id in version 1 traces.
const V1_FOREIGN_BASE: u16 = 46;

pub fn magic() -> [u8; 8] {
    let mut m = [0u8; 8];
    m[..7].copy_from_slice(MAGIC_PREFIX);
    m[7] = FORMAT_VERSION as u8;
    m
}

/// Kinds of frames, as stored in the frame's first byte.
pub mod kind {
    pub const HEADER: u8 = 1;
    pub const CALLS: u8 = 2;
    pub const END: u8 = 3;
    pub const INDEX: u8 = 4;
}

pub fn chain(prev: &[u8; 32], kind: u8, payload: &[u8]) -> [u8; 32] {
    if payload.len() <= CHAIN_COPY_MAX {
        return CHAIN_INPUT.with_borrow_mut(|input| {
            input.clear();
            input.extend_from_slice(prev);
            input.push(kind);
            input.extend_from_slice(payload);
            *blake3::hash(input).as_bytes()
        });
    }
    let mut h = blake3::Hasher::new();
    h.update(prev);
    h.update(&[kind]);
    h.update(payload);
    *h.finalize().as_bytes()
}

/// Payloads up to this size are copied behind the previous chain value
/// and the kind byte and hashed as one input ([`CHAIN_INPUT`]): blake3
/// hashes an input it sees whole in SIMD batches of 1 KiB chunks, where
/// an input given in pieces (33 bytes, then the payload) leaves it
/// hashing most of a frame's chunks one at a time. Bigger payloads are
/// few, and hashed in pieces, without the copy.
const CHAIN_COPY_MAX: usize = 256 << 10;

thread_local! {
    /// Each thread's buffer for [`chain`]'s input.
    static CHAIN_INPUT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard()
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    compress(&encode_raw(value)?, HEADER_ZSTD_LEVEL)
}

fn encode_raw<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    Ok(bincode::serde::encode_to_vec(value, config())?)
}

/// A message between wtrace's own processes (time travel's server and the
/// machine asking it, `crate::timetravel`): bincode 2 as records are,
/// uncompressed; the framing is the caller's.
pub fn encode_message<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    encode_raw(value)
}

/// A message [`encode_message`] made, the whole of `raw`.
pub fn decode_message<T: for<'de> Deserialize<'de>>(raw: &[u8], what: &str) -> Result<T> {
    let (value, used) = decode_raw(raw, what)?;
    no_stray_bytes(&raw[used..], what)?;
    Ok(value)
}

fn compress(raw: &[u8], level: i32) -> Result<Vec<u8>> {
    let mut enc = zstd::bulk::Compressor::new(level)?;
    enc.include_checksum(true)?;
    Ok(enc.compress(raw)?)
}

fn decompress(payload: &[u8], what: &str) -> Result<Vec<u8>> {
    let mut raw = Vec::new();
    decompress_frame(payload, &mut raw, &mut None).context(what.to_string())?;
    Ok(raw)
}

/// A record from the start of `raw`, and the bytes it took.
fn decode_raw<T: for<'de> Deserialize<'de>>(raw: &[u8], what: &str) -> Result<(T, usize)> {
    bincode::serde::decode_from_slice::<T, _>(raw, config())
        .map_err(|e| anyhow::anyhow!("{what}: cannot decode: {e}"))
}

fn no_stray_bytes(rest: &[u8], what: &str) -> Result<()> {
    if !rest.is_empty() {
        bail!("{what}: {} stray bytes after the record", rest.len());
    }
    Ok(())
}

fn decode<T: for<'de> Deserialize<'de>>(payload: &[u8], what: &str) -> Result<T> {
    let raw = decompress(payload, what)?;
    let (value, used) = decode_raw(&raw, what)?;
    no_stray_bytes(&raw[used..], what)?;
    Ok(value)
}

/// The header record, then (from version 3) the faults record.
pub fn encode_header(h: &Header) -> Result<Vec<u8>> {
    // Sized for the module at once: grown by doubling, the record of a
    // 2.5 MB module was copied and its fresh pages zeroed some 5 MB over,
    // a few ms of the writer's start (which a short recording waits for).
    let module = h.module.as_ref().map_or(0, Vec::len);
    let mut raw = Vec::with_capacity(module + (64 << 10));
    bincode::serde::encode_into_std_write(h, &mut raw, config())?;
    bincode::serde::encode_into_std_write(&h.faults, &mut raw, config())?;
    compress(&raw, HEADER_ZSTD_LEVEL)
}

/// A header; its own `format_version` says whether the faults follow (the
/// reader checks that it is the magic's).
pub fn decode_header(payload: &[u8]) -> Result<Header> {
    let raw = decompress(payload, "trace header")?;
    let (mut h, used): (Header, usize) = decode_raw(&raw, "trace header")?;
    let rest = &raw[used..];
    if h.format_version >= 3 {
        let (faults, used) = decode_raw(rest, "trace header's faults")?;
        h.faults = faults;
        no_stray_bytes(&rest[used..], "trace header")?;
    } else {
        no_stray_bytes(rest, "trace header")?;
    }
    Ok(h)
}

/// The end record, then (from version 6) its summary.
pub fn encode_end(e: &End) -> Result<Vec<u8>> {
    let mut payload = encode_raw(e)?;
    payload.extend(encode_raw(&e.summary)?);
    compress(&payload, HEADER_ZSTD_LEVEL)
}

/// The end record of a trace of format `version`.
pub fn decode_end(payload: &[u8], version: u32) -> Result<End> {
    const WHAT: &str = "end record";
    if version < SUMMARY_FROM {
        return decode(payload, WHAT);
    }
    let raw = decompress(payload, WHAT)?;
    let (mut end, used): (End, usize) = decode_raw(&raw, WHAT)?;
    let (summary, more) = decode_raw(&raw[used..], "end record's summary")?;
    no_stray_bytes(&raw[used + more..], WHAT)?;
    end.summary = summary;
    Ok(end)
}

/// What [`ChunkDecoder::check`] finds in a calls frame.
pub struct CheckedChunk {
    /// The number of the first call (0 when there is none) and how many.
    pub first_seq: u64,
    pub calls: usize,
    /// Each function's counts, as the summary counts them (and so whether
    /// a call moves bytes or changes the fd table: the summary's fds are
    /// counted from such chunks alone).
    pub funcs: FuncCounts,
}

/// Encodes chunks of calls; keeps one zstd context for all of them.
pub struct ChunkEncoder {
    zstd: zstd::bulk::Compressor<'static>,
    raw: Vec<u8>,
}

impl ChunkEncoder {
    pub fn new() -> Result<ChunkEncoder> {
        let mut zstd = zstd::bulk::Compressor::new(CHUNK_ZSTD_LEVEL)?;
        zstd.include_checksum(true)?;
        Ok(ChunkEncoder {
            zstd,
            raw: Vec::new(),
        })
    }

    /// The payload of a calls frame (tests; the writer reuses a buffer).
    #[cfg(test)]
    pub fn encode(&mut self, batch: &CallBatch) -> Result<Vec<u8>> {
        let mut payload = Vec::new();
        self.encode_into(batch, &mut payload)?;
        Ok(payload)
    }

    /// The payload of a calls frame, into `payload`: a writer that reuses
    /// one buffer saves the kernel zeroing fresh pages for each chunk.
    pub fn encode_into(&mut self, batch: &CallBatch, payload: &mut Vec<u8>) -> Result<()> {
        self.raw.clear();
        v4::write_chunk(batch, FORMAT_VERSION, &mut self.raw);
        payload.clear();
        payload.reserve(zstd::zstd_safe::compress_bound(self.raw.len()));
        self.zstd.compress_to_buffer(&self.raw, payload)?;
        Ok(())
    }
}

/// Decodes a calls frame of a trace written in format `version` into
/// owned calls (tests compare them whole).
#[cfg(test)]
pub fn decode_calls(payload: &[u8], version: u32) -> Result<Vec<super::Call>> {
    let mut batch = CallBatch::default();
    ChunkDecoder::default().decode_into(payload, version, &mut batch)?;
    Ok((0..batch.len()).map(|i| batch.call(i)).collect())
}

/// Decodes calls frames into a [`CallBatch`], reusing the batch's buffers
/// and its own: a reader going through a trace chunk by chunk allocates
/// nothing once warm. It reads bincode's layout of a `WireChunkRef` by hand
/// (the spec: docs/trace-format.md), which is what makes it fast: serde
/// would build a `Vec` per call and per memory range.
#[derive(Default)]
pub struct ChunkDecoder {
    /// Made on first use, then kept: a zstd context is costly to make.
    zstd: Option<zstd::bulk::Decompressor<'static>>,
    /// The decompressed record, its buffer kept between chunks.
    pub(super) raw: Vec<u8>,
    scratch: v4::Scratch,
    tally: v4::Tally,
}

impl ChunkDecoder {
    pub fn decode_into(
        &mut self,
        payload: &[u8],
        version: u32,
        batch: &mut CallBatch,
    ) -> Result<()> {
        let mut raw = std::mem::take(&mut self.raw);
        let decoded = self
            .decompress(payload, &mut raw)
            .and_then(|()| self.parse_into(&raw, version, batch));
        self.raw = raw;
        decoded
    }

    /// Whether the calls frame `payload` reads, without keeping its calls,
    /// and what the summary counts of them. What `verify` asks: from
    /// version 4 the record is read into a tally of the layout, not a
    /// batch (a fifth of the work); older versions are decoded into
    /// `batch`.
    pub fn check(
        &mut self,
        payload: &[u8],
        version: u32,
        batch: &mut CallBatch,
    ) -> Result<CheckedChunk> {
        if version < 4 {
            self.decode_into(payload, version, batch)?;
            let mut funcs = FuncCounts::default();
            for c in batch.briefs() {
                funcs.add(c.func, c.failed, c.injected, c.dur_ns);
            }
            let first_seq = if batch.is_empty() {
                0
            } else {
                batch.first_seq()
            };
            return Ok(CheckedChunk {
                first_seq,
                calls: batch.len(),
                funcs,
            });
        }
        let mut raw = std::mem::take(&mut self.raw);
        let read = self
            .decompress(payload, &mut raw)
            .and_then(|()| v4::read_calls(&raw, version, &mut self.tally, &mut self.scratch.args));
        self.raw = raw;
        read?;
        let t = &mut self.tally;
        Ok(CheckedChunk {
            first_seq: if t.calls == 0 { 0 } else { t.first_seq },
            calls: t.calls,
            funcs: std::mem::take(&mut t.funcs),
        })
    }

    /// The calls of the chunk [`check`](Self::check) took last, into
    /// `calls`: decoded once more from the bytes it decompressed. For
    /// versions 4 on (`check` decodes older ones into its batch itself).
    pub fn calls_of_checked(&mut self, version: u32, calls: &mut CallBatch) -> Result<()> {
        if version < 4 {
            bail!("a version {version} chunk is decoded by the check itself");
        }
        let raw = std::mem::take(&mut self.raw);
        let parsed = v4::read_chunk(&raw, version, calls, &mut self.scratch);
        self.raw = raw;
        parsed
    }

    /// The first half of [`decode_into`](Self::decode_into): the calls
    /// record of a frame's `payload`, decompressed into `raw`.
    pub fn decompress_into(&mut self, payload: &[u8], raw: &mut Vec<u8>) -> Result<()> {
        self.decompress(payload, raw)
    }

    /// The second half of [`decode_into`](Self::decode_into): the calls of
    /// a decompressed calls record, into `batch`.
    pub fn parse_into(&mut self, raw: &[u8], version: u32, batch: &mut CallBatch) -> Result<()> {
        if version >= 4 {
            return v4::read_chunk(raw, version, batch, &mut self.scratch);
        }
        let mut r = WireReader { bytes: raw, at: 0 };
        let first_seq = r.varint(8)?;
        batch.reset(first_seq);
        let calls = r.len(1)?;
        let mut start = 0u64;
        for _ in 0..calls {
            let func = FuncId(r.varint(2)? as u16);
            // Version 1 numbered foreign imports from 46, right after preview1.
            let func = match version {
                1 if func.0 >= V1_FOREIGN_BASE => {
                    FuncId::foreign(usize::from(func.0 - V1_FOREIGN_BASE)).unwrap_or(func)
                }
                _ => func,
            };
            let args = &mut self.scratch.args;
            args.clear();
            for _ in 0..r.len(1)? {
                args.push(r.varint(8)?);
            }
            let outcome = r.outcome()?;
            start = start.saturating_add(r.varint(8)?);
            let dur_ns = r.varint(8)?;
            for _ in 0..r.len(3)? {
                let (param, addr, bytes) = r.mem()?;
                batch.add_read(param, addr, bytes);
            }
            for _ in 0..r.len(3)? {
                let (param, addr, bytes) = r.mem()?;
                batch.add_write(param, addr, bytes);
            }
            batch.push(func, &self.scratch.args, outcome, start, dur_ns);
            // Version 3 says whether each call was injected.
            if version >= 3 {
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
}

impl ChunkDecoder {
    /// Decompresses `payload` into `raw`, reusing both the buffer and the
    /// zstd context.
    fn decompress(&mut self, payload: &[u8], raw: &mut Vec<u8>) -> Result<()> {
        decompress_frame(payload, raw, &mut self.zstd).context("call chunk")
    }
}

/// Decompresses the zstd frame `payload` into `raw`. The writer stores each
/// frame's size in it: `raw` is then allocated once, at that size (read as
/// a stream, a 2.4 MB header grew by doubling, each step copied and its
/// fresh pages zeroed: a few milliseconds of every replay's start). A
/// frame without its size is read as a stream. `zstd` is a context kept
/// between frames, made on first use.
fn decompress_frame(
    payload: &[u8],
    raw: &mut Vec<u8>,
    zstd: &mut Option<zstd::bulk::Decompressor<'static>>,
) -> Result<()> {
    raw.clear();
    let size = zstd::zstd_safe::get_frame_content_size(payload)
        .ok()
        .flatten();
    match size {
        Some(n) if n <= MAX_RECORD => {
            let zstd = match zstd {
                Some(z) => z,
                None => zstd.insert(zstd::bulk::Decompressor::new()?),
            };
            // A damaged size must be an error, not an abort.
            raw.try_reserve_exact(n as usize)
                .with_context(|| format!("{n} bytes, as its size says, do not fit in memory"))?;
            zstd.decompress_to_buffer(payload, raw)
                .context("not valid zstd data")?;
        }
        _ => {
            zstd::stream::read::Decoder::new(payload)?
                .take(MAX_RECORD)
                .read_to_end(raw)
                .context("not valid zstd data")?;
        }
    }
    Ok(())
}

/// Where each chunk of calls is: the index frame's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub chunks: Vec<IndexEntry>,
    pub end_offset: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub first_seq: u64,
    pub calls: u32,
    /// File offset of the chunk's frame.
    pub offset: u64,
}

pub fn encode_index(i: &Index) -> Result<Vec<u8>> {
    encode(i)
}

pub fn decode_index(payload: &[u8]) -> Result<Index> {
    decode(payload, "index")
}

/// Frame header bytes for a payload.
pub fn frame_header(
    kind: u8,
    payload: &[u8],
    chain: &[u8; 32],
) -> Result<[u8; FRAME_HEADER_LEN as usize]> {
    let len = u32::try_from(payload.len()).context("a trace record over 4 GiB")?;
    let mut h = [0u8; FRAME_HEADER_LEN as usize];
    h[0] = kind;
    h[1..5].copy_from_slice(&len.to_le_bytes());
    h[5..].copy_from_slice(chain);
    Ok(h)
}

pub fn footer(index_offset: u64) -> [u8; FOOTER_LEN as usize] {
    let mut f = [0u8; FOOTER_LEN as usize];
    f[..8].copy_from_slice(&index_offset.to_le_bytes());
    f[8..].copy_from_slice(FOOTER_MAGIC);
    f
}

#[cfg(test)]
mod tests;
mod v4;
#[cfg(test)]
mod v4_tests;
mod wire;
