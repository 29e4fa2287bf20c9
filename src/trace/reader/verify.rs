//! `wtrace verify`: every frame's hash and the chain checked, the records
//! decoded (the calls records too, when asked), the index compared with
//! what the frames hold.

use super::{codec, ChunkInfo, Frame, FrameKind, FrameWalk, Step, TraceReader};
use super::{read_up_to, CallBatch, ChunkDecoder, MAGIC_LEN};
use super::{VerifyDepth, VerifyReport};
use crate::trace::codec::CheckedChunk;
use crate::trace::{End, FuncCounts, Header};
use anyhow::Result;
use std::io::{Seek, SeekFrom};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread;

/// Threads that hash and decode frames at most, beside the one reading
/// them.
const MAX_DECODERS: usize = 2;

/// What the walking thread hands on: frames in file order, each with the
/// chain value stored before it, or the step that ends the walk.
enum Walked {
    Frames(Vec<([u8; 32], Frame)>),
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
    /// The frame is not its payload's hash after the frame before it.
    BadHash,
    Calls(Result<CheckedChunk>),
    End(Result<End>),
    Index(Result<codec::Index>),
    Other,
}

impl TraceReader {
    /// Checks every frame's hash and the chain, decodes the records (the
    /// calls records only at [`VerifyDepth::Calls`]), and compares the
    /// index with what the frames hold. One thread reads the frames,
    /// others hash and decode them (the most of the work), group k on
    /// decoder k % decoders; the results are taken in file order, so the
    /// first problem found is the first in the file.
    pub fn verify(path: &Path, depth: VerifyDepth) -> Result<VerifyReport> {
        TraceReader::verify_with(path, depth, |_| (), |_, ()| {})
    }

    /// [`TraceReader::verify`], at [`VerifyDepth::Calls`] in a trace with
    /// a summary (format 6 on) handing each chunk that has calls that move
    /// bytes or change the fd table to `extract`, on a decoding thread, and
    /// what it made of them to `apply`, in file order: from those calls
    /// alone the summary's fds can be counted again.
    pub fn verify_with<T: Send>(
        path: &Path,
        depth: VerifyDepth,
        extract: impl Fn(&CallBatch) -> T + Sync,
        mut apply: impl FnMut(&Header, T),
    ) -> Result<VerifyReport> {
        let mut r = TraceReader::open(path)?;
        let header = r.header.clone();
        let version = r.header.format_version;
        let chunks = r.chunks.clone();
        // At `Frames` depth a calls frame the index (or, in an unfinished
        // trace, the opening scan) lists is taken at its word: its hash
        // proves it is the frame written. Others are decoded all the same.
        let listed: &[ChunkInfo] = match depth {
            VerifyDepth::Frames => &chunks,
            VerifyDepth::Calls => &[],
        };
        let cores = thread::available_parallelism().map_or(1, |c| c.get());
        let decoders = cores.clamp(1, MAX_DECODERS);
        let mut check = VerifyWalk::default();
        let after = thread::scope(|s| {
            let (mut to_decoders, mut from_decoders) = (vec![], vec![]);
            for _ in 0..decoders {
                let (tx, frames) = mpsc::sync_channel::<Walked>(2);
                let (checked, rx) = mpsc::sync_channel(2);
                let extract = &extract;
                s.spawn(move || decode_frames(frames, checked, version, listed, extract));
                to_decoders.push(tx);
                from_decoders.push(rx);
            }
            let walker = s.spawn(|| walk_frames(&mut r, to_decoders));
            'groups: for k in 0.. {
                match from_decoders[k % decoders].recv() {
                    Ok(Decoded::Frames(frames)) => {
                        for (frame, found, extracted) in frames {
                            if let Checked::BadHash = found {
                                check.stop(Step::BadHash(frame), &chunks);
                                break 'groups;
                            }
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
            // A walk past a bad hash stops when it finds no one to send to.
            drop(from_decoders);
            walker
                .join()
                .expect("the thread walking the frames panicked")
        })?;
        check.index_and_footer(&mut r, after)?;
        if depth == VerifyDepth::Calls {
            check.report.funcs = Some(check.funcs.list());
        }
        Ok(check.report)
    }
}

/// The walking thread: every frame in file order, in groups, group k to
/// decoder k % decoders, then the step that ends the walk. Returns where
/// it stopped. It only reads: hashing on the decoding threads, 2 cores
/// verify a trace as fast as one reads it.
fn walk_frames(r: &mut TraceReader, decoders: Vec<SyncSender<Walked>>) -> Result<u64> {
    let mut walk = FrameWalk {
        offset: MAGIC_LEN,
        prev: [0; 32],
    };
    let mut sent = 0;
    let mut send = |walked: Walked| {
        let taken = decoders[sent % decoders.len()].send(walked).is_ok();
        sent += 1;
        taken
    };
    let (mut group, mut bytes) = (Vec::new(), 0);
    loop {
        let stop = match walk.next_unhashed(r)? {
            Ok((prev, frame)) => {
                // Nothing but the footer follows the index.
                let index = frame.kind == FrameKind::Index;
                bytes += frame.payload.len();
                group.push((prev, frame));
                if bytes >= GROUP_BYTES && !index {
                    if !send(Walked::Frames(std::mem::take(&mut group))) {
                        return Ok(walk.offset);
                    }
                    bytes = 0;
                }
                if !index {
                    continue;
                }
                Step::FileEnd
            }
            Err(stop) => stop,
        };
        if !group.is_empty() {
            send(Walked::Frames(group));
        }
        send(Walked::Stop(stop));
        return Ok(walk.offset);
    }
}

/// A decoding thread: each group's records decoded, in the order received,
/// but for the calls frames `listed` (in order of offset).
fn decode_frames<T>(
    groups: Receiver<Walked>,
    decoded: SyncSender<Decoded<T>>,
    version: u32,
    listed: &[ChunkInfo],
    extract: &impl Fn(&CallBatch) -> T,
) {
    let mut decoder = ChunkDecoder::default();
    let (mut batch, mut calls) = (CallBatch::default(), CallBatch::default());
    for walked in groups {
        let done = match walked {
            Walked::Frames(frames) => Decoded::Frames(
                (frames.into_iter())
                    .map(|(prev, frame)| {
                        let found = match listed_chunk(listed, &frame) {
                            _ if !frame.follows(&prev) => Checked::BadHash,
                            Some(c) => Checked::Calls(Ok(CheckedChunk {
                                first_seq: c.first_seq,
                                calls: c.calls as usize,
                                funcs: FuncCounts::default(),
                            })),
                            None => check_record(&frame, &mut decoder, &mut batch, version),
                        };
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

/// The entry of `listed` (in order of offset) for `frame`, when it is a
/// calls frame listed there.
fn listed_chunk<'a>(listed: &'a [ChunkInfo], frame: &Frame) -> Option<&'a ChunkInfo> {
    if frame.kind != FrameKind::Calls {
        return None;
    }
    let k = listed
        .binary_search_by_key(&frame.offset, |c| c.offset)
        .ok()?;
    Some(&listed[k])
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
