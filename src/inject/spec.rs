//! `--inject SET[:CONDITION...]:ACTION[:when=EXPR][:delay_enter=T][:delay_exit=T]`,
//! strace's grammar with WASI's own actions, and `--chaos SEED[:RATE]`.

use crate::matcher::{Pattern, When};
use crate::names::{self, Value};
use crate::syscalls::{Fill, Holds, Kind, Out, Syscall};
use crate::trace::Chaos;
use anyhow::{bail, Result};
use std::time::Duration;

/// What an injection does to a matching call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `error=ENOENT`: the host is not called; the guest gets the errno.
    Error(u16),
    /// `zero`: a random buffer filled with zeros, not by the host.
    Zero,
    /// `seed=N`: random bytes from a stream seeded with N.
    Seed(u64),
    /// `offset=+1h`: the clock reads this many nanoseconds later.
    Offset(i64),
    /// `at=2038-01-19T03:14:00Z`: the clock's first reading is this time
    /// (Unix nanoseconds); it runs on from there.
    At(i64),
    /// `freeze`: the clock keeps its first reading.
    Freeze,
    /// `short=N`: at most N bytes are transferred.
    Short(u32),
    /// Only delays: the call runs as it comes.
    None,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Error(_) => "error",
            Action::Zero => "zero",
            Action::Seed(_) => "seed",
            Action::Offset(_) => "offset",
            Action::At(_) => "at",
            Action::Freeze => "freeze",
            Action::Short(_) => "short",
            Action::None => "delay",
        }
    }

    /// Whether the action can be done to a call of `sys`, from the table.
    pub fn applies_to(self, sys: &Syscall) -> bool {
        match self {
            Action::Error(_) | Action::None => !sys.no_return,
            Action::Zero | Action::Seed(_) => fills_random_bytes(sys),
            Action::Offset(_) | Action::At(_) | Action::Freeze => reads_a_clock(sys),
            Action::Short(_) => transfer_param(sys).is_some(),
        }
    }

    /// What the action applies to, for a message.
    fn domain(self) -> &'static str {
        match self {
            Action::Error(_) | Action::None => "functions that return",
            Action::Zero | Action::Seed(_) => {
                "functions that fill a buffer with random bytes (random_get)"
            }
            Action::Offset(_) | Action::At(_) | Action::Freeze => {
                "functions that read a clock at a precision (clock_time_get)"
            }
            Action::Short(_) => {
                "functions that transfer bytes through iovecs (fd_read, fd_write, …)"
            }
        }
    }
}

/// A buffer the host fills whole with opaque bytes: random_get.
pub fn fills_random_bytes(sys: &Syscall) -> bool {
    sys.params.iter().any(|p| {
        matches!(
            p.kind,
            Kind::Buf {
                filled: Fill::All,
                holds: Holds::Bytes,
                ..
            }
        )
    })
}

/// A clock read at a precision into a timestamp: clock_time_get (not
/// clock_res_get, whose timestamp is a resolution).
pub fn reads_a_clock(sys: &Syscall) -> bool {
    let has = |want: Kind| sys.params.iter().any(|p| p.kind == want);
    has(Kind::Value(Value::ClockId))
        && has(Kind::Value(Value::Timestamp))
        && has(Kind::Out(Out::Timestamp))
}

/// The iovec list of a function that moves bytes, if it has one.
pub fn transfer_param(sys: &Syscall) -> Option<usize> {
    sys.param_where(|k| matches!(k, Kind::Iovecs { .. } | Kind::Ciovecs { .. }))
}

/// One `--inject` spec.
#[derive(Clone, Debug)]
pub struct InjectSpec {
    /// As given: the trace keeps it.
    pub text: String,
    pub pattern: Pattern,
    pub when: When,
    pub action: Action,
    pub delay_enter: Option<Duration>,
    pub delay_exit: Option<Duration>,
}

impl InjectSpec {
    pub fn parse(text: &str) -> Result<InjectSpec> {
        parse(text).map_err(|e| anyhow::anyhow!("--inject {text}: {e:#}"))
    }
}

