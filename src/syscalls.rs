//! The one table of `wasi_snapshot_preview1` functions.
//!
//! Every preview1 function is declared once below, in the order of the witx
//! file, with each core-wasm parameter and what it means: a scalar to decode,
//! a guest string the host reads, an iovec list, a buffer the host fills, an
//! out-pointer the host writes. From that one declaration come:
//!
//! - [`SYSCALLS`], the metadata that the recorder ([`crate::capture`]), the
//!   replayer, the decoder ([`crate::decode`]) and the TUI all read;
//! - [`Func`], a compact id per function, stored in traces;
//! - `dispatch`, which calls wasmtime-wasi's implementation of the function.
//!
//! Adding a function is a one-line change here (plus its decoder for any new
//! [`Value`] kind). The witx in `shared/reference/witx` is the source of truth;
//! `tests` below check the core signatures against it.

use crate::decode::Value;

/// What one core-wasm parameter of a preview1 function means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A scalar passed by value, decoded as the given [`Value`].
    Value(Value),
    /// Pointer to a guest string the host reads; `len` is the index of the
    /// parameter holding its length.
    Str { len: usize },
    /// Pointer to a `ciovec` array the host reads, together with the bytes
    /// its entries point at; `count` is the index of the entry count.
    Ciovecs { count: usize },
    /// Pointer to an `iovec` array: the host reads the list and fills the
    /// buffers, in order, with as many bytes as the out-parameter `filled`
    /// says.
    Iovecs { count: usize, filled: usize },
    /// Pointer to a byte buffer the host fills: `len` is the index of the
    /// buffer's length parameter, `filled` says how much of it is written.
    Buf { len: usize, filled: Fill },
    /// Pointer to `count` 48-byte subscriptions the host reads (poll_oneoff).
    Subscriptions { count: usize },
    /// Pointer to the 32-byte events the host writes; the out-parameter
    /// `filled` holds how many.
    Events { filled: usize },
    /// Pointer to the argv/environ pointer array the host fills.
    StringPtrs(StringList),
    /// Pointer to the argv/environ string buffer the host fills.
    StringBuf(StringList),
    /// A length or count that belongs to another parameter; not printed alone.
    Len,
    /// An out-pointer where the host stores a result on success.
    Out(Out),
}

/// How much of a [`Kind::Buf`] the host fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// The whole buffer (random_get, fd_prestat_dir_name).
    All,
    /// As many bytes as the out-parameter with this index says (fd_readdir,
    /// path_readlink).
    Used(usize),
}

/// Which list of NUL-terminated strings args_get/environ_get fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringList {
    Args,
    Environ,
}

/// What an out-pointer receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Out {
    /// A u32 count or size.
    Size,
    /// A new file descriptor (u32).
    Fd,
    /// A u64 timestamp in nanoseconds.
    Timestamp,
    /// A u64 file size or offset.
    FileSize,
    /// `roflags`, a u16.
    RoFlags,
    /// An `fdstat` (24 bytes).
    Fdstat,
    /// A `filestat` (64 bytes).
    Filestat,
    /// A `prestat` (8 bytes).
    Prestat,
}

impl Out {
    /// Bytes the host writes at the out-pointer.
    pub const fn size(self) -> u32 {
        match self {
            Out::RoFlags => 2,
            Out::Size | Out::Fd => 4,
            Out::Timestamp | Out::FileSize | Out::Prestat => 8,
            Out::Fdstat => 24,
            Out::Filestat => 64,
        }
    }
}

/// One parameter: its name in the witx and what it means.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
}

impl Param {
    /// True when the core-wasm type of the parameter is i64.
    pub fn is_i64(&self) -> bool {
        matches!(self.kind, Kind::Value(v) if v.is_i64())
    }
}

/// strace-like classes for filtering (`-e trace=%fd`, the TUI's `f`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Args,
    Clock,
    Fd,
    Path,
    Poll,
    Proc,
    Random,
    Sock,
}

