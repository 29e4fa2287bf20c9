//! What `wtrace diff` compares: which calls, and which of their values are
//! host noise that differs between any two runs.
//!
//! By default:
//! - calls of the `%clock` and `%poll` classes are left out: how many there
//!   are depends on timing (Go's runtime reads the clock whenever it
//!   schedules, and sleeps in `poll_oneoff`); a user's `-e` naming one of
//!   them brings it back, its clock values still not compared;
//! - in the calls compared, these values are not: random bytes (a buffer
//!   holding opaque bytes), clock values (timestamp results, timestamps
//!   passed as arguments, the timeouts of clock subscriptions), and in a
//!   `filestat` the device, inode and the three timestamps, in a `dirent`
//!   the inode.
//!
//! `--all` compares every call and every value. Everything is found from
//! the table's parameter kinds, never by a function's name.

use crate::capture;
use crate::filter::Filter;
use crate::names::Value;
use crate::syscalls::{Class, Holds, Kind, Out, Syscall};
use crate::trace::{Call, Mem, Outcome};
use std::hash::{DefaultHasher, Hash, Hasher};

/// Which calls are compared and how.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The user's `-e` and `--failed`: added to the defaults.
    user: Filter,
    /// `--all`: every call, every value.
    all: bool,
}

impl Policy {
    pub fn new(user: Filter, all: bool) -> Policy {
        Policy { user, all }
    }

    /// What the comparison leaves out, in words, for the report.
    pub fn describe(&self, user_text: &str) -> String {
        let base = if self.all {
            "every call and value".to_string()
        } else {
            "left out: %clock and %poll calls, whose number depends on timing; \
             not compared: random bytes, clock values, file timestamps, inode and device numbers; \
             --all compares everything"
                .to_string()
        };
        if user_text.is_empty() {
            base
        } else {
            format!("{base}; and only {user_text}")
        }
    }

    /// Whether `call` is compared at all.
    pub fn keeps(&self, call: &Call) -> bool {
        if !self.user.matches(call) {
            return false;
        }
        match call.func.syscall() {
            Some(sys) if !self.all => {
                !matches!(sys.class, Class::Clock | Class::Poll) || self.user.names(sys.func)
            }
            _ => true,
        }
    }

    /// A key that two calls share exactly when they are the same call,
    /// noise apart: the function, the scalar arguments, the bytes handed
    /// in (iovec lists by their lengths), the result and the bytes the host
    /// wrote. Pointer values are not part of it.
    pub fn key(&self, call: &Call) -> u64 {
        let mut h = DefaultHasher::new();
        call.func.0.hash(&mut h);
        let sys = call.func.syscall();
        for (i, arg) in call.args.iter().enumerate() {
            match sys.and_then(|s| s.params.get(i)).map(|p| p.kind) {
                Some(Kind::Value(Value::Timestamp)) if !self.all => 0u64.hash(&mut h),
                Some(Kind::Value(_) | Kind::Len) | None => arg.hash(&mut h),
                Some(_) => {}
            }
        }
        match &call.outcome {
            Outcome::Errno(e) => (0u8, u64::from(*e)).hash(&mut h),
            Outcome::Exit(c) => (1u8, i64::from(*c)).hash(&mut h),
            Outcome::Trap(m) => (2u8, m).hash(&mut h),
        }
        let mut seen = Vec::new();
        for m in &call.reads {
            let first_of_param = !seen.contains(&m.param);
            seen.push(m.param);
            1u8.hash(&mut h);
            self.hash_read(sys, m, first_of_param, &mut h);
        }
        for m in &call.writes {
            2u8.hash(&mut h);
            m.param.hash(&mut h);
            self.masked(sys, m).hash(&mut h);
        }
        h.finish()
    }

    fn hash_read(
        &self,
        sys: Option<&Syscall>,
        m: &Mem,
        first_of_param: bool,
        h: &mut DefaultHasher,
    ) {
        m.param.hash(h);
        let kind = sys
            .and_then(|s| s.params.get(m.param as usize))
            .map(|p| p.kind);
        let is_list = matches!(kind, Some(Kind::Iovecs { .. }))
            || (matches!(kind, Some(Kind::Ciovecs { .. })) && first_of_param);
        if is_list {
            for (_, len) in capture::iovecs(&m.bytes) {
                len.hash(h);
            }
            return;
        }
        if matches!(kind, Some(Kind::Subscriptions { .. })) && !self.all {
            return subscriptions_without_timeouts(&m.bytes).hash(h);
        }
        m.bytes.hash(h);
    }

    /// The call with its noise zeroed, for saying what differs.
    pub fn mask_call(&self, call: &Call) -> Call {
        let mut c = call.clone();
        let sys = c.func.syscall();
        for w in &mut c.writes {
            w.bytes = self.masked(sys, w).into_owned();
        }
        if let Some(sys) = sys.filter(|_| !self.all) {
            for (i, arg) in c.args.iter_mut().enumerate() {
                if sys.params.get(i).map(|p| p.kind) == Some(Kind::Value(Value::Timestamp)) {
                    *arg = 0;
                }
            }
        }
        c
    }

