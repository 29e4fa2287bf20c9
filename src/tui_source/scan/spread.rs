//! A scan spread over the cores: each worker reads and looks at every n-th
//! chunk of a plan with a reader of its own; the results are taken in the
//! plan's order, so what is found is what a scan in order finds. Searches
//! and breakpoint continues both go through [`in_order`].

use super::{empty_call, match_in, start_of_chunk, Search};
use crate::trace::{CallBatch, ChunkDecoder, Header, TraceReader};
use std::collections::HashMap;
use std::ops::{ControlFlow, Range};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use wtrace_tui::{Progress, SearchHit};

/// What a worker made of one chunk of the plan: the chunk's place in the
/// plan, its calls and the result; `None` for a chunk it could not read.
type Found<R> = (usize, Option<(u64, R)>);

/// What a worker does with the chunk at place `i` of the plan.
pub type ChunkWork<R> = Box<dyn FnMut(usize, &CallBatch) -> R>;

/// Reads the `chunks` over `workers` threads; `work` makes each worker's
/// function of a chunk (from the trace's header), and `take` gets their
/// results in the plan's order until it breaks. `None` when cancelled;
/// `Some(None)` when `take` never broke (or a chunk could not be read).
pub fn in_order<R, Out, P>(
    path: &Path,
    chunks: Vec<usize>,
    workers: usize,
    work: impl Fn(&Header) -> ChunkWork<R> + Send + Sync + 'static,
    mut take: impl FnMut(R) -> ControlFlow<Out>,
    progress: &Progress<P>,
) -> Option<Option<Out>>
where
    R: Send + 'static,
{
    let chunks = Arc::new(chunks);
    let work = Arc::new(work);
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<Found<R>>();
    for w in 0..workers.max(1) {
        let (chunks, stop, tx, work) = (chunks.clone(), stop.clone(), tx.clone(), work.clone());
        let path = path.to_path_buf();
        thread::spawn(move || {
            let Ok(mut reader) = TraceReader::open(&path) else {
                let _ = tx.send((w, None));
                return;
            };
            let mut f = work(&reader.header);
            let (mut decoder, mut batch) = (ChunkDecoder::default(), CallBatch::default());
            for i in (w..chunks.len()).step_by(workers.max(1)) {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                if reader
                    .read_batch(chunks[i], &mut decoder, &mut batch)
                    .is_err()
                {
                    let _ = tx.send((i, None));
                    return;
                }
                let r = f(i, &batch);
                if tx.send((i, Some((batch.len() as u64, r)))).is_err() {
                    return;
                }
            }
        });
    }
    drop(tx);
    let result = collect(chunks.len(), &rx, &mut take, progress);
    stop.store(true, Ordering::Relaxed);
    result
}

/// Takes the workers' results in the plan's order.
fn collect<R, Out, P>(
    count: usize,
    rx: &mpsc::Receiver<Found<R>>,
    take: &mut impl FnMut(R) -> ControlFlow<Out>,
    progress: &Progress<P>,
) -> Option<Option<Out>> {
    let mut early: HashMap<usize, Option<(u64, R)>> = HashMap::new();
    let mut done = 0;
    for i in 0..count {
        let found = loop {
            if progress.cancelled() {
                return None;
            }
            if let Some(f) = early.remove(&i) {
                break f;
            }
            match rx.recv_timeout(std::time::Duration::from_millis(50)) {
                Ok((j, f)) => {
                    early.insert(j, f);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Some(None),
            }
        };
        let Some((calls, r)) = found else {
            return Some(None);
        };
        if let ControlFlow::Break(out) = take(r) {
            return Some(Some(out));
        }
        done += calls;
        progress.report(done);
    }
    Some(None)
}

/// A search, its chunks spread over `workers`.
pub fn search(
    path: &Path,
    s: &Search,
    plan: Vec<(Range<u64>, bool, Vec<usize>)>,
    workers: usize,
    progress: &Progress<Option<SearchHit>>,
) -> Option<Option<SearchHit>> {
    // One list: (chunk, range, wrapped), in the order looked at.
    let items: Arc<Vec<(usize, Range<u64>, bool)>> = Arc::new(
        plan.into_iter()
            .flat_map(|(r, w, chunks)| chunks.into_iter().map(move |k| (k, r.clone(), w)))
            .collect(),
    );
    let chunks = items.iter().map(|(k, _, _)| *k).collect();
    let (shared, s) = (items.clone(), share(s));
    let work = move |header: &Header| -> ChunkWork<(Option<u64>, bool)> {
        let (items, s, header) = (shared.clone(), share(&s), header.clone());
        let mut call = empty_call();
        Box::new(move |i, batch| {
            let (k, range, wrapped) = &items[i];
            let mut d = start_of_chunk(&s.checkpoints, *k);
            let hit = match_in(batch, range, &s, &mut d, &header, &mut call);
            (hit, *wrapped)
        })
    };
    let take = |(hit, wrapped): (Option<u64>, bool)| match hit {
        Some(seq) => ControlFlow::Break(SearchHit { seq, wrapped }),
        None => ControlFlow::Continue(()),
    };
    in_order(path, chunks, workers, work, take, progress)
}

/// A copy of the search for a worker.
fn share(s: &Search) -> Search {
    Search {
        from: s.from,
        forward: s.forward,
        text: s.text.clone(),
        checkpoints: s.checkpoints.clone(),
    }
}
