//! Decoding calls for people: strace-style lines, JSON objects, and the
//! named fields the TUI shows.
//!
//! ```text
//! path_open(fd=3</work>, dirflags=SYMLINK_FOLLOW, path="input/data.txt", oflags=0, ...) = 0 (opened_fd=4)
//! fd_read(fd=4</work/input/data.txt>, iovs=[{buf=0x1a000, len=4096}]) = 0 (nread=18, "line one\nline two\n")
//! path_open(fd=3</work>, ..., path="missing", ...) = 44 ENOENT (No such file or directory)
//! ```
//!
//! A [`Printer`] follows the calls in order to know which path each fd was
//! opened from (like `strace -y`), so feed it every call, also those a
//! filter hides.

use crate::capture::{self, EVENT_SIZE, IOVEC_SIZE, SUBSCRIPTION_SIZE};
use crate::decode::{self, errno_name, errno_text, flag_names, Value};
use crate::syscalls::{FdEffect, Fill, Holds, Kind, Out, Syscall};
use crate::trace::{func_name, Call, Header, Mem, Outcome};
use std::collections::HashMap;
use std::fmt::Write as _;

/// strace's default `-s`: strings are cut after this many bytes.
pub const DEFAULT_STRSIZE: usize = 32;

/// A call, decoded into named, printable parts.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub name: String,
    /// Arguments as `(name, text)`, in order; lengths folded into the
    /// strings and lists they belong to.
    pub args: Vec<(String, String)>,
    /// `0`, `44 ENOENT (No such file or directory)`, `? (exit 2)`.
    pub result: String,
    pub is_error: bool,
    /// What the host returned through out-pointers and buffers.
    pub outs: Vec<(String, String)>,
}

impl Decoded {
    /// The strace-style line.
    pub fn line(&self) -> String {
        let mut s = String::with_capacity(96);
        s.push_str(&self.name);
        s.push('(');
        for (i, (k, v)) in self.args.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        }
        s.push_str(") = ");
        s.push_str(&self.result);
        if !self.outs.is_empty() {
            s.push_str(" (");
            for (i, (k, v)) in self.outs.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                if !k.is_empty() {
                    s.push_str(k);
                    s.push('=');
                }
                s.push_str(v);
            }
            s.push(')');
        }
        s
    }
}

#[derive(Clone, Debug)]
pub struct Printer {
    /// `-s N`: bytes of data shown before `...`.
    pub strsize: usize,
    /// Print every right instead of the first few.
    pub verbose: bool,
    fds: HashMap<u32, String>,
}

impl Default for Printer {
    fn default() -> Self {
        Printer::new(DEFAULT_STRSIZE)
    }
}

impl Printer {
    pub fn new(strsize: usize) -> Printer {
        Printer {
            strsize,
            verbose: false,
            fds: HashMap::new(),
        }
    }

