//! Which guest memory a call reads and writes, derived from the table in
//! [`crate::syscalls`]. Used by the recorder (to store both), by replay (to
//! compare what the guest hands in and to re-emit its output) and by the
//! decoder.
//!
//! Every range is clamped to guest memory: a bad pointer is the guest's
//! problem (the host call itself fails with EFAULT or traps), never a panic
//! here.

use crate::syscalls::{Fill, Kind, StringList, Syscall};
use crate::trace::{Call, Mem, Outcome};

/// Size of a preview1 `iovec`/`ciovec` record.
pub const IOVEC_SIZE: u32 = 8;
pub const SUBSCRIPTION_SIZE: u32 = 48;
pub const EVENT_SIZE: u32 = 32;

/// Sizes of argv and environ as the host will write them in
/// args_get/environ_get: (count, buffer bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StringSizes {
    pub args: (u32, u32),
    pub environ: (u32, u32),
}

impl StringSizes {
    pub fn new(argv: &[String], env: &[(String, String)]) -> StringSizes {
        let args_buf: usize = argv.iter().map(|a| a.len() + 1).sum();
        let env_buf: usize = env.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        StringSizes {
            args: (argv.len() as u32, args_buf as u32),
            environ: (env.len() as u32, env_buf as u32),
        }
    }

    fn of(&self, list: StringList) -> (u32, u32) {
        match list {
            StringList::Args => self.args,
            StringList::Environ => self.environ,
        }
    }
}

/// A range of guest memory that a call reads or writes, not yet copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// Index of the parameter (the pointer) it belongs to.
    pub param: u8,
    pub addr: u32,
    pub len: u32,
}

impl Range {
    fn new(param: usize, addr: u32, len: u32) -> Range {
        Range {
            param: param as u8,
            addr,
            len,
        }
    }

    /// The range's bytes, clamped to guest memory.
    pub fn bytes<'m>(&self, memory: &'m [u8]) -> &'m [u8] {
        slice(memory, self.addr, self.len)
    }

    /// A copy of the range's bytes.
    pub fn copy(&self, memory: &[u8]) -> Mem {
        Mem {
            param: self.param,
            addr: self.addr,
            bytes: self.bytes(memory).to_vec(),
        }
    }
}

fn slice(mem: &[u8], addr: u32, len: u32) -> &[u8] {
    let start = (addr as usize).min(mem.len());
    let end = start.saturating_add(len as usize).min(mem.len());
    &mem[start..end]
}

fn u32_at(mem: &[u8], addr: u32) -> u32 {
    let b = slice(mem, addr, 4);
    let mut a = [0u8; 4];
    a[..b.len()].copy_from_slice(b);
    u32::from_le_bytes(a)
}

/// The (buf, len) entries of an iovec list.
pub fn iovecs(list: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    list.chunks_exact(IOVEC_SIZE as usize).map(|e| {
        (
            u32::from_le_bytes(e[0..4].try_into().expect("4")),
            u32::from_le_bytes(e[4..8].try_into().expect("4")),
        )
    })
}

/// Guest memory the host reads for this call, to be taken before the call,
/// in parameter order. For a `ciovec` list: the list itself, then each
/// buffer it points at.
pub fn read_ranges(sys: &Syscall, args: &[u64], memory: &[u8], mut out: impl FnMut(Range)) {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0) as u32;
    for (i, p) in sys.params.iter().enumerate() {
        match p.kind {
            Kind::Str { len } => out(Range::new(i, arg(i), arg(len))),
            Kind::Ciovecs { count, .. } => {
                let list = Range::new(i, arg(i), arg(count).saturating_mul(IOVEC_SIZE));
                out(list);
                for (buf, len) in iovecs(list.bytes(memory)) {
                    out(Range::new(i, buf, len));
                }
            }
            Kind::Iovecs { count, .. } => {
                out(Range::new(i, arg(i), arg(count).saturating_mul(IOVEC_SIZE)))
            }
            Kind::Subscriptions { count } => out(Range::new(
                i,
                arg(i),
                arg(count).saturating_mul(SUBSCRIPTION_SIZE),
            )),
            _ => {}
        }
    }
}

/// Whether calls of `sys` read guest memory at all: asked once per
/// function, so that the recorder skips [`read_ranges`] for the rest (a
/// clock read). Every kind of read gives a range even when empty.
pub fn reads_memory(sys: &Syscall) -> bool {
    let mut any = false;
    read_ranges(sys, &[], &[], |_| any = true);
    any
}

/// [`read_ranges`], copied out of guest memory.
pub fn reads(sys: &Syscall, args: &[u64], memory: &[u8]) -> Vec<Mem> {
    let mut out = Vec::new();
    read_ranges(sys, args, memory, |r| out.push(r.copy(memory)));
    out
}

