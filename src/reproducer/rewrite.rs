//! The recorded module copied section by section (wasm-encoder's
//! `Reencode`), with every function import replaced:
//!
//! - imports: the module's function imports are dropped; the real
//!   `fd_write` and `proc_exit` come first instead (functions 0 and 1);
//!   other imports (memories, tables, globals) stay;
//! - functions: the module's own keep their order after those two, then
//!   one replacement per dropped import, then the helpers (`runtime`);
//!   every reference to a function (calls, `ref.func`, elements, exports,
//!   start, names) is renumbered, so a call of import k reaches its
//!   replacement;
//! - types, globals and data segments are appended, so the module's own
//!   keep their indices; the data count is raised by the two segments.

use super::runtime::{Generated, NEW_IMPORTS};
use super::scan::ModuleInfo;
use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{
    CodeSection, ConstExpr, DataCountSection, DataSection, EntityType, FunctionSection,
    GlobalSection, GlobalType, ImportSection, Module, NameMap, SectionId, TypeSection, ValType,
};

type Error = reencode::Error<std::convert::Infallible>;

pub struct Rewriter<'a> {
    pub info: &'a ModuleInfo,
    pub gen: Generated,
    pub calls: &'a [u8],
    /// Sections the additions went into, so that a missing one is added.
    done: Vec<SectionId>,
    /// Whether the added functions were named (in the module's name section).
    named: bool,
}

/// A section's place in a module (the order differs from the ids').
fn position(id: SectionId) -> u8 {
    use SectionId::*;
    [
        Type, Import, Function, Table, Memory, Tag, Global, Export, Start, Element, DataCount,
        Code, Data,
    ]
    .iter()
    .position(|s| *s == id)
    .map_or(0, |p| p as u8 + 1)
}

/// The sections the reproducer adds to, in module order.
const ADDED: [SectionId; 7] = [
    SectionId::Type,
    SectionId::Import,
    SectionId::Function,
    SectionId::Global,
    SectionId::DataCount,
    SectionId::Code,
    SectionId::Data,
];

impl<'a> Rewriter<'a> {
    pub fn new(info: &'a ModuleInfo, gen: Generated, calls: &'a [u8]) -> Self {
        Rewriter {
            info,
            gen,
            calls,
            done: Vec::new(),
            named: false,
        }
    }

    pub fn rewrite(mut self, bytes: &[u8]) -> Result<Vec<u8>, Error> {
        let mut module = Module::new();
        self.parse_core_module(&mut module, wasmparser::Parser::new(0), bytes)?;
        Ok(module.finish())
    }

    fn add_types(&mut self, types: &mut TypeSection) {
        self.done.push(SectionId::Type);
        for (params, results) in &self.gen.types.list {
            types
                .ty()
                .function(params.iter().copied(), results.iter().copied());
        }
    }

    fn add_imports(&mut self, imports: &mut ImportSection) {
        self.done.push(SectionId::Import);
        let module = crate::syscalls::MODULE;
        let [write, exit] = self.gen.imports;
        imports.import(module, "fd_write", EntityType::Function(write));
        imports.import(module, "proc_exit", EntityType::Function(exit));
    }

    fn add_functions(&mut self, functions: &mut FunctionSection) {
        self.done.push(SectionId::Function);
        for (ty, _) in &self.gen.funcs {
            functions.function(*ty);
        }
    }

    fn add_globals(&mut self, globals: &mut GlobalSection) {
        self.done.push(SectionId::Global);
        for (ty, init) in &self.gen.globals {
            let init = match ty {
                ValType::I64 => ConstExpr::i64_const(*init),
                _ => ConstExpr::i32_const(*init as i32),
            };
            let ty = GlobalType {
                val_type: *ty,
                mutable: true,
                shared: false,
            };
            globals.global(ty, &init);
        }
    }

    fn add_code(&mut self, code: &mut CodeSection) {
        self.done.push(SectionId::Code);
        for (_, f) in &self.gen.funcs {
            code.function(f);
        }
    }

    fn add_data(&mut self, data: &mut DataSection) {
        self.done.push(SectionId::Data);
        data.passive(self.calls.iter().copied());
        data.passive(self.gen.texts.bytes.iter().copied());
    }

    /// The module's function names renumbered, and the added functions'
    /// (a replacement keeps its import's name when the module had one).
    fn function_names(&mut self, mut list: Vec<(u32, String)>) -> NameMap {
        self.named = true;
        let first = NEW_IMPORTS + self.info.defined_funcs;
        for (k, name) in self.gen.func_names.iter().enumerate() {
            let i = first + k as u32;
            if !list.iter().any(|(j, _)| *j == i) {
                list.push((i, name.clone()));
            }
        }
        list.sort_by_key(|(i, _)| *i);
        let mut out = NameMap::new();
        for (i, name) in &list {
            out.append(*i, name);
        }
        out
    }