    /// Decodes `call` and follows its effect on the fd table.
    pub fn decode(&mut self, header: &Header, call: &Call) -> Decoded {
        self.know_preopens(header);
        let decoded = match call.func.syscall() {
            Some(sys) => self.decode_preview1(sys, call),
            None => Decoded {
                name: func_name(header, call.func),
                args: call
                    .args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (format!("arg{i}"), format!("{a:#x}")))
                    .collect(),
                result: result_text(&call.outcome),
                is_error: true,
                outs: Vec::new(),
            },
        };
        self.follow_fds(call);
        decoded
    }

    /// Follows `call`'s effect on the fd table without decoding it: for
    /// readers that need fd paths of calls they do not print.
    pub fn follow(&mut self, header: &Header, call: &Call) {
        self.know_preopens(header);
        self.follow_fds(call);
    }

    /// Preopens are fds 3, 4, ... in the order of the header.
    fn know_preopens(&mut self, header: &Header) {
        if self.fds.is_empty() {
            for (i, p) in header.preopens.iter().enumerate() {
                self.fds.insert(3 + i as u32, p.guest.clone());
            }
        }
    }

    /// The strace-style line of `call`.
    pub fn line(&mut self, header: &Header, call: &Call) -> String {
        self.decode(header, call).line()
    }

    /// The path `fd` was opened from, as far as the calls so far tell.
    pub fn fd_path(&self, fd: u32) -> Option<&str> {
        self.fds.get(&fd).map(String::as_str)
    }

    /// `3</work>` when the fd's path is known.
    fn fd_text(&self, fd: u64) -> String {
        match self.fds.get(&(fd as u32)) {
            Some(path) => format!("{fd}<{path}>"),
            None => fd.to_string(),
        }
    }

    fn decode_preview1(&self, sys: &Syscall, call: &Call) -> Decoded {
        let arg = |i: usize| call.args.get(i).copied().unwrap_or(0);
        let reads_of = |i: usize| call.reads.iter().filter(move |m| m.param as usize == i);
        let writes_of = |i: usize| call.writes.iter().filter(move |m| m.param as usize == i);
        let mut args = Vec::new();
        let mut outs = Vec::new();
        for (i, p) in sys.params.iter().enumerate() {
            let name = p.name.to_string();
            match p.kind {
                Kind::Value(Value::Fd) => args.push((name, self.fd_text(arg(i)))),
                Kind::Value(Value::Rights) if !self.verbose => {
                    args.push((name, short_rights(arg(i))))
                }
                Kind::Value(v) => {
                    let mut s = String::new();
                    v.format(arg(i), &mut s);
                    args.push((name, s));
                }
                Kind::Str { .. } => {
                    let bytes = reads_of(i).next().map_or(&[][..], |m| &m.bytes[..]);
                    args.push((name, quote(bytes, usize::MAX)));
                }
                Kind::Ciovecs { .. } => {
                    let mut list = reads_of(i);
                    let entries = list
                        .next()
                        .map(|l| capture::iovecs(&l.bytes).collect::<Vec<_>>())
                        .unwrap_or_default();
                    let texts: Vec<String> = entries
                        .iter()
                        .zip(list.chain(std::iter::repeat(&EMPTY_MEM)))
                        .map(|((buf, len), data)| {
                            format!(
                                "{{buf={buf:#x}, len={len}, {}}}",
                                quote(&data.bytes, self.strsize)
                            )
                        })
                        .collect();
                    args.push((name, format!("[{}]", texts.join(", "))));
                }
                Kind::Iovecs { filled, .. } => {
                    let entries = reads_of(i)
                        .next()
                        .map(|l| capture::iovecs(&l.bytes).collect::<Vec<_>>())
                        .unwrap_or_default();
                    let texts: Vec<String> = entries
                        .iter()
                        .map(|(buf, len)| format!("{{buf={buf:#x}, len={len}}}"))
                        .collect();
                    args.push((name, format!("[{}]", texts.join(", "))));
                    if call.outcome == Outcome::Errno(0) {
                        let data: Vec<u8> =
                            writes_of(i).flat_map(|m| m.bytes.iter().copied()).collect();
                        // The count comes first, as strace prints the return value first.
                        let count_name = sys.params[filled].name.to_string();
                        outs.push((count_name, data.len().to_string()));
                        outs.push((String::new(), quote(&data, self.strsize)));
                    }
                }
                Kind::Buf { len, filled, holds } => {
                    args.push((name.clone(), format!("{:#x}", arg(i))));
                    args.push((sys.params[len].name.to_string(), arg(len).to_string()));
                    if call.outcome == Outcome::Errno(0) {
                        let data = writes_of(i).next().map_or(&[][..], |m| &m.bytes[..]);
                        // The count comes first, as strace prints the return value first.
                        if let Fill::Used(used) = filled {
                            outs.push((sys.params[used].name.to_string(), data.len().to_string()));
                        }
                        let text = match holds {
                            Holds::Dirents => dirents(data, self.strsize),
                            Holds::Bytes | Holds::Text => quote(data, self.strsize),
                        };
                        outs.push((name, text));
                    }
                }
                Kind::Subscriptions { .. } => {
                    let subs = reads_of(i)
                        .next()
                        .map_or(String::new(), |m| subscriptions(&m.bytes));
                    args.push((name, subs));
                }
                Kind::Events { filled } => {
                    if call.outcome == Outcome::Errno(0) {
                        let bytes = writes_of(i).next().map_or(&[][..], |m| &m.bytes[..]);
                        let count = bytes.len() / EVENT_SIZE as usize;
                        outs.push((sys.params[filled].name.to_string(), count.to_string()));
                        outs.push((name, events(bytes)));
                    }
                }
                Kind::StringPtrs(_) => args.push((name, format!("{:#x}", arg(i)))),
                Kind::StringBuf(_) => {
                    args.push((name.clone(), format!("{:#x}", arg(i))));
                    if call.outcome == Outcome::Errno(0) {
                        let buf = writes_of(i).next().map_or(&[][..], |m| &m.bytes[..]);
                        let items: Vec<String> = buf
                            .split(|b| *b == 0)
                            .take(buf.iter().filter(|b| **b == 0).count())
                            .map(|s| quote(s, usize::MAX))
                            .collect();
                        outs.push((String::new(), format!("[{}]", items.join(", "))));
                    }
                }
                Kind::Len => {}
                Kind::Out(o) => {
                    if call.outcome == Outcome::Errno(0) {
                        // Counts that belong to a buffer are shown with it.
                        let shown_elsewhere = sys.params.iter().any(|q| {
                            matches!(q.kind, Kind::Iovecs { filled, .. } | Kind::Events { filled } if filled == i)
                                || matches!(q.kind, Kind::Buf { filled: Fill::Used(u), .. } if u == i)
                        });
                        if !shown_elsewhere {
                            let bytes = writes_of(i).next().map_or(&[][..], |m| &m.bytes[..]);
                            outs.push((name, out_text(o, bytes)));
                        }
                    }
                }
            }
        }
        Decoded {
            name: sys.name.to_string(),
            args,
            result: result_text(&call.outcome),
            is_error: call.outcome.is_error(),
            outs,
        }
    }

    /// Applies the call's [`FdEffect`] to the fd table; the parameters
    /// involved are found by their kind.
    fn follow_fds(&mut self, call: &Call) {
        let Some(sys) = call.func.syscall() else {
            return;
        };
        if call.outcome != Outcome::Errno(0) || sys.fd_effect == FdEffect::None {
            return;
        }
        let arg = |i: usize| call.args.get(i).copied().unwrap_or(0) as u32;
        let fds: Vec<u32> = (0..sys.params.len())
            .filter(|&i| sys.params[i].kind == Kind::Value(Value::Fd))
            .map(arg)
            .collect();
        let param_bytes = |mems: &[Mem], want: fn(Kind) -> bool| {
            let i = sys.param_where(want)?;
            let m = mems.iter().find(|m| m.param as usize == i)?;
            Some(String::from_utf8_lossy(&m.bytes).into_owned())
        };
        match sys.fd_effect {
            FdEffect::None => {}
            FdEffect::Opens => {
                let Some(new_fd) = sys
                    .param_where(|k| k == Kind::Out(Out::Fd))
                    .and_then(|i| capture::out_u32(&call.writes, i))
                else {
                    return;
                };
                match param_bytes(&call.reads, |k| matches!(k, Kind::Str { .. })) {
                    Some(path) => {
                        let dir = fds.first().and_then(|fd| self.fds.get(fd));
                        let joined = match dir {
                            Some(dir) => join_path(dir, &path),
                            None => path,
                        };
                        self.fds.insert(new_fd, joined);
                    }
                    // A socket from sock_accept: no path to show.
                    None => {
                        self.fds.remove(&new_fd);
                    }
                }
            }
            FdEffect::NamesPreopen => {
                if let (Some(fd), Some(name)) = (
                    fds.first(),
                    param_bytes(&call.writes, |k| matches!(k, Kind::Buf { .. })),
                ) {
                    self.fds.insert(*fd, name);
                }
            }
            FdEffect::Closes => {
                if let Some(fd) = fds.first() {
                    self.fds.remove(fd);
                }
            }
            FdEffect::Renumbers => {
                let (Some(&from), Some(&to)) = (fds.first(), fds.get(1)) else {
                    return;
                };
                match self.fds.remove(&from) {
                    Some(p) => self.fds.insert(to, p),
                    None => self.fds.remove(&to),
                };
            }
        }
    }
}

