//! Reading the trace ahead of the guest.

use crate::trace::{CallBatch, ChunkDecoder, RawChunk, TraceReader};
use anyhow::Result;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};

/// Buffers larger than this are not handed back for reuse.
const KEEP_BYTES: usize = 8 << 20;

/// The chunks of a trace, in order, as the guest's calls need them.
pub(super) enum Prefetch {
    /// Read and decompressed on a thread of its own, one chunk ahead of
    /// the guest, and decoded on the guest's thread as it needs them. A
    /// decompressed record is 11 bytes for a clock read; a decoded batch
    /// some 120, and decoded on the other core it was written there, read
    /// here and handed back, every cache line of it crossing between the
    /// cores twice: replay took 0.99-1.01 times run's CPU that way, 0.81-0.84
    /// this way (docs/performance.md). The buffers the guest is done with
    /// come back: once warm, a replay allocates nothing per chunk.
    Ahead {
        read: Receiver<Result<(RawChunk, Vec<u8>)>>,
        spent: Sender<Vec<u8>>,
        decoder: Box<ChunkDecoder>,
        spare: Option<CallBatch>,
    },
    /// Read and decoded on the guest's thread when it needs them: for a
    /// replay that forks (time travel's checkpoints), which must stay
    /// single-threaded since a forked child keeps only the thread that
    /// forked.
    Inline {
        reader: Box<TraceReader>,
        // Boxed like the reader: the enum stays small.
        decoder: Box<ChunkDecoder>,
        next: usize,
        spare: Option<CallBatch>,
    },
}

impl Prefetch {
    pub(super) fn start(reader: TraceReader) -> Result<Prefetch> {
        Prefetch::start_at(reader, 0)
    }

    /// Reads from chunk `first` on, on a thread of its own.
    fn start_at(mut reader: TraceReader, first: usize) -> Result<Prefetch> {
        let (read_tx, read) = sync_channel(1);
        let (spent, spent_rx) = channel::<Vec<u8>>();
        std::thread::Builder::new()
            .name("wtrace-prefetch".into())
            .spawn(move || {
                let mut decoder = ChunkDecoder::default();
                for i in first..reader.chunks().len() {
                    let mut raw = spent_rx.try_recv().unwrap_or_default();
                    let chunk = reader
                        .read_raw(i, &mut decoder, &mut raw)
                        .map(|chunk| (chunk, raw));
                    let failed = chunk.is_err();
                    // Fails once the replay stops early: nothing to do.
                    if read_tx.send(chunk).is_err() || failed {
                        break;
                    }
                }
            })?;
        Ok(Prefetch::Ahead {
            read,
            spent,
            decoder: Box::default(),
            spare: None,
        })
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

    /// From now on the chunks are read ahead on a thread of their own (a
    /// process that will not fork again may have threads).
    pub(super) fn go_ahead(&mut self) -> Result<()> {
        let (_, read) = sync_channel(1);
        let (spent, _) = channel();
        let placeholder = Prefetch::Ahead {
            read,
            spent,
            decoder: Box::default(),
            spare: None,
        };
        *self = match std::mem::replace(self, placeholder) {
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
            Prefetch::Ahead { spare, .. } | Prefetch::Inline { spare, .. } => *spare = Some(done),
        }
    }

    /// The next chunk, without handing one back (a look ahead).
    pub(super) fn receive(&mut self) -> Result<CallBatch> {
        match self {
            Prefetch::Ahead {
                read,
                spent,
                decoder,
                spare,
            } => {
                let (chunk, raw) = read
                    .recv()
                    .map_err(|_| anyhow::anyhow!("the thread reading the trace stopped"))??;
                let mut batch = spare.take().unwrap_or_default();
                let decoded = chunk.decode_into(&raw, decoder, &mut batch);
                // One huge chunk must not keep its memory for the rest.
                if raw.capacity() <= KEEP_BYTES {
                    let _ = spent.send(raw);
                }
                decoded.map(|()| batch)
            }
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