/// Guest memory the host wrote for a successful call, to be taken after it,
/// in parameter order. `read_list(i)` gives the iovec list of parameter `i`
/// as it was read before the call (the host may have overwritten it since).
pub fn write_ranges<'r>(
    sys: &Syscall,
    args: &[u64],
    memory: &[u8],
    read_list: impl Fn(usize) -> Option<&'r [u8]>,
    sizes: &StringSizes,
    mut out: impl FnMut(Range),
) {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0) as u32;
    let out_u32 = |i: usize| u32_at(memory, arg(i));
    for (i, p) in sys.params.iter().enumerate() {
        match p.kind {
            Kind::Iovecs { filled, .. } => {
                let mut left = out_u32(filled);
                for (buf, len) in read_list(i).map(iovecs).into_iter().flatten() {
                    if left == 0 {
                        break;
                    }
                    let n = len.min(left);
                    if n > 0 {
                        out(Range::new(i, buf, n));
                    }
                    left -= n;
                }
            }
            Kind::Buf { len, filled, .. } => {
                let n = match filled {
                    Fill::All => arg(len),
                    Fill::Used(used) => out_u32(used).min(arg(len)),
                };
                out(Range::new(i, arg(i), n));
            }
            Kind::Events { filled } => out(Range::new(
                i,
                arg(i),
                out_u32(filled).saturating_mul(EVENT_SIZE),
            )),
            Kind::StringPtrs(list) => {
                out(Range::new(i, arg(i), sizes.of(list).0.saturating_mul(4)))
            }
            Kind::StringBuf(list) => out(Range::new(i, arg(i), sizes.of(list).1)),
            Kind::Out(o) => out(Range::new(i, arg(i), o.size())),
            Kind::Value(_)
            | Kind::Str { .. }
            | Kind::Ciovecs { .. }
            | Kind::Subscriptions { .. }
            | Kind::Len => {}
        }
    }
}

/// The bytes of a `ciovec` parameter that the host consumed: the first
/// `n` bytes of the buffers, in order.
pub fn ciovec_data(reads: &[Mem], param: usize, n: usize) -> Vec<u8> {
    let mut data = Vec::new();
    for m in reads.iter().filter(|m| m.param as usize == param).skip(1) {
        if data.len() >= n {
            break;
        }
        let take = (n - data.len()).min(m.bytes.len());
        data.extend_from_slice(&m.bytes[..take]);
    }
    data
}

/// The u32 the host stored at out-pointer `param`, if the call recorded one.
pub fn out_u32(writes: &[Mem], param: usize) -> Option<u32> {
    writes
        .iter()
        .find(|m| m.param as usize == param)
        .and_then(|m| m.bytes.get(..4))
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
}

/// The bytes a successful call handed to the host from a `ciovec` list
/// (fd_write, fd_pwrite, sock_send), as many as the host says it took, and
/// the fd they went to.
pub fn ciovec_consumed(call: &Call) -> Option<(u32, Vec<u8>)> {
    if call.outcome != Outcome::Errno(0) {
        return None;
    }
    let sys = call.func.syscall()?;
    let (param, consumed) = sys.find_param(|k| match k {
        Kind::Ciovecs { consumed, .. } => Some(consumed),
        _ => None,
    })?;
    let fd = *call.args.get(sys.fd_param()?)? as u32;
    let n = out_u32(&call.writes, consumed).unwrap_or(0) as usize;
    Some((fd, ciovec_data(&call.reads, param, n)))
}