static EMPTY_MEM: Mem = Mem {
    param: 0,
    addr: 0,
    bytes: Vec::new(),
};

fn join_path(dir: &str, path: &str) -> String {
    if path.starts_with('/') || dir.is_empty() {
        path.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{path}")
    } else {
        format!("{dir}/{path}")
    }
}

/// `= 0`, `= 44 ENOENT (No such file or directory)`, `= ? (exit 2)`.
pub fn result_text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Errno(0) => "0".into(),
        Outcome::Errno(e) => format!("{e} {} ({})", errno_name(*e), errno_text(*e)),
        Outcome::Exit(code) => format!("? +++ exited with {code} +++"),
        Outcome::Trap(msg) => format!("? <trap: {}>", msg.lines().next().unwrap_or("")),
    }
}

/// Quotes bytes as strace does: C escapes, `\xNN` for the rest, `...` after
/// the closing quote when cut at `max` bytes.
pub fn quote(bytes: &[u8], max: usize) -> String {
    let shown = &bytes[..bytes.len().min(max)];
    let mut s = String::with_capacity(shown.len() + 2);
    s.push('"');
    for &b in shown {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    if bytes.len() > shown.len() {
        s.push_str("...");
    }
    s
}

fn short_rights(raw: u64) -> String {
    let n = raw.count_ones();
    let mut s = String::new();
    if n <= 3 {
        flag_names(&mut s, raw, &decode::RIGHTS);
        return s;
    }
    let lowest: u64 = (0..64)
        .map(|b| 1u64 << b)
        .filter(|m| raw & m != 0)
        .take(2)
        .sum();
    flag_names(&mut s, lowest, &decode::RIGHTS);
    let _ = write!(s, "|...({n} rights)");
    s
}

fn le(bytes: &[u8], at: usize, width: usize) -> u64 {
    let mut b = [0u8; 8];
    if let Some(src) = bytes.get(at..at + width) {
        b[..width].copy_from_slice(src);
    }
    u64::from_le_bytes(b)
}

fn filetype(t: u64) -> &'static str {
    decode::FILETYPES.get(t as usize).copied().unwrap_or("?")
}

