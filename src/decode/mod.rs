//! Decoding calls for people and programs: every argument and result typed
//! ([`Field`]), printed as strace-style lines or emitted as JSON.
//!
//! ```text
//! path_open(fd=3</work>, dirflags=SYMLINK_FOLLOW, path="input/data.txt", oflags=0, ...) = 0 (opened_fd=4)
//! fd_read(fd=4</work/input/data.txt>, iovs=[{buf=0x1a000, len=4096}]) = 0 (nread=18, "line one\nline two\n")
//! path_open(fd=3</work>, ..., path="missing", ...) = 44 ENOENT (No such file or directory)
//! ```
//!
//! How each parameter decodes comes from its kind in [`crate::syscalls`];
//! nothing here knows a function by name. A [`Decoder`] follows the calls
//! in order to know which path each fd was opened from, so feed it every
//! call, also those a filter hides.
//!
//! - `field`: the typed values and their text and JSON;
//! - `layouts`: preview1's structures in guest memory;
//! - `fds`: the fd table.

mod fds;
mod field;
mod layouts;

pub use field::{object, quote, Field, Named};

use crate::capture::{self, EVENT_SIZE};
use crate::names::{errno_name, errno_text, Symbols, Value};
use crate::syscalls::{FdEffect, Fill, FuncId, Holds, Kind, Syscall};
use crate::trace::{func_name, Call, Header, Mem, Outcome};
use fds::FdTable;
use serde_json::{json, Value as Json};
use std::fmt::Write as _;

/// strace's default `-s`: strings are cut after this many bytes.
pub const DEFAULT_STRSIZE: usize = 32;

/// A call, decoded into typed, named parts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecodedCall {
    pub name: String,
    /// The strace-like class (`fd`, `path`, …), or `foreign`.
    pub class: &'static str,
    /// The arguments in order; lengths folded into the strings and lists
    /// they belong to.
    pub args: Vec<Named>,
    /// `0`, `44 ENOENT (No such file or directory)`, `? +++ exited with 2 +++`.
    pub result: String,
    pub is_error: bool,
    /// What the host returned through out-pointers and buffers.
    pub outs: Vec<Named>,
}

impl DecodedCall {
    /// The strace-style line.
    pub fn line(&self) -> String {
        let mut s = String::with_capacity(96);
        self.write_line(&mut s);
        s
    }

    /// Appends the strace-style line to `s`.
    pub fn write_line(&self, s: &mut String) {
        s.push_str(&self.name);
        s.push('(');
        write_list(s, &self.args);
        s.push_str(") = ");
        s.push_str(&self.result);
        if !self.outs.is_empty() {
            s.push_str(" (");
            write_list(s, &self.outs);
            s.push(')');
        }
    }

    /// The arguments as text, without the function's name.
    pub fn args_text(&self) -> String {
        let mut s = String::new();
        write_list(&mut s, &self.args);
        s
    }

    /// The outputs as text, without the parentheses.
    pub fn outs_text(&self) -> String {
        let mut s = String::new();
        write_list(&mut s, &self.outs);
        s
    }
}

fn write_list(out: &mut String, fields: &[Named]) {
    field::write_joined(out, fields, Named::write_text);
}

/// One call as a JSON object, the one shape of `dump --json` and
/// `export --format jsonl` (documented in `docs/json.md`).
pub fn call_json(call: &Call, decoded: &DecodedCall) -> Json {
    let ranges = |v: &[Mem]| {
        v.iter()
            .map(|m| json!({"param": m.param, "addr": m.addr, "len": m.bytes.len()}))
            .collect::<Vec<_>>()
    };
    json!({
        "seq": call.seq,
        "start_ns": call.start_ns,
        "dur_ns": call.dur_ns,
        "func": decoded.name,
        "class": decoded.class,
        "args": object(&decoded.args),
        "result": outcome_json(&call.outcome),
        "outs": object(&decoded.outs),
        "raw_args": call.args,
        "reads": ranges(&call.reads),
        "writes": ranges(&call.writes),
    })
}