impl Class {
    pub const ALL: [Class; 8] = [
        Class::Args,
        Class::Clock,
        Class::Fd,
        Class::Path,
        Class::Poll,
        Class::Proc,
        Class::Random,
        Class::Sock,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Class::Args => "args",
            Class::Clock => "clock",
            Class::Fd => "fd",
            Class::Path => "path",
            Class::Poll => "poll",
            Class::Proc => "proc",
            Class::Random => "random",
            Class::Sock => "sock",
        }
    }

    pub fn from_name(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// One preview1 function.
#[derive(Debug)]
pub struct Syscall {
    pub func: Func,
    pub name: &'static str,
    pub class: Class,
    pub params: &'static [Param],
    /// True for proc_exit, the one function with no errno result.
    pub no_return: bool,
}

impl Syscall {
    /// The function's core-wasm type as (i64?) flags per parameter.
    pub fn param_is_i64(&self) -> impl Iterator<Item = bool> + '_ {
        self.params.iter().map(Param::is_i64)
    }
}

/// Looks a preview1 function up by its import name.
pub fn by_name(name: &str) -> Option<&'static Syscall> {
    SYSCALLS.iter().find(|s| s.name == name)
}

/// The module name of every import this table serves.
pub const MODULE: &str = "wasi_snapshot_preview1";

use Kind::*;
use Value as V;

macro_rules! preview1 {
    ($( $name:ident $([$asyncness:ident])? : $class:ident ( $( $pname:ident : $kind:expr ),* ); )*) => {
        /// Compact id of a preview1 function, as stored in traces.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Func { $( $name, )* }

        impl Func {
            pub fn syscall(self) -> &'static Syscall {
                &SYSCALLS[self as usize]
            }

            pub fn from_id(id: u16) -> Option<Func> {
                SYSCALLS.get(id as usize).map(|s| s.func)
            }
        }

        /// All 46 functions, indexed by [`Func`].
        pub static SYSCALLS: &[Syscall] = &[ $(
            Syscall {
                func: Func::$name,
                name: stringify!($name),
                class: Class::$class,
                params: &[ $( Param { name: stringify!($pname), kind: $kind } ),* ],
                no_return: stringify!($name).len() == 9 && matches!(stringify!($name).as_bytes(), b"proc_exit"),
            },
        )* ];

        #[cfg(feature = "runtime")]
        /// Calls wasmtime-wasi's implementation of `func` with raw arguments
        /// (i32 arguments zero-extended to u64). Returns the errno, or an
        /// error for `proc_exit` (an `I32Exit`) and for traps.
        pub(crate) fn dispatch(
            func: Func,
            ctx: &mut wasmtime_wasi::p1::WasiP1Ctx,
            memory: &mut wiggle::GuestMemory<'_>,
            args: &[u64],
        ) -> wasmtime::Result<i32> {
            #[allow(unused_imports)]
            use wasmtime_wasi::p1::wasi_snapshot_preview1 as p1;
            match func { $(
                Func::$name => {
                    #[allow(unused_mut, unused_variables)]
                    let mut arg = args.iter().copied();
                    let result = preview1!(@call $($asyncness)? p1::$name(ctx, memory $(, {
                        let _ = stringify!($pname);
                        arg.next().unwrap_or(0) as _
                    })*));
                    result.map(IntoErrno::into_errno)
                }
            )* }
        }
    };
    (@call async $e:expr) => { wasmtime_wasi::runtime::in_tokio($e) };
    (@call $e:expr) => { $e };
}

/// The generated functions return `i32` (an errno) or, for proc_exit, `()`.
#[cfg(feature = "runtime")]
trait IntoErrno {
    fn into_errno(self) -> i32;
}
#[cfg(feature = "runtime")]
impl IntoErrno for i32 {
    fn into_errno(self) -> i32 {
        self
    }
}
#[cfg(feature = "runtime")]
impl IntoErrno for () {
    fn into_errno(self) -> i32 {
        0
    }
}