fn out_text(o: Out, b: &[u8]) -> String {
    match o {
        Out::Size | Out::Fd => le(b, 0, 4).to_string(),
        Out::Timestamp | Out::FileSize => le(b, 0, 8).to_string(),
        Out::RoFlags => {
            let mut s = String::new();
            flag_names(&mut s, le(b, 0, 2), &["RECV_DATA_TRUNCATED"]);
            s
        }
        Out::Fdstat => {
            let mut flags = String::new();
            flag_names(&mut flags, le(b, 2, 2), &decode::FDFLAGS);
            format!(
                "{{filetype={}, flags={flags}, rights_base={}, rights_inheriting={}}}",
                filetype(le(b, 0, 1)),
                short_rights(le(b, 8, 8)),
                short_rights(le(b, 16, 8))
            )
        }
        Out::Filestat => format!(
            "{{dev={}, ino={}, filetype={}, nlink={}, size={}, atim={}, mtim={}, ctim={}}}",
            le(b, 0, 8),
            le(b, 8, 8),
            filetype(le(b, 16, 1)),
            le(b, 24, 8),
            le(b, 32, 8),
            le(b, 40, 8),
            le(b, 48, 8),
            le(b, 56, 8)
        ),
        Out::Prestat => {
            let tag = if le(b, 0, 1) == 0 {
                "DIR".to_string()
            } else {
                le(b, 0, 1).to_string()
            };
            format!("{{tag={tag}, name_len={}}}", le(b, 4, 4))
        }
    }
}

