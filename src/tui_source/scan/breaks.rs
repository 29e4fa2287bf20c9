//! Continuing to a breakpoint, forward or back: the first call after the
//! selected one (or the last before it) that one of the breakpoints fires
//! at. The trace alone decides, as `replay --break` would: each
//! breakpoint's `when=N` counts its matches from the start of the trace.

use super::spread::{in_order, ChunkWork};
use crate::matcher::Trigger;
use crate::trace::{Header, TraceReader};
use std::ops::{ControlFlow, Range};
use std::path::Path;
use std::sync::Arc;
use wtrace_tui::{BreakHit, Progress};

/// Where to look from, which way, and for what.
pub struct Continue {
    pub from: u64,
    pub forward: bool,
    pub triggers: Vec<Trigger>,
}

/// Runs the continue over `workers` threads; `None` when cancelled or the
/// trace cannot be opened.
pub fn continue_to(
    path: &Path,
    c: Continue,
    workers: usize,
    progress: &Progress<Option<BreakHit>>,
) -> Option<Option<BreakHit>> {
    let reader = TraceReader::open(path).ok()?;
    // With `when=`, every match from the start counts; else only the
    // calls looked for are read, the nearest first.
    let counting = c.triggers.iter().any(|t| !t.when().is_always());
    let in_trace_order = c.forward || counting;
    let Some((wanted, chunks)) = plan(&reader, &c, counting) else {
        return Some(None);
    };
    drop(reader);
    let triggers = Arc::new(c.triggers);
    let mut counts = Counts {
        hits: vec![0; triggers.len()],
        triggers: triggers.clone(),
        wanted: wanted.clone(),
    };
    let work = move |_: &Header| -> ChunkWork<Vec<Vec<u64>>> {
        let (triggers, wanted) = (triggers.clone(), wanted.clone());
        Box::new(move |_, batch| {
            let mut found = vec![Vec::new(); triggers.len()];
            for v in batch.views() {
                if !counting && !wanted.contains(&v.seq) {
                    continue;
                }
                for (t, trigger) in triggers.iter().enumerate() {
                    if trigger.matches(&v) {
                        found[t].push(v.seq);
                    }
                }
            }
            found
        })
    };
    // Going back through every chunk from the start: the last fire wins.
    let mut last: Option<BreakHit> = None;
    let forward = c.forward;
    let take = |matches: Vec<Vec<u64>>| {
        let fires = counts.fires(matches);
        let pick = match forward {
            true => fires.into_iter().min_by_key(|h| (h.seq, h.breakpoint)),
            false => fires
                .into_iter()
                .max_by_key(|h| (h.seq, std::cmp::Reverse(h.breakpoint))),
        };
        match pick {
            Some(hit) if !in_trace_order || forward => ControlFlow::Break(hit),
            Some(hit) => {
                last = Some(hit);
                ControlFlow::Continue(())
            }
            None => ControlFlow::Continue(()),
        }
    };
    let found = in_order(path, chunks, workers, work, take, progress)?;
    Some(found.or(last))
}

/// The calls looked for, and the chunks to read, in the order read.
fn plan(reader: &TraceReader, c: &Continue, counting: bool) -> Option<(Range<u64>, Vec<usize>)> {
    let n = reader.call_count();
    let wanted = match c.forward {
        true => c.from.saturating_add(1).min(n)..n,
        false => 0..c.from.min(n),
    };
    let lo = reader.chunk_of(if counting { 0 } else { wanted.start })?;
    let hi = reader.chunk_of(wanted.end.checked_sub(1)?)?;
    let chunks = match c.forward || counting {
        true => (lo..=hi).collect(),
        false => (lo..=hi).rev().collect(),
    };
    Some((wanted, chunks))
}

/// Each breakpoint's matches so far, for `when=`.
struct Counts {
    triggers: Arc<Vec<Trigger>>,
    hits: Vec<u64>,
    wanted: Range<u64>,
}

impl Counts {
    /// The calls of one chunk's matches (per breakpoint, in order) at which
    /// a breakpoint fires, among the calls looked for.
    fn fires(&mut self, matches: Vec<Vec<u64>>) -> Vec<BreakHit> {
        let mut fires = Vec::new();
        for (t, seqs) in matches.into_iter().enumerate() {
            let when = self.triggers[t].when();
            for seq in seqs {
                self.hits[t] += 1;
                if when.includes(self.hits[t]) && self.wanted.contains(&seq) {
                    fires.push(BreakHit { seq, breakpoint: t });
                }
            }
        }
        fires
    }
}
