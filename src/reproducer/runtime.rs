//! The functions the reproducer adds to the module: one replacement per
//! function import, which serves the call from the recorded stream
//! (`layout`), and the helpers they share. They are generated as wasm
//! instructions here; `rewrite` places them after the module's own
//! functions.
//!
//! Reading the stream needs memory: `memory.init` copies one byte of the
//! passive segment to address 0, the byte is loaded and address 0 gets its
//! old byte back before the guest runs again (wasm is single threaded, so
//! the guest never sees the borrowed byte). Effects are copied straight to
//! their recorded addresses with `memory.init`.

use super::layout::{CLOCK_SLOTS, TRAP};
use super::scan::{FuncImport, ModuleInfo};
use crate::syscalls::Func;
use wasm_encoder::{BlockType, Function, MemArg, ValType};

use ValType::{I32, I64};

/// Index of the real `fd_write` and `proc_exit` imports, the only host
/// functions the reproducer calls.
pub const REAL_FD_WRITE: u32 = 0;
pub const REAL_PROC_EXIT: u32 = 1;
pub const NEW_IMPORTS: u32 = 2;

/// Where the divergence message is put together (the guest is stopped
/// after it, so its memory may be overwritten): the text from 0, digits
/// below DIGITS_END, the iovec and count for fd_write at IOVEC.
const DIGITS_END: i32 = 2000;
const IOVEC: i32 = 2000;
/// Names in messages are cut to this many bytes, so the message stays
/// below DIGITS_END.
const NAME_MAX: usize = 200;

/// Function types the module gains, numbered from the module's own count.
pub struct Types {
    base: u32,
    pub list: Vec<(Vec<ValType>, Vec<ValType>)>,
}

impl Types {
    fn get(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        let ty = (params.to_vec(), results.to_vec());
        let i = match self.list.iter().position(|t| *t == ty) {
            Some(i) => i,
            None => {
                self.list.push(ty);
                self.list.len() - 1
            }
        };
        self.base + i as u32
    }
}

/// The texts of messages and names: the second passive segment.
#[derive(Default)]
pub struct Texts {
    pub bytes: Vec<u8>,
}

impl Texts {
    fn add(&mut self, s: &str) -> (i32, i32) {
        let s = &s.as_bytes()[..s.len().min(NAME_MAX)];
        let off = self.bytes.len() as i32;
        self.bytes.extend_from_slice(s);
        (off, s.len() as i32)
    }
}

/// What the generated code refers to.
pub struct Layout<'a> {
    pub info: &'a ModuleInfo,
    /// Length of the calls segment; reading at its end is running past the recording.
    pub calls_len: u32,
    pub total_calls: u64,
    /// The name of every function code that may appear in a message.
    pub names: Vec<(u32, String)>,
}

/// The added functions with their type indices, the added types, globals
/// and the text segment.
pub struct Generated {
    pub imports: [u32; 2],
    pub funcs: Vec<(u32, Function)>,
    /// The name of each added function, for the name section.
    pub func_names: Vec<String>,
    pub types: Types,
    pub globals: Vec<(ValType, i64)>,
    pub texts: Texts,
}

/// Helper functions, in the order they follow the replacements.
#[derive(Clone, Copy)]
enum Helper {
    Leb,
    Next,
    Apply,
    WriteStdio,
    Diverge,
    Trapped,
    Name,
    Number,
    Print,
    Ended,
}
const HELPERS: [Helper; 10] = [
    Helper::Leb,
    Helper::Next,
    Helper::Apply,
    Helper::WriteStdio,
    Helper::Diverge,
    Helper::Trapped,
    Helper::Name,
    Helper::Number,
    Helper::Print,
    Helper::Ended,
];

impl Helper {
    fn name(self) -> &'static str {
        match self {
            Helper::Leb => "wtrace_reproducer::read_leb128",
            Helper::Next => "wtrace_reproducer::next_call",
            Helper::Apply => "wtrace_reproducer::apply_effects",
            Helper::WriteStdio => "wtrace_reproducer::write_stdio",
            Helper::Diverge => "wtrace_reproducer::left_the_recorded_path",
            Helper::Trapped => "wtrace_reproducer::trapped_in_the_recording",
            Helper::Name => "wtrace_reproducer::append_name",
            Helper::Number => "wtrace_reproducer::append_number",
            Helper::Print => "wtrace_reproducer::print",
            Helper::Ended => "wtrace_reproducer::ended_early",
        }
    }
}

/// Globals, in the order they follow the module's own.
#[derive(Clone, Copy)]
enum Global {
    /// Offset of the next byte of the calls segment.
    Cursor,
    /// Number of calls served so far.
    Served,
    /// The current call's errno (or TRAP) and its `effects` field.
    Result,
    Effects,
    /// Address of the last effect (addresses are delta-coded).
    LastAddr,
    /// The last reading of each clock (readings are delta-coded); four globals.
    Clock,
}

