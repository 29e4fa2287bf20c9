//! Writing a trace while the guest runs.
//!
//! Chunks are encoded, compressed and written on a thread of their own, so
//! the guest's thread only hands over a [`CallBatch`]. Every chunk is flushed
//! as soon as it is written: if wtrace is killed, the trace keeps every
//! complete chunk. A write error (a full disk) is kept and reported at the
//! next hand-over, so the recorder can stop the guest and say why.

use super::batch::CallBatch;
use super::codec::{self, kind, ChunkEncoder, Index, IndexEntry};
use super::{Call, End, Header};
use crate::report::stats::Counter;
use anyhow::{anyhow, Context, Result};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

enum Msg {
    Calls(CallBatch),
    Finish(End),
}

/// What was written, for the closing message.
#[derive(Clone, Debug, Default)]
pub struct WriterStats {
    pub calls: u64,
    pub chunks: u64,
    pub bytes: u64,
}

pub struct TraceWriter {
    tx: Option<SyncSender<Msg>>,
    /// Batches the writer thread is done with, to be reused: fresh ones
    /// cost page faults on the guest's thread.
    spent: Receiver<CallBatch>,
    /// Batches made so far; at most [`BATCHES`].
    batches: usize,
    thread: Option<JoinHandle<Result<WriterStats>>>,
    error: Arc<Mutex<Option<String>>>,
    path: PathBuf,
}

/// The file and the state of the hash chain; lives on the writer thread.
struct Sink {
    file: File,
    offset: u64,
    chain: [u8; 32],
    index: Vec<IndexEntry>,
    stats: WriterStats,
    encoder: ChunkEncoder,
    /// The last chunk's payload, its buffer kept for the next.
    payload: Vec<u8>,
    /// The calls counted as `stats` counts them, for the end record
    /// (`None` once it holds more than `max_summary_fds` fds: see
    /// [`MAX_SUMMARY_FDS`]); and the header (without its module) that
    /// names the preopened fds.
    counter: Option<Counter>,
    max_summary_fds: usize,
    header: Header,
    /// How far the kernel was asked to write the file back.
    written_back: u64,
}

/// The most (fd, path) entries the writer's summary keeps: some 10 MiB. A
/// program that moves bytes through more files than this (a build reading
/// a million sources) gets no summary rather than a recorder that grows
/// without bound; `stats` then counts the calls, as it does for traces
/// before format 6.
pub const MAX_SUMMARY_FDS: usize = 100_000;

/// The writer starts the kernel writing the file back every this many
/// bytes ([`Sink::start_writeback`]).
const WRITEBACK_BYTES: u64 = 1 << 20;

impl Sink {
    fn frame(&mut self, kind: u8, payload: &[u8]) -> Result<u64> {
        let at = self.offset;
        self.chain = codec::chain(&self.chain, kind, payload);
        let header = codec::frame_header(kind, payload, &self.chain)?;
        self.file.write_all(&header)?;
        self.file.write_all(payload)?;
        self.offset += header.len() as u64 + payload.len() as u64;
        if self.offset - self.written_back >= WRITEBACK_BYTES {
            self.start_writeback();
        }
        Ok(at)
    }

    /// Asks the kernel to start writing what was written since the last
    /// time, and does not wait: by the end of a recording the data is on
    /// its way to the disk, and the final fsync waits for the tail alone
    /// (it took 4 ms for a 4 MB trace otherwise, 2% of its recording).
    fn start_writeback(&mut self) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let (from, len) = (self.written_back, self.offset - self.written_back);
            // SAFETY: a plain syscall on an fd this sink owns; no memory
            // is passed. A failure only means the fsync does the work.
            unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    from as libc::off64_t,
                    len as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        self.written_back = self.offset;
    }

    fn calls(&mut self, batch: &CallBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut payload = std::mem::take(&mut self.payload);
        self.encoder.encode_into(batch, &mut payload)?;
        let offset = self.frame(kind::CALLS, &payload);
        self.payload = payload;
        let offset = offset?;
        self.index.push(IndexEntry {
            first_seq: batch.first_seq(),
            calls: batch.len() as u32,
            offset,
        });
        self.stats.calls += batch.len() as u64;
        self.stats.chunks += 1;
        if let Some(counter) = &mut self.counter {
            counter.count_batch(&self.header, batch);
            if counter.fd_entries() > self.max_summary_fds {
                self.counter = None;
            }
        }
        Ok(())
    }

    fn finish(&mut self, end: &End) -> Result<()> {
        let end = End {
            summary: self.counter.take().map(Counter::into_summary),
            ..end.clone()
        };
        let end_offset = self.frame(kind::END, &codec::encode_end(&end)?)?;
        let index = Index {
            chunks: std::mem::take(&mut self.index),
            end_offset,
        };
        let index_offset = self.frame(kind::INDEX, &codec::encode_index(&index)?)?;
        self.file.write_all(&codec::footer(index_offset))?;
        self.offset += codec::FOOTER_LEN;
        self.file.sync_all()?;
        self.stats.bytes = self.offset;
        Ok(())
    }
}

impl TraceWriter {
    /// Creates the trace file and writes its magic at once, so that an
    /// unwritable path fails before the guest starts. The header follows
    /// from the writer thread: compressing an embedded module takes some
    /// 10 ms, which the guest's start need not wait for.
    pub fn create(path: &Path, header: &Header) -> Result<TraceWriter> {
        TraceWriter::create_owned(path, header.clone())
    }