/// `{"errno": 44, "name": "ENOENT", "error": true}`, `{"exit": 2, …}`,
/// `{"trap": "message", …}`.
pub fn outcome_json(outcome: &Outcome) -> Json {
    let error = outcome.is_error();
    match outcome {
        Outcome::Errno(e) => json!({"errno": e, "name": errno_name(*e), "error": error}),
        Outcome::Exit(c) => json!({"exit": c, "error": error}),
        Outcome::Trap(m) => json!({"trap": m, "error": error}),
    }
}

/// `0`, `44 ENOENT (No such file or directory)`, `? +++ exited with 2 +++`.
pub fn result_text(outcome: &Outcome) -> String {
    let mut s = String::new();
    write_result(&mut s, outcome);
    s
}

/// Appends [`result_text`] to `s`.
fn write_result(s: &mut String, outcome: &Outcome) {
    let _ = match outcome {
        Outcome::Errno(0) => write!(s, "0"),
        Outcome::Errno(e) => write!(s, "{e} {} ({})", errno_name(*e), errno_text(*e)),
        Outcome::Exit(code) => write!(s, "? +++ exited with {code} +++"),
        Outcome::Trap(msg) => write!(s, "? <trap: {}>", msg.lines().next().unwrap_or("")),
    };
}

/// The result without the errno's text: `0`, `44 ENOENT`, `? exit 2`,
/// `? trap`; for one-line lists.
pub fn short_result(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Errno(0) => "0".into(),
        Outcome::Errno(e) => format!("{e} {}", errno_name(*e)),
        Outcome::Exit(code) => format!("? exit {code}"),
        Outcome::Trap(_) => "? trap".into(),
    }
}

/// Decodes calls in order, following the fd table.
#[derive(Clone, Debug)]
pub struct Decoder {
    /// `-s N`: bytes of data shown before `...`.
    pub strsize: usize,
    /// `-v`: every right instead of the first few.
    pub verbose: bool,
    fds: FdTable,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_STRSIZE)
    }
}

impl Decoder {
    pub fn new(strsize: usize) -> Decoder {
        Decoder {
            strsize,
            verbose: false,
            fds: FdTable::default(),
        }
    }

    /// Decodes `call` and follows its effect on the fd table.
    pub fn decode(&mut self, header: &Header, call: &Call) -> DecodedCall {
        let mut decoded = DecodedCall::default();
        self.decode_into(header, call, &mut decoded);
        decoded
    }

    /// [`Decoder::decode`] into `out`, reusing its buffers: for readers
    /// that go through many calls (`dump`).
    pub fn decode_into(&mut self, header: &Header, call: &Call, out: &mut DecodedCall) {
        self.decode_unfollowed_into(header, call, out);
        self.fds.follow(call);
    }

    /// Decodes `call` without following it: for a report about a call
    /// that [`Decoder::decode`] or [`Decoder::follow`] will see later.
    pub fn decode_unfollowed(&mut self, header: &Header, call: &Call) -> DecodedCall {
        let mut decoded = DecodedCall::default();
        self.decode_unfollowed_into(header, call, &mut decoded);
        decoded
    }

    fn decode_unfollowed_into(&mut self, header: &Header, call: &Call, out: &mut DecodedCall) {
        self.fds.know_preopens(header);
        out.args.clear();
        out.outs.clear();
        out.name.clear();
        out.result.clear();
        write_result(&mut out.result, &call.outcome);
        out.is_error = call.outcome.is_error();
        match call.func.syscall() {
            Some(sys) => {
                out.name.push_str(sys.name);
                out.class = sys.class.name();
                self.decode_preview1(sys, call, out);
            }
            None => {
                out.name.push_str(&func_name(header, call.func));
                out.class = "foreign";
                let args = call.args.iter().enumerate();
                let args = args.map(|(i, a)| Named::new(format!("arg{i}"), Field::Hex(*a)));
                out.args.extend(args);
            }
        }
    }

