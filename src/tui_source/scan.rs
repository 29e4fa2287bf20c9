//! The TUI's long scans, run on a worker thread with a trace reader of its
//! own: searching decoded calls and gathering the calls a filter keeps.
//! Chunks are read into a few reused [`CallBatch`]es (on a thread of their
//! own, ahead of the scan) and looked at through [`CallView`]s; a search
//! decodes through one reused [`Call`], so a scan allocates per call only
//! what decoding itself needs.

mod breaks;
mod spread;

pub use breaks::{continue_to, Continue};

use crate::decode::Decoder;
use crate::filter::Filter;
use crate::trace::{Call, CallBatch, ChunkDecoder, TraceReader};
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use wtrace_tui::{Progress, SearchHit};

/// Bytes of data a search looks through per string.
pub const SEARCH_STRSIZE: usize = 256;

/// What a search is after.
pub struct Search {
    pub from: u64,
    pub forward: bool,
    pub text: String,
    /// The fd table at the start of each chunk, as far as the UI's
    /// background pass got; a chunk past it starts with the preopens only.
    pub checkpoints: Vec<Decoder>,
}

/// Chunks read and decompressed on a thread of their own, a few ahead of
/// the decoding, into batches that go back and forth (reading is a fifth
/// of a search's work: this way it overlaps the rest).
struct ReadAhead {
    batches: Receiver<Option<CallBatch>>,
    spent: Sender<CallBatch>,
}

impl ReadAhead {
    /// Reads `chunks` in that order; stops when the receiver goes.
    fn start(mut reader: TraceReader, chunks: Vec<usize>) -> ReadAhead {
        let (tx, batches) = mpsc::sync_channel(2);
        let (spent, spent_rx) = mpsc::channel();
        for _ in 0..3 {
            let _ = spent.send(CallBatch::default());
        }
        thread::spawn(move || {
            let mut decoder = ChunkDecoder::default();
            for k in chunks {
                let Ok(mut batch) = spent_rx.recv() else {
                    return;
                };
                let ok = reader.read_batch(k, &mut decoder, &mut batch).is_ok();
                if tx.send(ok.then_some(batch)).is_err() || !ok {
                    return;
                }
            }
        });
        ReadAhead { batches, spent }
    }

    /// The next chunk; `None` when it cannot be read.
    fn next(&self) -> Option<CallBatch> {
        self.batches.recv().ok().flatten()
    }

    fn recycle(&self, batch: CallBatch) {
        let _ = self.spent.send(batch);
    }
}

/// The chunks that hold `range`, in the order a search goes through them.
fn chunks_of(reader: &TraceReader, range: &Range<u64>, forward: bool) -> Vec<usize> {
    let (Some(lo), Some(hi)) = (
        reader.chunk_of(range.start),
        range.end.checked_sub(1).and_then(|l| reader.chunk_of(l)),
    ) else {
        return Vec::new();
    };
    match forward {
        true => (lo..=hi).collect(),
        false => (lo..=hi).rev().collect(),
    }
}

/// Threads a scan spreads over: the cores, up to 4.
pub fn workers() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Runs `search`; `None` when cancelled or when the trace cannot be read.
pub fn search(
    path: &Path,
    s: Search,
    progress: &Progress<Option<SearchHit>>,
) -> Option<Option<SearchHit>> {
    let reader = TraceReader::open(path).ok()?;
    let n = reader.call_count();
    if n == 0 {
        return Some(None);
    }
    let header = reader.header.clone();
    let from = s.from.min(n - 1);
    // The calls in the order looked at: up to the end (or the start), then
    // the rest, wrapped.
    let ranges = match s.forward {
        true => [(from + 1..n, false), (0..from + 1, true)],
        false => [(0..from, false), (from..n, true)],
    };
    let plan: Vec<(Range<u64>, bool, Vec<usize>)> = ranges
        .into_iter()
        .map(|(r, wrapped)| {
            let chunks = chunks_of(&reader, &r, s.forward);
            (r, wrapped, chunks)
        })
        .collect();
    // With the fd table known at the start of every chunk, chunks are
    // independent: they are spread over the cores.
    let last = plan.iter().flat_map(|p| p.2.iter()).max().copied();
    let workers = workers();
    if workers > 1 && last.is_some_and(|k| k < s.checkpoints.len()) {
        drop(reader);
        return spread::search(path, &s, plan, workers, progress);
    }
    let ahead = ReadAhead::start(reader, plan.iter().flat_map(|p| p.2.clone()).collect());
    let mut call = empty_call();
    let mut done = 0;
    for (range, wrapped, chunks) in plan {
        // Going forward, the fd table carries over from the chunk before.
        let mut decoder: Option<Decoder> = None;
        for k in chunks {
            if progress.cancelled() {
                return None;
            }
            let Some(batch) = ahead.next() else {
                return Some(None);
            };
            let mut d = match decoder.take().filter(|_| s.forward) {
                Some(d) => d,
                None => start_of_chunk(&s.checkpoints, k),
            };
            let hit = match_in(&batch, &range, &s, &mut d, &header, &mut call);
            if let Some(seq) = hit {
                return Some(Some(SearchHit { seq, wrapped }));
            }
            done += batch.len() as u64;
            progress.report(done);
            ahead.recycle(batch);
            decoder = Some(d);
        }
    }
    Some(None)
}

/// The first call of `batch` in `range` that matches (the last, going
/// back), following the fd table through the others.
fn match_in(
    batch: &CallBatch,
    range: &Range<u64>,
    s: &Search,
    d: &mut Decoder,
    header: &crate::trace::Header,
    call: &mut Call,
) -> Option<u64> {
    let mut hit = None;
    for v in batch.views() {
        call.copy_view(&v);
        if !range.contains(&v.seq) {
            d.follow(header, call);
        } else if d.decode(header, call).line().contains(s.text.as_str()) {
            hit = Some(v.seq);
            if s.forward {
                break;
            }
        }
    }
    hit
}

fn empty_call() -> Call {
    Call::default()
}

fn start_of_chunk(checkpoints: &[Decoder], k: usize) -> Decoder {
    let mut d = checkpoints
        .get(k)
        .cloned()
        .unwrap_or_else(|| Decoder::new(SEARCH_STRSIZE));
    d.strsize = SEARCH_STRSIZE;
    d
}

/// The calls `filter` keeps; `None` when cancelled or unreadable.
pub fn select(path: &Path, filter: &Filter, progress: &Progress<Vec<u64>>) -> Option<Vec<u64>> {
    let reader = TraceReader::open(path).ok()?;
    let chunks = reader.chunks().len();
    let ahead = ReadAhead::start(reader, (0..chunks).collect());
    let mut seqs = Vec::new();
    let mut done = 0;
    for _ in 0..chunks {
        let batch = ahead.next()?;
        if progress.cancelled() {
            return None;
        }
        seqs.extend(
            batch
                .views()
                .filter(|v| filter.keeps(v.func, v.outcome))
                .map(|v| v.seq),
        );
        done += batch.len() as u64;
        progress.report(done);
        ahead.recycle(batch);
    }
    Some(seqs)
}
