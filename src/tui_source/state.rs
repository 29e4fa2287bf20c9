//! The guest's state at a call, for the TUI's detail pane and memory view.
//! [`compute`] is the one place that computes it (today by replaying from
//! the start, [`crate::replay::state_at_unless`]); the last state computed
//! is kept whole, so the memory view reads its windows from it at once.

use crate::replay::{self, CallState};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use wtrace_tui::{Pointer, Task};

/// Computes states on threads of their own, one at a time, and keeps the
/// last.
#[derive(Clone)]
pub struct States {
    path: PathBuf,
    /// The last state computed: the memory view's windows come from it.
    kept: Arc<Mutex<Option<Arc<CallState>>>>,
    /// One replay at a time: a newer one waits for an older to stop.
    turn: Arc<Mutex<()>>,
}

type Shown = Result<wtrace_tui::CallState, String>;

impl States {
    pub fn new(path: &Path) -> States {
        States {
            path: path.to_path_buf(),
            kept: Arc::default(),
            turn: Arc::default(),
        }
    }

    /// The state at call `seq` as the UI shows it. Dropping the task (the
    /// UI moved on) stops the replay at its next call.
    pub fn state(&self, seq: u64) -> Task<Shown> {
        let states = self.clone();
        Task::spawn(seq + 1, move |progress| {
            let state = states.get(seq, progress.cancel_flag())?;
            Some(state.map(|s| shown(&s)))
        })
    }

    /// `len` bytes at `addr` when call `seq` returned.
    pub fn memory(&self, seq: u64, addr: u32, len: u32) -> Task<Result<Vec<u8>, String>> {
        let window = move |s: &CallState| {
            let size = s.memory.len() as u64;
            if addr as u64 >= size {
                return Err(format!(
                    "{addr:#x} is past the end of the guest's memory at #{seq} ({size} bytes)"
                ));
            }
            let end = (addr as u64 + len as u64).min(size);
            Ok(s.memory[addr as usize..end as usize].to_vec())
        };
        if let Some(s) = self.kept_at(seq) {
            return Task::ready(window(&s));
        }
        let states = self.clone();
        Task::spawn(seq + 1, move |progress| {
            let state = states.get(seq, progress.cancel_flag())?;
            Some(state.and_then(|s| window(&s)))
        })
    }

    fn kept_at(&self, seq: u64) -> Option<Arc<CallState>> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.as_ref().filter(|s| s.seq == seq).cloned()
    }

    /// The kept state if it is call `seq`'s, else one computed and kept;
    /// `None` when cancelled.
    fn get(&self, seq: u64, cancel: Arc<AtomicBool>) -> Option<Result<Arc<CallState>, String>> {
        let _turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        if let Some(s) = self.kept_at(seq) {
            return Some(Ok(s));
        }
        let state = match compute(&self.path, seq, cancel.clone()) {
            Ok(s) => Arc::new(s),
            Err(_) if cancel.load(std::sync::atomic::Ordering::Relaxed) => return None,
            Err(e) => return Some(Err(format!("{e:#}"))),
        };
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = Some(state.clone());
        Some(Ok(state))
    }
}

/// The guest's state when call `seq` returned.
fn compute(path: &Path, seq: u64, cancel: Arc<AtomicBool>) -> anyhow::Result<CallState> {
    replay::state_at_unless(path, None, seq, cancel)
}

/// What the UI shows of a state: frames as `function at file:line`.
fn shown(s: &CallState) -> wtrace_tui::CallState {
    wtrace_tui::CallState {
        seq: s.seq,
        // The function and where in the source: the pane is narrow.
        frames: s
            .frames
            .iter()
            .map(|f| match f.location() {
                Some(at) => format!("{} at {at}", f.func),
                None => f.func.clone(),
            })
            .collect(),
        globals: s.globals.clone(),
        memory_size: s.memory.len() as u64,
        pointers: s
            .pointers
            .iter()
            .map(|p| Pointer {
                name: p.name.to_string(),
                addr: p.addr,
                len: p.len,
            })
            .collect(),
    }
}
