//! Names for preview1's scalar values: errno, flags, enums, as `typenames.witx`
//! defines them, and what each scalar parameter of the table means
//! ([`Value`]). Turning values into text and JSON is [`crate::decode`]'s job.

/// The meaning of a scalar parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Fd,
    ClockId,
    Timestamp,
    FileSize,
    FileDelta,
    DirCookie,
    Whence,
    Advice,
    FdFlags,
    Rights,
    LookupFlags,
    OFlags,
    FstFlags,
    RiFlags,
    SiFlags,
    SdFlags,
    Signal,
    ExitCode,
}

/// The names a scalar's values have: an enum's, a flag set's, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbols {
    /// A number (fd, size, timestamp, exit code).
    None,
    /// Value `i` is `names[i]`.
    Enum(&'static [&'static str]),
    /// Bit `i` is `names[i]`.
    Flags(&'static [&'static str]),
}

impl Symbols {
    /// The value of `name` (`CREAT|TRUNC` for flags), if every part is a name.
    pub fn value_of(self, name: &str) -> Option<u64> {
        match self {
            Symbols::None => None,
            Symbols::Enum(names) => names.iter().position(|n| *n == name).map(|i| i as u64),
            Symbols::Flags(names) => name.split('|').try_fold(0u64, |bits, part| {
                let i = names.iter().position(|n| *n == part)?;
                Some(bits | 1 << i)
            }),
        }
    }
}

impl Value {
    /// How values of this kind are named.
    pub const fn symbols(self) -> Symbols {
        match self {
            Value::ClockId => Symbols::Enum(&CLOCK_IDS),
            Value::Whence => Symbols::Enum(&WHENCE),
            Value::Advice => Symbols::Enum(&ADVICE),
            Value::Signal => Symbols::Enum(&SIGNALS),
            Value::FdFlags => Symbols::Flags(&FDFLAGS),
            Value::Rights => Symbols::Flags(&RIGHTS),
            Value::LookupFlags => Symbols::Flags(&LOOKUPFLAGS),
            Value::OFlags => Symbols::Flags(&OFLAGS),
            Value::FstFlags => Symbols::Flags(&FSTFLAGS),
            Value::RiFlags => Symbols::Flags(&RIFLAGS),
            Value::SiFlags => Symbols::Flags(&SIFLAGS),
            Value::SdFlags => Symbols::Flags(&SDFLAGS),
            Value::Fd
            | Value::Timestamp
            | Value::FileSize
            | Value::FileDelta
            | Value::DirCookie
            | Value::ExitCode => Symbols::None,
        }
    }

    /// True when the core-wasm type is i64.
    pub const fn is_i64(self) -> bool {
        matches!(
            self,
            Value::Timestamp
                | Value::FileSize
                | Value::FileDelta
                | Value::DirCookie
                | Value::Rights
        )
    }
}

