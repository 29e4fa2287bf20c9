//! `wtrace diff A B`: where two recordings of the same program part ways.
//!
//! Calls are compared in order, after a filter: by default clock and poll
//! calls are left out, because their number and results differ between any
//! two runs (the Go runtime reads the clock whenever it schedules). A call
//! matches when the function, the scalar arguments, the bytes the guest
//! handed in, the result and the bytes the host wrote are the same; pointer
//! values and timings are not compared.

use crate::filter::Filter;
use crate::print::Printer;
use crate::syscalls::{Func, Kind};
use crate::trace::{func_name, Call, Header, Mem, TraceReader};
use anyhow::Result;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What differs between two calls, in words; `None` when they match.
pub fn call_difference(a: &Call, b: &Call, header: &Header) -> Option<String> {
    if a.func != b.func {
        return Some(format!(
            "function: {} vs {}",
            func_name(header, a.func),
            func_name(header, b.func)
        ));
    }
    let sys = Func::from_id(a.func).map(Func::syscall);
    let param = |i: usize| sys.and_then(|s| s.params.get(i));
    for i in 0..a.args.len().max(b.args.len()) {
        let pointer = param(i).is_some_and(|p| !matches!(p.kind, Kind::Value(_) | Kind::Len));
        if !pointer && a.args.get(i) != b.args.get(i) {
            let name = param(i).map_or(format!("argument {i}"), |p| {
                format!("argument `{}`", p.name)
            });
            return Some(format!(
                "{name}: {:#x} vs {:#x}",
                a.args.get(i).unwrap_or(&0),
                b.args.get(i).unwrap_or(&0)
            ));
        }
    }
    let name =
        |m: &Mem| param(m.param as usize).map_or("memory".to_string(), |p| format!("`{}`", p.name));
    if let Some(what) = bytes_difference(&a.reads, &b.reads, &name) {
        return Some(format!("the bytes handed in: {what}"));
    }
    if a.outcome != b.outcome {
        return Some(format!(
            "result: {} vs {}",
            crate::print::result_text(&a.outcome),
            crate::print::result_text(&b.outcome)
        ));
    }
    bytes_difference(&a.writes, &b.writes, &name)
        .map(|what| format!("the bytes the host wrote: {what}"))
}

fn bytes_difference(a: &[Mem], b: &[Mem], name: &dyn Fn(&Mem) -> String) -> Option<String> {
    for (x, y) in a.iter().zip(b) {
        if x.bytes.len() != y.bytes.len() {
            return Some(format!(
                "{} is {} bytes vs {}",
                name(x),
                x.bytes.len(),
                y.bytes.len()
            ));
        }
        if let Some(at) = x.bytes.iter().zip(&y.bytes).position(|(p, q)| p != q) {
            return Some(format!(
                "{} differs at offset {at}: {:#04x} vs {:#04x}",
                name(x),
                x.bytes[at],
                y.bytes[at]
            ));
        }
    }
    (a.len() != b.len()).then(|| format!("{} memory ranges vs {}", a.len(), b.len()))
}

/// The first difference, with both calls decoded.
struct First {
    a: String,
    b: String,
    what: String,
}

/// Compares two traces; returns the report and whether they match.
pub fn diff(
    a: &mut TraceReader,
    b: &mut TraceReader,
    filter: &Filter,
    filter_text: &str,
) -> Result<(String, bool)> {
    let (ha, hb) = (a.header.clone(), b.header.clone());
    let mut out = String::new();
    if ha.module_blake3 == hb.module_blake3 {
        let _ = writeln!(
            out,
            "modules: the same ({}, blake3 {})",
            ha.module_name,
            &ha.module_blake3_hex()[..16]
        );
    } else {
        let _ = writeln!(
            out,
            "modules: DIFFERENT: A is {} (blake3 {}), B is {} (blake3 {})",
            ha.module_name,
            &ha.module_blake3_hex()[..16],
            hb.module_name,
            &hb.module_blake3_hex()[..16]
        );
    }
    let (mut pa, mut pb) = (Printer::default(), Printer::default());
    let mut first: Option<First> = None;
    let (mut na, mut nb, mut differing) = (0u64, 0u64, 0u64);
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut ia = a.calls();
    let mut ib = b.calls();
    // The next call of a stream that the filter keeps; every call updates
    // that stream's fd table.
    fn next_kept(
        it: &mut dyn Iterator<Item = Result<Call>>,
        filter: &Filter,
        p: &mut Printer,
        h: &Header,
    ) -> Result<Option<Call>> {
        for call in it {
            let call = call?;
            if filter.matches(&call) {
                return Ok(Some(call));
            }
            p.follow(h, &call);
        }
        Ok(None)
    }
    loop {
        let ca = next_kept(&mut ia, filter, &mut pa, &ha)?;
        let cb = next_kept(&mut ib, filter, &mut pb, &hb)?;
        if ca.is_none() && cb.is_none() {
            break;
        }
        let line = |p: &mut Printer, h: &Header, c: &Option<Call>| match c {
            Some(c) => format!("#{} {}", c.seq, p.line(h, c)),
            None => "(no more calls)".to_string(),
        };
        if let Some(c) = &ca {
            na += 1;
            counts.entry(func_name(&ha, c.func)).or_default().0 += 1;
        }
        if let Some(c) = &cb {
            nb += 1;
            counts.entry(func_name(&hb, c.func)).or_default().1 += 1;
        }
        let what = match (&ca, &cb) {
            (Some(x), Some(y)) => call_difference(x, y, &ha),
            (Some(_), None) => Some("B has no more calls".to_string()),
            (None, Some(_)) => Some("A has no more calls".to_string()),
            (None, None) => None,
        };
        if let Some(what) = what {
            differing += 1;
            if first.is_none() {
                first = Some(First {
                    a: line(&mut pa, &ha, &ca),
                    b: line(&mut pb, &hb, &cb),
                    what,
                });
                continue;
            }
        }
        if let Some(c) = &ca {
            pa.follow(&ha, c);
        }
        if let Some(c) = &cb {
            pb.follow(&hb, c);
        }
    }
    let _ = writeln!(
        out,
        "compared: {na} calls of A with {nb} of B ({filter_text})"
    );
    let Some(first) = first else {
        let _ = writeln!(out, "no difference");
        return Ok((out, true));
    };
    let _ = writeln!(out, "first difference: {}", first.what);
    let _ = writeln!(out, "  A: {}", first.a);
    let _ = writeln!(out, "  B: {}", first.b);
    let _ = writeln!(
        out,
        "in all: {differing} of {} positions differ",
        na.max(nb)
    );
    let changed: Vec<_> = counts.iter().filter(|(_, (x, y))| x != y).collect();
    if !changed.is_empty() {
        let _ = writeln!(out, "calls per function that differ (A, B):");
        for (name, (x, y)) in changed {
            let _ = writeln!(out, "  {name:<24} {x:>8} {y:>8}");
        }
    }
    Ok((out, false))
}
