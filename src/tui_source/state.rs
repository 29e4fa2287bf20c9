//! The guest's state at a call, for the TUI's detail pane and memory view,
//! from a [`TimeMachine`]: re-executed from the nearest checkpoint of a
//! background replay rather than replayed from the start each time (which
//! took up to 20 s on a 10-million-call trace). The memory view's windows
//! come in 64 KiB blocks, kept for the call last asked, so that scrolling
//! near an address asks again only past what is kept.

use crate::timetravel::{Cancelled, Region, Snapshot, TimeMachine};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use wtrace_tui::{Pointer, Task};

/// Memory is asked for in aligned blocks of this size.
const BLOCK: u64 = 64 << 10;

/// Asks the time machine (started with the first state asked for) on
/// threads of their own, and keeps the memory blocks of the last call.
#[derive(Clone)]
pub struct States {
    path: PathBuf,
    machine: Arc<Mutex<Option<Result<TimeMachine, String>>>>,
    kept: Arc<Mutex<Kept>>,
}

/// Memory blocks of one call: block address to bytes (cut at the end of
/// memory).
#[derive(Default)]
struct Kept {
    seq: Option<u64>,
    memory_size: u64,
    blocks: BTreeMap<u64, Vec<u8>>,
}

type Shown = Result<wtrace_tui::CallState, String>;

impl States {
    pub fn new(path: &Path) -> States {
        States {
            path: path.to_path_buf(),
            machine: Arc::default(),
            kept: Arc::default(),
        }
    }

    /// The state at call `seq` as the UI shows it. Dropping the task (the
    /// UI moved on) cancels the request.
    pub fn state(&self, seq: u64) -> Task<Shown> {
        let states = self.clone();
        Task::spawn(seq + 1, move |progress| {
            // While the background pass has yet to reach the call, the
            // pane says how far it got (the cancel check runs every few ms).
            let machine = states.machine().ok();
            let waiting = || {
                if let Some(m) = &machine {
                    progress.report(m.progress().calls.min(seq + 1));
                }
                progress.cancelled()
            };
            let snapshot = states.ask(seq, &[], &waiting)?;
            Some(snapshot.map(|s| shown(&s)))
        })
    }

    /// `len` bytes at `addr` when call `seq` returned.
    pub fn memory(&self, seq: u64, addr: u32, len: u32) -> Task<Result<Vec<u8>, String>> {
        if let Some(window) = self.window(seq, addr, len) {
            return Task::ready(window);
        }
        let states = self.clone();
        Task::spawn(seq + 1, move |progress| {
            let first = addr as u64 / BLOCK * BLOCK;
            let end = (addr as u64 + len as u64).div_ceil(BLOCK).max(1) * BLOCK;
            let blocks: Vec<Region> = (first..end.max(first + BLOCK))
                .step_by(BLOCK as usize)
                .map(|a| Region {
                    addr: a as u32,
                    len: BLOCK as u32,
                })
                .collect();
            let snapshot = states.ask(seq, &blocks, &*progress.cancel_flag())?;
            Some(snapshot.and_then(|_| {
                states
                    .window(seq, addr, len)
                    .unwrap_or_else(|| Err(format!("no memory at {addr:#x} at #{seq}")))
            }))
        })
    }

    /// The time machine, started by the first state asked for.
    fn machine(&self) -> Result<TimeMachine, String> {
        let mut m = self.machine.lock().unwrap_or_else(|e| e.into_inner());
        m.get_or_insert_with(|| TimeMachine::open(&self.path, None).map_err(|e| format!("{e:#}")))
            .clone()
    }

    /// Asks the machine and keeps what came; `None` when cancelled.
    fn ask(
        &self,
        seq: u64,
        regions: &[Region],
        cancel: &dyn crate::timetravel::Cancel,
    ) -> Option<Result<Snapshot, String>> {
        let snapshot = match self.machine().map(|m| m.state(seq, regions, cancel)) {
            Ok(Ok(s)) => s,
            Ok(Err(e)) if e.is::<Cancelled>() => return None,
            Ok(Err(e)) => return Some(Err(format!("{e:#}"))),
            Err(e) => return Some(Err(e)),
        };
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.seq != Some(seq) {
            *kept = Kept {
                seq: Some(seq),
                memory_size: snapshot.memory_size,
                blocks: BTreeMap::new(),
            };
        }
        for (addr, bytes) in &snapshot.regions {
            kept.blocks.insert(*addr as u64, bytes.clone());
        }
        Some(Ok(snapshot))
    }

    /// The window from the blocks kept, when they hold it (or say that it
    /// starts past the end of memory).
    fn window(&self, seq: u64, addr: u32, len: u32) -> Option<Result<Vec<u8>, String>> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.seq != Some(seq) {
            return None;
        }
        let size = kept.memory_size;
        if addr as u64 >= size {
            return Some(Err(format!(
                "{addr:#x} is past the end of the guest's memory at #{seq} ({size} bytes)"
            )));
        }
        let end = (addr as u64 + len as u64).min(size);
        let mut out = Vec::with_capacity((end - addr as u64) as usize);
        let mut at = addr as u64;
        while at < end {
            let block = at / BLOCK * BLOCK;
            let bytes = kept.blocks.get(&block)?;
            let from = (at - block) as usize;
            let upto = ((end - block) as usize).min(bytes.len());
            if upto <= from {
                return None;
            }
            out.extend_from_slice(&bytes[from..upto]);
            at = block + upto as u64;
        }
        Some(Ok(out))
    }
}

/// What the UI shows of a state: frames as `function at file:line`.
fn shown(s: &Snapshot) -> wtrace_tui::CallState {
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
        memory_size: s.memory_size,
        pointers: s
            .pointers
            .iter()
            .map(|p| Pointer {
                name: p.param.clone(),
                addr: p.addr,
                len: p.len,
            })
            .collect(),
    }
}