pub const CLOCK_IDS: [&str; 4] = [
    "REALTIME",
    "MONOTONIC",
    "PROCESS_CPUTIME_ID",
    "THREAD_CPUTIME_ID",
];
pub const WHENCE: [&str; 3] = ["SET", "CUR", "END"];
pub const ADVICE: [&str; 6] = [
    "NORMAL",
    "SEQUENTIAL",
    "RANDOM",
    "WILLNEED",
    "DONTNEED",
    "NOREUSE",
];
pub const FDFLAGS: [&str; 5] = ["APPEND", "DSYNC", "NONBLOCK", "RSYNC", "SYNC"];
pub const LOOKUPFLAGS: [&str; 1] = ["SYMLINK_FOLLOW"];
pub const OFLAGS: [&str; 4] = ["CREAT", "DIRECTORY", "EXCL", "TRUNC"];
pub const FSTFLAGS: [&str; 4] = ["ATIM", "ATIM_NOW", "MTIM", "MTIM_NOW"];
pub const RIFLAGS: [&str; 2] = ["RECV_PEEK", "RECV_WAITALL"];
pub const ROFLAGS: [&str; 1] = ["RECV_DATA_TRUNCATED"];
pub const SIFLAGS: [&str; 0] = [];
pub const SDFLAGS: [&str; 2] = ["RD", "WR"];
pub const SUBCLOCKFLAGS: [&str; 1] = ["ABSTIME"];
pub const EVENTRWFLAGS: [&str; 1] = ["HANGUP"];
pub const PREOPENTYPES: [&str; 1] = ["DIR"];
pub const FILETYPES: [&str; 8] = [
    "UNKNOWN",
    "BLOCK_DEVICE",
    "CHARACTER_DEVICE",
    "DIRECTORY",
    "REGULAR_FILE",
    "SOCKET_DGRAM",
    "SOCKET_STREAM",
    "SYMBOLIC_LINK",
];
pub const EVENT_TYPES: [&str; 3] = ["CLOCK", "FD_READ", "FD_WRITE"];
pub const SIGNALS: [&str; 31] = [
    "NONE", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
    "USR2", "PIPE", "ALRM", "TERM", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU",
    "XFSZ", "VTALRM", "PROF", "WINCH", "POLL", "PWR", "SYS",
];
pub const RIGHTS: [&str; 30] = [
    "FD_DATASYNC",
    "FD_READ",
    "FD_SEEK",
    "FD_FDSTAT_SET_FLAGS",
    "FD_SYNC",
    "FD_TELL",
    "FD_WRITE",
    "FD_ADVISE",
    "FD_ALLOCATE",
    "PATH_CREATE_DIRECTORY",
    "PATH_CREATE_FILE",
    "PATH_LINK_SOURCE",
    "PATH_LINK_TARGET",
    "PATH_OPEN",
    "FD_READDIR",
    "PATH_READLINK",
    "PATH_RENAME_SOURCE",
    "PATH_RENAME_TARGET",
    "PATH_FILESTAT_GET",
    "PATH_FILESTAT_SET_SIZE",
    "PATH_FILESTAT_SET_TIMES",
    "FD_FILESTAT_GET",
    "FD_FILESTAT_SET_SIZE",
    "FD_FILESTAT_SET_TIMES",
    "PATH_SYMLINK",
    "PATH_REMOVE_DIRECTORY",
    "PATH_UNLINK_FILE",
    "POLL_FD_READWRITE",
    "SOCK_SHUTDOWN",
    "SOCK_ACCEPT",
];

