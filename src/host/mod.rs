//! The wasmtime host: one engine configuration for `run`, `record` and
//! `replay`, module loading (with the compile cache), import checks and the
//! WASI context.

mod cache;
pub mod calls;
pub mod imports;

pub use cache::load_module;
pub use imports::{check_imports, define_trapping_imports, ForeignImport};

use crate::trace::{Preopen, RunEnd};
use anyhow::{bail, Context, Result};
use std::path::Path;
use wasmtime::{Config, Engine};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// Go's `go_wasip1_wasm_exec` passes `-W max-wasm-stack=1048576`; Go binaries
/// need it, so it is the default here.
pub const DEFAULT_MAX_WASM_STACK: usize = 1 << 20;

/// The wasmtime version wtrace is built with (Cargo.toml pins it exactly;
/// a test checks the two agree). Part of every trace header and cache key.
pub const WASMTIME_VERSION: &str = "48.0.8";

/// How the host is set up, from the command line (wasmtime's flags).
#[derive(Clone, Debug)]
pub struct HostOptions {
    /// `--dir HOST[::GUEST]`, in order: the first is fd 3.
    pub dirs: Vec<Preopen>,
    /// `--env NAME[=VAL]`, resolved.
    pub env: Vec<(String, String)>,
    pub max_wasm_stack: usize,
    /// Use the on-disk compile cache.
    pub cache: bool,
    pub trap_unknown_imports: bool,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            dirs: Vec::new(),
            env: Vec::new(),
            max_wasm_stack: DEFAULT_MAX_WASM_STACK,
            cache: true,
            trap_unknown_imports: false,
        }
    }
}

/// Frames kept of a stack shown (`-k`, breakpoints, watches).
pub const MAX_STACK_FRAMES: usize = 256;

/// The engine configuration, identical for run, record and replay so that a
/// trace made on one machine replays on another: NaN canonicalization makes
/// float results bit-identical across CPUs.
///
/// `source_lines` keeps the module's DWARF for call stacks with file:line
/// (replay's `-k`, breakpoints, watches). It changes no generated code,
/// only what is kept beside it; wasmtime counts it in the engine's
/// compatibility hash, so such modules get cache entries of their own.
/// Without it, `WASMTIME_BACKTRACE_DETAILS=1` decides, as in wasmtime.
pub fn engine(max_wasm_stack: usize, source_lines: bool) -> Result<Engine> {
    let mut config = Config::new();
    config
        .max_wasm_stack(max_wasm_stack)
        .wasm_exceptions(true)
        .cranelift_nan_canonicalization(true);
    if source_lines {
        // wasmtime keeps 20 frames by default; a stack shown to the user
        // should be whole, as strace -k's.
        config
            .wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable)
            .wasm_backtrace_max_frames(std::num::NonZeroUsize::new(MAX_STACK_FRAMES));
    }
    Ok(Engine::new(&config)?)
}

/// Reads a module file: core wasm or `.wat` text. Components and other
/// files are refused with a message that says what wtrace runs.
pub fn read_module(path: &Path) -> Result<Vec<u8>> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read module {}", path.display()))?;
    check_module_bytes(&bytes, &path.display().to_string())?;
    Ok(bytes)
}

pub fn check_module_bytes(bytes: &[u8], name: &str) -> Result<()> {
    if bytes.starts_with(b"\0asm") {
        if bytes.len() >= 8 && bytes[4..8] == [0x0d, 0x00, 0x01, 0x00] {
            bail!("{name} is a WebAssembly component; wtrace runs WASI preview1 core modules");
        }
        return Ok(());
    }
    let text = std::str::from_utf8(bytes).ok().map(str::trim_start);
    if text.is_some_and(|t| t.starts_with('(') || t.starts_with(";;")) {
        return Ok(());
    }
    bail!("{name} is not a WebAssembly module (no \\0asm magic, and not .wat text)");
}

/// Builds the WASI preview1 context: argv, env, preopens, inherited stdio.
pub fn wasi_ctx(opts: &HostOptions, argv: &[String]) -> Result<WasiP1Ctx> {
    Ok(wasi_builder(opts, argv)?.build_p1())
}

