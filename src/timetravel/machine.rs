//! The machine's side (in the caller's process, any thread): starts the
//! server, keeps the checkpoints it announces, and sends each request to
//! the nearest checkpoint at or before the call asked.

use super::protocol::{
    packet_pair, receive, send, stream_pair, Answer, AnswerReader, Event, Order,
};
use super::{Cancel, Cancelled, Options, Progress, Snapshot, Spacing};
use anyhow::{anyhow, bail, Context, Result};
use nix::poll::{poll, PollFd, PollFlags};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often a waiting request looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(20);

pub(super) struct Machine {
    server: Mutex<Child>,
    control: Arc<OwnedFd>,
    pass: Arc<(Mutex<Pass>, Condvar)>,
    listener: Mutex<Option<JoinHandle<()>>>,
    total: u64,
    trace: PathBuf,
    module: Option<PathBuf>,
}

/// What the server has said.
#[derive(Default)]
struct Pass {
    checkpoints: BTreeMap<u64, Checkpoint>,
    calls: u64,
    /// The pass is over; with an error when it failed.
    finished: Option<Option<String>>,
    /// The control socket closed: the server is gone.
    gone: bool,
    /// The server said it serves.
    hello: bool,
}

#[derive(Clone)]
struct Checkpoint {
    pid: u32,
    socket: Arc<OwnedFd>,
}

/// Why a request got no answer from a checkpoint.
enum Unanswered {
    /// The checkpoint went away before it began: ask another.
    Gone,
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Unanswered {
    fn from(e: anyhow::Error) -> Unanswered {
        Unanswered::Failed(e)
    }
}

impl Machine {
    pub(super) fn open(trace: &Path, options: Options) -> Result<Machine> {
        let total = crate::replay::check_module(trace, options.module.as_deref())?;
        let exe = match options.server {
            Some(exe) => exe,
            None => std::env::current_exe().context("cannot find the wtrace executable")?,
        };
        let (control, theirs) = packet_pair()?;
        let mut cmd = Command::new(&exe);
        cmd.arg("__timetravel").arg(trace);
        if let Some(m) = &options.module {
            cmd.arg("--module").arg(m);
        }
        match options.spacing {
            Spacing::CpuTime(d) => cmd.arg("--every-ms").arg(d.as_millis().to_string()),
            Spacing::Calls(n) => cmd.arg("--every-calls").arg(n.to_string()),
        };
        cmd.arg("--max-checkpoints")
            .arg(options.max_checkpoints.to_string())
            .stdin(Stdio::from(theirs))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let server = cmd
            .spawn()
            .with_context(|| format!("cannot start {} __timetravel", exe.display()))?;
        drop(cmd);
        let control = Arc::new(control);
        let pass = Arc::new((Mutex::new(Pass::default()), Condvar::new()));
        let listener = {
            let (control, pass) = (control.clone(), pass.clone());
            std::thread::Builder::new()
                .name("wtrace-timetravel".into())
                .spawn(move || listen(&control, &pass, total))?
        };
        Ok(Machine {
            server: Mutex::new(server),
            control,
            pass,
            listener: Mutex::new(Some(listener)),
            total,
            trace: trace.to_path_buf(),
            module: options.module,
        })
    }

    fn pass(&self) -> MutexGuard<'_, Pass> {
        self.pass.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn state(
        &self,
        seq: u64,
        regions: &[(u32, u32)],
        cancel: &dyn Cancel,
    ) -> Result<Snapshot> {
        if seq >= self.total {
            match self.total {
                0 => bail!("call #{seq}: the trace has no calls"),
                n => bail!("call #{seq}: the trace has calls #0 to #{}", n - 1),
            }
        }
        loop {
            let Some((at, checkpoint)) = self.checkpoint_for(seq, cancel)? else {
                let state = crate::replay::state_at(&self.trace, self.module.clone(), seq)?;
                return Ok(Snapshot::of(state, regions));
            };
            match ask(&checkpoint, seq, regions, cancel) {
                Ok(snapshot) => return Ok(snapshot),
                Err(Unanswered::Failed(e)) => return Err(e),
                Err(Unanswered::Gone) => {
                    self.pass().checkpoints.remove(&at);
                }
            }
        }
    }

    /// The nearest checkpoint at or before call `seq`, once the pass has
    /// served that call; `None` when what was started is not a wtrace that
    /// serves. A call the pass has yet to reach is waited for: replaying
    /// towards it from an earlier checkpoint, beside the pass, would get
    /// there later than the pass does, and slow it.
    fn checkpoint_for(&self, seq: u64, cancel: &dyn Cancel) -> Result<Option<(u64, Checkpoint)>> {
        let mut pass = self.pass();
        loop {
            let running = pass.hello && pass.finished.is_none() && !pass.gone;
            let nearest = pass.checkpoints.range(..=seq).next_back();
            if let (Some((&at, c)), false) = (nearest, running && pass.calls <= seq) {
                return Ok(Some((at, c.clone())));
            }
            if pass.gone && !pass.hello {
                return Ok(None);
            }
            if let Some(Some(error)) = &pass.finished {
                bail!("{error}");
            }
            if pass.finished.is_some() || pass.gone {
                bail!("the time-travel server stopped before call #{seq}");
            }
            pass = self
                .pass
                .1
                .wait_timeout(pass, CANCEL_POLL)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            // Not under the lock: the check may ask the machine how far
            // the pass got (the TUI's progress line does).
            drop(pass);
            if cancel.cancelled() {
                return Err(Cancelled.into());
            }
            pass = self.pass();
        }
    }