    /// Whether calls of `func` can change the fd table: a reader that
    /// hides a call need not follow it when not.
    pub fn is_followed(func: FuncId) -> bool {
        func.syscall()
            .is_some_and(|sys| sys.fd_effect != FdEffect::None)
    }

    /// Follows `call`'s effect on the fd table without decoding it: for
    /// readers that need fd paths of calls they do not show.
    pub fn follow(&mut self, header: &Header, call: &Call) {
        self.fds.know_preopens(header);
        self.fds.follow(call);
    }

    /// The strace-style line of `call`.
    pub fn line(&mut self, header: &Header, call: &Call) -> String {
        self.decode(header, call).line()
    }

    /// The path `fd` was opened from, as far as the calls so far tell.
    pub fn fd_path(&self, fd: u32) -> Option<&str> {
        self.fds.path(fd)
    }

    /// [`Decoder::fd_path`], the header's preopens known even before a
    /// call was followed.
    pub fn fd_path_in(&mut self, header: &Header, fd: u32) -> Option<&str> {
        self.fds.know_preopens(header);
        self.fds.path(fd)
    }

    /// The arguments and outputs of a preview1 call, into `d`.
    fn decode_preview1(&self, sys: &'static Syscall, call: &Call, d: &mut DecodedCall) {
        let (args, outs) = (&mut d.args, &mut d.outs);
        let ok = call.outcome == Outcome::Errno(0);
        for (i, p) in sys.params.iter().enumerate() {
            let param = Param { sys, call, i };
            match p.kind {
                Kind::Len => {}
                Kind::Value(v) => args.push(Named::new(p.name, self.value(v, param.arg()))),
                Kind::Str { .. } => {
                    args.push(Named::new(p.name, Field::Text(param.read_bytes().to_vec())))
                }
                Kind::Subscriptions { .. } => args.push(Named::new(
                    p.name,
                    layouts::subscriptions(param.read_bytes()),
                )),
                Kind::Ciovecs { .. } => args.push(Named::new(p.name, self.ciovecs(param))),
                Kind::Iovecs { filled, .. } => {
                    args.push(Named::new(p.name, iovec_list(param)));
                    if ok {
                        let data: Vec<u8> = param.writes().flat_map(|m| m.bytes.clone()).collect();
                        // The count first, as strace prints the return value first.
                        let count = sys.params[filled].name;
                        outs.push(Named::new(count, Field::Uint(data.len() as u64)));
                        outs.push(Named::bare("data", Field::data(&data, self.strsize)));
                    }
                }
                Kind::Buf { len, filled, holds } => {
                    args.push(Named::new(p.name, Field::Hex(param.arg())));
                    args.push(Named::new(sys.params[len].name, Field::Uint(call.arg(len))));
                    if ok {
                        outs.extend(self.buffer(param, filled, holds));
                    }
                }
                Kind::Events { filled } => {
                    if ok {
                        let bytes = param.write_bytes();
                        let count = bytes.len() / EVENT_SIZE as usize;
                        outs.push(Named::new(
                            sys.params[filled].name,
                            Field::Uint(count as u64),
                        ));
                        outs.push(Named::new(p.name, layouts::events(bytes)));
                    }
                }
                Kind::StringPtrs(_) => args.push(Named::new(p.name, Field::Hex(param.arg()))),
                Kind::StringBuf(_) => {
                    args.push(Named::new(p.name, Field::Hex(param.arg())));
                    if ok {
                        outs.push(Named::bare(p.name, string_list(param.write_bytes())));
                    }
                }
                Kind::Out(o) => {
                    // Counts that belong to a buffer are shown with it.
                    if ok && !sys.is_count_of_a_buffer(i) {
                        let value = layouts::out_value(o, param.write_bytes(), !self.verbose);
                        outs.push(Named::new(p.name, value));
                    }
                }
            }
        }
    }

