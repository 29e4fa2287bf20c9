//! Which calls `dump` shows: strace's `-e trace=` list and `--failed`.

use crate::syscalls::{self, Class, Func};
use crate::trace::Call;
use anyhow::{bail, Result};

/// `-e trace=fd_write,%path,!clock_time_get` and `--failed`.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Functions shown; `None` shows all.
    include: Option<Vec<bool>>,
    exclude: Vec<bool>,
    pub failed_only: bool,
}

impl Filter {
    /// Parses the value of `-e`, with or without the `trace=` prefix.
    /// Names are preview1 function names or classes (`%fd`, `%path`, …:
    /// [`Class`], from the table); a leading `!` excludes.
    pub fn parse(exprs: &[String], failed_only: bool) -> Result<Filter> {
        let n = syscalls::SYSCALLS.len();
        let mut include: Option<Vec<bool>> = None;
        let mut exclude = vec![false; n];
        for expr in exprs {
            let list = match expr.split_once('=') {
                Some(("trace", list)) => list,
                Some((other, _)) => bail!("-e {other}=...: only trace= is supported"),
                None => expr.as_str(),
            };
            for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (negate, name) = match item.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, item),
                };
                let funcs = Self::resolve(name)?;
                let target = if negate {
                    &mut exclude
                } else {
                    include.get_or_insert_with(|| vec![false; n])
                };
                for f in funcs {
                    target[f as usize] = true;
                }
            }
        }
        Ok(Filter {
            include,
            exclude,
            failed_only,
        })
    }

    fn resolve(name: &str) -> Result<Vec<Func>> {
        if name == "all" {
            return Ok(syscalls::SYSCALLS.iter().map(|s| s.func).collect());
        }
        if let Some(class) = name.strip_prefix('%') {
            let Some(class) = Class::from_name(class) else {
                let names: Vec<String> = Class::ALL
                    .iter()
                    .map(|c| format!("%{}", c.name()))
                    .collect();
                bail!(
                    "unknown class %{class}; the classes are {}",
                    names.join(" ")
                );
            };
            return Ok(syscalls::SYSCALLS
                .iter()
                .filter(|s| s.class == class)
                .map(|s| s.func)
                .collect());
        }
        match syscalls::by_name(name) {
            Some(s) => Ok(vec![s.func]),
            None => {
                let like = similar_names(name);
                if like.is_empty() {
                    bail!("unknown function {name:?}: not a wasi_snapshot_preview1 function (see `wtrace dump --help` for the classes)")
                }
                bail!(
                    "unknown function {name:?}: not a wasi_snapshot_preview1 function; did you mean {}?",
                    like.join(" or ")
                )
            }
        }
    }

    /// Whether the list names `func` itself (`trace=%clock`, not `!x`).
    pub fn names(&self, func: Func) -> bool {
        self.include.as_ref().is_some_and(|inc| inc[func as usize])
    }

    pub fn matches(&self, call: &Call) -> bool {
        if self.failed_only && !call.outcome.is_error() {
            return false;
        }
        let Some(func) = call.func.func() else {
            // Foreign imports: shown unless a list names only preview1 functions.
            return self.include.is_none();
        };
        let i = func as usize;
        // A default Filter has empty lists: it keeps everything.
        !self.exclude.get(i).is_some_and(|x| *x) && self.include.as_ref().is_none_or(|inc| inc[i])
    }
}

/// Preview1 names that contain `name` (`open` -> `path_open`), or, for a
/// mistyped name, share its words (`fd_writ` -> `fd_write`).
fn similar_names(name: &str) -> Vec<&'static str> {
    let name = name.to_ascii_lowercase();
    let names = || syscalls::SYSCALLS.iter().map(|s| s.name);
    let mut like: Vec<&str> = names().filter(|n| n.contains(name.as_str())).collect();
    if like.is_empty() && name.len() >= 3 {
        like = names()
            .filter(|n| name.contains(*n) || n.starts_with(&name[..name.len() - 1]))
            .collect();
    }
    like.truncate(4);
    like
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::FuncId;
    use crate::trace::Outcome;

    fn call(func: Func, errno: u16) -> Call {
        Call {
            seq: 0,
            func: func.id(),
            args: vec![],
            outcome: Outcome::Errno(errno),
            start_ns: 0,
            dur_ns: 0,
            reads: vec![],
            writes: vec![],
        }
    }

    #[test]
    fn names_classes_negation_and_failed() {
        let f = Filter::parse(&["trace=%clock,fd_write".into()], false).unwrap();
        assert!(f.matches(&call(Func::clock_time_get, 0)));
        assert!(f.matches(&call(Func::fd_write, 0)));
        assert!(!f.matches(&call(Func::fd_read, 0)));
        let f = Filter::parse(&["!clock_time_get".into()], true).unwrap();
        assert!(!f.matches(&call(Func::clock_time_get, 8)));
        assert!(f.matches(&call(Func::path_open, 44)));
        assert!(!f.matches(&call(Func::path_open, 0)));
        assert!(Filter::parse(&["trace=%nope".into()], false).is_err());
        let err = |e: &str| Filter::parse(&[e.into()], false).unwrap_err().to_string();
        assert!(err("trace=%nope").starts_with("unknown class %nope; the classes are %args"));
        assert_eq!(
            err("trace=open"),
            "unknown function \"open\": not a wasi_snapshot_preview1 function; did you mean path_open?"
        );
        assert!(
            err("trace=fd_writ").ends_with("did you mean fd_write?"),
            "{}",
            err("trace=fd_writ")
        );
        assert!(err("trace=zzz").ends_with("(see `wtrace dump --help` for the classes)"));
        // A foreign import passes unless a list names only preview1 functions.
        let foreign = Call {
            func: FuncId::foreign(0).unwrap(),
            ..call(Func::fd_read, 0)
        };
        assert!(Filter::parse(&["!fd_read".into()], false)
            .unwrap()
            .matches(&foreign));
        assert!(!Filter::parse(&["fd_read".into()], false)
            .unwrap()
            .matches(&foreign));
    }
}