/// The spec's parts at its colons, except those inside a time of day
/// (`at=2038-01-19T03:14:00Z`).
fn split_parts(text: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for part in text.split(':') {
        let continues_time = parts.last().is_some_and(|last| {
            last.starts_with("at=") && last.contains('T') && last.matches(':').count() < 2
        }) && part.len() >= 2
            && part.as_bytes()[..2].iter().all(u8::is_ascii_digit);
        match parts.last_mut() {
            Some(last) if continues_time => {
                last.push(':');
                last.push_str(part);
            }
            _ => parts.push(part.to_string()),
        }
    }
    parts
}

fn parse(text: &str) -> Result<InjectSpec> {
    let parts = split_parts(text);
    let mut parts = parts.iter().map(String::as_str);
    let set = parts.next().unwrap_or("");
    if set.is_empty() {
        bail!("no functions: the spec starts with a set, as path_open or %fd or fd_write,fd_read");
    }
    let mut pattern = Pattern::default();
    pattern.add_term(set)?;
    let mut when = When::ALWAYS;
    let mut action: Option<Action> = None;
    let (mut delay_enter, mut delay_exit) = (None, None);
    for part in parts {
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (part, None),
        };
        let new_action = match (key, value) {
            ("when", Some(v)) => {
                when = When::parse(v)?;
                continue;
            }
            ("delay_enter", Some(v)) => {
                delay_enter = Some(parse_delay(v)?);
                continue;
            }
            ("delay_exit", Some(v)) => {
                delay_exit = Some(parse_delay(v)?);
                continue;
            }
            ("error", Some(v)) => match names::errno_by_name(v) {
                Some(e) if (1..=76).contains(&e) => Action::Error(e),
                _ => bail!("error={v}: not a WASI errno (ENOENT, EIO, ENOSPC, … as `wtrace dump` prints them)"),
            },
            ("retval" | "signal" | "syscall" | "poke_enter" | "poke_exit", _) => {
                bail!("{key}= is strace's; wtrace injects error=, zero, seed=, offset=, at=, freeze, short= and delays")
            }
            ("zero", None) => Action::Zero,
            ("freeze", None) => Action::Freeze,
            ("seed", Some(v)) => match v.parse() {
                Ok(n) => Action::Seed(n),
                Err(_) => bail!("seed={v}: the seed is a number from 0 to 2^64-1"),
            },
            ("offset", Some(v)) => Action::Offset(parse_offset(v)?),
            ("at", Some(v)) => Action::At(parse_time(v)?),
            ("short", Some(v)) => match v.parse() {
                Ok(n) => Action::Short(n),
                Err(_) => bail!("short={v}: the most bytes to transfer, a number"),
            },
            ("errno", _) => bail!("{part}: an injected call has no errno yet; to inject one, error={}", value.unwrap_or("ENOENT")),
            _ if value.is_some() || part.contains(['~', '<', '>']) => {
                pattern.add_term(part)?;
                continue;
            }
            _ => bail!("unknown part {part:?}: expected error=, zero, seed=, offset=, at=, freeze, short=, when=, delay_enter=, delay_exit= or a condition such as fd=1"),
        };
        if let Some(old) = action {
            bail!(
                "{} and {} in one spec: give one action per --inject",
                old.name(),
                new_action.name()
            );
        }
        action = Some(new_action);
    }
    if pattern.needs_result() {
        bail!("a condition needs the call's result, which an injected call does not have yet (conditions can be on arguments, strings and data the guest hands over)");
    }
    let action = match action {
        Some(a) => a,
        None if delay_enter.is_some() || delay_exit.is_some() => Action::None,
        None => bail!("no action: add error=ERRNO, zero, seed=N, offset=±T, at=TIME, freeze, short=N or a delay"),
    };
    check_applies(&pattern, action)?;
    Ok(InjectSpec {
        text: text.to_string(),
        pattern,
        when,
        action,
        delay_enter,
        delay_exit,
    })
}

