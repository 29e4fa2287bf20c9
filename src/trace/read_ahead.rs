//! Going through every call of a trace fast, as `dump` and `stats` do:
//! chunks are read, decompressed and decoded into reused [`CallBatch`]es
//! on other threads while the caller goes through the chunk before, and a
//! call is looked at through its [`CallView`] or copied into one reused
//! [`Call`]: nothing is allocated per call.

use super::{Call, CallBatch, CallView, ChunkDecoder, Mem, MemsView, TraceReader};
use anyhow::{anyhow, Result};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread;

/// Batches per reading thread: one being gone through (or ready), one
/// being read (three each measured no faster on the clock trace).
const BATCHES: usize = 2;

/// Reading threads at most: a chunk's decoding costs about what going
/// through its calls costs in `stats`, a third of it in `dump`.
const MAX_READERS: usize = 2;

/// One reading thread's ends of its two channels, as the caller holds them.
struct Worker {
    ready: Receiver<Result<CallBatch>>,
    spent: Sender<CallBatch>,
}

impl TraceReader {
    /// Calls `each` with every chunk's calls, in order, while the next
    /// chunks are read and decoded on other threads (one per core, up to
    /// two), each with a file handle of its own and taking every second
    /// chunk. Stops at the first error, a chunk that cannot be read or
    /// one `each` returns.
    pub fn each_batch(&mut self, each: impl FnMut(&CallBatch) -> Result<()>) -> Result<()> {
        let n = self.chunks().len();
        let cores = thread::available_parallelism().map_or(1, |c| c.get());
        let mut readers = vec![];
        for _ in 1..cores.clamp(1, MAX_READERS).min(n.max(1)) {
            readers.push(self.reopen()?);
        }
        let count = readers.len() + 1;
        thread::scope(|s| {
            let mut workers = vec![];
            let all = std::iter::once(self).chain(readers.iter_mut());
            for (w, reader) in all.enumerate() {
                let (ready_tx, ready) = mpsc::sync_channel(BATCHES - 1);
                let (spent, spent_rx) = mpsc::channel();
                for _ in 0..BATCHES {
                    let _ = spent.send(CallBatch::default());
                }
                let chunks = (w..n).step_by(count);
                s.spawn(move || reader.read_ahead(chunks, ready_tx, spent_rx));
                workers.push(Worker { ready, spent });
            }
            // Takes the channels' ends: when it returns, the reading
            // threads see them gone and stop.
            go_through(n, workers, each)
        })
    }

    /// A reading thread: `chunks` into the batches that come back.
    fn read_ahead(
        &mut self,
        chunks: impl Iterator<Item = usize>,
        ready: SyncSender<Result<CallBatch>>,
        spent: Receiver<CallBatch>,
    ) {
        let mut decoder = ChunkDecoder::default();
        for i in chunks {
            let Ok(mut batch) = spent.recv() else {
                return;
            };
            let read = self.read_batch(i, &mut decoder, &mut batch);
            let failed = read.is_err();
            if ready.send(read.map(|()| batch)).is_err() || failed {
                return;
            }
        }
    }
}

/// Chunk `i` comes from worker `i % workers.len()`.
fn go_through(
    n: usize,
    workers: Vec<Worker>,
    mut each: impl FnMut(&CallBatch) -> Result<()>,
) -> Result<()> {
    for i in 0..n {
        let w = &workers[i % workers.len()];
        let batch = w
            .ready
            .recv()
            .map_err(|_| anyhow!("the thread reading the trace stopped"))??;
        each(&batch)?;
        let _ = w.spent.send(batch);
    }
    Ok(())
}

impl Call {
    /// Makes this call a copy of `v`, reusing its buffers.
    pub fn copy_view(&mut self, v: &CallView) {
        self.seq = v.seq;
        self.func = v.func;
        self.args.clear();
        self.args.extend_from_slice(v.args);
        self.outcome.clone_from(v.outcome);
        self.start_ns = v.start_ns;
        self.dur_ns = v.dur_ns;
        self.injection = v.injection;
        copy_mems(&mut self.reads, v.reads);
        copy_mems(&mut self.writes, v.writes);
    }
}

fn copy_mems(mems: &mut Vec<Mem>, view: MemsView) {
    mems.truncate(view.iter().len());
    for (i, (param, addr, bytes)) in view.iter().enumerate() {
        match mems.get_mut(i) {
            Some(m) => {
                m.param = param;
                m.addr = addr;
                m.bytes.clear();
                m.bytes.extend_from_slice(bytes);
            }
            None => mems.push(Mem {
                param,
                addr,
                bytes: bytes.to_vec(),
            }),
        }
    }
}