/// What the guest wrote to its stdout (fd 1) or stderr (fd 2) at this call.
pub fn stdio_output(call: &Call) -> Option<(u32, Vec<u8>)> {
    ciovec_consumed(call).filter(|(fd, _)| *fd == 1 || *fd == 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::Func;

    /// [`write_ranges`], copied out of guest memory; `reads` are the call's
    /// reads.
    fn writes(
        sys: &Syscall,
        args: &[u64],
        memory: &[u8],
        reads: &[Mem],
        sizes: &StringSizes,
    ) -> Vec<Mem> {
        let mut out = Vec::new();
        let read_list = |i: usize| {
            reads
                .iter()
                .find(|m| m.param as usize == i)
                .map(|m| &m.bytes[..])
        };
        write_ranges(sys, args, memory, read_list, sizes, |r| {
            out.push(r.copy(memory))
        });
        out
    }

    /// The recorder skips the look for reads of the functions that make
    /// none: exactly those with no string, iovec list or subscriptions.
    #[test]
    fn the_functions_that_read_memory_are_known_before_any_call() {
        let readers: Vec<&str> = crate::syscalls::SYSCALLS
            .iter()
            .filter(|s| reads_memory(s))
            .map(|s| s.name)
            .collect();
        assert_eq!(
            readers,
            [
                "fd_pread",
                "fd_pwrite",
                "fd_read",
                "fd_write",
                "path_create_directory",
                "path_filestat_get",
                "path_filestat_set_times",
                "path_link",
                "path_open",
                "path_readlink",
                "path_remove_directory",
                "path_rename",
                "path_symlink",
                "path_unlink_file",
                "poll_oneoff",
                "sock_recv",
                "sock_send",
            ]
        );
        assert!(!reads_memory(Func::clock_time_get.syscall()));
    }

    #[test]
    fn fd_write_reads_the_list_then_each_buffer() {
        let mut memory = vec![0u8; 64];
        memory[32..37].copy_from_slice(b"hello");
        memory[40..42].copy_from_slice(b"!\n");
        // iovecs at 0: {32, 5}, {40, 2}
        memory[0..4].copy_from_slice(&32u32.to_le_bytes());
        memory[4..8].copy_from_slice(&5u32.to_le_bytes());
        memory[8..12].copy_from_slice(&40u32.to_le_bytes());
        memory[12..16].copy_from_slice(&2u32.to_le_bytes());
        let r = reads(Func::fd_write.syscall(), &[1, 0, 2, 60], &memory);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].bytes.len(), 16);
        assert_eq!(r[1].bytes, b"hello");
        assert_eq!(r[2].bytes, b"!\n");
        assert_eq!(ciovec_data(&r, 1, 6), b"hello!");

        // The host took 6 of the 7 bytes; fd 1 is stdout.
        let mut call = Call {
            func: Func::fd_write.id(),
            args: vec![1, 0, 2, 60],
            reads: r,
            writes: vec![Mem {
                param: 3,
                addr: 60,
                bytes: 6u32.to_le_bytes().to_vec(),
            }],
            ..Call::default()
        };
        assert_eq!(stdio_output(&call), Some((1, b"hello!".to_vec())));
        // A damaged trace (a short count) gives nothing rather than a panic.
        call.writes[0].bytes.truncate(2);
        assert_eq!(stdio_output(&call), Some((1, Vec::new())));
        call.args = vec![7];
        assert_eq!(stdio_output(&call), None);
        call.args = vec![];
        assert_eq!(stdio_output(&call), None);
        call.func = Func::fd_read.id();
        assert_eq!(stdio_output(&call), None);
    }

    #[test]
    fn fd_read_writes_as_many_bytes_as_nread_across_buffers() {
        let mut memory = vec![0u8; 64];
        memory[0..4].copy_from_slice(&32u32.to_le_bytes());
        memory[4..8].copy_from_slice(&4u32.to_le_bytes());
        memory[8..12].copy_from_slice(&40u32.to_le_bytes());
        memory[12..16].copy_from_slice(&8u32.to_le_bytes());
        let args = [0, 0, 2, 60];
        let r = reads(Func::fd_read.syscall(), &args, &memory);
        memory[32..36].copy_from_slice(b"abcd");
        memory[40..42].copy_from_slice(b"ef");
        memory[60..64].copy_from_slice(&6u32.to_le_bytes());
        let w = writes(
            Func::fd_read.syscall(),
            &args,
            &memory,
            &r,
            &StringSizes::default(),
        );
        let got: Vec<(u32, &[u8])> = w.iter().map(|m| (m.addr, &m.bytes[..])).collect();
        assert_eq!(
            got,
            vec![
                (32, &b"abcd"[..]),
                (40, &b"ef"[..]),
                (60, &6u32.to_le_bytes()[..])
            ]
        );
    }

    #[test]
    fn pointers_past_the_end_of_memory_are_clamped() {
        let memory = vec![0u8; 16];
        let r = reads(
            Func::path_open.syscall(),
            &[3, 0, 10, 100, 0, 0, 0, 0, 0],
            &memory,
        );
        assert_eq!(r[0].bytes.len(), 6);
        let r = reads(
            Func::path_open.syscall(),
            &[3, 0, u32::MAX as u64, 100, 0, 0, 0, 0, 0],
            &memory,
        );
        assert!(r[0].bytes.is_empty());
    }

    #[test]
    fn args_get_writes_pointer_array_and_buffer() {
        let sizes = StringSizes::new(&["a.wasm".into(), "x".into()], &[]);
        assert_eq!(sizes.args, (2, 9));
        let memory = vec![7u8; 64];
        let w = writes(Func::args_get.syscall(), &[0, 16], &memory, &[], &sizes);
        assert_eq!((w[0].addr, w[0].bytes.len()), (0, 8));
        assert_eq!((w[1].addr, w[1].bytes.len()), (16, 9));
    }
}
