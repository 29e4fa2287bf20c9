//! Conditions on a call, `FIELD OP VALUE`: what a parameter, `len` or
//! `errno` must be for a term such as `fd=2`, `path~config` or
//! `errno=ENOENT` to hold.

use super::{similar, CallFacts};
use crate::capture;
use crate::names::{self, Symbols, Value};
use crate::syscalls::{self, Kind, Syscall};
use crate::trace::Outcome;
use anyhow::{bail, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Contains,
    NotContains,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    /// Longest first, so that `!=` is not read as `!` and `=`.
    pub(super) const ALL: [(&'static str, Op); 8] = [
        ("!=", Op::Ne),
        ("!~", Op::NotContains),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("=", Op::Eq),
        ("~", Op::Contains),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    fn compare<T: Ord>(self, a: T, b: T) -> bool {
        match self {
            Op::Eq | Op::Contains => a == b,
            Op::Ne | Op::NotContains => a != b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Subject {
    Seq,
    Errno,
    /// Bytes spanned by the call's string, buffer or iovec list.
    Len,
    /// A parameter, by its name in the table.
    Param(&'static str),
}

/// `FIELD OP VALUE`.
#[derive(Clone, Debug)]
pub(super) struct Condition {
    subject: Subject,
    op: Op,
    text: String,
    /// The value as a number, when it is one (`2`, `0x10`, `-1`, `ENOENT`
    /// for errno).
    number: Option<i128>,
}

impl Condition {
    pub(super) fn parse(term: &str) -> Result<Condition> {
        if let Some(n) = term.strip_prefix('#') {
            let Ok(n) = n.parse::<u64>() else {
                bail!("bad call number {term:?}: #N, as dump numbers calls");
            };
            return Ok(Condition {
                subject: Subject::Seq,
                op: Op::Eq,
                text: n.to_string(),
                number: Some(n as i128),
            });
        }
        let Some((at, op, len)) = Op::ALL
            .iter()
            .filter_map(|(s, op)| term.find(s).map(|at| (at, *op, s.len())))
            .min_by_key(|(at, _, len)| (*at, usize::MAX - len))
        else {
            bail!("{term:?} is neither a function, a class nor a condition such as fd=2 or path~config")
        };
        let (field, raw) = (&term[..at], &term[at + len..]);
        if raw.is_empty() {
            bail!("{term:?}: the value is missing (an empty string is \"\")");
        }
        let value = unquote(raw);
        let subject = subject(field, term)?;
        let number = match subject {
            Subject::Errno => match names::errno_by_name(value) {
                Some(e) => Some(e as i128),
                None => bail!("{term:?}: {value:?} is not an errno (ENOENT, EIO, 44, …)"),
            },
            _ => parse_number(value),
        };
        Ok(Condition {
            subject,
            op,
            text: value.to_string(),
            number,
        })
    }

    /// Whether, for a call of `sys`, the condition is about the outcome or
    /// what the host wrote: those can only be decided after the call.
    pub(super) fn needs_result_for(&self, sys: &Syscall) -> bool {
        match &self.subject {
            Subject::Errno => true,
            Subject::Param(name) => sys.params.iter().any(|p| {
                p.name == *name
                    && matches!(
                        p.kind,
                        Kind::Out(_) | Kind::Iovecs { .. } | Kind::Buf { .. }
                    )
            }),
            Subject::Seq | Subject::Len => false,
        }
    }

    pub(super) fn holds(&self, c: &CallFacts<'_>) -> bool {
        match &self.subject {
            Subject::Seq => self.number_holds(c.seq as i128),
            Subject::Errno => match c.result {
                Some((Outcome::Errno(e), _)) => self.number_holds(*e as i128),
                _ => false,
            },
            Subject::Len => len_of(c).is_some_and(|n| self.number_holds(n as i128)),
            Subject::Param(name) => {
                let Some(sys) = c.func.syscall() else {
                    return false;
                };
                match sys.params.iter().position(|p| p.name == *name) {
                    Some(i) => self.param_holds(sys, i, c),
                    None => false,
                }
            }
        }
    }

    fn param_holds(&self, sys: &Syscall, i: usize, c: &CallFacts<'_>) -> bool {
        let raw = c.arg(i);
        match sys.params[i].kind {
            Kind::Value(v) => self.value_holds(v, raw),
            Kind::Str { .. } => c
                .reads
                .of_param(i)
                .next()
                .is_some_and(|s| self.bytes_hold(s)),
            Kind::Ciovecs { .. } => {
                // The list, then the data of each buffer.
                let data: Vec<u8> = c.reads.of_param(i).skip(1).flatten().copied().collect();
                self.bytes_hold(&data)
            }
            Kind::Iovecs { .. } | Kind::Buf { .. } => c.result.is_some_and(|(_, writes)| {
                let data: Vec<u8> = writes.of_param(i).flatten().copied().collect();
                self.bytes_hold(&data)
            }),
            Kind::Out(_) => c.result.is_some_and(|(_, writes)| {
                writes.of_param(i).next().is_some_and(|b| {
                    let mut le = [0u8; 8];
                    let n = b.len().min(8);
                    le[..n].copy_from_slice(&b[..n]);
                    self.number_holds(u64::from_le_bytes(le) as i128)
                })
            }),
            Kind::Len
            | Kind::Subscriptions { .. }
            | Kind::Events { .. }
            | Kind::StringPtrs(_)
            | Kind::StringBuf(_) => self.number_holds(raw as i128),
        }
    }

    fn number_holds(&self, n: i128) -> bool {
        self.number.is_some_and(|want| self.op.compare(n, want))
    }

    /// A scalar: by number, or by name (`whence=END`); for flags, `~`
    /// means "has these flags" (`oflags~CREAT`).
    fn value_holds(&self, v: Value, raw: u64) -> bool {
        let n = match v {
            Value::FileDelta => raw as i64 as i128,
            Value::ExitCode => raw as u32 as i32 as i128,
            _ => raw as i128,
        };
        let symbols = v.symbols();
        let Some(want) = symbols.value_of(&self.text).map(i128::from).or(self.number) else {
            return false;
        };
        let is_flags = matches!(symbols, Symbols::Flags(_));
        match self.op {
            Op::Contains if is_flags => n & want == want,
            Op::NotContains if is_flags => n & want != want,
            op => op.compare(n, want),
        }
    }

    /// A string or data: `=` the whole, `~` a part.
    fn bytes_hold(&self, bytes: &[u8]) -> bool {
        let want = self.text.as_bytes();
        let contains = || want.is_empty() || bytes.windows(want.len()).any(|w| w == want);
        match self.op {
            Op::Eq => bytes == want,
            Op::Ne => bytes != want,
            Op::Contains => contains(),
            Op::NotContains => !contains(),
            Op::Lt | Op::Le | Op::Gt | Op::Ge => false,
        }
    }
}

/// The field a condition names: `errno`, `len`, or a parameter of some
/// preview1 function.
fn subject(field: &str, term: &str) -> Result<Subject> {
    match field {
        "errno" => return Ok(Subject::Errno),
        // fd_advise's and fd_allocate's own `len` too: see `len_of`.
        "len" => return Ok(Subject::Len),
        _ => {}
    }
    let params = || {
        syscalls::SYSCALLS
            .iter()
            .flat_map(|s| s.params.iter().map(|p| p.name))
    };
    match params().find(|p| *p == field) {
        Some(name) => Ok(Subject::Param(name)),
        None => {
            let like = similar(field, params().chain(["errno", "len"]));
            let hint = if like.is_empty() {
                String::new()
            } else {
                format!("; did you mean {}?", like.join(" or "))
            };
            bail!("{term:?}: no preview1 function has a parameter {field:?} (fields are parameter names from `wtrace dump`, len or errno){hint}")
        }
    }
}

/// Bytes spanned by the first string, buffer or iovec list of the call.
/// (`len` of fd_advise and fd_allocate is their own parameter.)
fn len_of(c: &CallFacts<'_>) -> Option<u64> {
    let sys = c.func.syscall()?;
    if let Some(i) = sys.params.iter().position(|p| p.name == "len") {
        return Some(c.arg(i));
    }
    sys.params
        .iter()
        .enumerate()
        .find_map(|(i, p)| match p.kind {
            Kind::Str { len } | Kind::Buf { len, .. } => Some(c.arg(len)),
            Kind::Ciovecs { .. } | Kind::Iovecs { .. } => {
                let list = c.reads.of_param(i).next()?;
                Some(capture::iovecs(list).map(|(_, len)| len as u64).sum())
            }
            _ => None,
        })
}

pub(super) fn parse_number(s: &str) -> Option<i128> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let n = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<u64>().ok()?,
    } as i128;
    Some(if neg { -n } else { n })
}

/// `"a b"` -> `a b`: values may be quoted to hold spaces.
fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}