    /// A scalar argument.
    fn value(&self, v: Value, raw: u64) -> Field {
        match (v, v.symbols()) {
            (Value::Fd, _) => Field::Fd {
                fd: raw,
                path: self.fds.path(raw as u32).map(str::to_string),
            },
            (Value::FileDelta, _) => Field::Int(raw as i64),
            (Value::ExitCode, _) => Field::Int(raw as u32 as i32 as i64),
            (_, Symbols::Enum(names)) => Field::Enum { raw, names },
            (_, Symbols::Flags(names)) => Field::Flags {
                raw,
                names,
                // Rights are long: their common sets are abbreviated.
                abbreviate: v == Value::Rights && !self.verbose,
            },
            (_, Symbols::None) => Field::Uint(raw),
        }
    }

    /// A ciovec list with the data of each buffer: what the guest hands over.
    fn ciovecs(&self, param: Param) -> Field {
        let mut ranges = param.reads();
        let list = ranges.next().map(|l| l.bytes.clone()).unwrap_or_default();
        let items = capture::iovecs(&list).map(|(buf, len)| {
            let data = ranges.next().map_or(&[][..], |m| &m.bytes[..]);
            Field::Record(vec![
                Named::new("buf", Field::Hex(buf as u64)),
                Named::new("len", Field::Uint(len as u64)),
                Named::bare("data", Field::data(data, self.strsize)),
            ])
        });
        Field::List(items.collect())
    }

    /// What the host put in a buffer parameter: the count of bytes it
    /// used, when a parameter holds one, then the contents.
    fn buffer(&self, param: Param, filled: Fill, holds: Holds) -> Vec<Named> {
        let data = param.write_bytes();
        let mut outs = Vec::new();
        if let Fill::Used(used) = filled {
            let count = param.sys.params[used].name;
            outs.push(Named::new(count, Field::Uint(data.len() as u64)));
        }
        let contents = match holds {
            Holds::Dirents => layouts::dirents(data, self.strsize),
            Holds::Text => Field::Text(data.to_vec()),
            Holds::Bytes => Field::data(data, self.strsize),
        };
        outs.push(Named::new(param.name(), contents));
        outs
    }
}

/// One parameter of one call: its raw argument and its memory ranges.
#[derive(Clone, Copy)]
struct Param<'a> {
    sys: &'static Syscall,
    call: &'a Call,
    i: usize,
}

impl<'a> Param<'a> {
    fn name(&self) -> &'static str {
        self.sys.params[self.i].name
    }

    fn arg(&self) -> u64 {
        self.call.arg(self.i)
    }

    fn reads(&self) -> impl Iterator<Item = &'a Mem> {
        let i = self.i;
        self.call
            .reads
            .iter()
            .filter(move |m| m.param as usize == i)
    }

    fn writes(&self) -> impl Iterator<Item = &'a Mem> {
        let i = self.i;
        self.call
            .writes
            .iter()
            .filter(move |m| m.param as usize == i)
    }

    /// The first range read for this parameter (empty when none).
    fn read_bytes(&self) -> &'a [u8] {
        self.reads().next().map_or(&[], |m| &m.bytes)
    }

    /// The first range written for this parameter (empty when none).
    fn write_bytes(&self) -> &'a [u8] {
        self.writes().next().map_or(&[], |m| &m.bytes)
    }
}

/// An iovec list as the guest passed it.
fn iovec_list(param: Param) -> Field {
    let list = param.read_bytes();
    let items = capture::iovecs(list).map(|(buf, len)| {
        Field::Record(vec![
            Named::new("buf", Field::Hex(buf as u64)),
            Named::new("len", Field::Uint(len as u64)),
        ])
    });
    Field::List(items.collect())
}

/// NUL-terminated strings, as args_get and environ_get write them.
fn string_list(buf: &[u8]) -> Field {
    let complete = buf.iter().filter(|b| **b == 0).count();
    let items = buf.split(|b| *b == 0).take(complete);
    Field::List(items.map(|s| Field::Text(s.to_vec())).collect())
}

#[cfg(test)]
mod tests;
