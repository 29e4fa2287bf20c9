//! The memory view: guest memory as it stood when the selected call
//! returned, a window of rows read from the source when shown.

use super::jobs::outcome;
use super::{App, Prompt, StateView};
use crate::source::{CallState, TraceSource};
use crate::task::Task;

/// Bytes per row of the memory view.
pub const ROW_BYTES: u32 = 16;

/// Bytes read for the view: where, at which call, and what came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub seq: u64,
    pub addr: u32,
    /// The bytes, or why they could not be read.
    pub bytes: Result<Vec<u8>, String>,
}

/// A read in progress: (call, address, length) and its task.
type Reading = ((u64, u32, u32), Task<Result<Vec<u8>, String>>);

/// What the memory view shows and where it is.
pub struct MemoryView {
    pub open: bool,
    /// Address of the first row (a multiple of [`ROW_BYTES`]); kept when
    /// the view closes, so stepping to another call and back shows the
    /// same bytes.
    pub top: u32,
    /// Rows that fit, set from the terminal size.
    pub rows: u16,
    /// The pointer argument followed last (Tab), an index into the
    /// state's pointers.
    pub pointer: Option<usize>,
    /// Bytes to highlight: a followed pointer's, or a gone-to address.
    pub mark: Option<(u32, u32)>,
    pub window: Option<Window>,
    /// What `window` was read for: (call, address, length).
    window_key: Option<(u64, u32, u32)>,
    /// The read in progress: (call, address, length) and its task.
    reading: Option<Reading>,
}

impl Default for MemoryView {
    fn default() -> MemoryView {
        MemoryView {
            open: false,
            top: 0,
            rows: 16,
            pointer: None,
            mark: None,
            window: None,
            window_key: None,
            reading: None,
        }
    }
}

/// `0x200` or `512`: an address typed in the prompt.
pub fn parse_address(typed: &str) -> Result<u64, String> {
    let t = typed.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse(),
    };
    parsed.map_err(|_| format!("{t:?} is not an address (decimal, or hex with 0x)"))
}

impl MemoryView {
    /// The highest first row: the last row of memory at the bottom.
    fn max_top(&self, size: u64) -> u32 {
        let rows = size.div_ceil(ROW_BYTES as u64);
        let top_row = rows.saturating_sub(self.rows.max(1) as u64);
        (top_row * ROW_BYTES as u64).min(u32::MAX as u64) as u32 & !(ROW_BYTES - 1)
    }

    /// Puts `addr` on screen: its row on top, unless that is past the
    /// highest first row.
    fn show(&mut self, addr: u32, size: u64) {
        self.top = (addr & !(ROW_BYTES - 1)).min(self.max_top(size));
    }

    /// The window the view should show for `state`: call, address, length.
    fn wanted(&self, state: &CallState) -> (u64, u32, u32) {
        let top = self.top.min(self.max_top(state.memory_size));
        let len =
            (self.rows as u64 * ROW_BYTES as u64).min(state.memory_size.saturating_sub(top as u64));
        (state.seq, top, len as u32)
    }
}

impl<S: TraceSource> App<S> {
    pub(super) fn toggle_memory(&mut self) {
        self.memory.open = !self.memory.open;
        if self.memory.open && self.selected_seq().is_none() {
            self.memory.open = false;
            self.status = "no call selected: no memory to show".into();
        }
    }

    /// The state the memory view shows, or the status says why there is
    /// none yet.
    fn memory_state(&mut self) -> Option<CallState> {
        let seq = self.selected_seq()?;
        self.status = match &self.state {
            StateView::Ready(s) => return Some(s.clone()),
            StateView::Computing(_) => format!("the memory at #{seq} is still being computed"),
            StateView::Failed(why) => format!("no memory at #{seq}: {why}"),
            StateView::None => "this trace has no memory to show".into(),
        };
        None
    }

    pub(super) fn scroll_memory(&mut self, rows: i64) {
        let Some(state) = self.memory_state() else {
            return;
        };
        let m = &mut self.memory;
        let top = m.top as i64 + rows * ROW_BYTES as i64;
        m.top = top.clamp(0, m.max_top(state.memory_size) as i64) as u32;
    }

    pub(super) fn page_memory(&mut self, pages: i64) {
        self.scroll_memory(pages * self.memory.rows.max(1) as i64);
    }

    pub(super) fn start_address(&mut self) {
        self.prompt = Some(Prompt::Address(String::new()));
    }

    /// Goes to the address typed; out of memory, says so.
    pub(super) fn goto_address(&mut self, typed: &str) {
        let addr = match parse_address(typed) {
            Ok(addr) => addr,
            Err(why) => {
                self.status = why;
                return;
            }
        };
        let Some(state) = self.memory_state() else {
            return;
        };
        if addr >= state.memory_size {
            self.status = format!(
                "{addr:#x} is past the end of the guest's memory at #{}: {} bytes ({:#x})",
                state.seq, state.memory_size, state.memory_size
            );
            return;
        }
        self.memory.show(addr as u32, state.memory_size);
        self.memory.mark = Some((addr as u32, 1));
        self.memory.pointer = None;
        self.status = format!("{addr:#x} at #{}", state.seq);
    }

    /// Follows the next (or previous) pointer argument of the call.
    pub(super) fn follow_pointer(&mut self, by: i64) {
        let Some(state) = self.memory_state() else {
            return;
        };
        let n = state.pointers.len() as i64;
        if n == 0 {
            self.status = format!("#{} has no pointer arguments", state.seq);
            return;
        }
        let i = match self.memory.pointer {
            Some(i) => (i as i64 + by).rem_euclid(n),
            None if by > 0 => 0,
            None => n - 1,
        } as usize;
        let p = &state.pointers[i];
        self.memory.show(p.addr, state.memory_size);
        self.memory.pointer = Some(i);
        self.memory.mark = Some((p.addr, p.len));
        self.status = format!(
            "{} at {:#x}, {} bytes (pointer argument {} of {n}; Tab: next)",
            p.name,
            p.addr,
            p.len,
            i + 1
        );
    }

    /// Reads the window the memory view shows, when it changed; takes in
    /// a read that finished.
    pub(super) fn refresh_memory(&mut self) {
        if !self.memory.open {
            return;
        }
        let Some(state) = self.state.ready() else {
            return;
        };
        let wanted = self.memory.wanted(state);
        let reading = self.memory.reading.as_ref().map(|(key, _)| *key);
        if self.memory.window_key != Some(wanted) && reading != Some(wanted) {
            let task = self.source.memory(wanted.0, wanted.1, wanted.2);
            self.memory.reading = Some((wanted, task));
        }
        if let Some((key, task)) = &mut self.memory.reading {
            if let Some(result) = outcome(task) {
                let bytes = result.unwrap_or_else(|| Err("the read failed".into()));
                self.memory.window = Some(Window {
                    seq: key.0,
                    addr: key.1,
                    bytes,
                });
                self.memory.window_key = Some(*key);
                self.memory.reading = None;
            }
        }
    }

    pub fn memory_busy(&self) -> bool {
        self.memory.reading.is_some()
    }
}