    /// The bytes the host wrote, with the noise in them zeroed.
    fn masked<'m>(&self, sys: Option<&Syscall>, m: &'m Mem) -> std::borrow::Cow<'m, [u8]> {
        use std::borrow::Cow;
        let kind = sys
            .and_then(|s| s.params.get(m.param as usize))
            .map(|p| p.kind);
        if self.all {
            return Cow::Borrowed(&m.bytes);
        }
        let mut bytes = m.bytes.clone();
        match kind {
            Some(Kind::Buf {
                holds: Holds::Bytes,
                ..
            })
            | Some(Kind::Out(Out::Timestamp)) => bytes.fill(0),
            Some(Kind::Out(Out::Filestat)) => zero_filestat_noise(&mut bytes),
            Some(Kind::Buf {
                holds: Holds::Dirents,
                ..
            }) => zero_dirent_inodes(&mut bytes),
            _ => return Cow::Borrowed(&m.bytes),
        }
        Cow::Owned(bytes)
    }
}

/// A `filestat`: dev (0..8), ino (8..16), filetype, nlink, size, then
/// atim, mtim, ctim (40..64).
fn zero_filestat_noise(b: &mut [u8]) {
    for range in [0..16, 40..64] {
        if let Some(s) = b.get_mut(range) {
            s.fill(0);
        }
    }
}

/// `dirent`s: d_next (8 bytes), d_ino (8), d_namlen (4), d_type (1),
/// padding (3), then the name.
fn zero_dirent_inodes(b: &mut [u8]) {
    let mut at = 0;
    while at + 24 <= b.len() {
        b[at + 8..at + 16].fill(0);
        let namlen = u32::from_le_bytes(b[at + 16..at + 20].try_into().expect("4 bytes"));
        at += 24 + namlen as usize;
    }
}

/// 48-byte subscriptions with a clock's timeout (bytes 24..32 of a
/// subscription whose tag, byte 8, is 0) zeroed.
fn subscriptions_without_timeouts(b: &[u8]) -> Vec<u8> {
    let mut out = b.to_vec();
    for s in out.chunks_exact_mut(48) {
        if s[8] == 0 {
            s[24..32].fill(0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::Func;

    fn call(func: Func, args: Vec<u64>, writes: Vec<Mem>) -> Call {
        Call {
            func: func.id(),
            args,
            writes,
            ..Call::default()
        }
    }

    fn mem(param: u8, bytes: Vec<u8>) -> Mem {
        Mem {
            param,
            addr: 0x100,
            bytes,
        }
    }

    #[test]
    fn random_bytes_and_file_noise_are_not_compared_unless_all() {
        let p = Policy::new(Filter::default(), false);
        let all = Policy::new(Filter::default(), true);
        let random = |b: u8| call(Func::random_get, vec![0x100, 8], vec![mem(0, vec![b; 8])]);
        assert_eq!(p.key(&random(1)), p.key(&random(2)));
        assert_ne!(all.key(&random(1)), all.key(&random(2)));
        // A filestat: the size counts, the inode and mtime do not.
        let stat = |ino: u8, size: u8, mtim: u8| {
            let mut b = vec![0u8; 64];
            b[8] = ino;
            b[32] = size;
            b[48] = mtim;
            call(Func::fd_filestat_get, vec![3, 0x100], vec![mem(1, b)])
        };
        assert_eq!(p.key(&stat(1, 10, 5)), p.key(&stat(2, 10, 6)));
        assert_ne!(p.key(&stat(1, 10, 5)), p.key(&stat(1, 11, 5)));
        assert_ne!(all.key(&stat(1, 10, 5)), all.key(&stat(2, 10, 5)));
        // Pointers are not compared; other scalars are.
        let write = |fd: u64, ptr: u64| call(Func::fd_write, vec![fd, ptr, 0, 0x10], vec![]);
        assert_eq!(p.key(&write(1, 0x10)), p.key(&write(1, 0x90)));
        assert_ne!(p.key(&write(1, 0x10)), p.key(&write(2, 0x10)));
    }

    #[test]
    fn dirent_inodes_are_zeroed_and_names_kept() {
        let mut b = Vec::new();
        for (i, name) in [(7u8, "a.txt"), (9, "bb")] {
            b.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
            b.extend_from_slice(&[i, 0, 0, 0, 0, 0, 0, 0]);
            b.extend_from_slice(&(name.len() as u32).to_le_bytes());
            b.extend_from_slice(&[4, 0, 0, 0]);
            b.extend_from_slice(name.as_bytes());
        }
        zero_dirent_inodes(&mut b);
        assert_eq!(b[8], 0);
        assert_eq!(&b[24..29], b"a.txt");
        assert_eq!(b[29 + 8], 0);
        assert_eq!(&b[29 + 24..], b"bb");
    }

    #[test]
    fn clock_and_poll_calls_are_left_out_unless_named_or_all() {
        let clock = call(Func::clock_time_get, vec![1, 0, 0x100], vec![]);
        let open = call(Func::path_open, vec![], vec![]);
        assert!(!Policy::new(Filter::default(), false).keeps(&clock));
        assert!(Policy::new(Filter::default(), false).keeps(&open));
        assert!(Policy::new(Filter::default(), true).keeps(&clock));
        let named = Filter::parse(&["trace=%clock".into()], false).unwrap();
        assert!(Policy::new(named.clone(), false).keeps(&clock));
        assert!(!Policy::new(named, false).keeps(&open));
        // `!name` adds to the defaults: the clock stays out too.
        let without_open = Filter::parse(&["trace=!path_open".into()], false).unwrap();
        let p = Policy::new(without_open, false);
        assert!(!p.keeps(&clock) && !p.keeps(&open));
    }
}
