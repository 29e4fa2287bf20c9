//! Going through every call of a trace fast, as `dump` and `stats` do:
//! each chunk is read, decompressed and decoded into a reused
//! [`CallBatch`] on a second thread while the caller goes through the
//! chunk before, and a call is looked at through its [`CallView`] or
//! copied into one reused [`Call`] — nothing is allocated per call.

use super::{Call, CallBatch, CallView, ChunkDecoder, Mem, MemsView, TraceReader};
use anyhow::{anyhow, Result};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread;

/// Batches in flight: one being gone through, one ready, one being read.
const BATCHES: usize = 3;

impl TraceReader {
    /// Calls `each` with every chunk's calls, in order; the next chunk is
    /// read and decoded on another thread meanwhile. Stops at the first
    /// error, a chunk that cannot be read or one `each` returns.
    pub fn each_batch(&mut self, each: impl FnMut(&CallBatch) -> Result<()>) -> Result<()> {
        let n = self.chunks().len();
        let (ready_tx, ready) = mpsc::sync_channel(BATCHES - 1);
        let (spent, spent_rx) = mpsc::channel();
        for _ in 0..BATCHES {
            let _ = spent.send(CallBatch::default());
        }
        thread::scope(|s| {
            s.spawn(|| self.read_ahead(n, ready_tx, spent_rx));
            // Takes the channels' ends: when it returns, the reading
            // thread sees them gone and stops.
            go_through(n, ready, spent, each)
        })
    }

    /// The reading thread: chunks 0..n into the batches that come back.
    fn read_ahead(
        &mut self,
        n: usize,
        ready: SyncSender<Result<CallBatch>>,
        spent: Receiver<CallBatch>,
    ) {
        let mut decoder = ChunkDecoder::default();
        for i in 0..n {
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

fn go_through(
    n: usize,
    ready: Receiver<Result<CallBatch>>,
    spent: Sender<CallBatch>,
    mut each: impl FnMut(&CallBatch) -> Result<()>,
) -> Result<()> {
    for _ in 0..n {
        let batch = ready
            .recv()
            .map_err(|_| anyhow!("the thread reading the trace stopped"))??;
        each(&batch)?;
        let _ = spent.send(batch);
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