    /// Emits added section `id` on its own (the module has none).
    fn add_missing(&mut self, module: &mut Module, id: SectionId) {
        match id {
            SectionId::Type => {
                let mut s = TypeSection::new();
                self.add_types(&mut s);
                module.section(&s);
            }
            SectionId::Import => {
                let mut s = ImportSection::new();
                self.add_imports(&mut s);
                module.section(&s);
            }
            SectionId::Function => {
                let mut s = FunctionSection::new();
                self.add_functions(&mut s);
                module.section(&s);
            }
            SectionId::Global => {
                let mut s = GlobalSection::new();
                self.add_globals(&mut s);
                module.section(&s);
            }
            SectionId::DataCount => {
                self.done.push(id);
                let count = self.info.data_segments + 2;
                module.section(&DataCountSection { count });
            }
            SectionId::Code => {
                let mut s = CodeSection::new();
                self.add_code(&mut s);
                module.section(&s);
            }
            SectionId::Data => {
                let mut s = DataSection::new();
                self.add_data(&mut s);
                module.section(&s);
            }
            _ => {}
        }
    }
}

impl Reencode for Rewriter<'_> {
    type Error = std::convert::Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, Error> {
        let imported = self.info.func_imports.len() as u32;
        Ok(if func < imported {
            // Import k: its replacement, after the module's own functions.
            NEW_IMPORTS + self.info.defined_funcs + func
        } else {
            func - imported + NEW_IMPORTS
        })
    }

    fn parse_export(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        export: wasmparser::Export<'_>,
    ) -> Result<(), Error> {
        if export.name == "_start" && self.info.start.is_some() {
            let wrapper = super::runtime::Gen::start_wrapper_index(self.info);
            exports.export("_start", wasm_encoder::ExportKind::Func, wrapper);
            return Ok(());
        }
        reencode::utils::parse_export(self, exports, export)
    }

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), Error> {
        reencode::utils::parse_type_section(self, types, section)?;
        self.add_types(types);
        Ok(())
    }

    fn parse_import_section(
        &mut self,
        imports: &mut ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), Error> {
        self.add_imports(imports);
        for import in section.into_imports() {
            let import = import?;
            if matches!(
                import.ty,
                wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)
            ) {
                continue;
            }
            let ty = self.entity_type(import.ty)?;
            imports.import(import.module, import.name, ty);
        }
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), Error> {
        reencode::utils::parse_function_section(self, functions, section)?;
        self.add_functions(functions);
        Ok(())
    }

    fn parse_global_section(
        &mut self,
        globals: &mut GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), Error> {
        reencode::utils::parse_global_section(self, globals, section)?;
        self.add_globals(globals);
        Ok(())
    }

    fn data_count(&mut self, count: u32) -> Result<u32, Error> {
        self.done.push(SectionId::DataCount);
        Ok(count + 2)
    }

    fn parse_code_section(
        &mut self,
        code: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), Error> {
        reencode::utils::parse_code_section(self, code, section)?;
        self.add_code(code);
        Ok(())
    }

    fn parse_data_section(
        &mut self,
        data: &mut DataSection,
        section: wasmparser::DataSectionReader<'_>,
    ) -> Result<(), Error> {
        reencode::utils::parse_data_section(self, data, section)?;
        self.add_data(data);
        Ok(())
    }

    fn intersperse_section_hook(
        &mut self,
        module: &mut Module,
        after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), Error> {
        if before.is_none() && !self.named {
            // The module has no function names: name the added functions.
            let mut names = wasm_encoder::NameSection::new();
            names.functions(&self.function_names(Vec::new()));
            module.section(&names);
        }
        let (lo, hi) = (after.map_or(0, position), before.map_or(u8::MAX, position));
        for id in ADDED {
            let p = position(id);
            if p > lo && p < hi && !self.done.contains(&id) {
                self.add_missing(module, id);
            }
        }
        Ok(())
    }

    fn parse_custom_section(
        &mut self,
        module: &mut Module,
        section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), Error> {
        // DWARF describes code offsets that re-encoding changes: leave it out.
        if section.name().starts_with(".debug_") {
            return Ok(());
        }
        reencode::utils::parse_custom_section(self, module, section)
    }

    fn parse_custom_name_subsection(
        &mut self,
        names: &mut wasm_encoder::NameSection,
        section: wasmparser::Name<'_>,
    ) -> Result<(), Error> {
        // Renumbered functions must stay in index order; local and label
        // names are left out (a function's names are enough for backtraces).
        match section {
            wasmparser::Name::Function(map) => {
                let mut list = Vec::new();
                for naming in map {
                    let naming = naming?;
                    list.push((self.function_index(naming.index)?, naming.name.to_string()));
                }
                names.functions(&self.function_names(list));
                Ok(())
            }
            wasmparser::Name::Local(_) | wasmparser::Name::Label(_) => Ok(()),
            other => reencode::utils::parse_custom_name_subsection(self, names, other),
        }
    }
}
