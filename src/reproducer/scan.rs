//! What the rewriting needs to know of the recorded module before copying
//! it: its function imports and what each one is, and how many types,
//! functions, globals and data segments it has (new ones are appended).

use crate::syscalls::{self, FuncId, Syscall};
use crate::trace::Header;
use anyhow::{bail, Context, Result};
use wasmparser::{CompositeInnerType, FuncType, Parser, Payload, TypeRef, ValType};

/// A function import of the recorded module.
pub struct FuncImport {
    /// `module::name`, for messages.
    pub full_name: String,
    /// Its type index in the module.
    pub type_index: u32,
    /// The preview1 function, when it is one.
    pub syscall: Option<&'static Syscall>,
    /// The id its calls carry in the trace; an id no recorded call can have
    /// for an import that was never called (not in the header).
    pub code: u32,
}

/// First code given to imports the trace has no id for.
pub const UNRECORDED_BASE: u32 = 0x1_0000;

#[derive(Default)]
pub struct ModuleInfo {
    pub types: u32,
    pub func_imports: Vec<FuncImport>,
    pub defined_funcs: u32,
    pub globals: u32,
    pub data_segments: u32,
    /// The defined function exported as `_start` with type [] -> [], if any.
    pub start: Option<u32>,
}

pub fn scan(bytes: &[u8], header: &Header) -> Result<ModuleInfo> {
    let mut info = ModuleInfo::default();
    let mut func_types: Vec<Option<FuncType>> = Vec::new();
    let mut memories = Vec::new();
    let mut defined_types = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.context("the recorded module cannot be parsed")? {
            Payload::Version { encoding, .. } if encoding != wasmparser::Encoding::Module => {
                bail!("the recorded module is a component, not a core module")
            }
            Payload::TypeSection(s) => {
                for group in s {
                    for ty in group?.types() {
                        func_types.push(match &ty.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(f.clone()),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(s) => {
                for import in s.into_imports() {
                    let import = import?;
                    match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            let f = func_import(&info, header, import.module, import.name, t)?;
                            info.func_imports.push(f);
                        }
                        TypeRef::Global(_) => info.globals += 1,
                        TypeRef::Memory(m) => memories.push(m),
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(s) => {
                info.defined_funcs = s.count();
                for t in s {
                    defined_types.push(t?);
                }
            }
            Payload::GlobalSection(s) => info.globals += s.count(),
            Payload::MemorySection(s) => {
                for m in s {
                    memories.push(m?);
                }
            }
            Payload::DataSection(s) => info.data_segments = s.count(),
            Payload::ExportSection(s) => {
                for export in s {
                    let export = export?;
                    if export.name == "_start" && export.kind == wasmparser::ExternalKind::Func {
                        info.start = Some(export.index);
                    }
                }
            }
            _ => {}
        }
    }
    info.types = func_types.len() as u32;
    match memories.first() {
        None => bail!("the recorded module has no memory: a reproducer stores the recorded effects in memory 0"),
        Some(m) if m.memory64 => bail!("the recorded module's memory is 64-bit; preview1 is 32-bit"),
        Some(_) => {}
    }
    for f in &info.func_imports {
        check_type(f, &func_types)?;
    }
    // `_start` gets a wrapper that checks the recording was used up; only
    // a defined function of the usual type can be wrapped.
    info.start = info.start.filter(|&i| {
        i >= info.func_imports.len() as u32
            && is_nullary(
                &func_types,
                defined_types.get((i - info.func_imports.len() as u32) as usize),
            )
    });
    Ok(info)
}

fn func_import(
    info: &ModuleInfo,
    header: &Header,
    module: &str,
    name: &str,
    type_index: u32,
) -> Result<FuncImport> {
    let full_name = format!("{module}::{name}");
    let syscall = (module == syscalls::MODULE)
        .then(|| syscalls::by_name(name))
        .flatten();
    let foreign = || {
        header
            .foreign_imports
            .iter()
            .position(|f| *f == full_name)
            .and_then(FuncId::foreign)
    };
    let code = match syscall.map(|s| s.func.id()).or_else(foreign) {
        Some(id) => u32::from(id.0),
        None => UNRECORDED_BASE + info.func_imports.len() as u32,
    };
    Ok(FuncImport {
        full_name,
        type_index,
        syscall,
        code,
    })
}

/// A preview1 import must have the table's core type: its replacement
/// reads the arguments as the table says.
fn check_type(f: &FuncImport, types: &[Option<FuncType>]) -> Result<()> {
    let Some(sys) = f.syscall else {
        return Ok(());
    };
    let Some(Some(ty)) = types.get(f.type_index as usize) else {
        bail!("import {} has no function type", f.full_name);
    };
    let params: Vec<ValType> = sys
        .param_is_i64()
        .map(|wide| if wide { ValType::I64 } else { ValType::I32 })
        .collect();
    let results: &[ValType] = if sys.no_return { &[] } else { &[ValType::I32] };
    if ty.params() != params || ty.results() != results {
        bail!(
            "import {} has type {ty}, not preview1's; the module cannot have been recorded",
            f.full_name
        );
    }
    Ok(())
}

/// Whether type `t` is a function type with no parameters and no results.
fn is_nullary(types: &[Option<FuncType>], t: Option<&u32>) -> bool {
    let ty = t
        .and_then(|&t| types.get(t as usize))
        .and_then(Option::as_ref);
    ty.is_some_and(|f| f.params().is_empty() && f.results().is_empty())
}
