//! `wtrace verify`: every frame's hash and the chain checked, every record
//! decoded, the index compared with what the frames hold.

use super::{codec, ChunkInfo, Frame, FrameKind, FrameWalk, Step, TraceReader, VerifyReport};
use super::{read_up_to, CallBatch, ChunkDecoder, MAGIC_LEN};
use crate::trace::codec::CheckedChunk;
use crate::trace::{End, FuncCounts, Header};
use anyhow::Result;
use std::io::{Seek, SeekFrom};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread;

/// Threads that decode chunks at most, beside the one walking the frames.
const MAX_DECODERS: usize = 2;

/// What the walking thread hands on: frames whose hashes are right, in
/// file order, or the step that ends the walk.
enum Walked {
    Frames(Vec<Frame>),
    Stop(Step),
}

/// What a decoding thread hands back: each frame with its record decoded,
/// or the step that ends the walk.
enum Decoded<T> {
    /// With, for a chunk whose calls move bytes or change the fd table in
    /// a trace with a summary (format 6 on), what the caller's `extract`
    /// made of its calls.
    Frames(Vec<(Frame, Checked, Option<T>)>),
    Stop(Step),
}

/// Frames are handed to a decoding thread in groups of about this many
/// bytes: a thread wakes once a group, not once a frame (one frame at a
/// time, waking threads took an eighth of `verify`'s CPU).
const GROUP_BYTES: usize = 256 << 10;

/// A frame's record, decoded on a decoding thread.
enum Checked {
    Calls(Result<CheckedChunk>),
    End(Result<End>),
    Index(Result<codec::Index>),
    Other,
}

impl TraceReader {
    /// Checks every frame's hash and the chain, decodes every record, and
    /// compares the index with what the frames hold. One thread walks the
    /// frames (reading, hashing), others decode them (the most of the
    /// work), group k on decoder k % decoders; the results are taken in
    /// file order, so the first problem found is the first in the file.
    pub fn verify(path: &Path) -> Result<VerifyReport> {
        TraceReader::verify_with(path, |_| (), |_, ()| {})
    }

    /// [`TraceReader::verify`], in a trace with a summary (format 6 on)
    /// handing each chunk that has calls that move bytes or change the fd
    /// table to `extract`, on a decoding thread, and what it made of them
    /// to `apply`, in file order: from those calls alone the summary's fds
    /// can be counted again.
    pub fn verify_with<T: Send>(
        path: &Path,
        extract: impl Fn(&CallBatch) -> T + Sync,
        mut apply: impl FnMut(&Header, T),
    ) -> Result<VerifyReport> {
        let mut r = TraceReader::open(path)?;
        let header = r.header.clone();
        let version = r.header.format_version;
        let chunks = r.chunks.clone();
        let cores = thread::available_parallelism().map_or(1, |c| c.get());
        let decoders = cores.clamp(1, MAX_DECODERS);
        let mut check = VerifyWalk::default();
        let after = thread::scope(|s| {
            let (mut to_decoders, mut from_decoders) = (vec![], vec![]);
            for _ in 0..decoders {
                let (tx, frames) = mpsc::sync_channel::<Walked>(2);
                let (checked, rx) = mpsc::sync_channel(2);
                let extract = &extract;
                s.spawn(move || decode_frames(frames, checked, version, extract));
                to_decoders.push(tx);
                from_decoders.push(rx);
            }
            let walker = s.spawn(|| walk_frames(&mut r, to_decoders));
            for k in 0.. {
                match from_decoders[k % decoders].recv() {
                    Ok(Decoded::Frames(frames)) => {
                        for (frame, found, extracted) in frames {
                            if let Some(extracted) = extracted {
                                apply(&header, extracted);
                            }
                            check.frame(&frame, found);
                        }
                    }
                    Ok(Decoded::Stop(step)) => {
                        check.stop(step, &chunks);
                        break;
                    }
                    // The walk failed: its error says why.
                    Err(_) => break,
                }
            }
            drop(from_decoders);
            walker
                .join()
                .expect("the thread walking the frames panicked")
        })?;
        check.index_and_footer(&mut r, after)?;
        check.report.funcs = check.funcs.list();
        Ok(check.report)
    }
}

/// The walking thread: every frame in file order, in groups, group k to
/// decoder k % decoders, then the step that ends the walk. Returns where
/// it stopped.
fn walk_frames(r: &mut TraceReader, decoders: Vec<SyncSender<Walked>>) -> Result<u64> {
    let mut walk = FrameWalk {
        offset: MAGIC_LEN,
        prev: [0; 32],
    };
    let mut sent = 0;
    let mut send = |walked: Walked| {
        let _ = decoders[sent % decoders.len()].send(walked);
        sent += 1;
    };
    let (mut group, mut bytes) = (Vec::new(), 0);
    loop {
        let stop = match walk.next(r)? {
            Step::Frame(frame) => {
                // Nothing but the footer follows the index.
                let index = frame.kind == FrameKind::Index;
                bytes += frame.payload.len();
                group.push(frame);
                if bytes >= GROUP_BYTES && !index {
                    send(Walked::Frames(std::mem::take(&mut group)));
                    bytes = 0;
                }
                if !index {
                    continue;
                }
                Step::FileEnd
            }
            stop => stop,
        };
        if !group.is_empty() {
            send(Walked::Frames(group));
        }
        send(Walked::Stop(stop));
        return Ok(walk.offset);
    }
}