fn subscriptions(b: &[u8]) -> String {
    let items: Vec<String> = b
        .chunks(SUBSCRIPTION_SIZE as usize)
        .map(|s| {
            let userdata = le(s, 0, 8);
            match le(s, 8, 1) {
                0 => {
                    let mut clock = String::new();
                    Value::ClockId.format(le(s, 16, 4), &mut clock);
                    let abs = if le(s, 40, 2) & 1 != 0 { "ABSTIME" } else { "0" };
                    format!(
                        "{{userdata={userdata:#x}, CLOCK, id={clock}, timeout={}, precision={}, flags={abs}}}",
                        le(s, 24, 8),
                        le(s, 32, 8)
                    )
                }
                t @ (1 | 2) => format!("{{userdata={userdata:#x}, {}, fd={}}}", decode::EVENT_TYPES[t as usize], le(s, 16, 4)),
                t => format!("{{userdata={userdata:#x}, type={t}}}"),
            }
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn events(b: &[u8]) -> String {
    let items: Vec<String> = b
        .chunks(EVENT_SIZE as usize)
        .map(|e| {
            let ty = decode::EVENT_TYPES
                .get(le(e, 10, 1) as usize)
                .copied()
                .unwrap_or("?");
            let error = le(e, 8, 2) as u16;
            let mut s = format!(
                "{{userdata={:#x}, error={}, type={ty}",
                le(e, 0, 8),
                if error == 0 {
                    "0".into()
                } else {
                    errno_name(error)
                }
            );
            if ty != "CLOCK" {
                let hup = if le(e, 24, 2) & 1 != 0 { "HANGUP" } else { "0" };
                let _ = write!(s, ", nbytes={}, flags={hup}", le(e, 16, 8));
            }
            s.push('}');
            s
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// Dirents as fd_readdir writes them: a 24-byte header and the name; the
/// last may be cut by the buffer's end.
fn dirents(b: &[u8], strsize: usize) -> String {
    let mut items = Vec::new();
    let mut at = 0usize;
    while at + 24 <= b.len() {
        let namlen = le(b, at + 16, 4) as usize;
        let name_end = (at + 24 + namlen).min(b.len());
        let name = &b[at + 24..name_end];
        let cut = if name_end < at + 24 + namlen {
            " (cut)"
        } else {
            ""
        };
        items.push(format!(
            "{{d_next={}, d_ino={}, d_type={}, name={}{cut}}}",
            le(b, at, 8),
            le(b, at + 8, 8),
            filetype(le(b, at + 20, 1)),
            quote(name, strsize)
        ));
        at = name_end;
    }
    if at < b.len() {
        items.push(format!("<{} bytes of a cut entry>", b.len() - at));
    }
    format!("[{}]", items.join(", "))
}

/// Bytes of iovec records for tests elsewhere.
pub fn iovec_bytes(entries: &[(u32, u32)]) -> Vec<u8> {
    let mut v = Vec::with_capacity(entries.len() * IOVEC_SIZE as usize);
    for (buf, len) in entries {
        v.extend_from_slice(&buf.to_le_bytes());
        v.extend_from_slice(&len.to_le_bytes());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::Func;
    use crate::trace::Preopen;

    fn header() -> Header {
        Header {
            format_version: 1,
            wtrace_version: "0".into(),
            wasmtime_version: "48".into(),
            module_name: "m.wasm".into(),
            module_size: 0,
            module_blake3: [0; 32],
            module: None,
            argv: vec![],
            env: vec![],
            preopens: vec![Preopen {
                host: "/tmp/w".into(),
                guest: "/work".into(),
            }],
            start_unix_ns: 0,
            platform: "x".into(),
            max_wasm_stack: 0,
            foreign_imports: vec![],
        }
    }

    fn call(func: Func, args: Vec<u64>, errno: u16, reads: Vec<Mem>, writes: Vec<Mem>) -> Call {
        Call {
            seq: 0,
            func: func.id(),
            args,
            outcome: Outcome::Errno(errno),
            start_ns: 0,
            dur_ns: 0,
            reads,
            writes,
        }
    }

    fn m(param: u8, addr: u32, bytes: &[u8]) -> Mem {
        Mem {
            param,
            addr,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn path_open_then_read_shows_paths_data_and_errors() {
        let h = header();
        let mut p = Printer::default();
        let open = call(
            Func::path_open,
            vec![3, 1, 100, 14, 0, 2, 0, 0, 200],
            0,
            vec![m(2, 100, b"input/data.txt")],
            vec![m(8, 200, &4u32.to_le_bytes())],
        );
        assert_eq!(
            p.line(&h, &open),
            "path_open(fd=3</work>, dirflags=SYMLINK_FOLLOW, path=\"input/data.txt\", oflags=0, fs_rights_base=FD_READ, fs_rights_inheriting=0, fdflags=0) = 0 (opened_fd=4)"
        );
        let read = call(
            Func::fd_read,
            vec![4, 16, 1, 300],
            0,
            vec![m(1, 16, &iovec_bytes(&[(0x1000, 4096)]))],
            vec![
                m(1, 0x1000, b"line one\nline two\n"),
                m(3, 300, &18u32.to_le_bytes()),
            ],
        );
        assert_eq!(
            p.line(&h, &read),
            "fd_read(fd=4</work/input/data.txt>, iovs=[{buf=0x1000, len=4096}]) = 0 (nread=18, \"line one\\nline two\\n\")"
        );
        let missing = call(
            Func::path_open,
            vec![3, 1, 100, 7, 0, 0, 0, 0, 200],
            44,
            vec![m(2, 100, b"missing")],
            vec![],
        );
        assert!(p
            .line(&h, &missing)
            .ends_with(") = 44 ENOENT (No such file or directory)"));
    }

    #[test]
    fn data_is_escaped_and_cut_like_strace() {
        assert_eq!(quote(b"a\"b\\\n\x01", 32), "\"a\\\"b\\\\\\n\\x01\"");
        assert_eq!(quote(b"abcdef", 3), "\"abc\"...");
    }

    #[test]
    fn clock_time_get_and_exit() {
        let h = header();
        let mut p = Printer::default();
        let c = call(
            Func::clock_time_get,
            vec![1, 1, 64],
            0,
            vec![],
            vec![m(2, 64, &123u64.to_le_bytes())],
        );
        assert_eq!(
            p.line(&h, &c),
            "clock_time_get(id=MONOTONIC, precision=1) = 0 (time=123)"
        );
        let mut exit = call(Func::proc_exit, vec![2], 0, vec![], vec![]);
        exit.outcome = Outcome::Exit(2);
        assert_eq!(
            p.line(&h, &exit),
            "proc_exit(rval=2) = ? +++ exited with 2 +++"
        );
    }
}
