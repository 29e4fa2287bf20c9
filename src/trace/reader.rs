//! Reading a trace: through its index when the recording finished, by
//! scanning its frames when it did not (a killed recorder, a damaged tail).
//!
//! Only the header and the list of chunks are held in memory; calls are
//! decoded a chunk at a time, so a trace larger than RAM can be read.

use super::codec::{self, kind, FRAME_HEADER_LEN, MAGIC_LEN};
use super::{Call, End, Header};
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
}

pub struct TraceReader {
    file: File,
    path: PathBuf,
    file_len: u64,
    pub header: Header,
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
        let mut file =
            File::open(path).with_context(|| format!("cannot open trace {}", path.display()))?;
        let file_len = file.metadata()?.len();
        let mut magic = [0u8; MAGIC_LEN as usize];
        let got = read_up_to(&mut file, &mut magic)?;
        if got < magic.len() || &magic[..7] != codec::MAGIC_PREFIX {
            bail!(
                "{} is not a wtrace trace (no wtrace magic bytes at its start)",
                path.display()
            );
        }
        let version = magic[7] as u32;
        if version > codec::FORMAT_VERSION {
            bail!(
                "{} is a trace of format version {version}, made by a newer wtrace; this wtrace reads versions up to {}",
                path.display(),
                codec::FORMAT_VERSION
            );
        }
        let first = read_frame_at(&mut file, file_len, MAGIC_LEN)
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
        let header =
            codec::decode_header(&first.payload).with_context(|| format!("{}", path.display()))?;
        if header.format_version > codec::FORMAT_VERSION {
            bail!(
                "{}: format version {} is newer than this wtrace reads",
                path.display(),
                header.format_version
            );
        }
        let mut reader = TraceReader {
            file,
            path: path.to_path_buf(),
            file_len,
            header,
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

    /// Decodes chunk `i`.
    pub fn read_chunk(&mut self, i: usize) -> Result<Vec<Call>> {
        if let Some((ci, calls)) = &self.cache {
            if *ci == i {
                return Ok(calls.clone());
            }
        }
        let calls = self.decode_chunk(i)?;
        self.cache = Some((i, calls.clone()));
        Ok(calls)
    }

    /// Decodes chunk `i` without keeping a copy: for readers that go
    /// through the calls once, in order (replay).
    pub fn take_chunk(&mut self, i: usize) -> Result<Vec<Call>> {
        self.decode_chunk(i)
    }

    fn decode_chunk(&mut self, i: usize) -> Result<Vec<Call>> {
        let info = *self.chunks.get(i).context("no such chunk")?;
        let frame = self
            .read_frame(info.offset)?
            .with_context(|| format!("{}: chunk {i} is cut short", self.path.display()))?;
        if frame.kind != FrameKind::Calls {
            bail!(
                "{}: the index points at a frame that holds no calls (offset {})",
                self.path.display(),
                info.offset
            );
        }
        let calls = codec::decode_calls(&frame.payload).with_context(|| {
            format!(
                "{}: chunk {i} (calls {}..)",
                self.path.display(),
                info.first_seq
            )
        })?;
        if calls.len() != info.calls as usize
            || calls.first().map(|c| c.seq) != Some(info.first_seq)
        {
            bail!(
                "{}: chunk {i} does not hold the calls the index says",
                self.path.display()
            );
        }
        Ok(calls)
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
        read_frame_at(&mut self.file, self.file_len, offset)
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
        let Ok(end) = codec::decode_end(&end_frame.payload) else {
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
    fn scan(&mut self, mut offset: u64, mut prev: [u8; 32]) -> Result<()> {
        loop {
            let frame = match self.read_frame(offset)? {
                Some(f) => f,
                None => {
                    if self.end.is_none() {
                        self.unfinished = Some(if offset == self.file_len {
                            "the recording did not finish (no end record): the recorder was killed or crashed".into()
                        } else {
                            format!(
                                "the recording did not finish: the trace is cut in the middle of a frame at byte {offset}"
                            )
                        });
                    }
                    return Ok(());
                }
            };
            let chain = codec::chain(&prev, frame.payload_kind_byte(), &frame.payload);
            if chain != frame.stored_chain {
                self.unfinished = Some(format!(
                    "the trace is damaged at byte {offset}: the frame's hash does not match"
                ));
                return Ok(());
            }
            match frame.kind {
                FrameKind::Calls => match codec::decode_calls(&frame.payload) {
                    Ok(calls) if calls.first().map(|c| c.seq) == Some(self.call_count()) => {
                        self.chunks.push(ChunkInfo {
                            first_seq: calls[0].seq,
                            calls: calls.len() as u32,
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
                },
                FrameKind::End => self.end = codec::decode_end(&frame.payload).ok(),
                FrameKind::Index => {}
                _ => {
                    self.unfinished = Some(format!(
                        "the trace is damaged at byte {offset}: unknown frame"
                    ));
                    return Ok(());
                }
            }
            prev = frame.stored_chain;
            offset += FRAME_HEADER_LEN + frame.payload.len() as u64;
            if frame.kind == FrameKind::Index {
                return Ok(());
            }
        }
    }

    /// Checks every frame's hash and the chain, decodes every record, and
    /// compares the index with what the frames hold.
    pub fn verify(path: &Path) -> Result<VerifyReport> {
        let mut r = TraceReader::open(path)?;
        let mut report = VerifyReport::default();
        let mut offset = MAGIC_LEN;
        let mut prev = [0u8; 32];
        let mut found_chunks = Vec::new();
        let mut index = None;
        let mut end_offset = None;
        let damage = |report: &mut VerifyReport, msg: String| {
            if report.damage.is_none() {
                report.damage = Some(msg);
            }
        };
        loop {
            let frame = match r.read_frame(offset)? {
                Some(f) => f,
                None => {
                    if offset < r.file_len {
                        damage(
                            &mut report,
                            format!("the trace is cut in the middle of a frame at byte {offset}"),
                        );
                    }
                    break;
                }
            };
            let chain = codec::chain(&prev, frame.payload_kind_byte(), &frame.payload);
            if chain != frame.stored_chain {
                // Which calls the frame held: the index says, when it is
                // intact; otherwise say where the good calls end.
                let what = match (frame.kind, r.chunks.iter().position(|c| c.offset == offset)) {
                    (_, Some(k)) => {
                        let c = r.chunks[k];
                        format!(
                            "chunk {k} at byte {offset} (calls #{}..#{})",
                            c.first_seq,
                            c.first_seq + c.calls as u64 - 1
                        )
                    }
                    (FrameKind::Calls, None) => format!(
                        "a chunk at byte {offset} (after call #{})",
                        report.calls.saturating_sub(1)
                    ),
                    (kind, None) => format!("the {kind:?} frame at byte {offset}"),
                };
                let msg = format!("{what} fails its blake3 check");
                damage(&mut report, msg);
                break;
            }
            report.frames += 1;
            match frame.kind {
                FrameKind::Calls => match codec::decode_calls(&frame.payload) {
                    Ok(calls) => {
                        let first = calls.first().map_or(0, |c| c.seq);
                        if first != report.calls {
                            let msg = format!(
                                "chunk at byte {offset} starts at call #{first}, expected #{}",
                                report.calls
                            );
                            damage(&mut report, msg);
                        }
                        found_chunks.push((first, calls.len() as u32, offset));
                        report.chunks += 1;
                        report.calls += calls.len() as u64;
                    }
                    Err(e) => damage(&mut report, format!("chunk at byte {offset}: {e:#}")),
                },
                FrameKind::End => {
                    end_offset = Some(offset);
                    if let Err(e) = codec::decode_end(&frame.payload) {
                        damage(&mut report, format!("end record: {e:#}"));
                    }
                }
                FrameKind::Index => match codec::decode_index(&frame.payload) {
                    Ok(i) => index = Some((offset, i)),
                    Err(e) => damage(&mut report, format!("index: {e:#}")),
                },
                FrameKind::Header if offset == MAGIC_LEN => {}
                other => damage(
                    &mut report,
                    format!("unexpected frame {other:?} at byte {offset}"),
                ),
            }
            prev = frame.stored_chain;
            offset += FRAME_HEADER_LEN + frame.payload.len() as u64;
            if frame.kind == FrameKind::Index {
                break;
            }
        }
        match &index {
            Some((index_offset, idx)) => {
                let listed: Vec<(u64, u32, u64)> = idx
                    .chunks
                    .iter()
                    .map(|e| (e.first_seq, e.calls, e.offset))
                    .collect();
                if listed != found_chunks {
                    damage(
                        &mut report,
                        "the index does not match the chunks in the file".into(),
                    );
                }
                if Some(idx.end_offset) != end_offset {
                    damage(
                        &mut report,
                        "the index does not point at the end record".into(),
                    );
                }
                let want_footer = codec::footer(*index_offset);
                let mut footer = [0u8; codec::FOOTER_LEN as usize];
                r.file.seek(SeekFrom::Start(offset))?;
                let got = read_up_to(&mut r.file, &mut footer)?;
                if got != footer.len() || footer != want_footer {
                    damage(
                        &mut report,
                        "the footer after the index is missing or wrong".into(),
                    );
                } else if offset + codec::FOOTER_LEN != r.file_len {
                    damage(
                        &mut report,
                        format!(
                            "{} stray bytes after the footer",
                            r.file_len - offset - codec::FOOTER_LEN
                        ),
                    );
                }
                report.finished = end_offset.is_some();
            }
            None => {
                if report.damage.is_none() {
                    damage(
                        &mut report,
                        "the recording did not finish: no end record and no index".into(),
                    );
                }
            }
        }
        Ok(report)
    }
}

impl Frame {
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
fn read_frame_at(file: &mut File, file_len: u64, offset: u64) -> Result<Option<Frame>> {
    if offset + FRAME_HEADER_LEN > file_len {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut head = [0u8; FRAME_HEADER_LEN as usize];
    file.read_exact(&mut head)?;
    let len = u32::from_le_bytes(head[1..5].try_into().expect("4 bytes")) as u64;
    if offset + FRAME_HEADER_LEN + len > file_len {
        return Ok(None);
    }
    let mut payload = vec![0u8; len as usize];
    file.read_exact(&mut payload)?;
    Ok(Some(Frame {
        kind: FrameKind::from_byte(head[0]),
        offset,
        payload,
        stored_chain: head[5..].try_into().expect("32 bytes"),
    }))
}