/// preview1 errno values: (name as strace prints it, strerror text).
pub const ERRNOS: [(&str, &str); 77] = [
    ("ESUCCESS", "Success"),
    ("E2BIG", "Argument list too long"),
    ("EACCES", "Permission denied"),
    ("EADDRINUSE", "Address in use"),
    ("EADDRNOTAVAIL", "Address not available"),
    ("EAFNOSUPPORT", "Address family not supported"),
    ("EAGAIN", "Resource temporarily unavailable"),
    ("EALREADY", "Operation already in progress"),
    ("EBADF", "Bad file descriptor"),
    ("EBADMSG", "Bad message"),
    ("EBUSY", "Device or resource busy"),
    ("ECANCELED", "Operation canceled"),
    ("ECHILD", "No child processes"),
    ("ECONNABORTED", "Connection aborted"),
    ("ECONNREFUSED", "Connection refused"),
    ("ECONNRESET", "Connection reset"),
    ("EDEADLK", "Resource deadlock would occur"),
    ("EDESTADDRREQ", "Destination address required"),
    ("EDOM", "Mathematics argument out of domain of function"),
    ("EDQUOT", "Disk quota exceeded"),
    ("EEXIST", "File exists"),
    ("EFAULT", "Bad address"),
    ("EFBIG", "File too large"),
    ("EHOSTUNREACH", "Host is unreachable"),
    ("EIDRM", "Identifier removed"),
    ("EILSEQ", "Illegal byte sequence"),
    ("EINPROGRESS", "Operation in progress"),
    ("EINTR", "Interrupted function"),
    ("EINVAL", "Invalid argument"),
    ("EIO", "I/O error"),
    ("EISCONN", "Socket is connected"),
    ("EISDIR", "Is a directory"),
    ("ELOOP", "Too many levels of symbolic links"),
    ("EMFILE", "File descriptor value too large"),
    ("EMLINK", "Too many links"),
    ("EMSGSIZE", "Message too large"),
    ("EMULTIHOP", "Multihop attempted"),
    ("ENAMETOOLONG", "Filename too long"),
    ("ENETDOWN", "Network is down"),
    ("ENETRESET", "Connection aborted by network"),
    ("ENETUNREACH", "Network unreachable"),
    ("ENFILE", "Too many files open in system"),
    ("ENOBUFS", "No buffer space available"),
    ("ENODEV", "No such device"),
    ("ENOENT", "No such file or directory"),
    ("ENOEXEC", "Executable file format error"),
    ("ENOLCK", "No locks available"),
    ("ENOLINK", "Link has been severed"),
    ("ENOMEM", "Not enough space"),
    ("ENOMSG", "No message of the desired type"),
    ("ENOPROTOOPT", "Protocol not available"),
    ("ENOSPC", "No space left on device"),
    ("ENOSYS", "Function not supported"),
    ("ENOTCONN", "The socket is not connected"),
    ("ENOTDIR", "Not a directory"),
    ("ENOTEMPTY", "Directory not empty"),
    ("ENOTRECOVERABLE", "State not recoverable"),
    ("ENOTSOCK", "Not a socket"),
    ("ENOTSUP", "Not supported"),
    ("ENOTTY", "Inappropriate I/O control operation"),
    ("ENXIO", "No such device or address"),
    ("EOVERFLOW", "Value too large to be stored in data type"),
    ("EOWNERDEAD", "Previous owner died"),
    ("EPERM", "Operation not permitted"),
    ("EPIPE", "Broken pipe"),
    ("EPROTO", "Protocol error"),
    ("EPROTONOSUPPORT", "Protocol not supported"),
    ("EPROTOTYPE", "Protocol wrong type for socket"),
    ("ERANGE", "Result too large"),
    ("EROFS", "Read-only file system"),
    ("ESPIPE", "Invalid seek"),
    ("ESRCH", "No such process"),
    ("ESTALE", "Stale file handle"),
    ("ETIMEDOUT", "Connection timed out"),
    ("ETXTBSY", "Text file busy"),
    ("EXDEV", "Cross-device link"),
    ("ENOTCAPABLE", "Capabilities insufficient"),
];

/// `ENOENT` for 44; `E?` plus the number for values outside the table.
pub fn errno_name(errno: u16) -> String {
    match ERRNOS.get(errno as usize) {
        Some((name, _)) => (*name).to_string(),
        None => format!("E?{errno}"),
    }
}

/// 44 for `ENOENT`; also takes a number.
pub fn errno_by_name(name: &str) -> Option<u16> {
    if let Ok(n) = name.parse::<u16>() {
        return Some(n);
    }
    ERRNOS
        .iter()
        .position(|(n, _)| *n == name)
        .map(|i| i as u16)
}

pub fn errno_text(errno: u16) -> &'static str {
    ERRNOS
        .get(errno as usize)
        .map_or("Unknown error", |(_, text)| text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_follow_the_witx_order() {
        assert_eq!(errno_name(44), "ENOENT");
        assert_eq!(errno_text(44), "No such file or directory");
        assert_eq!(errno_name(76), "ENOTCAPABLE");
        assert_eq!(errno_name(8), "EBADF");
        assert_eq!(errno_name(6), "EAGAIN");
        assert_eq!(errno_name(200), "E?200");
    }
}
