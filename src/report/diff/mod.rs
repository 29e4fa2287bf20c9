//! `wtrace diff A B`: where two recordings of the same program really part
//! ways.
//!
//! The calls that [`noise::Policy`] keeps are aligned as `diff` aligns
//! lines ([`align`]), with keys that leave out host noise (random bytes,
//! clock values, file timestamps and inode numbers), and every diverging
//! stretch is listed, first first, strace-style with the call numbers of
//! both traces.

mod align;
pub mod noise;

use crate::compare::{self, Wording};
use crate::trace::{Header, TraceReader};
use align::{Calls, Source, Stretch};
use anyhow::Result;
use noise::Policy;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Stretches shown in full; the others are counted.
const SHOWN_STRETCHES: usize = 20;

/// Compares two traces; returns the report and whether they match.
/// `user_text` says what the user's `-e` chose ("" for none).
pub fn diff(
    a: &mut TraceReader,
    b: &mut TraceReader,
    policy: &Policy,
    user_text: &str,
) -> Result<(String, bool)> {
    let (ha, hb) = (a.header.clone(), b.header.clone());
    let (path_a, path_b) = (a.path().to_path_buf(), b.path().to_path_buf());
    let mut out = modules_line(&ha, &hb);
    let mut stretches = Vec::new();
    let mut total = 0u64;
    let (compared_a, compared_b, counts) = {
        let mut sa = Source::new(a.calls(), ha.clone(), policy.clone());
        let mut sb = Source::new(b.calls(), hb.clone(), policy.clone());
        align::align(&mut sa, &mut sb, |s| {
            total += 1;
            if stretches.len() < SHOWN_STRETCHES {
                stretches.push(s);
            }
        })?;
        let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (f, n) in sa.per_function {
            counts.entry(f).or_default().0 = n;
        }
        for (f, n) in sb.per_function {
            counts.entry(f).or_default().1 = n;
        }
        (sa.compared, sb.compared, counts)
    };
    let _ = writeln!(
        out,
        "compared: {compared_a} calls of A with {compared_b} of B ({})",
        policy.describe(user_text)
    );
    if total == 0 {
        let _ = writeln!(out, "no difference");
        return Ok((out, true));
    }
    let s = if total == 1 { "" } else { "es" };
    let _ = writeln!(out, "{total} diverging stretch{s}, first first:");
    let mut readers = (TraceReader::open(&path_a)?, TraceReader::open(&path_b)?);
    for stretch in &stretches {
        render_stretch(&mut out, stretch, policy, &mut readers, &ha);
    }
    if total > stretches.len() as u64 {
        let _ = writeln!(out, "... and {} more", total - stretches.len() as u64);
    }
    render_counts(&mut out, &counts);
    Ok((out, false))
}

/// `@@ A #31-#33, B #31 @@`, the lines of A (`-`) and B (`+`), and what
/// differs when one call stands against one.
fn render_stretch(
    out: &mut String,
    s: &Stretch,
    policy: &Policy,
    readers: &mut (TraceReader, TraceReader),
    header: &Header,
) {
    let _ = writeln!(out, "@@ A {}, B {} @@", span(&s.a), span(&s.b));
    for (mark, side, calls) in [('-', 'A', &s.a), ('+', 'B', &s.b)] {
        for item in &calls.shown {
            let _ = writeln!(out, "{mark} {side} #{} {}", item.seq, item.line);
        }
        let more = calls.count - calls.shown.len() as u64;
        if more > 0 {
            let _ = writeln!(out, "{mark} ... {more} more calls of {side}");
        }
    }
    if let ([x], [y]) = (&s.a.shown[..], &s.b.shown[..]) {
        let calls = (readers.0.call(x.seq), readers.1.call(y.seq));
        if let (Ok(ca), Ok(cb)) = calls {
            let (ma, mb) = (policy.mask_call(&ca), policy.mask_call(&cb));
            if let Some(d) = compare::calls(&ma, &mb) {
                let what = d.describe(header, ca.func, Wording::AVsB);
                let _ = writeln!(out, "  what differs: {what}");
            }
        }
    }
}

/// `#31-#33` (`#31` for one call, `none` for none).
fn span(c: &Calls) -> String {
    match (c.shown.first(), c.last_seq) {
        (Some(first), Some(last)) if first.seq != last => {
            format!("#{}-#{last} ({} calls)", first.seq, c.count)
        }
        (Some(first), _) => format!("#{}", first.seq),
        _ => "none".to_string(),
    }
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

/// The compared calls per function, where A and B made other numbers.
fn render_counts(out: &mut String, counts: &BTreeMap<String, (u64, u64)>) {
    let changed: Vec<_> = counts.iter().filter(|(_, (x, y))| x != y).collect();
    if !changed.is_empty() {
        let _ = writeln!(out, "calls per function that differ (A, B):");
        for (name, (x, y)) in changed {
            let _ = writeln!(out, "  {name:<24} {x:>8} {y:>8}");
        }
    }
}
