//! How two calls differ: the one comparison behind replay's divergence
//! reports and `wtrace diff`.
//!
//! Calls match when the function, the scalar arguments, the bytes the guest
//! handed in, the result and the bytes the host wrote are the same. Pointer
//! values are not compared (a rebuilt module puts its buffers elsewhere):
//! what they point at is. An iovec list is compared by its lengths, not its
//! buffer addresses. Timings are never compared.

use crate::capture;
use crate::syscalls::{FuncId, Kind, Syscall};
use crate::trace::{func_name, Call, Header, Mem, Outcome};

/// The first way call `b` differs from call `a`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    Function {
        a: FuncId,
        b: FuncId,
    },
    /// A scalar argument.
    Argument {
        param: usize,
        a: u64,
        b: u64,
    },
    /// A difference in the memory the guest handed in ([`Side::Reads`]) or
    /// the host wrote ([`Side::Writes`]).
    Memory {
        side: Side,
        what: MemDifference,
    },
    Result {
        a: Outcome,
        b: Outcome,
    },
}

/// Which memory of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// What the guest handed in.
    Reads,
    /// What the host wrote.
    Writes,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemDifference {
    /// The n-th range belongs to another parameter.
    Param {
        a: u8,
        b: u8,
    },
    IovecLengths {
        param: u8,
        a: Vec<u32>,
        b: Vec<u32>,
    },
    Length {
        param: u8,
        a: usize,
        b: usize,
    },
    /// The first differing byte: at `offset` in the range, which starts at
    /// guest address `addr` in `b`.
    Byte {
        param: u8,
        addr: u32,
        offset: usize,
        a: u8,
        b: u8,
    },
    /// As many ranges as the other call, up to here; then more or fewer.
    Count {
        a: usize,
        b: usize,
    },
}

/// The first difference in what the guest asks for: function, scalar
/// arguments, memory handed in. What replay checks before serving a call.
pub fn inputs(a: &Call, b: &Call) -> Option<Difference> {
    if a.func != b.func {
        return Some(Difference::Function {
            a: a.func,
            b: b.func,
        });
    }
    let sys = a.func.syscall();
    let is_pointer = |i: usize| {
        sys.and_then(|s| s.params.get(i))
            .is_some_and(|p| !matches!(p.kind, Kind::Value(_) | Kind::Len))
    };
    let arg = |c: &Call, i: usize| c.args.get(i).copied().unwrap_or(0);
    let n = a.args.len().max(b.args.len());
    if let Some(param) = (0..n).find(|&i| !is_pointer(i) && a.args.get(i) != b.args.get(i)) {
        return Some(Difference::Argument {
            param,
            a: arg(a, param),
            b: arg(b, param),
        });
    }
    memory(sys, Side::Reads, &a.reads, &b.reads)
}

/// The first difference between two calls: [`inputs`], then the result,
/// then the memory the host wrote.
pub fn calls(a: &Call, b: &Call) -> Option<Difference> {
    if let Some(d) = inputs(a, b) {
        return Some(d);
    }
    if a.outcome != b.outcome {
        return Some(Difference::Result {
            a: a.outcome.clone(),
            b: b.outcome.clone(),
        });
    }
    memory(a.func.syscall(), Side::Writes, &a.writes, &b.writes)
}

fn memory(sys: Option<&Syscall>, side: Side, a: &[Mem], b: &[Mem]) -> Option<Difference> {
    let found = |what| Some(Difference::Memory { side, what });
    let mut seen = Vec::new();
    for (x, y) in a.iter().zip(b) {
        if x.param != y.param {
            return found(MemDifference::Param {
                a: x.param,
                b: y.param,
            });
        }
        let param = x.param;
        let first_of_param = !seen.contains(&param);
        seen.push(param);
        let kind = sys
            .and_then(|s| s.params.get(param as usize))
            .map(|p| p.kind);
        // The list itself: a ciovec list is read first, then its buffers.
        let is_list = side == Side::Reads
            && (matches!(kind, Some(Kind::Iovecs { .. }))
                || (matches!(kind, Some(Kind::Ciovecs { .. })) && first_of_param));
        if is_list {
            let lens = |b: &[u8]| capture::iovecs(b).map(|(_, len)| len).collect::<Vec<_>>();
            if lens(&x.bytes) != lens(&y.bytes) {
                return found(MemDifference::IovecLengths {
                    param,
                    a: lens(&x.bytes),
                    b: lens(&y.bytes),
                });
            }
            continue;
        }
        if x.bytes.len() != y.bytes.len() {
            return found(MemDifference::Length {
                param,
                a: x.bytes.len(),
                b: y.bytes.len(),
            });
        }
        if let Some(offset) = x.bytes.iter().zip(&y.bytes).position(|(p, q)| p != q) {
            return found(MemDifference::Byte {
                param,
                addr: y.addr,
                offset,
                a: x.bytes[offset],
                b: y.bytes[offset],
            });
        }
    }
    (a.len() != b.len()).then_some(Difference::Memory {
        side,
        what: MemDifference::Count {
            a: a.len(),
            b: b.len(),
        },
    })
}

