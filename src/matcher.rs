//! Which calls an expression means: one grammar for `dump -e trace=`,
//! `replay --break` and `record --inject`.
//!
//! - **Function sets**: `path_open`, `%fd` (a class from the table),
//!   `fd_read,fd_write`, `!clock_time_get`, `all` — strace's `-e trace=`.
//! - **Conditions** on a call, `FIELD OP VALUE` with OP one of `=` `!=` `~`
//!   (contains, or has these flags) `!~` `<` `<=` `>` `>=`: FIELD is a
//!   parameter name from the table (`fd=2`, `path~config`, `oflags~CREAT`,
//!   `whence=END`, `nread>0`), `len` (the bytes a buffer, string or iovec
//!   list spans: `len>4096`), or `errno` (`errno!=0`, `errno=ENOENT`).
//!   `#N` is call number N.
//! - **`when=first[..last][+[step]]`**: which of the matching calls count, as
//!   strace's `when=` (`3`, `2..4`, `5+`, `1+10`).
//!
//! A condition on a field a call does not have is false for that call.

mod condition;

use crate::syscalls::{self, Class, FuncId, Syscall};
use crate::trace::{CallView, MemsView, Outcome};
use anyhow::{bail, Result};
use condition::{parse_number, Condition, Op};

/// A set of functions: strace's `-e trace=` list.
#[derive(Clone, Debug, Default)]
pub struct FuncSet {
    /// Functions named; `None` names all.
    include: Option<Vec<bool>>,
    exclude: Vec<bool>,
}

impl FuncSet {
    /// Every function, foreign imports included.
    pub fn all() -> FuncSet {
        FuncSet {
            include: None,
            exclude: vec![false; syscalls::SYSCALLS.len()],
        }
    }

    /// `fd_read,%path,!clock_time_get`.
    pub fn parse(list: &str) -> Result<FuncSet> {
        let mut set = FuncSet::all();
        set.add(list)?;
        Ok(set)
    }

    /// Adds the items of one more list (a second `-e`).
    pub fn add(&mut self, list: &str) -> Result<()> {
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (negate, name) = match item.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, item),
            };
            let n = syscalls::SYSCALLS.len();
            let target = if negate {
                &mut self.exclude
            } else {
                self.include.get_or_insert_with(|| vec![false; n])
            };
            for sys in resolve(name)? {
                target[sys.func as usize] = true;
            }
        }
        Ok(())
    }

    /// Foreign imports are in the set unless a list names only preview1
    /// functions.
    pub fn contains(&self, func: FuncId) -> bool {
        let Some(func) = func.func() else {
            return self.include.is_none();
        };
        let i = func as usize;
        // A default set has empty lists: it holds everything.
        !self.exclude.get(i).is_some_and(|x| *x) && self.include.as_ref().is_none_or(|inc| inc[i])
    }

    /// True when a list named `func` (by name, class or `all`), rather
    /// than the set holding it because no list named anything.
    pub fn names(&self, func: syscalls::Func) -> bool {
        self.include
            .as_ref()
            .is_some_and(|inc| inc.get(func as usize).is_some_and(|x| *x))
    }

    /// The preview1 functions in the set.
    pub fn syscalls(&self) -> impl Iterator<Item = &'static Syscall> + '_ {
        syscalls::SYSCALLS
            .iter()
            .filter(|s| self.contains(s.func.id()))
    }
}