/// [`wasi_ctx`], to be finished by the caller (`record` sets its clock).
pub fn wasi_builder(opts: &HostOptions, argv: &[String]) -> Result<WasiCtxBuilder> {
    let mut b = WasiCtxBuilder::new();
    // As `wasmtime run` does: file operations run on this thread instead of
    // a hop to a blocking thread pool per call (16x slower on small writes).
    // Set before the preopens, which take the setting when they are made.
    b.allow_blocking_current_thread(true);
    b.inherit_stdio().args(argv);
    for (k, v) in &opts.env {
        b.env(k, v);
    }
    for d in &opts.dirs {
        b.preopened_dir(&d.host, &d.guest, FsPerms::ReadWrite)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot preopen directory {}", d.host))?;
    }
    Ok(b)
}

/// Maps the result of calling `_start` to how the run ended.
pub fn run_end(result: wasmtime::Result<()>) -> RunEnd {
    match result {
        Ok(()) => RunEnd::Exit(0),
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => RunEnd::Exit(exit.0),
            None => RunEnd::Trap(trap_text(&e)),
        },
    }
}

/// A trap as wasmtime prints it: the message with its wasm backtrace and
/// the causes, without the host's own Rust backtrace (which says nothing
/// about the guest and would differ between record and replay).
pub fn trap_text(e: &wasmtime::Error) -> String {
    let mut chain = e.chain();
    let mut text = chain.next().map(|c| c.to_string()).unwrap_or_default();
    let causes: Vec<String> = chain.map(|c| c.to_string()).collect();
    if !causes.is_empty() {
        text.push_str("\n\nCaused by:");
        for (i, c) in causes.iter().enumerate() {
            let c = c.replace('\n', "\n       ");
            if causes.len() == 1 {
                text.push_str(&format!("\n    {c}"));
            } else {
                text.push_str(&format!("\n    {i}: {c}"));
            }
        }
    }
    text
}

/// Runs `_start` inside wasmtime-wasi's Tokio runtime context. Entered
/// once for the run, each async preview1 call then blocks on its future at
/// once; outside it, every call would enter the runtime anew and yield to
/// its scheduler first (measured: 3% of a write-heavy run).
pub fn call_start<T: 'static>(
    start: wasmtime::TypedFunc<(), ()>,
    store: &mut wasmtime::Store<T>,
) -> wasmtime::Result<()> {
    wasmtime_wasi::runtime::with_ambient_tokio_runtime(|| start.call(store, ()))
}

/// Instantiates the module and returns its `_start`; an error here is
/// wtrace's (or the module's set-up), not a run of the guest.
pub fn start_func<T: 'static>(
    linker: &wasmtime::Linker<T>,
    store: &mut wasmtime::Store<T>,
    module: &wasmtime::Module,
) -> Result<wasmtime::TypedFunc<(), ()>> {
    Ok(instance_and_start(linker, store, module)?.1)
}

/// [`start_func`], with the instance (for its exports after the run).
pub fn instance_and_start<T: 'static>(
    linker: &wasmtime::Linker<T>,
    store: &mut wasmtime::Store<T>,
    module: &wasmtime::Module,
) -> Result<(wasmtime::Instance, wasmtime::TypedFunc<(), ()>)> {
    let instance = linker
        .instantiate(&mut *store, module)
        .map_err(anyhow::Error::from)
        .context("cannot instantiate the module")?;
    let start = instance
        .get_typed_func::<(), ()>(&mut *store, "_start")
        .map_err(anyhow::Error::from)
        .context(
            "the module has no `_start` function of type () -> (): it is not a WASI command",
        )?;
    // For the benchmarks: wtrace's own start-up time (argument parsing,
    // module load or compile, linking, instantiation).
    if std::env::var_os("WTRACE_STARTUP_TIMING").is_some() {
        if let Some(t0) = crate::PROCESS_START.get() {
            eprintln!(
                "wtrace: {:.2} ms before _start",
                t0.elapsed().as_secs_f64() * 1e3
            );
        }
    }
    Ok((instance, start))
}

/// The platform a trace was recorded on: `x86_64-linux`.
pub fn platform() -> String {
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}
