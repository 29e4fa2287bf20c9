//! Aligning two streams of compared calls, as `diff` aligns lines, in
//! bounded memory and time.
//!
//! Equal calls are walked in step without being kept. Where the streams
//! part, a window of up to [`WINDOW`] calls of each is aligned with
//! Myers' algorithm (the `similar` crate) on the calls' keys; what comes
//! before the window's last run of [`ANCHOR`] equal calls is settled, the
//! rest goes back to be aligned again with what follows. Memory is a window
//! of decoded lines per side, whatever the length of the traces; the time
//! per window is bounded by a deadline (500 ms), past which `similar`
//! settles for a coarser alignment, and windows with no call in common are
//! not aligned at all.

use super::noise::Policy;
use crate::decode::Decoder;
use crate::trace::{func_name, Call, Header};
use anyhow::Result;
use similar::{capture_diff_slices_deadline, Algorithm, DiffOp};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// Calls of each side aligned at once where the runs part.
pub const WINDOW: usize = 2048;
/// Equal calls in a row that settle an alignment.
pub const ANCHOR: usize = 8;
/// Time allowed for aligning one window.
const DEADLINE: Duration = Duration::from_millis(500);

/// One compared call, decoded.
#[derive(Clone, Debug)]
pub struct Item {
    pub seq: u64,
    key: u64,
    pub line: String,
}

/// One side of the comparison: its compared calls in order, the fd table
/// followed through every call, and counts per function.
pub struct Source<'r> {
    calls: Box<dyn Iterator<Item = Result<Call>> + 'r>,
    header: Header,
    policy: Policy,
    decoder: Decoder,
    /// Calls taken into a window and given back, already decoded.
    pending: VecDeque<Item>,
    /// The next compared call, not decoded yet, and its key.
    peeked: Option<(Call, u64)>,
    /// Compared calls so far, and per function.
    pub compared: u64,
    pub per_function: BTreeMap<String, u64>,
}

impl<'r> Source<'r> {
    pub fn new(
        calls: impl Iterator<Item = Result<Call>> + 'r,
        header: Header,
        policy: Policy,
    ) -> Source<'r> {
        Source {
            calls: Box::new(calls),
            header,
            policy,
            decoder: Decoder::default(),
            pending: VecDeque::new(),
            peeked: None,
            compared: 0,
            per_function: BTreeMap::new(),
        }
    }

    /// The key of the next compared call.
    fn peek_key(&mut self) -> Result<Option<u64>> {
        if let Some(item) = self.pending.front() {
            return Ok(Some(item.key));
        }
        if self.peeked.is_none() {
            self.peeked = self.pull()?;
        }
        Ok(self.peeked.as_ref().map(|(_, k)| *k))
    }

    /// The next call the policy keeps; the others only move the fd table.
    fn pull(&mut self) -> Result<Option<(Call, u64)>> {
        for call in self.calls.by_ref() {
            let call = call?;
            if self.policy.keeps(&call) {
                self.compared += 1;
                *self
                    .per_function
                    .entry(func_name(&self.header, call.func))
                    .or_default() += 1;
                let key = self.policy.key(&call);
                return Ok(Some((call, key)));
            }
            self.decoder.follow(&self.header, &call);
        }
        Ok(None)
    }

    /// Passes the next call, equal on both sides.
    fn skip(&mut self) {
        if self.pending.pop_front().is_none() {
            if let Some((call, _)) = self.peeked.take() {
                self.decoder.follow(&self.header, &call);
            }
        }
    }

    /// Up to `n` next calls, decoded.
    fn window(&mut self, n: usize) -> Result<Vec<Item>> {
        let mut out: Vec<Item> = self.pending.drain(..).collect();
        while out.len() < n {
            let next = match self.peeked.take() {
                Some(p) => p,
                None => match self.pull()? {
                    Some(p) => p,
                    None => break,
                },
            };
            let (call, key) = next;
            let line = self.decoder.line(&self.header, &call);
            out.push(Item {
                seq: call.seq,
                key,
                line,
            });
        }
        Ok(out)
    }

    fn give_back(&mut self, rest: impl IntoIterator<Item = Item>) {
        let mut rest: VecDeque<Item> = rest.into_iter().collect();
        rest.append(&mut self.pending);
        self.pending = rest;
    }
}

/// Lines shown per side of a stretch; the rest are counted.
pub const SHOWN: usize = 10;

/// The calls of one side of a stretch: the first [`SHOWN`], and how many.
#[derive(Clone, Debug, Default)]
pub struct Calls {
    pub shown: Vec<Item>,
    pub count: u64,
    pub last_seq: Option<u64>,
}