/// A decoding thread: each group's records decoded, in the order received.
fn decode_frames<T>(
    groups: Receiver<Walked>,
    decoded: SyncSender<Decoded<T>>,
    version: u32,
    extract: &impl Fn(&CallBatch) -> T,
) {
    let mut decoder = ChunkDecoder::default();
    let (mut batch, mut calls) = (CallBatch::default(), CallBatch::default());
    for walked in groups {
        let done = match walked {
            Walked::Frames(frames) => Decoded::Frames(
                (frames.into_iter())
                    .map(|frame| {
                        let found = check_record(&frame, &mut decoder, &mut batch, version);
                        let touches_fds =
                            matches!(&found, Checked::Calls(Ok(c)) if c.funcs.touches_fds());
                        let extracted = (touches_fds && version >= codec::SUMMARY_FROM)
                            .then(|| decoder.calls_of_checked(version, &mut calls))
                            .and_then(|parsed| parsed.ok().map(|()| extract(&calls)));
                        (frame, found, extracted)
                    })
                    .collect(),
            ),
            Walked::Stop(step) => Decoded::Stop(step),
        };
        if decoded.send(done).is_err() {
            return;
        }
    }
}

/// A frame's record, decoded.
fn check_record(
    frame: &Frame,
    decoder: &mut ChunkDecoder,
    batch: &mut CallBatch,
    version: u32,
) -> Checked {
    match frame.kind {
        FrameKind::Calls => Checked::Calls(decoder.check(&frame.payload, version, batch)),
        FrameKind::End => Checked::End(codec::decode_end(&frame.payload, version)),
        FrameKind::Index => Checked::Index(codec::decode_index(&frame.payload)),
        _ => Checked::Other,
    }
}

/// Which calls a damaged frame held: the index says, when it is intact;
/// otherwise say where the good calls end.
fn describe_frame(chunks: &[ChunkInfo], frame: &Frame, good_calls: u64) -> String {
    let offset = frame.offset;
    match (frame.kind, chunks.iter().position(|c| c.offset == offset)) {
        (_, Some(k)) => {
            let c = chunks[k];
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

/// What `verify` gathers while walking the frames.
#[derive(Default)]
struct VerifyWalk {
    report: VerifyReport,
    /// (first call, calls, offset) of every chunk met.
    chunks: Vec<(u64, u32, u64)>,
    index: Option<(u64, codec::Index)>,
    end_offset: Option<u64>,
    /// Each function's counts, over the chunks met.
    funcs: FuncCounts,
}

impl VerifyWalk {
    /// Keeps the first problem found.
    fn damage(&mut self, msg: String) {
        if self.report.damage.is_none() {
            self.report.damage = Some(msg);
        }
    }

    /// What ends the walk: the file, or damage.
    fn stop(&mut self, step: Step, chunks: &[ChunkInfo]) {
        match step {
            Step::Frame(_) | Step::FileEnd => {}
            Step::Cut(at) => self.damage(format!(
                "the trace is cut in the middle of a frame at byte {at}"
            )),
            Step::BadHash(frame) => {
                let what = describe_frame(chunks, &frame, self.report.calls);
                self.damage(format!("{what} fails its blake3 check"));
            }
        }
    }

    fn frame(&mut self, frame: &Frame, found: Checked) {
        let offset = frame.offset;
        self.report.frames += 1;
        match (frame.kind, found) {
            (FrameKind::Calls, Checked::Calls(Ok(chunk))) => {
                let first = chunk.first_seq;
                if first != self.report.calls {
                    let msg = format!(
                        "chunk at byte {offset} starts at call #{first}, expected #{}",
                        self.report.calls
                    );
                    self.damage(msg);
                }
                self.chunks.push((first, chunk.calls as u32, offset));
                self.funcs.merge(&chunk.funcs);
                self.report.chunks += 1;
                self.report.calls += chunk.calls as u64;
            }
            (_, Checked::Calls(Err(e))) => self.damage(format!("chunk at byte {offset}: {e:#}")),
            (_, Checked::End(found)) => {
                self.end_offset = Some(offset);
                match found {
                    Ok(end) => self.report.summary = end.summary,
                    Err(e) => self.damage(format!("end record: {e:#}")),
                }
            }
            (_, Checked::Index(Ok(i))) => self.index = Some((offset, i)),
            (_, Checked::Index(Err(e))) => self.damage(format!("index: {e:#}")),
            (FrameKind::Header, _) if offset == MAGIC_LEN => {}
            (other, _) => self.damage(format!("unexpected frame {other:?} at byte {offset}")),
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