/// How a [`Difference`] is put in words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wording {
    /// Replay: `a` is the recording, `b` the call the guest made now.
    RecordedVsNow,
    /// `wtrace diff`: `a` and `b` are two recordings, shown as `a vs b`.
    AVsB,
}

impl Difference {
    /// The difference in words; `header` names foreign imports, `func` is
    /// the recorded call's function (for parameter names).
    pub fn describe(&self, header: &Header, func: FuncId, wording: Wording) -> String {
        let sys = func.syscall();
        let name = |i: usize| {
            sys.and_then(|s| s.params.get(i))
                .map_or("memory", |p| p.name)
        };
        match wording {
            Wording::RecordedVsNow => self.replay_text(header, &name),
            Wording::AVsB => self.diff_text(header, &name),
        }
    }

    fn replay_text(&self, header: &Header, name: &dyn Fn(usize) -> &'static str) -> String {
        let arg = |i: &usize| match name(*i) {
            "memory" => format!("argument {i}"),
            n => format!("argument `{n}`"),
        };
        match self {
            Difference::Function { a, b } => format!(
                "the guest called {}, the recording has {}",
                func_name(header, *b),
                func_name(header, *a)
            ),
            Difference::Argument { param, a, b } => {
                format!("{} differs: recorded {a:#x}, now {b:#x}", arg(param))
            }
            Difference::Result { a, b } => format!(
                "result: recorded {}, now {}",
                crate::decode::result_text(a),
                crate::decode::result_text(b)
            ),
            // Replay serves what the host wrote; only `wtrace diff` compares it.
            Difference::Memory { side: Side::Writes, .. } => self.diff_text(header, name),
            Difference::Memory { side: Side::Reads, what } => match what {
                MemDifference::Param { b, .. } => format!(
                    "the guest hands in `{}` where the recording has another parameter",
                    name(*b as usize)
                ),
                MemDifference::IovecLengths { param, a, b } => format!(
                    "the iovec lengths of `{}` differ: recorded {a:?}, now {b:?}",
                    name(*param as usize)
                ),
                MemDifference::Length { param, a, b } => format!(
                    "the guest passes {b} bytes of `{}`, the recording {a}",
                    name(*param as usize)
                ),
                MemDifference::Byte { param, addr, offset, a, b } => format!(
                    "the bytes of `{}` differ at {:#x} (offset {offset}): recorded {a:#04x}, now {b:#04x}",
                    name(*param as usize),
                    *addr as usize + offset
                ),
                MemDifference::Count { a, b } => {
                    format!("the guest hands in {b} memory ranges, the recording {a}")
                }
            },
        }
    }

