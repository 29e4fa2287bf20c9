//! Which path each guest fd was opened from, followed call by call from the
//! table's [`FdEffect`]s, as `strace -y` shows it (`fd=4</data/x>`).

use crate::capture;
use crate::names::Value;
use crate::syscalls::{FdEffect, Kind, Out};
use crate::trace::{Call, Header, Mem, Outcome};
use std::collections::HashMap;

#[derive(Clone, Debug, Default)]
pub struct FdTable {
    paths: HashMap<u32, String>,
    /// The header's preopens are known (they are fds 3, 4, … in its order).
    seeded: bool,
}

impl FdTable {
    pub fn path(&self, fd: u32) -> Option<&str> {
        self.paths.get(&fd).map(String::as_str)
    }

    pub fn know_preopens(&mut self, header: &Header) {
        if !self.seeded {
            for (i, p) in header.preopens.iter().enumerate() {
                self.paths.insert(3 + i as u32, p.guest.clone());
            }
            self.seeded = true;
        }
    }

    /// Applies a successful call's [`FdEffect`]; the parameters involved are
    /// found by their kind.
    pub fn follow(&mut self, call: &Call) {
        let Some(sys) = call.func.syscall() else {
            return;
        };
        if call.outcome != Outcome::Errno(0) || sys.fd_effect == FdEffect::None {
            return;
        }
        let fds: Vec<u32> = (0..sys.params.len())
            .filter(|&i| sys.params[i].kind == Kind::Value(Value::Fd))
            .filter_map(|i| call.args.get(i).map(|&a| a as u32))
            .collect();
        let text_of = |mems: &[Mem], want: fn(Kind) -> bool| {
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
                match text_of(&call.reads, |k| matches!(k, Kind::Str { .. })) {
                    Some(path) => {
                        let joined = match fds.first().and_then(|fd| self.paths.get(fd)) {
                            Some(dir) => join_path(dir, &path),
                            None => path,
                        };
                        self.paths.insert(new_fd, joined);
                    }
                    // A socket from sock_accept: no path to show.
                    None => {
                        self.paths.remove(&new_fd);
                    }
                }
            }
            FdEffect::NamesPreopen => {
                let name = text_of(&call.writes, |k| matches!(k, Kind::Buf { .. }));
                if let (Some(fd), Some(name)) = (fds.first(), name) {
                    self.paths.insert(*fd, name);
                }
            }
            FdEffect::Closes => {
                if let Some(fd) = fds.first() {
                    self.paths.remove(fd);
                }
            }
            FdEffect::Renumbers => {
                let (Some(&from), Some(&to)) = (fds.first(), fds.get(1)) else {
                    return;
                };
                match self.paths.remove(&from) {
                    Some(p) => self.paths.insert(to, p),
                    None => self.paths.remove(&to),
                };
            }
        }
    }
}

fn join_path(dir: &str, path: &str) -> String {
    if path.starts_with('/') || dir.is_empty() {
        path.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{path}")
    } else {
        format!("{dir}/{path}")
    }
}