preview1! {
    args_get: Args(argv: StringPtrs(StringList::Args), argv_buf: StringBuf(StringList::Args));
    args_sizes_get: Args(argc: Out(Out::Size), argv_buf_size: Out(Out::Size));
    environ_get: Args(environ: StringPtrs(StringList::Environ), environ_buf: StringBuf(StringList::Environ));
    environ_sizes_get: Args(environc: Out(Out::Size), environ_buf_size: Out(Out::Size));
    clock_res_get: Clock(id: Value(V::ClockId), resolution: Out(Out::Timestamp));
    clock_time_get: Clock(id: Value(V::ClockId), precision: Value(V::Timestamp), time: Out(Out::Timestamp));
    fd_advise[async]: Fd(fd: Value(V::Fd), offset: Value(V::FileSize), len: Value(V::FileSize), advice: Value(V::Advice));
    fd_allocate: Fd(fd: Value(V::Fd), offset: Value(V::FileSize), len: Value(V::FileSize));
    fd_close[async]: Fd(fd: Value(V::Fd));
    fd_datasync[async]: Fd(fd: Value(V::Fd));
    fd_fdstat_get[async]: Fd(fd: Value(V::Fd), stat: Out(Out::Fdstat));
    fd_fdstat_set_flags: Fd(fd: Value(V::Fd), flags: Value(V::FdFlags));
    fd_fdstat_set_rights: Fd(fd: Value(V::Fd), fs_rights_base: Value(V::Rights), fs_rights_inheriting: Value(V::Rights));
    fd_filestat_get[async]: Fd(fd: Value(V::Fd), buf: Out(Out::Filestat));
    fd_filestat_set_size[async]: Fd(fd: Value(V::Fd), size: Value(V::FileSize));
    fd_filestat_set_times[async]: Fd(fd: Value(V::Fd), atim: Value(V::Timestamp), mtim: Value(V::Timestamp), fst_flags: Value(V::FstFlags));
    fd_pread[async]: Fd(fd: Value(V::Fd), iovs: Iovecs { count: 2, filled: 4 }, iovs_len: Len, offset: Value(V::FileSize), nread: Out(Out::Size));
    fd_prestat_get: Fd(fd: Value(V::Fd), buf: Out(Out::Prestat));
    fd_prestat_dir_name: Fd(fd: Value(V::Fd), path: Buf { len: 2, filled: Fill::All }, path_len: Len);
    fd_pwrite[async]: Fd(fd: Value(V::Fd), iovs: Ciovecs { count: 2 }, iovs_len: Len, offset: Value(V::FileSize), nwritten: Out(Out::Size));
    fd_read[async]: Fd(fd: Value(V::Fd), iovs: Iovecs { count: 2, filled: 3 }, iovs_len: Len, nread: Out(Out::Size));
    fd_readdir[async]: Fd(fd: Value(V::Fd), buf: Buf { len: 2, filled: Fill::Used(4) }, buf_len: Len, cookie: Value(V::DirCookie), bufused: Out(Out::Size));
    fd_renumber[async]: Fd(fd: Value(V::Fd), to: Value(V::Fd));
    fd_seek[async]: Fd(fd: Value(V::Fd), offset: Value(V::FileDelta), whence: Value(V::Whence), newoffset: Out(Out::FileSize));
    fd_sync[async]: Fd(fd: Value(V::Fd));
    fd_tell: Fd(fd: Value(V::Fd), offset: Out(Out::FileSize));
    fd_write[async]: Fd(fd: Value(V::Fd), iovs: Ciovecs { count: 2 }, iovs_len: Len, nwritten: Out(Out::Size));
    path_create_directory[async]: Path(fd: Value(V::Fd), path: Str { len: 2 }, path_len: Len);
    path_filestat_get[async]: Path(fd: Value(V::Fd), flags: Value(V::LookupFlags), path: Str { len: 3 }, path_len: Len, buf: Out(Out::Filestat));
    path_filestat_set_times[async]: Path(fd: Value(V::Fd), flags: Value(V::LookupFlags), path: Str { len: 3 }, path_len: Len, atim: Value(V::Timestamp), mtim: Value(V::Timestamp), fst_flags: Value(V::FstFlags));
    path_link[async]: Path(old_fd: Value(V::Fd), old_flags: Value(V::LookupFlags), old_path: Str { len: 3 }, old_path_len: Len, new_fd: Value(V::Fd), new_path: Str { len: 6 }, new_path_len: Len);
    path_open[async]: Path(fd: Value(V::Fd), dirflags: Value(V::LookupFlags), path: Str { len: 3 }, path_len: Len, oflags: Value(V::OFlags), fs_rights_base: Value(V::Rights), fs_rights_inheriting: Value(V::Rights), fdflags: Value(V::FdFlags), opened_fd: Out(Out::Fd));
    path_readlink[async]: Path(fd: Value(V::Fd), path: Str { len: 2 }, path_len: Len, buf: Buf { len: 4, filled: Fill::Used(5) }, buf_len: Len, bufused: Out(Out::Size));
    path_remove_directory[async]: Path(fd: Value(V::Fd), path: Str { len: 2 }, path_len: Len);
    path_rename[async]: Path(fd: Value(V::Fd), old_path: Str { len: 2 }, old_path_len: Len, new_fd: Value(V::Fd), new_path: Str { len: 5 }, new_path_len: Len);
    path_symlink[async]: Path(old_path: Str { len: 1 }, old_path_len: Len, fd: Value(V::Fd), new_path: Str { len: 4 }, new_path_len: Len);
    path_unlink_file[async]: Path(fd: Value(V::Fd), path: Str { len: 2 }, path_len: Len);
    poll_oneoff[async]: Poll(subscriptions: Subscriptions { count: 2 }, events: Events { filled: 3 }, nsubscriptions: Len, nevents: Out(Out::Size));
    proc_exit: Proc(rval: Value(V::ExitCode));
    proc_raise: Proc(sig: Value(V::Signal));
    sched_yield: Proc();
    random_get: Random(buf: Buf { len: 1, filled: Fill::All }, buf_len: Len);
    sock_accept: Sock(fd: Value(V::Fd), flags: Value(V::FdFlags), opened_fd: Out(Out::Fd));
    sock_recv: Sock(fd: Value(V::Fd), ri_data: Iovecs { count: 2, filled: 4 }, ri_data_len: Len, ri_flags: Value(V::RiFlags), ro_datalen: Out(Out::Size), ro_flags: Out(Out::RoFlags));
    sock_send: Sock(fd: Value(V::Fd), si_data: Ciovecs { count: 2 }, si_data_len: Len, si_flags: Value(V::SiFlags), so_datalen: Out(Out::Size));
    sock_shutdown: Sock(fd: Value(V::Fd), how: Value(V::SdFlags));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signatures as `wasm-tools` prints a preview1 module's imports;
    /// copied from shared/reference/preview1-signatures.txt.
    const SIGNATURES: &str = include_str!("../tests/data/preview1-signatures.txt");

    #[test]
    fn table_matches_the_preview1_signatures() {
        let mut seen = 0;
        for line in SIGNATURES.lines().filter(|l| !l.trim().is_empty()) {
            let mut words = line.split_whitespace();
            assert_eq!(words.next(), Some(MODULE));
            let name = words.next().unwrap();
            let rest: String = words.collect::<Vec<_>>().join(" ");
            let (params, results) = rest.split_once("->").unwrap();
            let sys = by_name(name).unwrap_or_else(|| panic!("{name} missing from the table"));
            let want: Vec<bool> = params
                .trim()
                .trim_matches(|c| c == '(' || c == ')')
                .split_whitespace()
                .map(|t| t == "i64")
                .collect();
            let got: Vec<bool> = sys.param_is_i64().collect();
            assert_eq!(got, want, "{name}: i64 positions");
            assert_eq!(sys.no_return, results.trim() == "()", "{name}: result");
            seen += 1;
        }
        assert_eq!(seen, 46);
        assert_eq!(SYSCALLS.len(), 46);
    }

    #[test]
    fn every_pointer_names_a_length_parameter() {
        for sys in SYSCALLS {
            for p in sys.params {
                let refs: Vec<usize> = match p.kind {
                    Str { len } | Buf { len, .. } => vec![len],
                    Ciovecs { count } | Subscriptions { count } => vec![count],
                    Iovecs { count, filled } => vec![count, filled],
                    Events { filled } => vec![filled],
                    _ => vec![],
                };
                for r in refs {
                    assert!(r < sys.params.len(), "{}.{}", sys.name, p.name);
                }
            }
            for (i, s) in SYSCALLS.iter().enumerate() {
                assert_eq!(s.func as usize, i);
            }
        }
    }
}
