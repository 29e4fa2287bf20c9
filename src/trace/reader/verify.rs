//! `wtrace verify`: every frame's hash and the chain checked, every record
//! decoded, the index compared with what the frames hold.

use super::{codec, Frame, FrameKind, FrameWalk, Step, TraceReader, VerifyReport};
use super::{read_up_to, CallBatch, ChunkDecoder, MAGIC_LEN};
use anyhow::Result;
use std::io::{Seek, SeekFrom};
use std::path::Path;

impl TraceReader {
    /// Checks every frame's hash and the chain, decodes every record, and
    /// compares the index with what the frames hold.
    pub fn verify(path: &Path) -> Result<VerifyReport> {
        let mut r = TraceReader::open(path)?;
        let mut check = VerifyWalk::default();
        let mut walk = FrameWalk {
            offset: MAGIC_LEN,
            prev: [0; 32],
        };
        loop {
            match walk.next(&mut r)? {
                Step::FileEnd => break,
                Step::Cut(at) => {
                    check.damage(format!(
                        "the trace is cut in the middle of a frame at byte {at}"
                    ));
                    break;
                }
                Step::BadHash(frame) => {
                    let what = r.describe_frame(&frame, check.report.calls);
                    check.damage(format!("{what} fails its blake3 check"));
                    break;
                }
                Step::Frame(frame) => {
                    check.frame(&frame, r.header.format_version);
                    if frame.kind == FrameKind::Index {
                        break;
                    }
                }
            }
        }
        check.index_and_footer(&mut r, walk.offset)?;
        Ok(check.report)
    }

    /// Which calls a damaged frame held: the index says, when it is intact;
    /// otherwise say where the good calls end.
    fn describe_frame(&self, frame: &Frame, good_calls: u64) -> String {
        let offset = frame.offset;
        match (
            frame.kind,
            self.chunks.iter().position(|c| c.offset == offset),
        ) {
            (_, Some(k)) => {
                let c = self.chunks[k];
                format!(
                    "chunk {k} at byte {offset} (calls #{}..#{})",
                    c.first_seq,
                    c.first_seq + c.calls as u64 - 1
                )
            }
            (FrameKind::Calls, None) => format!(
                "a chunk at byte {offset} (after call #{})",
                good_calls.saturating_sub(1)
            ),
            (kind, None) => format!("the {kind:?} frame at byte {offset}"),
        }
    }
}

/// What `verify` gathers while walking the frames.
#[derive(Default)]
struct VerifyWalk {
    report: VerifyReport,
    /// (first call, calls, offset) of every chunk met.
    chunks: Vec<(u64, u32, u64)>,
    index: Option<(u64, codec::Index)>,
    end_offset: Option<u64>,
    /// Chunks are decoded only to check their calls' numbers: one reused
    /// batch.
    decoder: ChunkDecoder,
    batch: CallBatch,
}

impl VerifyWalk {
    /// Keeps the first problem found.
    fn damage(&mut self, msg: String) {
        if self.report.damage.is_none() {
            self.report.damage = Some(msg);
        }
    }

    fn frame(&mut self, frame: &Frame, version: u32) {
        let offset = frame.offset;
        self.report.frames += 1;
        match frame.kind {
            FrameKind::Calls => {
                match self
                    .decoder
                    .decode_into(&frame.payload, version, &mut self.batch)
                {
                    Ok(()) => {
                        let (first, count) = match self.batch.len() {
                            0 => (0, 0),
                            n => (self.batch.first_seq(), n),
                        };
                        if first != self.report.calls {
                            let msg = format!(
                                "chunk at byte {offset} starts at call #{first}, expected #{}",
                                self.report.calls
                            );
                            self.damage(msg);
                        }
                        self.chunks.push((first, count as u32, offset));
                        self.report.chunks += 1;
                        self.report.calls += count as u64;
                    }
                    Err(e) => self.damage(format!("chunk at byte {offset}: {e:#}")),
                }
            }
            FrameKind::End => {
                self.end_offset = Some(offset);
                if let Err(e) = codec::decode_end(&frame.payload) {
                    self.damage(format!("end record: {e:#}"));
                }
            }
            FrameKind::Index => match codec::decode_index(&frame.payload) {
                Ok(i) => self.index = Some((offset, i)),
                Err(e) => self.damage(format!("index: {e:#}")),
            },
            FrameKind::Header if offset == MAGIC_LEN => {}
            other => self.damage(format!("unexpected frame {other:?} at byte {offset}")),
        }
    }

    /// The index must list the chunks met and point at the end record; the
    /// footer must follow it and end the file. `after` is where the walk stopped.
    fn index_and_footer(&mut self, r: &mut TraceReader, after: u64) -> Result<()> {
        let Some((index_offset, idx)) = self.index.take() else {
            self.damage("the recording did not finish: no end record and no index".into());
            return Ok(());
        };
        let listed: Vec<(u64, u32, u64)> = idx
            .chunks
            .iter()
            .map(|e| (e.first_seq, e.calls, e.offset))
            .collect();
        if listed != self.chunks {
            self.damage("the index does not match the chunks in the file".into());
        }
        if Some(idx.end_offset) != self.end_offset {
            self.damage("the index does not point at the end record".into());
        }
        let mut footer = [0u8; codec::FOOTER_LEN as usize];
        r.file.seek(SeekFrom::Start(after))?;
        let got = read_up_to(&mut r.file, &mut footer)?;
        if got != footer.len() || footer != codec::footer(index_offset) {
            self.damage("the footer after the index is missing or wrong".into());
        } else if after + codec::FOOTER_LEN != r.file_len {
            let stray = r.file_len - after - codec::FOOTER_LEN;
            self.damage(format!("{stray} stray bytes after the footer"));
        }
        self.report.finished = self.end_offset.is_some();
        Ok(())
    }
}
