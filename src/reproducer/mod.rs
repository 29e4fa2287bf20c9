//! `wtrace export --wasm`: a standalone reproducer. The recorded module is
//! rewritten so that every preview1 call is served from the recording
//! stored inside the module itself: any preview1 host (`wasmtime run`,
//! Node's `node:wasi`) replays the run with no files, no stdin and no
//! flags. Only writes to stdout/stderr and `proc_exit` reach the host.
//! `docs/reproducer.md` describes the design and the data layout.
//!
//! - `layout`: the recorded calls as a byte stream (what is stored, how);
//! - `scan`: what the module imports and how many of each thing it has;
//! - `runtime`: the wasm functions that serve calls from the stream;
//! - `rewrite`: the module copied with its imports replaced by those.

mod layout;
mod rewrite;
mod runtime;
mod scan;

use crate::trace::{func_name, TraceReader};
use anyhow::{anyhow, Context, Result};
use std::collections::BTreeMap;

/// Sizes of what went into a reproducer, for `export` to report.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub module: usize,
    pub calls: u64,
    /// Bytes of the recorded calls as stored in the reproducer.
    pub call_data: usize,
    pub reproducer: usize,
}

/// Builds the reproducer of a trace; returns its bytes and sizes.
pub fn build(reader: &mut TraceReader) -> Result<(Vec<u8>, Sizes)> {
    let header = reader.header.clone();
    let module = reader.module.clone().context(
        "the trace does not embed its module (recorded with --no-embed): a reproducer needs it; record again without --no-embed",
    )?;
    // A module recorded from a .wat file is embedded as text.
    let module = wat::parse_bytes(&module)
        .with_context(|| {
            format!(
                "the embedded module {} is not valid wasm",
                header.module_name
            )
        })?
        .into_owned();
    let info = scan::scan(&module, &header)?;
    let mut encoder = layout::Encoder::default();
    let mut names = BTreeMap::new();
    for f in &info.func_imports {
        names.insert(f.code, f.full_name.clone());
    }
    for call in reader.calls() {
        let call = call?;
        names
            .entry(u32::from(call.func.0))
            .or_insert_with(|| func_name(&header, call.func));
        encoder.call(&call);
    }
    // Preview1 functions are named without their module, as in `dump`.
    let prefix = format!("{}::", crate::syscalls::MODULE);
    let names = names
        .into_iter()
        .map(|(code, name)| (code, name.trim_start_matches(&prefix).to_string()))
        .collect();
    let calls_len = u32::try_from(encoder.bytes.len()).map_err(|_| {
        anyhow!("the recorded calls take more than 4 GiB; a data segment cannot hold them")
    })?;
    let layout = runtime::Layout {
        info: &info,
        calls_len,
        total_calls: encoder.calls,
        names,
    };
    let generated = runtime::Gen::generate(&layout);
    let bytes = rewrite::Rewriter::new(&info, generated, &encoder.bytes)
        .rewrite(&module)
        .map_err(|e| anyhow!("cannot rewrite the recorded module: {e}"))?;
    let sizes = Sizes {
        module: module.len(),
        calls: encoder.calls,
        call_data: encoder.bytes.len(),
        reproducer: bytes.len(),
    };
    Ok((bytes, sizes))
}
