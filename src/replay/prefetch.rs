//! Decoding the trace ahead of the guest.

use crate::trace::{Call, TraceReader};
use anyhow::Result;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};

/// Decodes the chunks of a trace in order on a thread of its own, one
/// chunk ahead of the guest (decompressing and decoding run on the other
/// core), and frees the chunks the guest is done with.
pub(super) struct Prefetch {
    decoded: Receiver<Result<Vec<Call>>>,
    spent: Sender<Vec<Call>>,
}

impl Prefetch {
    pub(super) fn start(mut reader: TraceReader) -> Result<Prefetch> {
        let (decoded_tx, decoded) = sync_channel(1);
        let (spent, spent_rx) = channel::<Vec<Call>>();
        std::thread::Builder::new()
            .name("wtrace-prefetch".into())
            .spawn(move || {
                for i in 0..reader.chunks().len() {
                    let chunk = reader.take_chunk(i);
                    let failed = chunk.is_err();
                    // Fails once the replay stops early: nothing to do.
                    if decoded_tx.send(chunk).is_err() || failed {
                        break;
                    }
                    spent_rx.try_iter().for_each(drop);
                }
            })?;
        Ok(Prefetch { decoded, spent })
    }

    /// The next chunk; hands back the one before.
    pub(super) fn next(&mut self, done: Vec<Call>) -> Result<Vec<Call>> {
        let _ = self.spent.send(done);
        self.decoded
            .recv()
            .map_err(|_| anyhow::anyhow!("the thread reading the trace stopped"))?
    }
}