/// The functions a list item names: a function, `%class` or `all`.
fn resolve(name: &str) -> Result<Vec<&'static Syscall>> {
    if name == "all" {
        return Ok(syscalls::SYSCALLS.iter().collect());
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
            .collect());
    }
    match syscalls::by_name(name) {
        Some(s) => Ok(vec![s]),
        None => {
            let like = similar(name, syscalls::SYSCALLS.iter().map(|s| s.name));
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

/// Names that contain `name` (`open` -> `path_open`), or else are a few
/// edits away from it (`fd_writ` -> `fd_write`, `pth` -> `path`).
fn similar(name: &str, names: impl Iterator<Item = &'static str> + Clone) -> Vec<&'static str> {
    let name = name.to_ascii_lowercase();
    let mut like: Vec<&str> = names
        .clone()
        .filter(|n| name.len() >= 3 && n.contains(name.as_str()))
        .collect();
    if like.is_empty() {
        // The nearest names, if they are near enough.
        let distance = |n: &str| strsim::damerau_levenshtein(&name, n);
        let nearest = names.clone().map(distance).min().unwrap_or(usize::MAX);
        if nearest <= 1 + name.len() / 4 {
            like = names.filter(|n| distance(n) == nearest).collect();
        }
    }
    like.sort_unstable();
    like.dedup();
    like.truncate(4);
    like
}

/// strace's `when=first[..last][+[step]]`: which invocations, counted from
/// 1, an expression applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct When {
    first: u64,
    last: Option<u64>,
    /// 0: only `first`.
    step: u64,
}

impl When {
    /// Every invocation: what no `when=` means.
    pub const ALWAYS: When = When {
        first: 1,
        last: None,
        step: 1,
    };

    /// `3` (the third only), `2..4`, `5+` (the fifth and later), `1+10`
    /// (1, 11, 21, …), `2..30+7`.
    pub fn parse(text: &str) -> Result<When> {
        let bad = |why: &str| {
            anyhow::anyhow!(
                "bad when={text}: {why} (the form is first[..last][+[step]], as strace's)"
            )
        };
        let number = |s: &str, what: &str, max: u64| -> Result<u64> {
            match s.parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(bad(&format!("{what} must be a number from 1 to {max}"))),
            }
        };
        let (range, step) = match text.split_once('+') {
            Some((range, "")) => (range, Some(1)),
            Some((range, step)) => (range, Some(number(step, "step", 65535)?)),
            None => (text, None),
        };
        let (first, last) = match range.split_once("..") {
            Some((first, last)) => (first, Some(number(last, "last", 65534)?)),
            None => (range, None),
        };
        let first = number(first, "first", 65535)?;
        if last.is_some_and(|last| last < first) {
            return Err(bad("last comes before first"));
        }
        // `first..last` without a step takes every invocation in the range.
        let step = step.unwrap_or(if last.is_some() { 1 } else { 0 });
        Ok(When { first, last, step })
    }

    /// Whether every invocation counts: no `when=`, or `when=1+`.
    pub fn is_always(&self) -> bool {
        self.first == 1 && self.last.is_none() && self.step == 1
    }

    /// True for invocation `n` (from 1).
    pub fn includes(&self, n: u64) -> bool {
        if n < self.first || self.last.is_some_and(|last| n > last) {
            return false;
        }
        match self.step {
            0 => n == self.first,
            step => (n - self.first).is_multiple_of(step),
        }
    }
}

/// What a condition can see of a call. Before the call has run (fault
/// injection decides then) there is no result.
#[derive(Clone, Copy, Debug)]
pub struct CallFacts<'a> {
    pub seq: u64,
    pub func: FuncId,
    pub args: &'a [u64],
    pub reads: MemsView<'a>,
    /// The outcome and the memory the host wrote, once the call has run.
    pub result: Option<(&'a Outcome, MemsView<'a>)>,
}

impl<'a> From<&CallView<'a>> for CallFacts<'a> {
    fn from(c: &CallView<'a>) -> CallFacts<'a> {
        CallFacts {
            seq: c.seq,
            func: c.func,
            args: c.args,
            reads: c.reads,
            result: Some((c.outcome, c.writes)),
        }
    }
}

impl CallFacts<'_> {
    fn arg(&self, i: usize) -> u64 {
        self.args.get(i).copied().unwrap_or(0)
    }
}

