//! `replay --until N --memory ADDR:LEN --memory-args`: the guest's state as
//! it stands when call N returns: memory ranges, the memory behind each
//! pointer argument of call N, and the module's exported globals.

use super::serve::ReplayState;
use crate::capture::{self, Range, StringSizes};
use crate::hexdump::{hexdump, Region};
use crate::stack::Frame;
use crate::trace::{Call, Header, Outcome};
use anyhow::Result;
use std::fmt::Write as _;
use wasmtime::{Instance, Store, Val};

/// The guest's state when a call returned, for readers that show it
/// themselves (the TUI): [`super::state_at`].
#[derive(Clone, Debug, Default)]
pub struct CallState {
    /// The call's number.
    pub seq: u64,
    /// The guest's stack at the call, innermost first.
    pub frames: Vec<Frame>,
    /// The whole linear memory as it stood when the call returned.
    pub memory: Vec<u8>,
    /// The exported globals: name and value as text (`1 (0x1, i32)`).
    pub globals: Vec<(String, String)>,
    /// The memory behind the call's pointer arguments ([`pointer_ranges`]).
    pub pointers: Vec<PointerArg>,
}

/// Guest memory a pointer argument of a call covers: what the host read
/// there, or wrote when the call succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PointerArg {
    /// The parameter's name in the table: `path`, `iovs`, `buf`.
    pub name: &'static str,
    pub addr: u32,
    pub len: u32,
}

impl PointerArg {
    /// Its bytes, clamped to `memory`.
    pub fn bytes<'m>(&self, memory: &'m [u8]) -> &'m [u8] {
        let range = Range {
            param: 0,
            addr: self.addr,
            len: self.len,
        };
        range.bytes(memory)
    }
}

/// Keeps the state after the `--until` call, for [`super::state_at`].
pub(super) fn keep_state(store: &mut Store<ReplayState>, instance: Instance) {
    let globals = exported_globals(store, instance);
    let state = store.data();
    let (Some(call), Some(memory)) = (&state.until_call, state.memory) else {
        return;
    };
    let data = memory.data(&*store);
    let kept = CallState {
        seq: call.seq,
        frames: state.until_stack.clone().unwrap_or_default(),
        pointers: pointer_ranges(&state.header, call, data),
        memory: data.to_vec(),
        globals,
    };
    store.data_mut().kept = Some(kept);
}

/// The report on the state after call N, as text.
pub(super) fn state_after(store: &mut Store<ReplayState>, instance: Instance) -> Result<String> {
    let mut out = String::new();
    let globals = exported_globals(store, instance);
    let state = store.data();
    let Some(memory) = state.memory else {
        return Ok(out);
    };
    let data = memory.data(&*store);
    let seq = state.until_call.as_ref().map_or(0, |c| c.seq);
    for region in &state.opts.memory {
        let bytes = region
            .bytes(data)
            .map_err(|e| anyhow::anyhow!("--memory {e}"))?;
        writeln!(out, "memory {region} after #{seq}:")?;
        out.push_str(&hexdump(region.addr, bytes));
    }
    if let (true, Some(call)) = (state.opts.memory_args, &state.until_call) {
        out.push_str(&pointer_args(state, call, data));
    }
    if !globals.is_empty() {
        writeln!(out, "exported globals after #{seq}:")?;
        for (name, value) in globals {
            writeln!(out, "  {name} = {value}")?;
        }
    }
    Ok(out)
}

/// The memory behind each pointer argument of `call`, as `xxd` lines.
fn pointer_args(state: &ReplayState, call: &Call, memory: &[u8]) -> String {
    let mut out = format!("memory behind the pointer arguments of #{}:\n", call.seq);
    for p in pointer_ranges(&state.header, call, memory) {
        let region = Region {
            addr: p.addr,
            len: p.len,
        };
        let _ = writeln!(out, "{} {region}:", p.name);
        out.push_str(&hexdump(p.addr, p.bytes(memory)));
    }
    out
}

/// The memory behind each pointer argument of `call` (in the order of the
/// parameters, empty ranges left out): what the host read (strings, iovec
/// and subscription lists, the data written) and, when the call
/// succeeded, what it wrote (buffers, out-pointers).
pub fn pointer_ranges(header: &Header, call: &Call, memory: &[u8]) -> Vec<PointerArg> {
    let Some(sys) = call.func.syscall() else {
        return Vec::new();
    };
    let mut ranges: Vec<Range> = Vec::new();
    capture::read_ranges(sys, &call.args, memory, |r| ranges.push(r));
    if call.outcome == Outcome::Errno(0) {
        let sizes = StringSizes::new(&header.argv, &header.env);
        let list = |i: usize| {
            call.reads
                .iter()
                .find(|m| m.param as usize == i)
                .map(|m| &m.bytes[..])
        };
        capture::write_ranges(sys, &call.args, memory, list, &sizes, |r| ranges.push(r));
    }
    ranges.sort_by_key(|r| (r.param, r.addr));
    ranges.dedup();
    ranges
        .iter()
        .filter(|r| r.len > 0)
        .map(|r| PointerArg {
            name: sys.params[r.param as usize].name,
            addr: r.addr,
            len: r.len,
        })
        .collect()
}

pub(super) fn exported_globals(
    store: &mut Store<ReplayState>,
    instance: Instance,
) -> Vec<(String, String)> {
    let globals: Vec<(String, wasmtime::Global)> = instance
        .exports(&mut *store)
        .filter_map(|e| {
            let name = e.name().to_string();
            e.into_global().map(|g| (name, g))
        })
        .collect();
    globals
        .into_iter()
        .map(|(name, g)| (name, value_text(&g.get(&mut *store))))
        .collect()
}

fn value_text(v: &Val) -> String {
    match v {
        Val::I32(x) => format!("{x} ({:#x}, i32)", *x as u32),
        Val::I64(x) => format!("{x} ({:#x}, i64)", *x as u64),
        Val::F32(bits) => format!("{} (f32)", f32::from_bits(*bits)),
        Val::F64(bits) => format!("{} (f64)", f64::from_bits(*bits)),
        other => format!("{other:?}"),
    }
}