    /// [`TraceWriter::create`] taking the header (and its module, some
    /// megabytes) instead of a copy.
    pub fn create_owned(path: &Path, header: Header) -> Result<TraceWriter> {
        TraceWriter::create_with(path, header, MAX_SUMMARY_FDS)
    }

    /// [`TraceWriter::create_owned`], the summary kept up to
    /// `max_summary_fds` fds (tests make it small).
    pub fn create_with(path: &Path, header: Header, max_summary_fds: usize) -> Result<TraceWriter> {
        let mut file = File::create(path)
            .with_context(|| format!("cannot create trace file {}", path.display()))?;
        let magic = codec::magic();
        file.write_all(&magic)
            .with_context(|| format!("cannot write trace file {}", path.display()))?;
        let sink = Sink {
            file,
            offset: magic.len() as u64,
            chain: [0; 32],
            index: Vec::new(),
            stats: WriterStats::default(),
            encoder: ChunkEncoder::new()?,
            payload: Vec::new(),
            counter: Some(Counter::default()),
            max_summary_fds,
            header: Header::default(),
            written_back: 0,
        };
        let what = format!("cannot write trace file {}", path.display());
        // Two chunks in flight at most: memory stays flat when the disk is slow.
        let (tx, rx) = sync_channel(2);
        let (spent_tx, spent) = sync_channel(BATCHES);
        let error = Arc::new(Mutex::new(None));
        let thread_error = error.clone();
        let thread = std::thread::Builder::new()
            .name("wtrace-writer".into())
            .spawn(move || write_loop(sink, header, &what, rx, spent_tx, thread_error))?;
        Ok(TraceWriter {
            tx: Some(tx),
            spent,
            batches: 0,
            thread: Some(thread),
            error,
            path: path.to_path_buf(),
        })
    }

    /// Hands a chunk of calls, numbered consecutively, to the writer thread.
    pub fn write_calls(&mut self, calls: Vec<Call>) -> Result<()> {
        self.write_batch(CallBatch::from_calls(&calls))
    }

    /// Hands a chunk of calls to the writer thread. Fails when an earlier
    /// write failed: the caller should stop the guest.
    pub fn write_batch(&mut self, batch: CallBatch) -> Result<()> {
        self.check()?;
        if let Some(tx) = &self.tx {
            if tx.send(Msg::Calls(batch)).is_err() {
                self.check()?;
                return Err(anyhow!("the trace writer stopped"));
            }
        }
        Ok(())
    }

    /// An empty batch for calls from `first_seq` on: one the writer is done
    /// with, or a new one while fewer than [`BATCHES`] exist. (Made anew
    /// each time the writer lagged, batches were freed and allocated over
    /// and over, and the kernel zeroed their pages on the guest's thread.)
    pub fn empty_batch(&mut self, first_seq: u64) -> CallBatch {
        let spent = match self.spent.try_recv() {
            Ok(batch) => Some(batch),
            Err(_) if self.batches < BATCHES => None,
            // All are in flight: the writer hands one back when it is done
            // with it (none if it stopped).
            Err(_) => self.spent.recv().ok(),
        };
        match spent {
            Some(mut batch) => {
                batch.reset(first_seq);
                batch
            }
            None => {
                self.batches += 1;
                CallBatch::new(first_seq)
            }
        }
    }

    /// The first write error, if any.
    pub fn check(&self) -> Result<()> {
        match &*self.error.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(msg) => Err(anyhow!("{msg}")),
            None => Ok(()),
        }
    }

    /// Writes the end record, the index and the footer, and waits for the
    /// writer thread.
    pub fn finish(mut self, end: End) -> Result<WriterStats> {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Msg::Finish(end));
        }
        let stats = match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(anyhow!("the trace writer thread panicked")),
            None => Err(anyhow!("the trace writer is gone")),
        };
        stats.with_context(|| format!("writing trace {}", self.path.display()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Batches larger than this are not handed back for reuse (an empty one
/// goes back instead): one huge write must not keep its memory for the
/// rest of the recording.
const REUSE_BATCH_BYTES: usize = 8 << 20;
/// Batches in circulation: the one being filled, two queued, one being
/// written.
const BATCHES: usize = 4;

fn write_loop(
    mut sink: Sink,
    header: Header,
    what: &str,
    rx: Receiver<Msg>,
    spent: SyncSender<CallBatch>,
    error: Arc<Mutex<Option<String>>>,
) -> Result<WriterStats> {
    let fail = |e: &anyhow::Error| {
        *error.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("{e:#}"));
    };
    let written = codec::encode_header(&header)
        .and_then(|payload| sink.frame(kind::HEADER, &payload))
        .context(what.to_string());
    // The module is in the file now: its memory goes back (at once: a
    // struct update `..header` would keep it until the writer ends).
    let mut header = header;
    header.module = None;
    sink.header = header;
    if let Err(e) = written {
        fail(&e);
        return Err(e);
    }
    while let Ok(msg) = rx.recv() {
        let result = match &msg {
            Msg::Calls(calls) => sink.calls(calls),
            Msg::Finish(end) => sink.finish(end),
        };
        if let Err(e) = result {
            fail(&e);
            return Err(e);
        }
        match msg {
            Msg::Finish(_) => return Ok(sink.stats),
            Msg::Calls(batch) if batch.capacity() <= REUSE_BATCH_BYTES => {
                let _ = spent.try_send(batch);
            }
            Msg::Calls(_) => {
                let _ = spent.try_send(CallBatch::default());
            }
        }
    }
    Ok(sink.stats)
}
