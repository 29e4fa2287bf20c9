//! The one table of `wasi_snapshot_preview1` functions.
//!
//! Every preview1 function is declared once below, with its permanent id,
//! each core-wasm parameter and what it means: a scalar to decode, a guest
//! string the host reads, an iovec list, a buffer the host fills, an
//! out-pointer the host writes, and what the call does to the fd table.
//! From that one declaration come:
//!
//! - [`SYSCALLS`], the metadata that the recorder ([`crate::capture`]), the
//!   replayer, the call decoder and the TUI all read;
//! - [`Func`] and [`FuncId`], the function's permanent id as stored in traces;
//! - `dispatch`, which calls wasmtime-wasi's implementation of the function.
//!
//! Adding a function is one line here: the next free id, its parameters.
//! Ids are permanent (see "Function ids" in `docs/trace-format.md`): a row's
//! id never changes and is never reused, rows stay in id order, and new rows
//! take the next id at the end. The preview1 witx (`wasi_snapshot_preview1.witx`
//! in the WASI repository; wasmtime-wasi ships it) is the source of truth for
//! the parameters; `tests` below check the core signatures against it.

use crate::names::Value;
use serde::{Deserialize, Serialize};

/// What one core-wasm parameter of a preview1 function means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A scalar passed by value, decoded as the given [`Value`].
    Value(Value),
    /// Pointer to a guest string the host reads; `len` is the index of the
    /// parameter holding its length.
    Str { len: usize },
    /// Pointer to a `ciovec` array the host reads, together with the bytes
    /// its entries point at; `count` is the index of the entry count,
    /// `consumed` the out-parameter where the host stores how many of those
    /// bytes it took (written, sent).
    Ciovecs { count: usize, consumed: usize },
    /// Pointer to an `iovec` array: the host reads the list and fills the
    /// buffers, in order, with as many bytes as the out-parameter `filled`
    /// says.
    Iovecs { count: usize, filled: usize },
    /// Pointer to a byte buffer the host fills: `len` is the index of the
    /// buffer's length parameter, `filled` says how much of it is written,
    /// `holds` what the bytes are.
    Buf {
        len: usize,
        filled: Fill,
        holds: Holds,
    },
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

/// What the bytes of a [`Kind::Buf`] are, for showing them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holds {
    /// Opaque bytes (random_get).
    Bytes,
    /// A path or name (fd_prestat_dir_name, path_readlink).
    Text,
    /// `dirent` records, each followed by its name (fd_readdir).
    Dirents,
}

/// What a successful call does to the guest's fd table, so that readers of a
/// trace can name fds by path (`fd=4</data/x>`, as `strace -y`). The
/// parameters involved are found by their kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdEffect {
    /// Nothing.
    None,
    /// A new fd in the [`Out::Fd`] out-parameter; when the call has a path
    /// ([`Kind::Str`]), it names the new fd relative to the first fd argument.
    Opens,
    /// The name of a preopened directory: the [`Kind::Buf`] names the first
    /// fd argument.
    NamesPreopen,
    /// The first fd argument is closed.
    Closes,
    /// The first fd argument moves to the second.
    Renumbers,
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
    pub fd_effect: FdEffect,
}