pub struct Gen<'a> {
    l: &'a Layout<'a>,
    types: Types,
    texts: Texts,
    names: Vec<(u32, (i32, i32))>,
    calls_seg: u32,
    text_seg: u32,
}

fn mem(offset: u64) -> MemArg {
    MemArg {
        offset,
        align: 0,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    }
}

impl<'a> Gen<'a> {
    pub fn generate(l: &'a Layout<'a>) -> Generated {
        let mut g = Gen {
            l,
            types: Types {
                base: l.info.types,
                list: Vec::new(),
            },
            texts: Texts::default(),
            names: Vec::new(),
            calls_seg: l.info.data_segments,
            text_seg: l.info.data_segments + 1,
        };
        for (code, name) in &l.names {
            let t = g.texts.add(name);
            g.names.push((*code, t));
        }
        let imports = [g.types.get(&[I32; 4], &[I32]), g.types.get(&[I32], &[])];
        let (mut funcs, mut func_names) = (Vec::new(), Vec::new());
        for f in &l.info.func_imports {
            funcs.push((f.type_index, g.replacement(f)));
            func_names.push(format!("wtrace_reproducer::{}", f.full_name));
        }
        for h in HELPERS {
            funcs.push(g.helper(h));
            func_names.push(h.name().to_string());
        }
        if let Some(start) = l.info.start {
            funcs.push(g.start_wrapper(start));
            func_names.push("wtrace_reproducer::_start".to_string());
        }
        let mut globals = vec![(I32, 0); 5];
        globals.extend((0..CLOCK_SLOTS).map(|_| (I64, 0)));
        Generated {
            imports,
            funcs,
            func_names,
            types: g.types,
            globals,
            texts: g.texts,
        }
    }

    /// The function exported as `_start` instead of the module's own
    /// (`rewrite` points the export here): it runs the program, then checks
    /// that the recording was used up.
    pub fn start_wrapper_index(info: &ModuleInfo) -> u32 {
        NEW_IMPORTS + info.defined_funcs + info.func_imports.len() as u32 + HELPERS.len() as u32
    }

    fn start_wrapper(&mut self, start: u32) -> (u32, Function) {
        let info = self.l.info;
        let mut f = Function::new([]);
        let mut s = f.instructions();
        s.call(start - info.func_imports.len() as u32 + NEW_IMPORTS);
        s.call(self.func(Helper::Ended)).end();
        (self.types.get(&[], &[]), f)
    }

    fn func(&self, h: Helper) -> u32 {
        let info = self.l.info;
        NEW_IMPORTS + info.defined_funcs + info.func_imports.len() as u32 + h as u32
    }

    fn global(&self, g: Global) -> u32 {
        self.l.info.globals + g as u32
    }

    /// The function that stands in for import `f`.
    fn replacement(&mut self, f: &FuncImport) -> Function {
        let mut func = Function::new([]);
        let code = f.code as i32;
        let (next, trapped, apply) = (
            self.func(Helper::Next),
            self.func(Helper::Trapped),
            self.func(Helper::Apply),
        );
        let result = self.global(Global::Result);
        let effects = self.global(Global::Effects);
        let write = self.func(Helper::WriteStdio);
        let mut s = func.instructions();
        s.i32_const(code).call(next);
        let Some(sys) = f.syscall else {
            // A foreign import: its recorded calls trapped.
            s.i32_const(code).call(trapped).unreachable().end();
            return func;
        };
        if sys.func == Func::proc_exit {
            s.local_get(0).call(REAL_PROC_EXIT).unreachable().end();
            return func;
        }
        s.global_get(result).i32_const(TRAP as i32).i32_eq();
        s.if_(BlockType::Empty).i32_const(code).call(trapped).end();
        s.call(apply);
        if sys.func == Func::fd_write {
            // A real write to stdout/stderr of as many bytes as recorded
            // (the count the effects just stored at `nwritten`).
            s.global_get(effects).i32_const(1).i32_and();
            s.if_(BlockType::Empty);
            for i in 0..4 {
                s.local_get(i);
            }
            s.local_get(3).i32_load(mem(0)).call(write).end();
        }
        s.global_get(result).end();
        func
    }

    fn helper(&mut self, h: Helper) -> (u32, Function) {
        match h {
            Helper::Leb => (self.types.get(&[], &[I64]), self.leb()),
            Helper::Next => (self.types.get(&[I32], &[]), self.next()),
            Helper::Apply => (self.types.get(&[], &[]), self.apply()),
            Helper::WriteStdio => (self.types.get(&[I32; 5], &[]), self.write_stdio()),
            Helper::Diverge => (self.types.get(&[I32, I32], &[]), self.diverge()),
            Helper::Trapped => (self.types.get(&[I32], &[]), self.trapped()),
            Helper::Name => (self.types.get(&[I32, I32], &[I32]), self.name()),
            Helper::Number => (self.types.get(&[I32, I64], &[I32]), self.number()),
            Helper::Print => (self.types.get(&[I32], &[]), self.print()),
            Helper::Ended => (self.types.get(&[], &[]), self.ended()),
        }
    }
}

mod helpers;
