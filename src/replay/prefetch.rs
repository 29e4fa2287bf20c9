//! Decoding the trace ahead of the guest.

use crate::trace::{CallBatch, ChunkDecoder, TraceReader};
use anyhow::Result;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};

/// The chunks of a trace, in order, as the guest's calls need them.
pub(super) enum Prefetch {
    /// Decoded on a thread of its own, one chunk ahead of the guest
    /// (decompressing and decoding run on the other core). The batches
    /// the guest is done with come back and are decoded into again: once
    /// warm, a replay allocates nothing per chunk.
    Ahead {
        decoded: Receiver<Result<CallBatch>>,
        spent: Sender<CallBatch>,
    },
    /// Decoded on the guest's thread when it needs them: for a replay that
    /// forks (time travel's checkpoints), which must stay single-threaded
    /// since a forked child keeps only the thread that forked.
    Inline {
        reader: Box<TraceReader>,
        // Boxed like the reader: the enum stays the size of `Ahead`.
        decoder: Box<ChunkDecoder>,
        next: usize,
        spare: Option<CallBatch>,
    },
}

impl Prefetch {
    pub(super) fn start(reader: TraceReader) -> Result<Prefetch> {
        Prefetch::start_at(reader, 0)
    }

    /// Decodes from chunk `first` on, on a thread of its own.
    fn start_at(mut reader: TraceReader, first: usize) -> Result<Prefetch> {
        let (decoded_tx, decoded) = sync_channel(1);
        let (spent, spent_rx) = channel::<CallBatch>();
        std::thread::Builder::new()
            .name("wtrace-prefetch".into())
            .spawn(move || {
                let mut decoder = ChunkDecoder::default();
                for i in first..reader.chunks().len() {
                    let mut batch = spent_rx.try_recv().unwrap_or_default();
                    let chunk = reader
                        .read_batch(i, &mut decoder, &mut batch)
                        .map(|()| batch);
                    let failed = chunk.is_err();
                    // Fails once the replay stops early: nothing to do.
                    if decoded_tx.send(chunk).is_err() || failed {
                        break;
                    }
                }
            })?;
        Ok(Prefetch::Ahead { decoded, spent })
    }

    /// Chunks read on the calling thread only.
    pub(super) fn inline(reader: TraceReader) -> Prefetch {
        Prefetch::Inline {
            reader: Box::new(reader),
            decoder: Box::default(),
            next: 0,
            spare: None,
        }
    }

    /// From now on the chunks are decoded ahead on a thread of their own
    /// (a process that will not fork again may have threads).
    pub(super) fn go_ahead(&mut self) -> Result<()> {
        let (_, decoded) = sync_channel(1);
        let (spent, _) = channel();
        *self = match std::mem::replace(self, Prefetch::Ahead { decoded, spent }) {
            Prefetch::Inline { reader, next, .. } => Prefetch::start_at(*reader, next)?,
            ahead => ahead,
        };
        Ok(())
    }

    /// The next chunk; hands back the one before.
    pub(super) fn next(&mut self, done: CallBatch) -> Result<CallBatch> {
        self.give_back(done);
        self.receive()
    }

    /// Hands back a chunk the guest is done with, to be decoded into again.
    pub(super) fn give_back(&mut self, done: CallBatch) {
        match self {
            Prefetch::Ahead { spent, .. } => {
                let _ = spent.send(done);
            }
            Prefetch::Inline { spare, .. } => *spare = Some(done),
        }
    }

    /// The next chunk, without handing one back (a look ahead).
    pub(super) fn receive(&mut self) -> Result<CallBatch> {
        match self {
            Prefetch::Ahead { decoded, .. } => decoded
                .recv()
                .map_err(|_| anyhow::anyhow!("the thread reading the trace stopped"))?,
            Prefetch::Inline {
                reader,
                decoder,
                next,
                spare,
            } => {
                if *next >= reader.chunks().len() {
                    anyhow::bail!("the trace has no more chunks");
                }
                let mut batch = spare.take().unwrap_or_default();
                reader.read_batch(*next, decoder, &mut batch)?;
                *next += 1;
                Ok(batch)
            }
        }
    }
}