    pub(super) fn progress(&self) -> Progress {
        let pass = self.pass();
        let done = pass.finished.is_some() || pass.gone;
        if done && !pass.hello {
            // Replaying from the start each time: nothing in the background.
            return Progress {
                total: self.total,
                done,
                ..Progress::default()
            };
        }
        Progress {
            calls: pass.calls,
            total: self.total,
            done,
            checkpoints: pass.checkpoints.len(),
        }
    }

    pub(super) fn checkpoints(&self) -> Vec<u64> {
        self.pass().checkpoints.keys().copied().collect()
    }

    pub(super) fn processes(&self) -> Vec<u32> {
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).id();
        let pass = self.pass();
        let checkpoints = pass.checkpoints.values().map(|c| c.pid);
        std::iter::once(server).chain(checkpoints).collect()
    }
}

impl Drop for Machine {
    /// Kills the server; its checkpoints and their children die with it
    /// (each has the death of its parent as SIGKILL).
    fn drop(&mut self) {
        let mut server = self.server.lock().unwrap_or_else(|e| e.into_inner());
        let _ = server.kill();
        let _ = server.wait();
        let _ = nix::sys::socket::shutdown(
            std::os::fd::AsRawFd::as_raw_fd(&*self.control),
            nix::sys::socket::Shutdown::Both,
        );
        if let Some(listener) = self.listener.lock().ok().and_then(|mut l| l.take()) {
            let _ = listener.join();
        }
        self.pass().checkpoints.clear();
    }
}

/// The machine's listening thread: what the server says, until it is gone.
fn listen(control: &OwnedFd, pass: &(Mutex<Pass>, Condvar), total: u64) {
    loop {
        let event = receive::<Event>(control.as_fd());
        let mut p = pass.0.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Ok(Some((Event::Hello, _))) => p.hello = true,
            Ok(Some((Event::Checkpoint { seq, pid }, Some(socket)))) => {
                let socket = Arc::new(socket);
                p.checkpoints.insert(seq, Checkpoint { pid, socket });
                p.calls = p.calls.max(seq + 1);
            }
            Ok(Some((Event::Checkpoint { .. }, None))) => {}
            Ok(Some((Event::Dropped { seqs }, _))) => {
                for s in seqs {
                    // Its socket closes once no request holds it: the
                    // checkpoint then ends.
                    p.checkpoints.remove(&s);
                }
            }
            Ok(Some((Event::Progress { calls }, _))) => p.calls = p.calls.max(calls),
            Ok(Some((Event::Finished { calls, error }, _))) => {
                p.calls = calls.unwrap_or(total);
                p.finished = Some(error);
            }
            Ok(None) | Err(_) => {
                p.gone = true;
                pass.1.notify_all();
                return;
            }
        }
        pass.1.notify_all();
    }
}

/// Asks `checkpoint` for the state at call `seq`: a child of it replays on
/// and answers on a socket of this request's own.
fn ask(
    checkpoint: &Checkpoint,
    seq: u64,
    regions: &[(u32, u32)],
    cancel: &dyn Cancel,
) -> Result<Snapshot, Unanswered> {
    let (ours, theirs) = stream_pair()?;
    let order = Order::State {
        seq,
        regions: regions.to_vec(),
    };
    if send(checkpoint.socket.as_fd(), &order, Some(theirs.as_fd())).is_err() {
        return Err(Unanswered::Gone);
    }
    drop(theirs);
    let mut answers = AnswerReader::default();
    let mut child: Option<u32> = None;
    loop {
        while let Some(answer) = answers.take()? {
            match answer {
                Answer::Started { pid } => child = Some(pid),
                Answer::State(_) if cancel.cancelled() => {
                    reap(checkpoint, child);
                    return Err(Unanswered::Failed(Cancelled.into()));
                }
                Answer::State(state) => {
                    reap(checkpoint, child);
                    return state.map_err(|e| Unanswered::Failed(anyhow!(e)));
                }
            }
        }
        // Before it has started there is nothing to kill: its pid comes
        // first, at once.
        if let (true, Some(pid)) = (cancel.cancelled(), child) {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            reap(checkpoint, child);
            return Err(Unanswered::Failed(Cancelled.into()));
        }
        let mut fds = [PollFd::new(ours.as_fd(), PollFlags::POLLIN)];
        let timeout = nix::poll::PollTimeout::try_from(CANCEL_POLL).expect("20 ms fits");
        match poll(&mut fds, timeout) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => return Err(anyhow!("cannot wait for a time-travel answer: {e}").into()),
        }
        if !answers.fill(ours.as_fd())? {
            return match child {
                None => Err(Unanswered::Gone),
                Some(_) => {
                    reap(checkpoint, child);
                    let why = anyhow!("the replay to call #{seq} ended without an answer");
                    Err(Unanswered::Failed(why))
                }
            };
        }
    }
}

/// Tells the checkpoint that its child is done with (it waits for it).
fn reap(checkpoint: &Checkpoint, child: Option<u32>) {
    if let Some(pid) = child {
        let _ = send(checkpoint.socket.as_fd(), &Order::Reap { pid }, None);
    }
}