/// Splits an expression into terms at spaces outside double quotes.
pub fn split_terms(expr: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, ch) in expr.char_indices() {
        match ch {
            '"' => {
                quoted = !quoted;
                start.get_or_insert(i);
            }
            c if c.is_whitespace() && !quoted => {
                if let Some(s) = start.take() {
                    terms.push(&expr[s..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        terms.push(&expr[s..]);
    }
    terms
}

/// Functions and conditions that must all hold; no counting.
#[derive(Clone, Debug, Default)]
pub struct Pattern {
    sets: Vec<FuncSet>,
    conditions: Vec<Condition>,
}

impl Pattern {
    /// Adds one term: a function list (`path_open`, `%fd,!fd_close`) or a
    /// condition (`fd=2`, `#12`). `when=` is not a term of a pattern.
    pub fn add_term(&mut self, term: &str) -> Result<()> {
        let looks_like_list = !term.starts_with('#')
            && !Op::ALL.iter().any(|(op, _)| {
                // `!name` is a negated function, not `!=`/`!~`.
                term.trim_start_matches('!').contains(op)
            });
        if looks_like_list {
            self.sets.push(FuncSet::parse(term)?);
        } else {
            self.conditions.push(Condition::parse(term)?);
        }
        Ok(())
    }

    /// True when, for some function the pattern admits, a condition needs
    /// the call's result (errno, what the host wrote), which a pattern
    /// checked before the call cannot know.
    pub fn needs_result(&self) -> bool {
        self.functions()
            .any(|s| self.conditions.iter().any(|c| c.needs_result_for(s)))
    }

    /// The functions every set admits (preview1 ones).
    pub fn functions(&self) -> impl Iterator<Item = &'static Syscall> + '_ {
        syscalls::SYSCALLS
            .iter()
            .filter(|s| self.sets.iter().all(|set| set.contains(s.func.id())))
    }

    pub fn matches(&self, c: &CallFacts<'_>) -> bool {
        self.sets.iter().all(|set| set.contains(c.func))
            && self.conditions.iter().all(|cond| cond.holds(c))
    }
}

/// A breakpoint: a pattern and which of its matches count (`when=3`: the
/// third match; counted over all matching calls).
#[derive(Clone, Debug)]
pub struct Trigger {
    pattern: Pattern,
    when: When,
    hits: u64,
    text: String,
}

impl Trigger {
    /// Space-separated terms that must all hold: `path_open path~config`,
    /// `fd_write fd=2 when=3`, `errno!=0`, `#1200`.
    pub fn parse(expr: &str) -> Result<Trigger> {
        let mut pattern = Pattern::default();
        let mut when = When::ALWAYS;
        let terms = split_terms(expr);
        if terms.is_empty() {
            bail!("an empty expression: name a function, a class or a condition (path_open, %fd, errno!=0, #12)");
        }
        for term in terms {
            match term.strip_prefix("when=") {
                Some(w) => when = When::parse(w)?,
                None => pattern.add_term(term)?,
            }
        }
        Ok(Trigger {
            pattern,
            when,
            hits: 0,
            text: expr.trim().to_string(),
        })
    }

    /// Counts `call` if it matches; true when this match is one `when=`
    /// selects.
    pub fn fires(&mut self, call: &CallView<'_>) -> bool {
        if !self.pattern.matches(&CallFacts::from(call)) {
            return false;
        }
        self.hits += 1;
        self.when.includes(self.hits)
    }

    /// Whether `call` matches the terms, `when=` aside (it is not counted).
    pub fn matches(&self, call: &CallView<'_>) -> bool {
        self.pattern.matches(&CallFacts::from(call))
    }

    /// Which matches fire, counted from 1 over the whole trace.
    pub fn when(&self) -> When {
        self.when
    }

    /// The expression as given.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Parses a length that may be written in hex, for `ADDR:LEN` and the like.
pub fn parse_u64(s: &str) -> Option<u64> {
    parse_number(s).and_then(|n| u64::try_from(n).ok())
}

#[cfg(test)]
mod tests;