impl Syscall {
    /// The function's core-wasm type as (i64?) flags per parameter.
    pub fn param_is_i64(&self) -> impl Iterator<Item = bool> + '_ {
        self.params.iter().map(Param::is_i64)
    }

    /// Index of the first parameter whose kind satisfies `want`.
    pub fn param_where(&self, want: impl Fn(Kind) -> bool) -> Option<usize> {
        self.params.iter().position(|p| want(p.kind))
    }

    /// True when out-parameter `i` counts what the host put in a buffer or
    /// list parameter (nread, bufused, nevents): shown with that buffer.
    pub fn is_count_of_a_buffer(&self, i: usize) -> bool {
        self.params.iter().any(|q| match q.kind {
            Kind::Iovecs { filled, .. } | Kind::Events { filled } => filled == i,
            Kind::Buf {
                filled: Fill::Used(used),
                ..
            } => used == i,
            _ => false,
        })
    }

    /// The first parameter whose kind `pick` accepts: its index and what
    /// `pick` took from the kind (`Kind::Buf { len, .. } => Some(len)`).
    pub fn find_param<T>(&self, pick: impl Fn(Kind) -> Option<T>) -> Option<(usize, T)> {
        self.params
            .iter()
            .enumerate()
            .find_map(|(i, p)| pick(p.kind).map(|t| (i, t)))
    }

    /// Index of the first fd argument.
    pub fn fd_param(&self) -> Option<usize> {
        self.param_where(|k| k == Kind::Value(Value::Fd))
    }

    /// Whether its calls move data through an fd (an iovec list): what
    /// `stats` sums per fd.
    pub fn moves_bytes(&self) -> bool {
        self.param_where(|k| matches!(k, Kind::Iovecs { .. } | Kind::Ciovecs { .. }))
            .is_some()
    }
}

/// A function's permanent id, as stored in traces: a preview1 function's id
/// from the table (below [`FuncId::FOREIGN_BASE`]), or `FOREIGN_BASE + k`
/// for the k-th foreign import of the recording
/// ([`crate::trace::Header::foreign_imports`]).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct FuncId(pub u16);

impl FuncId {
    /// The first id of foreign imports; preview1 rows can never reach it.
    pub const FOREIGN_BASE: u16 = 0x8000;

    /// The id of the k-th foreign import, if k is in range.
    pub fn foreign(k: usize) -> Option<FuncId> {
        u16::try_from(k)
            .ok()
            .and_then(|k| Self::FOREIGN_BASE.checked_add(k))
            .map(FuncId)
    }

    /// The preview1 function, if this id is one.
    pub fn func(self) -> Option<Func> {
        Func::from_id(self.0)
    }

    /// The preview1 function's table row, if this id is one.
    pub fn syscall(self) -> Option<&'static Syscall> {
        self.func().map(Func::syscall)
    }

    /// Whether `stats` must look into this function's calls: they move
    /// bytes through an fd or change the fd table. Decided once per id:
    /// the recorder asks for every call.
    pub fn touches_fds(self) -> bool {
        static TOUCHING: std::sync::LazyLock<Vec<bool>> = std::sync::LazyLock::new(|| {
            (0..SYSCALLS.len())
                .map(|i| {
                    let sys = FuncId(i as u16).syscall();
                    sys.is_some_and(|s| s.fd_effect != FdEffect::None || s.moves_bytes())
                })
                .collect()
        });
        TOUCHING.get(self.0 as usize).copied().unwrap_or(false)
    }

    /// Index into the header's foreign imports, if this id is one.
    pub fn foreign_index(self) -> Option<usize> {
        self.0.checked_sub(Self::FOREIGN_BASE).map(usize::from)
    }
}

impl From<Func> for FuncId {
    fn from(f: Func) -> FuncId {
        FuncId(f as u16)
    }
}

impl PartialEq<Func> for FuncId {
    fn eq(&self, f: &Func) -> bool {
        self.0 == *f as u16
    }
}

