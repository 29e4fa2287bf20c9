//! Reading a trace: through its index when the recording finished, by
//! scanning its frames when it did not (a killed recorder, a damaged tail).
//!
//! Only the header and the list of chunks are held in memory; calls are
//! decoded a chunk at a time, so a trace larger than RAM can be read.

use super::codec::ChunkDecoder;
use super::codec::{self, kind, FRAME_HEADER_LEN, MAGIC_LEN};
use super::{Call, CallBatch, End, Header, PerFunc, Summary};
use crate::syscalls::FuncId;

mod verify;
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Where a chunk of calls is in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkInfo {
    pub first_seq: u64,
    pub calls: u32,
    pub offset: u64,
}

/// Where a decompressed calls record came from: what decoding it needs
/// and checks it against.
#[derive(Clone, Debug)]
pub struct RawChunk {
    pub index: usize,
    info: ChunkInfo,
    version: u32,
    path: PathBuf,
}

impl RawChunk {
    /// Decodes the calls record `raw` of this chunk into `batch`, and
    /// checks that it holds the calls the index says.
    pub fn decode_into(
        &self,
        raw: &[u8],
        decoder: &mut ChunkDecoder,
        batch: &mut CallBatch,
    ) -> Result<()> {
        decoder
            .parse_into(raw, self.version, batch)
            .with_context(|| self.what())?;
        if batch.len() != self.info.calls as usize || batch.first_seq() != self.info.first_seq {
            bail!(
                "{}: chunk {} does not hold the calls the index says",
                self.path.display(),
                self.index
            );
        }
        Ok(())
    }

    fn what(&self) -> String {
        format!(
            "{}: chunk {} (calls {}..)",
            self.path.display(),
            self.index,
            self.info.first_seq
        )
    }
}

/// Kind of a frame, for `verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    Header,
    Calls,
    End,
    Index,
    Unknown(u8),
}

impl FrameKind {
    fn from_byte(b: u8) -> FrameKind {
        match b {
            kind::HEADER => FrameKind::Header,
            kind::CALLS => FrameKind::Calls,
            kind::END => FrameKind::End,
            kind::INDEX => FrameKind::Index,
            other => FrameKind::Unknown(other),
        }
    }
}

/// One frame as found in the file.
#[derive(Clone, Debug)]
pub struct Frame {
    pub kind: FrameKind,
    pub offset: u64,
    pub payload: Vec<u8>,
    pub stored_chain: [u8; 32],
}

/// What `verify` found.
#[derive(Clone, Debug, Default)]
pub struct VerifyReport {
    pub frames: u64,
    pub chunks: u64,
    pub calls: u64,
    pub finished: bool,
    /// The first problem found, in words, if any.
    pub damage: Option<String>,
    /// The end record's summary (format 6 on), and, at
    /// [`VerifyDepth::Calls`], each function's counts as the calls say:
    /// `wtrace verify` compares them (`crate::report::verify`; the fds'
    /// counts it makes itself, from [`TraceReader::verify_with`]).
    pub summary: Option<Summary>,
    pub funcs: Option<Vec<(FuncId, PerFunc)>>,
}

/// How far `verify` reads a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyDepth {
    /// Every byte read and hashed: every frame's hash and the chain, the
    /// header, end and index records decoded, the index against the
    /// frames. Proves the file is the one the recorder wrote, at the speed
    /// of reading it; calls records are not decompressed (but those the
    /// index does not list).
    Frames,
    /// And every calls record decompressed and decoded, its calls counted:
    /// catches a recorder that wrote what no reader can read, and a
    /// summary that is not what the calls say.
    Calls,
}

pub struct TraceReader {
    file: File,
    path: PathBuf,
    file_len: u64,
    /// The header; its `module` is always `None` here (see `module`).
    pub header: Header,
    /// The module embedded in the trace, unless it was recorded with
    /// `--no-embed`.
    pub module: Option<Vec<u8>>,
    chunks: Vec<ChunkInfo>,
    /// How the run ended; `None` when the trace is unfinished.
    pub end: Option<End>,
    /// Why the trace stops short, when it does.
    pub unfinished: Option<String>,
    /// The last chunk decoded: stepping through calls decodes each chunk once.
    cache: Option<(usize, Vec<Call>)>,
}