    fn diff_text(&self, header: &Header, name: &dyn Fn(usize) -> &'static str) -> String {
        let quoted = |i: &u8| match name(*i as usize) {
            "memory" => "memory".to_string(),
            n => format!("`{n}`"),
        };
        match self {
            Difference::Function { a, b } => format!(
                "function: {} vs {}",
                func_name(header, *a),
                func_name(header, *b)
            ),
            Difference::Argument { param, a, b } => match name(*param) {
                "memory" => format!("argument {param}: {a:#x} vs {b:#x}"),
                n => format!("argument `{n}`: {a:#x} vs {b:#x}"),
            },
            Difference::Result { a, b } => format!(
                "result: {} vs {}",
                crate::decode::result_text(a),
                crate::decode::result_text(b)
            ),
            Difference::Memory { side, what } => {
                let what = match what {
                    MemDifference::Param { a, .. } => {
                        format!("{} where the other has another parameter", quoted(a))
                    }
                    MemDifference::IovecLengths { param, a, b } => {
                        format!(
                            "the iovec lengths of {} differ: {a:?} vs {b:?}",
                            quoted(param)
                        )
                    }
                    MemDifference::Length { param, a, b } => {
                        format!("{} is {a} bytes vs {b}", quoted(param))
                    }
                    MemDifference::Byte {
                        param,
                        offset,
                        a,
                        b,
                        ..
                    } => format!(
                        "{} differs at offset {offset}: {a:#04x} vs {b:#04x}",
                        quoted(param)
                    ),
                    MemDifference::Count { a, b } => format!("{a} memory ranges vs {b}"),
                };
                match side {
                    Side::Reads => format!("the bytes handed in: {what}"),
                    Side::Writes => format!("the bytes the host wrote: {what}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::Func;

    fn header() -> Header {
        crate::trace::Header {
            format_version: crate::trace::FORMAT_VERSION,
            wtrace_version: String::new(),
            wasmtime_version: String::new(),
            module_name: String::new(),
            module_size: 0,
            module_blake3: [0; 32],
            module: None,
            argv: vec![],
            env: vec![],
            preopens: vec![],
            start_unix_ns: 0,
            platform: String::new(),
            max_wasm_stack: 0,
            foreign_imports: vec!["env::f".into()],
            faults: Default::default(),
        }
    }

    fn mem(param: u8, addr: u32, bytes: &[u8]) -> Mem {
        Mem {
            param,
            addr,
            bytes: bytes.to_vec(),
        }
    }

    fn iovec(addr: u32, len: u32) -> Vec<u8> {
        [addr.to_le_bytes(), len.to_le_bytes()].concat()
    }

    /// fd_write(fd, [{buf, len}], 1, nwritten) writing `data` from `buf`.
    fn write(fd: u64, buf: u32, data: &[u8]) -> Call {
        Call {
            func: Func::fd_write.id(),
            args: vec![fd, 0x10, 1, 0x20],
            reads: vec![
                mem(1, 0x10, &iovec(buf, data.len() as u32)),
                mem(1, buf, data),
            ],
            writes: vec![mem(3, 0x20, &(data.len() as u32).to_le_bytes())],
            ..Call::default()
        }
    }

    #[test]
    fn pointers_are_not_compared_what_they_point_at_is() {
        let a = write(1, 0x100, b"hello");
        assert_eq!(calls(&a, &write(1, 0x900, b"hello")), None);
        assert_eq!(
            calls(&a, &write(2, 0x100, b"hello")),
            Some(Difference::Argument {
                param: 0,
                a: 1,
                b: 2
            })
        );
        let d = calls(&a, &write(1, 0x900, b"hellO")).unwrap();
        assert_eq!(
            d,
            Difference::Memory {
                side: Side::Reads,
                what: MemDifference::Byte {
                    param: 1,
                    addr: 0x900,
                    offset: 4,
                    a: b'o',
                    b: b'O'
                }
            }
        );
        let h = header();
        let f = Func::fd_write.id();
        assert_eq!(
            d.describe(&h, f, Wording::RecordedVsNow),
            "the bytes of `iovs` differ at 0x904 (offset 4): recorded 0x6f, now 0x4f"
        );
        assert_eq!(
            d.describe(&h, f, Wording::AVsB),
            "the bytes handed in: `iovs` differs at offset 4: 0x6f vs 0x4f"
        );
        // A list of other lengths is told as lengths, not bytes.
        assert_eq!(
            calls(&a, &write(1, 0x100, b"hello!"))
                .unwrap()
                .describe(&h, f, Wording::AVsB),
            "the bytes handed in: the iovec lengths of `iovs` differ: [5] vs [6]"
        );
    }

    #[test]
    fn results_and_host_writes_count_only_for_whole_calls() {
        let a = write(1, 0x100, b"hello");
        let mut b = a.clone();
        b.outcome = Outcome::Errno(8);
        assert_eq!(inputs(&a, &b), None);
        let h = header();
        let f = Func::fd_write.id();
        assert_eq!(
            calls(&a, &b)
                .unwrap()
                .describe(&h, f, Wording::RecordedVsNow),
            "result: recorded 0, now 8 EBADF (Bad file descriptor)"
        );
        let mut b = a.clone();
        b.writes[0].bytes = 3u32.to_le_bytes().to_vec();
        assert_eq!(
            calls(&a, &b).unwrap().describe(&h, f, Wording::AVsB),
            "the bytes the host wrote: `nwritten` differs at offset 0: 0x05 vs 0x03"
        );
        b.writes.clear();
        assert_eq!(
            calls(&a, &b).unwrap().describe(&h, f, Wording::AVsB),
            "the bytes the host wrote: 1 memory ranges vs 0"
        );
    }

    #[test]
    fn functions_are_named_foreign_imports_too() {
        let a = write(1, 0x100, b"x");
        let b = Call {
            func: FuncId::foreign(0).unwrap(),
            ..Call::default()
        };
        let d = inputs(&a, &b).unwrap();
        assert_eq!(
            d.describe(&header(), a.func, Wording::RecordedVsNow),
            "the guest called env::f, the recording has fd_write"
        );
        assert_eq!(
            d.describe(&header(), a.func, Wording::AVsB),
            "function: fd_write vs env::f"
        );
    }
}
