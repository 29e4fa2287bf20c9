//! Checking a module's imports against what wtrace serves.
//!
//! Every `wasi_snapshot_preview1` function in the table is served. Anything
//! else (a `//go:wasmimport` of another module, `wasi_unstable`, a typo) is
//! reported before the run, all of it at once; with
//! `--trap-unknown-imports` such functions are defined to trap when called.

use crate::syscalls::{self, FuncId, Syscall};
use anyhow::{bail, Result};
use wasmtime::{ExternType, FuncType, Module, ValType};

/// An import wtrace does not serve, defined as a trapping function.
#[derive(Clone, Debug)]
pub struct ForeignImport {
    pub module: String,
    pub name: String,
    pub ty: FuncType,
    /// The call id used in traces: `FuncId::FOREIGN_BASE` and up.
    pub id: FuncId,
}

impl ForeignImport {
    pub fn full_name(&self) -> String {
        format!("{}::{}", self.module, self.name)
    }
}

fn wat_type(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => {
            let list = |it: &mut dyn Iterator<Item = ValType>| {
                it.map(|t| t.to_string()).collect::<Vec<_>>().join(" ")
            };
            let params = list(&mut f.params());
            let results = list(&mut f.results());
            format!("(func (param {params}) (result {results}))")
                .replace("(param )", "()")
                .replace(" (result )", "")
        }
        ExternType::Memory(_) => "(memory)".into(),
        ExternType::Table(_) => "(table)".into(),
        ExternType::Global(_) => "(global)".into(),
        ExternType::Tag(_) => "(tag)".into(),
    }
}

fn preview1_signature_matches(sys: &Syscall, ty: &FuncType) -> bool {
    let params: Vec<ValType> = ty.params().collect();
    let results: Vec<ValType> = ty.results().collect();
    let want_results = if sys.no_return { 0 } else { 1 };
    params.len() == sys.params.len()
        && params
            .iter()
            .zip(sys.param_is_i64())
            .all(|(p, is64)| if is64 { p.is_i64() } else { p.is_i32() })
        && results.len() == want_results
        && results.iter().all(|r| r.is_i32())
}

/// Returns the preview1 functions the module imports, in import order, and
/// the foreign imports (which are an error unless `trap_unknown`).
pub fn check_imports(
    module: &Module,
    trap_unknown: bool,
) -> Result<(Vec<&'static Syscall>, Vec<ForeignImport>)> {
    let mut served = Vec::new();
    let mut foreign = Vec::new();
    let mut problems = Vec::new();
    for imp in module.imports() {
        let ty = imp.ty();
        if imp.module() == syscalls::MODULE {
            if let Some(sys) = syscalls::by_name(imp.name()) {
                match &ty {
                    // A module may import the same function twice (Go does).
                    ExternType::Func(f) if preview1_signature_matches(sys, f) => {
                        if !served.iter().any(|s: &&Syscall| s.func == sys.func) {
                            served.push(sys)
                        }
                    }
                    _ => problems.push(format!(
                        "{}::{} {} does not have the preview1 signature",
                        imp.module(),
                        imp.name(),
                        wat_type(&ty)
                    )),
                }
                continue;
            }
        }
        match ty {
            ExternType::Func(f) if trap_unknown => match FuncId::foreign(foreign.len()) {
                Some(id) => foreign.push(ForeignImport {
                    module: imp.module().to_string(),
                    name: imp.name().to_string(),
                    ty: f,
                    id,
                }),
                None => problems.push(format!(
                    "{}::{} (more foreign imports than a trace can number)",
                    imp.module(),
                    imp.name()
                )),
            },
            other => problems.push(format!(
                "{}::{} {}",
                imp.module(),
                imp.name(),
                wat_type(&other)
            )),
        }
    }
    if !problems.is_empty() {
        let n = problems.len();
        let list = problems
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n");
        bail!(
            "the module has {n} import{} that wtrace cannot provide (it serves wasi_snapshot_preview1 only):\n{list}\n\
             Functions imported from other modules (a Go //go:wasmimport, say) need a host that provides them; \
             run with --trap-unknown-imports to define them as functions that trap when called, and record where they are called.",
            if n == 1 { "" } else { "s" }
        );
    }
    Ok((served, foreign))
}

/// Defines each foreign import as a function that calls `on_call` (which
/// records the call, then returns the trap).
pub fn define_trapping_imports<T: 'static>(
    linker: &mut wasmtime::Linker<T>,
    foreign: &[ForeignImport],
    on_call: impl Fn(&mut wasmtime::Caller<'_, T>, &ForeignImport, &[wasmtime::Val]) -> wasmtime::Error
        + Send
        + Sync
        + Clone
        + 'static,
) -> Result<()> {
    for imp in foreign {
        let imp2 = imp.clone();
        let on_call = on_call.clone();
        linker.func_new(
            &imp.module,
            &imp.name,
            imp.ty.clone(),
            move |mut caller, params, _results| Err(on_call(&mut caller, &imp2, params)),
        )?;
    }
    Ok(())
}

/// Raw u64 of a wasm value, for the trace's argument list.
pub fn raw_arg(v: &wasmtime::Val) -> u64 {
    match v {
        wasmtime::Val::I32(x) => *x as u32 as u64,
        wasmtime::Val::I64(x) => *x as u64,
        wasmtime::Val::F32(x) => *x as u64,
        wasmtime::Val::F64(x) => *x,
        _ => 0,
    }
}

/// The message of the trap a foreign import raises.
pub fn foreign_trap_message(imp: &ForeignImport) -> String {
    format!(
        "unknown import {} was called (defined as a trap by --trap-unknown-imports)",
        imp.full_name()
    )
}
