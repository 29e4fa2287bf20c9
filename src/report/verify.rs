//! `wtrace verify`: every frame's hash, the chain, the records and the
//! index, and the end record's summary against them (with `--deep`,
//! against every call); exit 0 only for an intact, finished trace.

use crate::report::stats::{FdCounter, FdEvent};
use crate::trace::{func_name, PerFd, PerFunc, Summary};
use crate::trace::{TraceReader, VerifyDepth, VerifyReport};
use anyhow::Result;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Checks the trace at `path` ([`TraceReader::verify`]), then its summary
/// (format 6 on): its order, and its calls against the index's. At
/// [`VerifyDepth::Calls`] also each function's counts against those the
/// frames' walk made, the fds' against a count of the calls that move
/// bytes or change the fd table, which the walk's decoding threads find.
pub fn verify(path: &Path, depth: VerifyDepth) -> Result<VerifyReport> {
    let mut fds = FdCounter::default();
    let count_fds = |header: &_, events: Vec<FdEvent>| {
        for e in &events {
            fds.apply(header, e);
        }
    };
    let mut report = TraceReader::verify_with(path, depth, FdEvent::of_calls, count_fds)?;
    if report.damage.is_some() {
        return Ok(report);
    }
    if let Some(summary) = &report.summary {
        report.damage = summary_mismatch(path, &report, summary, &fds)?;
    }
    Ok(report)
}

/// What the summary says that the calls do not, in words.
fn summary_mismatch(
    path: &Path,
    r: &VerifyReport,
    summary: &Summary,
    fds: &FdCounter,
) -> Result<Option<String>> {
    let header = TraceReader::open(path)?.header;
    let in_order = |keys: &mut dyn Iterator<Item = (u32, &str)>| {
        let keys: Vec<_> = keys.collect();
        keys.windows(2).all(|w| w[0] < w[1])
    };
    let listed_funcs = &mut summary.funcs.iter().map(|(f, _)| (f.0 as u32, ""));
    let listed_fds = &mut summary.fds.iter().map(|(fd, path, _)| (*fd, path.as_str()));
    if !in_order(listed_funcs) || !in_order(listed_fds) {
        return Ok(Some(
            "the end record's summary lists a function or an fd out of order or twice".into(),
        ));
    }
    // Without the calls decoded (`--deep`), only their number is known.
    let Some(funcs) = &r.funcs else {
        let said_calls = summary.funcs.iter().map(|(_, n)| n.calls);
        let said_calls = said_calls.fold(0u64, u64::saturating_add);
        return Ok((said_calls != r.calls).then(|| {
            format!(
                "the end record's summary counts {said_calls} calls, the trace {}",
                r.calls
            )
        }));
    };
    if let Some((func, said, counted)) = first_difference(&summary.funcs, funcs) {
        let func = func_name(&header, func);
        let calls = |n: &Option<PerFunc>| n.as_ref().map_or(0, |n| n.calls);
        let (said_calls, counted_calls) = (calls(&said), calls(&counted));
        return Ok(Some(if said_calls != counted_calls {
            format!("the end record's summary counts {said_calls} {func} calls, the trace {counted_calls}")
        } else if said.is_none() || counted.is_none() {
            format!("the end record's summary lists {func} with no calls")
        } else {
            format!(
                "the end record's summary has other errors, times or injections for {func} than its {counted_calls} calls"
            )
        }));
    }
    let keyed = |list: &[(u32, String, PerFd)]| -> Vec<((u32, String), PerFd)> {
        let list = list.iter();
        list.map(|(fd, path, n)| ((*fd, path.clone()), n.clone()))
            .collect()
    };
    let (said, counted) = (keyed(&summary.fds), keyed(&fds.list()));
    Ok(first_difference(&said, &counted).map(|((fd, path), said, counted)| {
        let (said, counted) = (said.unwrap_or_default(), counted.unwrap_or_default());
        format!(
            "the end record's summary says fd {fd} ({path}) moved {} bytes in {} calls, its calls {} in {}",
            said.read.saturating_add(said.written),
            said.calls,
            counted.read.saturating_add(counted.written),
            counted.calls
        )
    }))
}

/// The first key (in order) whose entries in `said` and `counted`, each
/// in order of its keys and each key once, differ (absent in one of them,
/// or with other counts).
fn first_difference<K: Ord + Clone, N: PartialEq + Clone>(
    said: &[(K, N)],
    counted: &[(K, N)],
) -> Option<(K, Option<N>, Option<N>)> {
    if said == counted {
        return None;
    }
    let map = |list: &[(K, N)]| -> BTreeMap<K, N> { list.iter().cloned().collect() };
    let (said, counted) = (map(said), map(counted));
    let keys: BTreeSet<&K> = said.keys().chain(counted.keys()).collect();
    let first = keys
        .into_iter()
        .map(|k| (k.clone(), said.get(k).cloned(), counted.get(k).cloned()))
        .find(|(_, s, c)| s != c);
    first
}

/// The report's text and whether the trace is intact.
pub fn render(r: &VerifyReport) -> (String, bool) {
    let counts = format!(
        "{} frames, {} chunk(s), {} calls",
        r.frames, r.chunks, r.calls
    );
    match &r.damage {
        None if r.finished => (format!("ok: {counts}, finished\n"), true),
        None => (
            format!("unfinished: {counts}; the recording has no end record\n"),
            false,
        ),
        Some(why) => (
            format!("damaged: {why}\n  intact before it: {counts}\n"),
            false,
        ),
    }
}