impl Calls {
    fn extend(&mut self, items: &[Item]) {
        for item in items {
            if self.shown.len() < SHOWN {
                self.shown.push(item.clone());
            }
            self.count += 1;
            self.last_seq = Some(item.seq);
        }
    }
}

/// Calls of A and B where the runs part, between two equal stretches.
#[derive(Clone, Debug, Default)]
pub struct Stretch {
    pub a: Calls,
    pub b: Calls,
}

/// Aligns A and B; `found` gets every diverging stretch, first first.
pub fn align(a: &mut Source, b: &mut Source, mut found: impl FnMut(Stretch)) -> Result<()> {
    let mut open = Stretch::default();
    let mut flush = |open: &mut Stretch| {
        if open.a.count + open.b.count > 0 {
            found(std::mem::take(open));
        }
    };
    loop {
        match (a.peek_key()?, b.peek_key()?) {
            (None, None) => break,
            (Some(x), Some(y)) if x == y => {
                flush(&mut open);
                a.skip();
                b.skip();
                continue;
            }
            _ => {}
        }
        let (wa, wb) = (a.window(WINDOW)?, b.window(WINDOW)?);
        let ka: Vec<u64> = wa.iter().map(|i| i.key).collect();
        let kb: Vec<u64> = wb.iter().map(|i| i.key).collect();
        let ops = window_ops(&ka, &kb);
        let (upto_a, upto_b) = settled(&ops, ka.len(), kb.len());
        for op in &ops {
            let (ra, rb) = (op.old_range(), op.new_range());
            if ra.start >= upto_a && rb.start >= upto_b {
                break;
            }
            if let DiffOp::Equal { .. } = op {
                flush(&mut open);
            } else {
                open.a.extend(&wa[ra]);
                open.b.extend(&wb[rb]);
            }
        }
        a.give_back(wa.into_iter().skip(upto_a));
        b.give_back(wb.into_iter().skip(upto_b));
    }
    flush(&mut open);
    Ok(())
}

/// The alignment of two windows. Windows with no call in common (every
/// clock reading differs, with `--all`) are one replacement: Myers would
/// spend its worst time on them for nothing.
fn window_ops(ka: &[u64], kb: &[u64]) -> Vec<DiffOp> {
    let in_b: HashSet<u64> = kb.iter().copied().collect();
    if !ka.iter().any(|k| in_b.contains(k)) {
        return vec![DiffOp::Replace {
            old_index: 0,
            old_len: ka.len(),
            new_index: 0,
            new_len: kb.len(),
        }];
    }
    let deadline = Instant::now() + DEADLINE;
    capture_diff_slices_deadline(Algorithm::Myers, ka, kb, Some(deadline))
}

/// How far the alignment of a window is settled: to the end of its last
/// run of [`ANCHOR`] equal calls, or all of it when there is none.
fn settled(ops: &[DiffOp], len_a: usize, len_b: usize) -> (usize, usize) {
    ops.iter()
        .rev()
        .find_map(|op| match *op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } if len >= ANCHOR => Some((old_index + len, new_index + len)),
            _ => None,
        })
        .unwrap_or((len_a, len_b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_settled_up_to_its_last_anchor() {
        let ops = [
            DiffOp::Delete {
                old_index: 0,
                old_len: 1,
                new_index: 0,
            },
            DiffOp::Equal {
                old_index: 1,
                new_index: 0,
                len: ANCHOR,
            },
            DiffOp::Insert {
                old_index: 1 + ANCHOR,
                new_index: ANCHOR,
                new_len: 3,
            },
        ];
        assert_eq!(settled(&ops, 1 + ANCHOR, ANCHOR + 3), (1 + ANCHOR, ANCHOR));
        // Without a long enough run of equal calls, all of it.
        assert_eq!(settled(&ops[..1], 1, 0), (1, 0));
    }

    #[test]
    fn windows_with_nothing_in_common_are_one_replacement() {
        let ops = window_ops(&[1, 2, 3], &[4, 5]);
        assert_eq!(ops.len(), 1);
        assert_eq!((ops[0].old_range(), ops[0].new_range()), (0..3, 0..2));
        // One call in common: aligned around it.
        let ops = window_ops(&[1, 2, 3], &[4, 2]);
        let equal: Vec<_> = ops
            .iter()
            .filter(|o| matches!(o, DiffOp::Equal { .. }))
            .map(|o| (o.old_range(), o.new_range()))
            .collect();
        assert_eq!(equal, vec![(1..2, 1..2)]);
    }
}