impl std::fmt::Display for FuncId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
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
    ($( $id:literal $name:ident $([$asyncness:ident])? : $class:ident ( $( $pname:ident : $kind:expr ),* ) $(-> $never:tt)? $(=> $effect:ident)? ; )*) => {
        /// A preview1 function; its value is its permanent id.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Func { $( $name = $id, )* }

        impl Func {
            pub fn syscall(self) -> &'static Syscall {
                // Rows are in id order with no gaps (checked by a test).
                &SYSCALLS[self as usize]
            }

            pub fn from_id(id: u16) -> Option<Func> {
                match id {
                    $( $id => Some(Func::$name), )*
                    _ => None,
                }
            }

            pub fn id(self) -> FuncId {
                FuncId(self as u16)
            }
        }

        /// All preview1 functions, in id order.
        pub static SYSCALLS: &[Syscall] = &[ $(
            Syscall {
                func: Func::$name,
                name: stringify!($name),
                class: Class::$class,
                params: &[ $( Param { name: stringify!($pname), kind: $kind } ),* ],
                no_return: preview1!(@never $($never)?),
                fd_effect: preview1!(@effect $($effect)?),
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
    (@never !) => { true };
    (@never) => { false };
    (@effect $effect:ident) => { FdEffect::$effect };
    (@effect) => { FdEffect::None };
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
    0 args_get: Args(argv: StringPtrs(StringList::Args), argv_buf: StringBuf(StringList::Args));
    1 args_sizes_get: Args(argc: Out(Out::Size), argv_buf_size: Out(Out::Size));
    2 environ_get: Args(environ: StringPtrs(StringList::Environ), environ_buf: StringBuf(StringList::Environ));
    3 environ_sizes_get: Args(environc: Out(Out::Size), environ_buf_size: Out(Out::Size));
    4 clock_res_get: Clock(id: Value(V::ClockId), resolution: Out(Out::Timestamp));
    5 clock_time_get: Clock(id: Value(V::ClockId), precision: Value(V::Timestamp), time: Out(Out::Timestamp));
    6 fd_advise[async]: Fd(fd: Value(V::Fd), offset: Value(V::FileSize), len: Value(V::FileSize), advice: Value(V::Advice));
    7 fd_allocate: Fd(fd: Value(V::Fd), offset: Value(V::FileSize), len: Value(V::FileSize));
    8 fd_close[async]: Fd(fd: Value(V::Fd)) => Closes;
    9 fd_datasync[async]: Fd(fd: Value(V::Fd));
    10 fd_fdstat_get[async]: Fd(fd: Value(V::Fd), stat: Out(Out::Fdstat));
    11 fd_fdstat_set_flags: Fd(fd: Value(V::Fd), flags: Value(V::FdFlags));
    12 fd_fdstat_set_rights: Fd(fd: Value(V::Fd), fs_rights_base: Value(V::Rights), fs_rights_inheriting: Value(V::Rights));
    13 fd_filestat_get[async]: Fd(fd: Value(V::Fd), buf: Out(Out::Filestat));
    14 fd_filestat_set_size[async]: Fd(fd: Value(V::Fd), size: Value(V::FileSize));
    15 fd_filestat_set_times[async]: Fd(fd: Value(V::Fd), atim: Value(V::Timestamp), mtim: Value(V::Timestamp), fst_flags: Value(V::FstFlags));
    16 fd_pread[async]: Fd(fd: Value(V::Fd), iovs: Iovecs { count: 2, filled: 4 }, iovs_len: Len, offset: Value(V::FileSize), nread: Out(Out::Size));
    17 fd_prestat_get: Fd(fd: Value(V::Fd), buf: Out(Out::Prestat));
    18 fd_prestat_dir_name: Fd(fd: Value(V::Fd), path: Buf { len: 2, filled: Fill::All, holds: Holds::Text }, path_len: Len) => NamesPreopen;
    19 fd_pwrite[async]: Fd(fd: Value(V::Fd), iovs: Ciovecs { count: 2, consumed: 4 }, iovs_len: Len, offset: Value(V::FileSize), nwritten: Out(Out::Size));
    20 fd_read[async]: Fd(fd: Value(V::Fd), iovs: Iovecs { count: 2, filled: 3 }, iovs_len: Len, nread: Out(Out::Size));
    21 fd_readdir[async]: Fd(fd: Value(V::Fd), buf: Buf { len: 2, filled: Fill::Used(4), holds: Holds::Dirents }, buf_len: Len, cookie: Value(V::DirCookie), bufused: Out(Out::Size));
    22 fd_renumber[async]: Fd(fd: Value(V::Fd), to: Value(V::Fd)) => Renumbers;
    23 fd_seek[async]: Fd(fd: Value(V::Fd), offset: Value(V::FileDelta), whence: Value(V::Whence), newoffset: Out(Out::FileSize));
    24 fd_sync[async]: Fd(fd: Value(V::Fd));
    25 fd_tell: Fd(fd: Value(V::Fd), offset: Out(Out::FileSize));
    26 fd_write[async]: Fd(fd: Value(V::Fd), iovs: Ciovecs { count: 2, consumed: 3 }, iovs_len: Len, nwritten: Out(Out::Size));
    27 path_create_directory[async]: Path(fd: Value(V::Fd), path: Str { len: 2 }, path_len: Len);
    28 path_filestat_get[async]: Path(fd: Value(V::Fd), flags: Value(V::LookupFlags), path: Str { len: 3 }, path_len: Len, buf: Out(Out::Filestat));
    29 path_filestat_set_times[async]: Path(fd: Value(V::Fd), flags: Value(V::LookupFlags), path: Str { len: 3 }, path_len: Len, atim: Value(V::Timestamp), mtim: Value(V::Timestamp), fst_flags: Value(V::FstFlags));
    30 path_link[async]: Path(old_fd: Value(V::Fd), old_flags: Value(V::LookupFlags), old_path: Str { len: 3 }, old_path_len: Len, new_fd: Value(V::Fd), new_path: Str { len: 6 }, new_path_len: Len);
    31 path_open[async]: Path(fd: Value(V::Fd), dirflags: Value(V::LookupFlags), path: Str { len: 3 }, path_len: Len, oflags: Value(V::OFlags), fs_rights_base: Value(V::Rights), fs_rights_inheriting: Value(V::Rights), fdflags: Value(V::FdFlags), opened_fd: Out(Out::Fd)) => Opens;
    32 path_readlink[async]: Path(fd: Value(V::Fd), path: Str { len: 2 }, path_len: Len, buf: Buf { len: 4, filled: Fill::Used(5), holds: Holds::Text }, buf_len: Len, bufused: Out(Out::Size));
    33 path_remove_directory[async]: Path(fd: Value(V::Fd), path: Str { len: 2 }, path_len: Len);
    34 path_rename[async]: Path(fd: Value(V::Fd), old_path: Str { len: 2 }, old_path_len: Len, new_fd: Value(V::Fd), new_path: Str { len: 5 }, new_path_len: Len);
    35 path_symlink[async]: Path(old_path: Str { len: 1 }, old_path_len: Len, fd: Value(V::Fd), new_path: Str { len: 4 }, new_path_len: Len);
    36 path_unlink_file[async]: Path(fd: Value(V::Fd), path: Str { len: 2 }, path_len: Len);
    37 poll_oneoff[async]: Poll(subscriptions: Subscriptions { count: 2 }, events: Events { filled: 3 }, nsubscriptions: Len, nevents: Out(Out::Size));
    38 proc_exit: Proc(rval: Value(V::ExitCode)) -> !;
    39 proc_raise: Proc(sig: Value(V::Signal));
    40 sched_yield: Proc();
    41 random_get: Random(buf: Buf { len: 1, filled: Fill::All, holds: Holds::Bytes }, buf_len: Len);
    42 sock_accept: Sock(fd: Value(V::Fd), flags: Value(V::FdFlags), opened_fd: Out(Out::Fd)) => Opens;
    43 sock_recv: Sock(fd: Value(V::Fd), ri_data: Iovecs { count: 2, filled: 4 }, ri_data_len: Len, ri_flags: Value(V::RiFlags), ro_datalen: Out(Out::Size), ro_flags: Out(Out::RoFlags));
    44 sock_send: Sock(fd: Value(V::Fd), si_data: Ciovecs { count: 2, consumed: 4 }, si_data_len: Len, si_flags: Value(V::SiFlags), so_datalen: Out(Out::Size));
    45 sock_shutdown: Sock(fd: Value(V::Fd), how: Value(V::SdFlags));
}

#[cfg(test)]
mod tests;
