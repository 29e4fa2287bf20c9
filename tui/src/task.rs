//! Long work off the UI thread. A [`Task`] runs on a worker thread of its
//! own (with its own trace reader, if it reads the trace), reports how far
//! it got over a channel, and stops when cancelled or dropped. The UI polls
//! it between key presses, so the screen never waits for a search, a
//! filter, or later a breakpoint's continue or a state computation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread;

enum Report<T> {
    Progress(u64),
    Done(T),
}

/// What a worker holds: where to report, and whether to stop.
pub struct Progress<T> {
    tx: Sender<Report<T>>,
    cancel: Arc<AtomicBool>,
}

impl<T> Progress<T> {
    /// Says that `done` units of the task's total are done.
    pub fn report(&self, done: u64) {
        let _ = self.tx.send(Report::Progress(done));
    }

    /// Whether the UI has given up on the result: the worker should stop.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The flag behind [`Progress::cancelled`], for work that checks it
    /// itself (a replay).
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }
}

/// Where a task stands, as [`Task::poll`] sees it.
#[derive(Debug, PartialEq)]
pub enum Poll<T> {
    Running,
    Done(T),
    /// The worker ended without a result (it panicked).
    Failed,
}

/// Work running in the background: `done` of `total` units so far.
pub struct Task<T> {
    rx: Receiver<Report<T>>,
    cancel: Arc<AtomicBool>,
    pub done: u64,
    pub total: u64,
    /// A result that came with the task (see [`Task::ready`]).
    ready: Option<T>,
}

impl<T: Send + 'static> Task<T> {
    /// Runs `work` on a thread of its own. It reports progress through the
    /// [`Progress`] it gets, out of `total`, and returns `None` when it
    /// saw [`Progress::cancelled`].
    pub fn spawn(
        total: u64,
        work: impl FnOnce(&Progress<T>) -> Option<T> + Send + 'static,
    ) -> Self {
        let (tx, rx) = mpsc::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Progress {
            tx,
            cancel: cancel.clone(),
        };
        thread::spawn(move || {
            if let Some(result) = work(&progress) {
                let _ = progress.tx.send(Report::Done(result));
            }
        });
        Task {
            rx,
            cancel,
            done: 0,
            total,
            ready: None,
        }
    }
}

impl<T> Task<T> {
    /// A task already done: for work too small for a thread.
    pub fn ready(result: T) -> Self {
        let (_, rx) = mpsc::channel();
        Task {
            rx,
            cancel: Arc::new(AtomicBool::new(false)),
            done: 1,
            total: 1,
            ready: Some(result),
        }
    }

    /// Takes in what the worker reported since the last poll.
    pub fn poll(&mut self) -> Poll<T> {
        if let Some(result) = self.ready.take() {
            return Poll::Done(result);
        }
        loop {
            match self.rx.try_recv() {
                Ok(Report::Progress(done)) => self.done = done,
                Ok(Report::Done(result)) => return Poll::Done(result),
                Err(TryRecvError::Empty) => return Poll::Running,
                Err(TryRecvError::Disconnected) => return Poll::Failed,
            }
        }
    }

    /// Percent done, for the progress line.
    pub fn percent(&self) -> u64 {
        (self.done as u128 * 100 / self.total.max(1) as u128).min(100) as u64
    }
}

impl<T> Drop for Task<T> {
    /// A task nobody waits for stops: cancelling is dropping.
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait<T>(task: &mut Task<T>) -> Poll<T> {
        loop {
            match task.poll() {
                Poll::Running => thread::yield_now(),
                other => return other,
            }
        }
    }

    #[test]
    fn a_task_reports_progress_then_its_result() {
        let mut task = Task::spawn(10, |p| {
            p.report(4);
            Some("found")
        });
        assert_eq!(wait(&mut task), Poll::Done("found"));
        assert_eq!((task.done, task.total, task.percent()), (4, 10, 40));
    }

    #[test]
    fn dropping_a_task_stops_its_worker() {
        let (tx, rx) = mpsc::channel();
        let task = Task::spawn(1, move |p: &Progress<()>| {
            while !p.cancelled() {
                thread::yield_now();
            }
            tx.send("stopped").unwrap();
            None
        });
        drop(task);
        assert_eq!(rx.recv().unwrap(), "stopped");
    }
}
