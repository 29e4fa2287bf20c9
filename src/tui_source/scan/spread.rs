//! A search spread over the cores: each worker reads and decodes every
//! n-th chunk of the plan with a reader of its own, starting from the fd
//! table as it stood at that chunk; the results are taken in the plan's
//! order, so the match is the one a search in order finds.

use super::{empty_call, match_in, start_of_chunk, Search};
use crate::trace::{CallBatch, ChunkDecoder, TraceReader};
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use wtrace_tui::{Progress, SearchHit};

/// What a worker found in one chunk of the plan: the chunk's place in the
/// plan, its calls, and the match; `None` for a chunk it could not read.
type Found = (usize, Option<(u64, Option<u64>)>);

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
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<Found>();
    for w in 0..workers {
        let (items, stop, tx) = (items.clone(), stop.clone(), tx.clone());
        let (path, s) = (path.to_path_buf(), share(s));
        thread::spawn(move || work(&path, &s, &items, w, workers, &stop, &tx));
    }
    drop(tx);
    let result = collect(&items, &rx, progress);
    stop.store(true, Ordering::Relaxed);
    result
}

/// The search without the fd tables of chunks a worker does not need.
fn share(s: &Search) -> Search {
    Search {
        from: s.from,
        forward: s.forward,
        text: s.text.clone(),
        checkpoints: s.checkpoints.clone(),
    }
}

/// Worker `w` of `workers`: items w, w + workers, … until told to stop.
fn work(
    path: &Path,
    s: &Search,
    items: &[(usize, Range<u64>, bool)],
    w: usize,
    workers: usize,
    stop: &AtomicBool,
    tx: &mpsc::Sender<Found>,
) {
    let Ok(mut reader) = TraceReader::open(path) else {
        let _ = tx.send((w, None));
        return;
    };
    let header = reader.header.clone();
    let (mut chunk_decoder, mut batch, mut call) =
        (ChunkDecoder::default(), CallBatch::default(), empty_call());
    for i in (w..items.len()).step_by(workers) {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let (k, range, _) = &items[i];
        if reader
            .read_batch(*k, &mut chunk_decoder, &mut batch)
            .is_err()
        {
            let _ = tx.send((i, None));
            return;
        }
        let mut d = start_of_chunk(&s.checkpoints, *k);
        let hit = match_in(&batch, range, s, &mut d, &header, &mut call);
        if tx.send((i, Some((batch.len() as u64, hit)))).is_err() {
            return;
        }
    }
}

/// Takes the workers' results in the plan's order: the first match wins.
fn collect(
    items: &[(usize, Range<u64>, bool)],
    rx: &mpsc::Receiver<Found>,
    progress: &Progress<Option<SearchHit>>,
) -> Option<Option<SearchHit>> {
    let mut early: HashMap<usize, Option<(u64, Option<u64>)>> = HashMap::new();
    let mut done = 0;
    for (i, (_, _, wrapped)) in items.iter().enumerate() {
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
        let Some((calls, hit)) = found else {
            return Some(None);
        };
        if let Some(seq) = hit {
            return Some(Some(SearchHit {
                seq,
                wrapped: *wrapped,
            }));
        }
        done += calls;
        progress.report(done);
    }
    Some(None)
}