impl TraceReader {
    pub fn open(path: &Path) -> Result<TraceReader> {
        let cannot_open = || format!("cannot open trace {}", path.display());
        let mut file = File::open(path).with_context(cannot_open)?;
        let meta = file.metadata().with_context(cannot_open)?;
        if meta.is_dir() {
            bail!("{}: it is a directory, not a trace file", cannot_open());
        }
        if !meta.is_file() {
            // The reader seeks: a pipe or a device cannot be read as a trace.
            bail!("{}: it is not a regular file", cannot_open());
        }
        let file_len = meta.len();
        if file_len == 0 {
            bail!(
                "{} is not a wtrace trace: the file is empty",
                path.display()
            );
        }
        let mut magic = [0u8; MAGIC_LEN as usize];
        let got = read_up_to(&mut file, &mut magic).with_context(cannot_open)?;
        if got < magic.len() || &magic[..7] != codec::MAGIC_PREFIX {
            bail!(
                "{} is not a wtrace trace (no wtrace magic bytes at its start)",
                path.display()
            );
        }
        let version = magic[7] as u32;
        if version == 0 {
            bail!(
                "{} is damaged: format version 0 does not exist",
                path.display()
            );
        }
        if version > codec::FORMAT_VERSION {
            bail!(
                "{} is a trace of format version {version}, made by a newer wtrace; this wtrace reads versions up to {}",
                path.display(),
                codec::FORMAT_VERSION
            );
        }
        let first = read_frame_at(&file, file_len, MAGIC_LEN)
            .with_context(|| format!("{}: cannot read the trace header", path.display()))?
            .with_context(|| {
                format!(
                    "{}: the trace is cut before its header ends",
                    path.display()
                )
            })?;
        if first.kind != FrameKind::Header
            || codec::chain(&[0; 32], kind::HEADER, &first.payload) != first.stored_chain
        {
            bail!("{}: the trace header is damaged", path.display());
        }
        let mut header =
            codec::decode_header(&first.payload).with_context(|| format!("{}", path.display()))?;
        let module = header.module.take();
        // The header's version decides how the calls are decoded: it must be
        // the one the magic announced.
        if header.format_version != version {
            bail!(
                "{}: the trace is damaged: its magic says version {version} but its header says version {}",
                path.display(),
                header.format_version
            );
        }
        let mut reader = TraceReader {
            file,
            path: path.to_path_buf(),
            file_len,
            header,
            module,
            chunks: Vec::new(),
            end: None,
            unfinished: None,
            cache: None,
        };
        let after_header = MAGIC_LEN + FRAME_HEADER_LEN + first.payload.len() as u64;
        if !reader.load_index()? {
            reader.scan(after_header, first.stored_chain)?;
        }
        Ok(reader)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A reader of the same trace with a file handle of its own (for a
    /// second reading thread), without reading the file again.
    pub(super) fn reopen(&self) -> Result<TraceReader> {
        let file = File::open(&self.path)
            .with_context(|| format!("cannot open trace {}", self.path.display()))?;
        // A recording still being written only grows; anything shorter is
        // another file now.
        if file.metadata()?.len() < self.file_len {
            bail!(
                "{}: the trace changed while being read",
                self.path.display()
            );
        }
        Ok(TraceReader {
            file,
            path: self.path.clone(),
            file_len: self.file_len,
            header: self.header.clone(),
            module: None,
            chunks: self.chunks.clone(),
            end: self.end.clone(),
            unfinished: self.unfinished.clone(),
            cache: None,
        })
    }

    /// Number of calls readable from this trace.
    pub fn call_count(&self) -> u64 {
        self.chunks
            .last()
            .map_or(0, |c| c.first_seq + c.calls as u64)
    }

    pub fn chunks(&self) -> &[ChunkInfo] {
        &self.chunks
    }

    pub fn is_finished(&self) -> bool {
        self.end.is_some() && self.unfinished.is_none()
    }

    /// Decodes chunk `i` without keeping a copy: for readers that go
    /// through the calls once, in order (replay).
    pub fn take_chunk(&mut self, i: usize) -> Result<Vec<Call>> {
        self.decode_chunk(i)
    }

    fn decode_chunk(&mut self, i: usize) -> Result<Vec<Call>> {
        let mut batch = CallBatch::default();
        self.read_batch(i, &mut ChunkDecoder::default(), &mut batch)?;
        Ok((0..batch.len()).map(|k| batch.call(k)).collect())
    }

    /// Decodes chunk `i` into `batch`, reusing its buffers and the
    /// decoder's: for readers that go through many chunks (replay).
    pub fn read_batch(
        &mut self,
        i: usize,
        decoder: &mut ChunkDecoder,
        batch: &mut CallBatch,
    ) -> Result<()> {
        let mut raw = std::mem::take(&mut decoder.raw);
        let read = self.read_raw(i, decoder, &mut raw);
        let decoded = read.and_then(|chunk| chunk.decode_into(&raw, decoder, batch));
        decoder.raw = raw;
        decoded
    }

    /// Reads chunk `i` and decompresses its calls record into `raw`,
    /// leaving the decoding to [`RawChunk::decode_into`]: a replay reads
    /// and decompresses on one thread and decodes on the guest's, where
    /// the calls are used.
    pub fn read_raw(
        &mut self,
        i: usize,
        decoder: &mut ChunkDecoder,
        raw: &mut Vec<u8>,
    ) -> Result<RawChunk> {
        let info = *self.chunks.get(i).context("no such chunk")?;
        let frame = self
            .read_frame(info.offset)?
            .with_context(|| format!("{}: chunk {i} is cut short", self.path.display()))?;
        let chunk = RawChunk {
            index: i,
            info,
            version: self.header.format_version,
            path: self.path.clone(),
        };
        if frame.kind != FrameKind::Calls {
            bail!(
                "{}: the index points at a frame that holds no calls (offset {})",
                self.path.display(),
                info.offset
            );
        }
        decoder
            .decompress_into(&frame.payload, raw)
            .with_context(|| chunk.what())?;
        Ok(chunk)
    }

    /// Index of the chunk that holds call `seq`.
    pub fn chunk_of(&self, seq: u64) -> Option<usize> {
        let i = self
            .chunks
            .partition_point(|c| c.first_seq <= seq)
            .checked_sub(1)?;
        let c = &self.chunks[i];
        (seq < c.first_seq + c.calls as u64).then_some(i)
    }

    /// Call number `seq`, decoding only its chunk.
    pub fn call(&mut self, seq: u64) -> Result<Call> {
        let i = self
            .chunk_of(seq)
            .with_context(|| format!("the trace has no call #{seq}"))?;
        if !matches!(&self.cache, Some((ci, _)) if *ci == i) {
            let calls = self.decode_chunk(i)?;
            self.cache = Some((i, calls));
        }
        let (_, calls) = self.cache.as_ref().expect("filled above");
        Ok(calls[(seq - self.chunks[i].first_seq) as usize].clone())
    }

    /// Every call in order, a chunk at a time.
    pub fn calls(&mut self) -> impl Iterator<Item = Result<Call>> + '_ {
        let n = self.chunks.len();
        (0..n).flat_map(move |i| match self.decode_chunk(i) {
            Ok(calls) => calls.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    }

    fn read_frame(&mut self, offset: u64) -> Result<Option<Frame>> {
        read_frame_at(&self.file, self.file_len, offset)
    }

    /// Reads the footer, the index and the end record. False when there is
    /// no usable footer (the caller then scans).
    fn load_index(&mut self) -> Result<bool> {
        if self.file_len < MAGIC_LEN + codec::FOOTER_LEN {
            return Ok(false);
        }
        self.file
            .seek(SeekFrom::Start(self.file_len - codec::FOOTER_LEN))?;
        let mut footer = [0u8; codec::FOOTER_LEN as usize];
        self.file.read_exact(&mut footer)?;
        if &footer[8..] != codec::FOOTER_MAGIC {
            return Ok(false);
        }
        let index_offset = u64::from_le_bytes(footer[..8].try_into().expect("8 bytes"));
        let Some(frame) = self.read_frame(index_offset).ok().flatten() else {
            return Ok(false);
        };
        let Ok(index) = codec::decode_index(&frame.payload) else {
            return Ok(false);
        };
        let Some(end_frame) = self.read_frame(index.end_offset).ok().flatten() else {
            return Ok(false);
        };
        let Ok(end) = codec::decode_end(&end_frame.payload, self.header.format_version) else {
            return Ok(false);
        };
        let mut next = 0;
        for e in &index.chunks {
            if e.first_seq != next || e.offset >= self.file_len {
                return Ok(false);
            }
            next += e.calls as u64;
        }
        self.chunks = index
            .chunks
            .iter()
            .map(|e| ChunkInfo {
                first_seq: e.first_seq,
                calls: e.calls,
                offset: e.offset,
            })
            .collect();
        self.end = Some(end);
        Ok(true)
    }

    /// Walks the frames after the header, keeping every chunk up to the
    /// first one that is cut short or damaged.
    fn scan(&mut self, offset: u64, prev: [u8; 32]) -> Result<()> {
        let mut walk = FrameWalk { offset, prev };
        let version = self.header.format_version;
        // Decoded only to check the calls' numbers: one reused batch.
        let (mut decoder, mut batch) = (ChunkDecoder::default(), CallBatch::default());
        loop {
            let frame = match walk.next(self)? {
                Step::Frame(f) => f,
                Step::FileEnd | Step::Cut(_) if self.end.is_some() => return Ok(()),
                Step::FileEnd => {
                    self.unfinished = Some("the recording did not finish (no end record): the recorder was killed or crashed".into());
                    return Ok(());
                }
                Step::Cut(at) => {
                    self.unfinished = Some(format!(
                        "the recording did not finish: the trace is cut in the middle of a frame at byte {at}"
                    ));
                    return Ok(());
                }
                Step::BadHash(f) => {
                    self.unfinished = Some(format!(
                        "the trace is damaged at byte {}: the frame's hash does not match",
                        f.offset
                    ));
                    return Ok(());
                }
            };
            let offset = frame.offset;
            match frame.kind {
                FrameKind::Calls => {
                    match decoder.decode_into(&frame.payload, version, &mut batch) {
                        Ok(()) if !batch.is_empty() && batch.first_seq() == self.call_count() => {
                            self.chunks.push(ChunkInfo {
                                first_seq: batch.first_seq(),
                                calls: batch.len() as u32,
                                offset,
                            });
                        }
                        Ok(_) => {
                            self.unfinished = Some(format!(
                                "the trace is damaged at byte {offset}: calls out of order"
                            ));
                            return Ok(());
                        }
                        Err(e) => {
                            self.unfinished =
                                Some(format!("the trace is damaged at byte {offset}: {e:#}"));
                            return Ok(());
                        }
                    }
                }
                FrameKind::End => {
                    self.end = codec::decode_end(&frame.payload, self.header.format_version).ok()
                }
                FrameKind::Index => return Ok(()),
                _ => {
                    self.unfinished = Some(format!(
                        "the trace is damaged at byte {offset}: unknown frame"
                    ));
                    return Ok(());
                }
            }
        }
    }
}

/// Frames in file order, each checked against the hash chain.
struct FrameWalk {
    /// Where the next frame starts.
    offset: u64,
    /// The chain value of the frame before it.
    prev: [u8; 32],
}

enum Step {
    /// An intact frame.
    Frame(Frame),
    /// The file ends where the next frame would start.
    FileEnd,
    /// The file ends inside the frame at this offset.
    Cut(u64),
    /// The frame's payload does not match its place in the chain.
    BadHash(Frame),
}

impl FrameWalk {
    fn next(&mut self, r: &mut TraceReader) -> Result<Step> {
        let Some(frame) = r.read_frame(self.offset)? else {
            return Ok(self.end(r));
        };
        if !frame.follows(&self.prev) {
            return Ok(Step::BadHash(frame));
        }
        self.prev = frame.stored_chain;
        self.offset += FRAME_HEADER_LEN + frame.payload.len() as u64;
        Ok(Step::Frame(frame))
    }

    /// The next frame as the file holds it, its hash unchecked, with the
    /// chain value stored before it ([`Frame::follows`] checks it): never
    /// `BadHash`. `verify` checks hashes on other threads than the one
    /// reading.
    fn next_unhashed(&mut self, r: &mut TraceReader) -> Result<Result<([u8; 32], Frame), Step>> {
        let Some(frame) = r.read_frame(self.offset)? else {
            return Ok(Err(self.end(r)));
        };
        let prev = std::mem::replace(&mut self.prev, frame.stored_chain);
        self.offset += FRAME_HEADER_LEN + frame.payload.len() as u64;
        Ok(Ok((prev, frame)))
    }

    /// Why no frame starts at the walk's offset.
    fn end(&self, r: &TraceReader) -> Step {
        if self.offset >= r.file_len {
            Step::FileEnd
        } else {
            Step::Cut(self.offset)
        }
    }
}

impl Frame {
    /// Whether the frame's stored chain value is its payload's hash after
    /// `prev`, the chain value of the frame before it.
    fn follows(&self, prev: &[u8; 32]) -> bool {
        codec::chain(prev, self.payload_kind_byte(), &self.payload) == self.stored_chain
    }

    fn payload_kind_byte(&self) -> u8 {
        match self.kind {
            FrameKind::Header => kind::HEADER,
            FrameKind::Calls => kind::CALLS,
            FrameKind::End => kind::END,
            FrameKind::Index => kind::INDEX,
            FrameKind::Unknown(b) => b,
        }
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Reads the frame at `offset`; `None` when the file ends before the frame
/// does.
///
/// Positioned reads (`pread`), not seek-then-read: processes forked from
/// one reader (time travel's checkpoints) share the file's offset, and
/// each must read its own chunks without moving the others'.
fn read_frame_at(file: &File, file_len: u64, offset: u64) -> Result<Option<Frame>> {
    use std::os::unix::fs::FileExt;
    if offset + FRAME_HEADER_LEN > file_len {
        return Ok(None);
    }
    let mut head = [0u8; FRAME_HEADER_LEN as usize];
    file.read_exact_at(&mut head, offset)?;
    let len = u32::from_le_bytes(head[1..5].try_into().expect("4 bytes")) as u64;
    if offset + FRAME_HEADER_LEN + len > file_len {
        return Ok(None);
    }
    let mut payload = vec![0u8; len as usize];
    file.read_exact_at(&mut payload, offset + FRAME_HEADER_LEN)?;
    Ok(Some(Frame {
        kind: FrameKind::from_byte(head[0]),
        offset,
        payload,
        stored_chain: head[5..].try_into().expect("32 bytes"),
    }))
}