/// Every function the set names must be one the action can be done to.
fn check_applies(pattern: &Pattern, action: Action) -> Result<()> {
    let funcs: Vec<&Syscall> = pattern.functions().collect();
    if funcs.is_empty() {
        bail!("the set names no function");
    }
    let wrong: Vec<&str> = funcs
        .iter()
        .filter(|s| !action.applies_to(s))
        .map(|s| s.name)
        .collect();
    if !wrong.is_empty() {
        let mut list = wrong[..wrong.len().min(4)].join(", ");
        if wrong.len() > 4 {
            list.push_str(", …");
        }
        bail!(
            "{} applies to {}; the set also names {list}",
            action.name(),
            action.domain()
        );
    }
    Ok(())
}

/// strace's delays: microseconds, or a number with s, ms, us or ns.
fn parse_delay(v: &str) -> Result<Duration> {
    let ns = parse_duration_ns(v, 1_000)
        .filter(|&n| n >= 0)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "bad delay {v:?}: microseconds, or a number with s, ms, us or ns (as strace)"
            )
        })?;
    Ok(Duration::from_nanos(ns as u64))
}

/// `+1h`, `-30m`, `+86400s`, `+10d`, `500ms`.
fn parse_offset(v: &str) -> Result<i64> {
    parse_duration_ns(v, 1_000_000_000)
        .ok_or_else(|| anyhow::anyhow!("bad offset {v:?}: a signed time such as +1h, -30m, +86400s, +365d (units ns us ms s m h d; seconds when none)"))
}

/// A number with an optional unit; `unit_ns` when it has none.
fn parse_duration_ns(v: &str, unit_ns: i64) -> Option<i64> {
    let (sign, rest) = match v.as_bytes().first() {
        Some(b'-') => (-1, &v[1..]),
        Some(b'+') => (1, &v[1..]),
        _ => (1, v),
    };
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (n, unit) = rest.split_at(digits);
    let n: i64 = n.parse().ok()?;
    let scale = match unit {
        "" => unit_ns,
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return None,
    };
    n.checked_mul(scale).map(|ns| sign * ns)
}

/// `2038-01-19T03:14:00Z` (UTC; the time part may be left out) as Unix
/// nanoseconds.
fn parse_time(v: &str) -> Result<i64> {
    let bad = || anyhow::anyhow!("bad time {v:?}: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, in UTC");
    let (date, time) = match v.split_once('T') {
        Some((d, t)) => (d, t.strip_suffix('Z').ok_or_else(bad)?),
        None => (v, "00:00:00"),
    };
    let num = |s: &str| s.parse::<i64>().map_err(|_| bad());
    let d: Vec<&str> = date.split('-').collect();
    let t: Vec<&str> = time.split(':').collect();
    if d.len() != 3 || t.len() != 3 {
        return Err(bad());
    }
    let (y, mo, day) = (num(d[0])?, num(d[1])?, num(d[2])?);
    let (h, mi, s) = (num(t[0])?, num(t[1])?, num(t[2])?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&day) || h > 23 || mi > 59 || s > 60 {
        return Err(bad());
    }
    let secs = days_from_civil(y, mo, day) * 86_400 + h * 3600 + mi * 60 + s;
    secs.checked_mul(1_000_000_000).ok_or_else(bad)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `--chaos SEED[:RATE]`: RATE a fraction (`0.05`) or a percentage (`5%`);
/// 2% when left out.
pub fn parse_chaos(text: &str) -> Result<Chaos> {
    let bad = |why: &str| {
        anyhow::anyhow!("--chaos {text}: {why} (the form is SEED[:RATE], as 42 or 42:0.1 or 42:5%)")
    };
    let (seed, rate) = match text.split_once(':') {
        Some((s, r)) => (s, Some(r)),
        None => (text, None),
    };
    let seed = seed.parse().map_err(|_| bad("the seed is a number"))?;
    let rate = match rate {
        None => 0.02,
        Some(r) => {
            let (num, scale) = match r.strip_suffix('%') {
                Some(p) => (p, 100.0),
                None => (r, 1.0),
            };
            let f: f64 = num
                .parse()
                .map_err(|_| bad("the rate is a fraction or a percentage"))?;
            let f = f / scale;
            if !(0.0..=1.0).contains(&f) {
                return Err(bad("the rate is between 0 and 1 (0% and 100%)"));
            }
            f
        }
    };
    Ok(Chaos {
        seed,
        rate_ppm: (rate * 1e6).round() as u32,
    })
}

#[cfg(test)]
mod tests;
