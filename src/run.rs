//! `wtrace run`: the plain host path, wasmtime-wasi's own preview1 linker
//! with nothing in between, so that it costs what `wasmtime run` costs.

use crate::host::{self, HostOptions};
use crate::trace::RunEnd;
use anyhow::Result;
use std::path::Path;
use wasmtime::{Linker, Store};
use wasmtime_wasi::p1::{self, WasiP1Ctx};

pub fn run(module_path: &Path, argv: Vec<String>, opts: &HostOptions) -> Result<RunEnd> {
    let bytes = host::read_module(module_path)?;
    let engine = host::engine(opts.max_wasm_stack, false)?;
    let module = host::load_module(
        &engine,
        &bytes,
        &module_path.display().to_string(),
        opts.cache,
    )?;
    let (_, foreign) = host::check_imports(&module, opts.trap_unknown_imports)?;
    let wasi = host::wasi_ctx(opts, &argv)?;
    let mut store = Store::new(&engine, wasi);
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |cx| cx).map_err(anyhow::Error::from)?;
    host::define_trapping_imports(&mut linker, &foreign, |_, imp, _| {
        wasmtime::Error::msg(host::imports::foreign_trap_message(imp))
    })?;
    let start = host::start_func(&linker, &mut store, &module)?;
    Ok(host::run_end(host::call_start(start, &mut store)))
}
