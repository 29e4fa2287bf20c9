//! `wtrace diff A B`: where two recordings of the same program part ways.
//!
//! Calls are compared in order, after a filter: by default clock and poll
//! calls are left out, because their number and results differ between any
//! two runs (the Go runtime reads the clock whenever it schedules). A call
//! matches when the function, the scalar arguments, the bytes the guest
//! handed in, the result and the bytes the host wrote are the same; pointer
//! values and timings are not compared.

use crate::compare::{self, Wording};
use crate::decode::Decoder;
use crate::filter::Filter;
use crate::trace::{func_name, Call, Header, TraceReader};
use anyhow::Result;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What differs between two calls, in words; `None` when they match.
pub fn call_difference(a: &Call, b: &Call, header: &Header) -> Option<String> {
    compare::calls(a, b).map(|d| d.describe(header, a.func, Wording::AVsB))
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
    let mut out = modules_line(&ha, &hb);
    let (mut pa, mut pb) = (Decoder::default(), Decoder::default());
    let mut first: Option<First> = None;
    let (mut na, mut nb, mut differing) = (0u64, 0u64, 0u64);
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut ia = a.calls();
    let mut ib = b.calls();
    loop {
        let ca = next_kept(&mut ia, filter, &mut pa, &ha)?;
        let cb = next_kept(&mut ib, filter, &mut pb, &hb)?;
        if ca.is_none() && cb.is_none() {
            break;
        }
        let line = |p: &mut Decoder, h: &Header, c: &Option<Call>| match c {
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
    let same = first.is_none();
    render_differences(&mut out, first, differing, na.max(nb), &counts);
    Ok((out, same))
}

/// Whether A and B ran the same module.
fn modules_line(ha: &Header, hb: &Header) -> String {
    let short = |h: &Header| h.module_blake3_hex()[..16].to_string();
    if ha.module_blake3 == hb.module_blake3 {
        format!(
            "modules: the same ({}, blake3 {})\n",
            ha.module_name,
            short(ha)
        )
    } else {
        format!(
            "modules: DIFFERENT: A is {} (blake3 {}), B is {} (blake3 {})\n",
            ha.module_name,
            short(ha),
            hb.module_name,
            short(hb)
        )
    }
}

/// The next call of a stream that the filter keeps; every call updates
/// that stream's fd table.
fn next_kept(
    it: &mut dyn Iterator<Item = Result<Call>>,
    filter: &Filter,
    p: &mut Decoder,
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

/// The first difference and the per-function counts that differ.
fn render_differences(
    out: &mut String,
    first: Option<First>,
    differing: u64,
    positions: u64,
    counts: &BTreeMap<String, (u64, u64)>,
) {
    let Some(first) = first else {
        let _ = writeln!(out, "no difference");
        return;
    };
    let _ = writeln!(out, "first difference: {}", first.what);
    let _ = writeln!(out, "  A: {}", first.a);
    let _ = writeln!(out, "  B: {}", first.b);
    let _ = writeln!(out, "in all: {differing} of {positions} positions differ");
    let changed: Vec<_> = counts.iter().filter(|(_, (x, y))| x != y).collect();
    if !changed.is_empty() {
        let _ = writeln!(out, "calls per function that differ (A, B):");
        for (name, (x, y)) in changed {
            let _ = writeln!(out, "  {name:<24} {x:>8} {y:>8}");
        }
    }
}
