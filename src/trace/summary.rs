//! A trace's summary: its calls counted as `wtrace stats` counts them.
//! From format version 6 the writer keeps it in the end record, so that
//! `stats` of a finished trace reads no call, and `verify` counts again.

use crate::syscalls::{FuncId, SYSCALLS};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The calls of a trace counted as `wtrace stats` counts them, kept in
/// its end record so that `stats` need not read the calls.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Every function called, by id.
    pub funcs: Vec<(FuncId, PerFunc)>,
    /// Every fd that data moved through, with the path it was opened from
    /// (as the calls before say), by fd and path.
    pub fds: Vec<(u32, String, PerFd)>,
}

/// Calls, errors and host time of one function.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerFunc {
    pub calls: u64,
    pub errors: u64,
    pub ns: u64,
    /// Calls whose result was injected (`record --inject`, `--chaos`).
    pub injected: u64,
}

/// Read and write calls through one fd (opened from one path): the bytes
/// the successful ones moved, and how many there were.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerFd {
    pub read: u64,
    pub written: u64,
    pub calls: u64,
}

/// Each function's [`PerFunc`], counted call by call: preview1's by id in
/// a table (a map took a quarter of `stats`' time on a clock-heavy trace),
/// foreign imports in a map.
#[derive(Clone, Debug, Default)]
pub struct FuncCounts {
    preview1: Vec<PerFunc>,
    foreign: BTreeMap<FuncId, PerFunc>,
}

impl FuncCounts {
    /// Counts a call of `func`.
    #[inline]
    pub fn add(&mut self, func: FuncId, failed: bool, injected: bool, dur_ns: u64) {
        let f = self.of(func);
        f.calls += 1;
        // A damaged or made-up trace may hold any durations.
        f.ns = f.ns.wrapping_add(dur_ns);
        f.errors += failed as u64;
        f.injected += injected as u64;
    }

    /// Counts an injection into the last call of `func`, counted already.
    pub fn add_injected(&mut self, func: FuncId) {
        self.of(func).injected += 1;
    }

    #[inline]
    fn of(&mut self, func: FuncId) -> &mut PerFunc {
        if self.preview1.is_empty() {
            self.preview1.resize_with(SYSCALLS.len(), PerFunc::default);
        }
        match self.preview1.get_mut(func.0 as usize) {
            Some(f) => f,
            None => self.foreign.entry(func).or_default(),
        }
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &FuncCounts) {
        for (func, o) in other.list() {
            let f = self.of(func);
            f.calls += o.calls;
            f.errors += o.errors;
            f.ns = f.ns.wrapping_add(o.ns);
            f.injected += o.injected;
        }
    }

    /// Whether a function counted moves bytes or changes the fd table.
    pub fn touches_fds(&self) -> bool {
        let called = self
            .preview1
            .iter()
            .enumerate()
            .filter(|(_, f)| f.calls > 0);
        called
            .map(|(i, _)| FuncId(i as u16))
            .any(FuncId::touches_fds)
    }

    /// Every function called, by id: the summary's `funcs`.
    pub fn list(&self) -> Vec<(FuncId, PerFunc)> {
        let preview1 = (self.preview1.iter().enumerate())
            .filter(|(_, f)| f.calls > 0)
            .map(|(i, f)| (FuncId(i as u16), f.clone()));
        let foreign = self.foreign.iter().map(|(func, f)| (*func, f.clone()));
        preview1.chain(foreign).collect()
    }
}
