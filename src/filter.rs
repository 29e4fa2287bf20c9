//! Which calls `dump` shows: strace's `-e trace=` list and `--failed`.

use crate::matcher::FuncSet;
use crate::syscalls::FuncId;
use crate::trace::{Call, Outcome};
use anyhow::{bail, Result};

/// `-e trace=fd_write,%path,!clock_time_get` and `--failed`.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    funcs: FuncSet,
    pub failed_only: bool,
}

impl Filter {
    /// Parses the values of `-e`, with or without the `trace=` prefix:
    /// function lists in [`crate::matcher`]'s grammar.
    pub fn parse(exprs: &[String], failed_only: bool) -> Result<Filter> {
        let mut funcs = FuncSet::all();
        for expr in exprs {
            let list = match expr.split_once('=') {
                Some(("trace", list)) => list,
                Some((other, _)) => bail!("-e {other}=...: only trace= is supported"),
                None => expr.as_str(),
            };
            funcs.add(list)?;
        }
        Ok(Filter { funcs, failed_only })
    }

    /// True when `-e` named `func` (by name, class or `all`).
    pub fn names(&self, func: crate::syscalls::Func) -> bool {
        self.funcs.names(func)
    }

    pub fn matches(&self, call: &Call) -> bool {
        self.keeps(call.func, &call.outcome)
    }

    /// Whether a call of `func` that ended in `outcome` is shown: for
    /// scans that look at calls without building them.
    pub fn keeps(&self, func: FuncId, outcome: &Outcome) -> bool {
        if self.failed_only && !outcome.is_error() {
            return false;
        }
        self.funcs.contains(func)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::Func;

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
            ..Call::default()
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
