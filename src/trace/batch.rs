//! The calls of one chunk as the recorder collects them: fixed-size records
//! and two arenas (arguments, memory bytes), so that recording a call
//! allocates nothing and no per-call heap object crosses to the writer
//! thread. (With a `Call` per call, the guest's thread spent more time in
//! the allocator than in recording; the writer thread, in freeing.)

use super::{Call, Injection, Mem, Outcome};
use crate::syscalls::FuncId;

/// A chunk's worth of calls, numbered from `first_seq`.
#[derive(Debug, Default)]
pub struct CallBatch {
    first_seq: u64,
    calls: Vec<BatchCall>,
    args: Vec<u64>,
    mems: Vec<BatchMem>,
    bytes: Vec<u8>,
    /// Reads and writes of the call being recorded: `mems[open..]`.
    open_reads: usize,
    open_writes: usize,
}

#[derive(Debug)]
pub(super) struct BatchCall {
    pub(super) func: FuncId,
    pub(super) outcome: Outcome,
    pub(super) injection: Injection,
    pub(super) start_ns: u64,
    pub(super) dur_ns: u64,
    /// `args[args_start..args_end]`
    args_start: usize,
    args_end: usize,
    /// `mems[mems_end - reads - writes..]`: the reads, then the writes.
    mems_end: usize,
    pub(super) reads: u32,
    pub(super) writes: u32,
}

/// A call in brief, for counting ([`CallBatch::briefs`]).
#[derive(Clone, Copy, Debug)]
pub struct CallBrief {
    pub func: FuncId,
    pub failed: bool,
    pub injected: bool,
    pub dur_ns: u64,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct BatchMem {
    pub(super) param: u8,
    pub(super) addr: u32,
    /// `bytes[start..start + len]`
    start: usize,
    pub(super) len: usize,
}

/// A batch's arrays, borrowed (see [`CallBatch::parts`]).
pub(super) struct Parts<'a> {
    pub(super) calls: &'a [BatchCall],
    args: &'a [u64],
    mems: &'a [BatchMem],
    bytes: &'a [u8],
}

impl<'a> Parts<'a> {
    pub(super) fn args(&self, c: &BatchCall) -> &'a [u64] {
        &self.args[c.args_start..c.args_end]
    }

    /// `c`'s memory ranges: its reads, then its writes.
    pub(super) fn ranges(&self, c: &BatchCall) -> &'a [BatchMem] {
        let n = (c.reads + c.writes) as usize;
        &self.mems[c.mems_end - n..c.mems_end]
    }

    pub(super) fn bytes(&self, m: &BatchMem) -> &'a [u8] {
        &self.bytes[m.start..m.start + m.len]
    }

    /// The bytes of all of `c`'s ranges, which lie one after the other.
    pub(super) fn all_bytes(&self, c: &BatchCall) -> &'a [u8] {
        match self.ranges(c) {
            [] => &[],
            [first, .., last] => &self.bytes[first.start..last.start + last.len],
            [only] => self.bytes(only),
        }
    }

    /// Whether call `later` has the function and arguments of call
    /// `earlier` (`None` if not), and if so whether its memory ranges have
    /// the same parameters, addresses and lengths too. The trace encoder's
    /// question; it looks at no bytes.
    #[inline]
    pub(super) fn repeats(&self, earlier: usize, later: usize) -> Option<bool> {
        let (a, b) = (&self.calls[earlier], &self.calls[later]);
        let (x, y) = (self.args(a), self.args(b));
        if a.func != b.func || x.len() != y.len() || x.iter().zip(y).any(|(x, y)| x != y) {
            return None;
        }
        if a.reads != b.reads || a.writes != b.writes {
            return Some(false);
        }
        Some(
            self.ranges(a)
                .iter()
                .zip(self.ranges(b))
                .all(|(x, y)| x.param == y.param && x.addr == y.addr && x.len == y.len),
        )
    }
}

/// One call of a batch, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct CallView<'a> {
    pub seq: u64,
    pub func: FuncId,
    pub args: &'a [u64],
    pub outcome: &'a Outcome,
    pub start_ns: u64,
    pub dur_ns: u64,
    pub reads: MemsView<'a>,
    pub writes: MemsView<'a>,
    pub injection: Injection,
}

/// Memory ranges of one call, borrowed.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemsView<'a> {
    mems: &'a [BatchMem],
    bytes: &'a [u8],
}

impl<'a> MemsView<'a> {
    /// (param, addr, bytes) of each range.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (u8, u32, &'a [u8])> + 'a {
        let bytes = self.bytes;
        self.mems
            .iter()
            .map(move |m| (m.param, m.addr, &bytes[m.start..m.start + m.len]))
    }

    /// The bytes of each range of parameter `param`, in order.
    pub fn of_param(&self, param: usize) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter()
            .filter(move |(p, _, _)| *p as usize == param)
            .map(|(_, _, bytes)| bytes)
    }

    fn to_mems(self) -> Vec<Mem> {
        self.iter()
            .map(|(param, addr, bytes)| Mem {
                param,
                addr,
                bytes: bytes.to_vec(),
            })
            .collect()
    }
}

impl CallBatch {
    pub fn new(first_seq: u64) -> CallBatch {
        CallBatch {
            first_seq,
            ..CallBatch::default()
        }
    }

    /// A batch holding `calls`, which must be numbered consecutively.
    pub fn from_calls(calls: &[Call]) -> CallBatch {
        let mut batch = CallBatch::new(calls.first().map_or(0, |c| c.seq));
        for c in calls {
            for m in &c.reads {
                batch.add_read(m.param, m.addr, &m.bytes);
            }
            for m in &c.writes {
                batch.add_write(m.param, m.addr, &m.bytes);
            }
            batch.push(c.func, &c.args, c.outcome.clone(), c.start_ns, c.dur_ns);
            batch.mark_injected(c.injection);
        }
        batch
    }

    /// Empties the batch for calls from `first_seq` on, keeping its
    /// allocations (the recorder reuses batches the writer is done with).
    pub fn reset(&mut self, first_seq: u64) {
        self.first_seq = first_seq;
        self.calls.clear();
        self.args.clear();
        self.mems.clear();
        self.bytes.clear();
        self.open_reads = 0;
        self.open_writes = 0;
    }

    /// Bytes allocated, used or not.
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
            + self.calls.capacity() * std::mem::size_of::<BatchCall>()
            + self.args.capacity() * 8
            + self.mems.capacity() * std::mem::size_of::<BatchMem>()
    }

    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// Number of calls pushed.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Memory held, roughly: what the recorder bounds a chunk by.
    pub fn byte_size(&self) -> usize {
        self.bytes.len() + self.calls.len() * 48 + self.args.len() * 8 + self.mems.len() * 24
    }

    /// Records guest memory the next call read. Reads come before writes.
    pub fn add_read(&mut self, param: u8, addr: u32, bytes: &[u8]) {
        debug_assert_eq!(self.open_writes, 0, "a read after a write");
        self.add_mem(param, addr, bytes);
        self.open_reads += 1;
    }

    /// Records guest memory the next call wrote.
    pub fn add_write(&mut self, param: u8, addr: u32, bytes: &[u8]) {
        self.add_mem(param, addr, bytes);
        self.open_writes += 1;
    }

    fn add_mem(&mut self, param: u8, addr: u32, bytes: &[u8]) {
        self.mems.push(BatchMem {
            param,
            addr,
            start: self.bytes.len(),
            len: bytes.len(),
        });
        self.bytes.extend_from_slice(bytes);
    }

    /// The first range the open call read for parameter `param`.
    pub fn open_read(&self, param: usize) -> Option<&[u8]> {
        let open = self.mems.len() - self.open_reads - self.open_writes;
        self.mems[open..open + self.open_reads]
            .iter()
            .find(|m| m.param as usize == param)
            .map(|m| &self.bytes[m.start..m.start + m.len])
    }

    /// What the open call has read so far.
    pub fn open_reads(&self) -> MemsView<'_> {
        let open = self.mems.len() - self.open_reads - self.open_writes;
        MemsView {
            mems: &self.mems[open..open + self.open_reads],
            bytes: &self.bytes,
        }
    }

    /// Closes the open call: its reads and writes are those added since the
    /// last `push`. Returns its number.
    pub fn push(
        &mut self,
        func: FuncId,
        args: &[u64],
        outcome: Outcome,
        start_ns: u64,
        dur_ns: u64,
    ) -> u64 {
        let args_start = self.args.len();
        self.args.extend_from_slice(args);
        let args_end = self.args.len();
        self.close_call(func, outcome, start_ns, dur_ns, args_start..args_end)
    }

    /// Closes the open call as a repeat of call `earlier` of this batch:
    /// its function and arguments are `earlier`'s, and its view shares
    /// `earlier`'s arguments instead of a copy (a reader of format 4, where
    /// most clock reads repeat a call two back, pushes no arguments for
    /// them). Returns its number. Panics if there is no call `earlier`.
    pub fn push_repeat(
        &mut self,
        earlier: usize,
        outcome: Outcome,
        start_ns: u64,
        dur_ns: u64,
    ) -> u64 {
        let e = &self.calls[earlier];
        let (func, args) = (e.func, e.args_start..e.args_end);
        self.close_call(func, outcome, start_ns, dur_ns, args)
    }

    /// Closes the open call (its ranges are those added since the last
    /// close) with its arguments at `args` in `self.args`.
    #[inline]
    fn close_call(
        &mut self,
        func: FuncId,
        outcome: Outcome,
        start_ns: u64,
        dur_ns: u64,
        args: std::ops::Range<usize>,
    ) -> u64 {
        self.calls.push(BatchCall {
            func,
            outcome,
            injection: Injection::NONE,
            start_ns,
            dur_ns,
            args_start: args.start,
            args_end: args.end,
            mems_end: self.mems.len(),
            reads: self.open_reads as u32,
            writes: self.open_writes as u32,
        });
        self.open_reads = 0;
        self.open_writes = 0;
        self.first_seq + self.calls.len() as u64 - 1
    }

    /// The bytes of call `earlier`'s memory ranges, all together.
    pub fn ranges_len(&self, earlier: usize) -> usize {
        self.parts()
            .ranges(&self.calls[earlier])
            .iter()
            .map(|m| m.len)
            .sum()
    }

    /// Adds to the open call, which has none yet, the memory ranges of
    /// call `earlier` (its reads, then its writes: the same parameters,
    /// addresses and lengths) holding `bytes`, which are
    /// [`ranges_len`](Self::ranges_len) long: one copy for them all
    /// instead of one per range.
    pub fn add_ranges_of(&mut self, earlier: usize, bytes: &[u8]) {
        debug_assert_eq!(self.open_reads + self.open_writes, 0);
        debug_assert_eq!(bytes.len(), self.ranges_len(earlier));
        let e = &self.calls[earlier];
        let (reads, writes) = (e.reads as usize, e.writes as usize);
        let from = e.mems_end - reads - writes;
        let mut start = self.bytes.len();
        for k in from..e.mems_end {
            let m = self.mems[k];
            self.mems.push(BatchMem { start, ..m });
            start += m.len;
        }
        self.bytes.extend_from_slice(bytes);
        self.open_reads = reads;
        self.open_writes = writes;
    }

    /// Says how the last call pushed was injected.
    pub fn mark_injected(&mut self, injection: Injection) {
        if let Some(last) = self.calls.last_mut() {
            last.injection = injection;
        }
    }

    /// The batch's arrays, for the trace encoder, which walks them without
    /// building a view per call (views were a fifth of its time).
    pub(super) fn parts(&self) -> Parts<'_> {
        Parts {
            calls: &self.calls,
            args: &self.args,
            mems: &self.mems,
            bytes: &self.bytes,
        }
    }

    /// Call `i` of the batch (from 0).
    pub fn view(&self, i: usize) -> CallView<'_> {
        let c = &self.calls[i];
        let writes_start = c.mems_end - c.writes as usize;
        let reads_start = writes_start - c.reads as usize;
        let mems = |range: std::ops::Range<usize>| MemsView {
            mems: &self.mems[range],
            bytes: &self.bytes,
        };
        CallView {
            seq: self.first_seq + i as u64,
            func: c.func,
            args: &self.args[c.args_start..c.args_end],
            outcome: &c.outcome,
            start_ns: c.start_ns,
            dur_ns: c.dur_ns,
            reads: mems(reads_start..writes_start),
            writes: mems(writes_start..c.mems_end),
            injection: c.injection,
        }
    }

    pub fn views(&self) -> impl ExactSizeIterator<Item = CallView<'_>> + '_ {
        (0..self.calls.len()).map(|i| self.view(i))
    }

    /// Each call's function, failure, injection and duration: what
    /// counting calls needs, without the cost of a view.
    pub fn briefs(&self) -> impl ExactSizeIterator<Item = CallBrief> + '_ {
        self.calls.iter().map(|c| CallBrief {
            func: c.func,
            failed: c.outcome.is_error(),
            injected: c.injection.is_injected(),
            dur_ns: c.dur_ns,
        })
    }

    /// Call `i` as an owned [`Call`] (for printing, and tests).
    pub fn call(&self, i: usize) -> Call {
        let v = self.view(i);
        Call {
            seq: v.seq,
            func: v.func,
            args: v.args.to_vec(),
            outcome: v.outcome.clone(),
            start_ns: v.start_ns,
            dur_ns: v.dur_ns,
            reads: v.reads.to_mems(),
            writes: v.writes.to_mems(),
            injection: v.injection,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_come_back_as_they_went_in() {
        let calls = vec![
            Call {
                seq: 7,
                func: FuncId(26), // fd_write
                args: vec![1, 100, 2, 200],
                outcome: Outcome::Errno(0),
                start_ns: 10,
                dur_ns: 3,
                reads: vec![
                    Mem {
                        param: 1,
                        addr: 100,
                        bytes: vec![1; 16],
                    },
                    Mem {
                        param: 1,
                        addr: 300,
                        bytes: b"hello".to_vec(),
                    },
                ],
                writes: vec![Mem {
                    param: 3,
                    addr: 200,
                    bytes: 5u32.to_le_bytes().to_vec(),
                }],
                injection: Injection::spec(2),
            },
            Call {
                seq: 8,
                func: FuncId(0x8004),
                args: (0..300).collect(),
                outcome: Outcome::Trap("boom".into()),
                start_ns: 20,
                dur_ns: 0,
                reads: vec![],
                writes: vec![],
                injection: Injection::CHAOS,
            },
        ];
        let batch = CallBatch::from_calls(&calls);
        assert_eq!((batch.first_seq(), batch.len()), (7, 2));
        assert_eq!((0..2).map(|i| batch.call(i)).collect::<Vec<_>>(), calls);
    }

    /// A repeat pushed with `push_repeat` and `add_ranges_of` reads back
    /// as the same call pushed in full, and shares the earlier call's
    /// arguments instead of copying them.
    #[test]
    fn a_repeat_reads_back_as_the_call_pushed_in_full() {
        let first = Call {
            seq: 3,
            func: FuncId(26),
            args: vec![1, 100, 2, 200],
            outcome: Outcome::Errno(0),
            start_ns: 5,
            dur_ns: 1,
            reads: vec![
                Mem {
                    param: 1,
                    addr: 100,
                    bytes: vec![9; 16],
                },
                Mem {
                    param: 1,
                    addr: 300,
                    bytes: b"hey".to_vec(),
                },
            ],
            writes: vec![Mem {
                param: 3,
                addr: 200,
                bytes: vec![3, 0, 0, 0],
            }],
            injection: Injection::NONE,
        };
        let other = Call {
            seq: 4,
            func: FuncId(2),
            args: vec![7],
            ..first.clone()
        };
        let mut again = first.clone();
        again.seq = 5;
        again.outcome = Outcome::Errno(8);
        again.start_ns = 9;
        again.dur_ns = 4;
        again.reads[0].bytes = vec![1; 16];
        again.reads[1].bytes = b"you".to_vec();
        again.writes[0].bytes = vec![2, 0, 0, 0];
        again.injection = Injection::CHAOS;
        let plain = CallBatch::from_calls(&[first.clone(), other.clone(), again.clone()]);

        let mut fast = CallBatch::from_calls(&[first, other]);
        assert_eq!(fast.ranges_len(0), 16 + 3 + 4);
        let bytes: Vec<u8> = again
            .reads
            .iter()
            .chain(&again.writes)
            .flat_map(|m| m.bytes.clone())
            .collect();
        fast.add_ranges_of(0, &bytes);
        assert_eq!(fast.push_repeat(0, Outcome::Errno(8), 9, 4), 5);
        fast.mark_injected(Injection::CHAOS);

        assert_eq!(fast.len(), 3);
        for i in 0..3 {
            assert_eq!(fast.call(i), plain.call(i));
        }
        assert_eq!(fast.call(2), again);
        assert_eq!(fast.parts().repeats(0, 2), Some(true));
        assert_eq!(fast.args.len(), 5, "the repeat's arguments are shared");
        assert_eq!(plain.args.len(), 9);
    }

    #[test]
    fn the_open_call_finds_its_iovec_list_among_its_reads() {
        let mut batch = CallBatch::new(0);
        batch.add_read(0, 1, b"old");
        batch.push(FuncId(0), &[], Outcome::Errno(0), 0, 0);
        batch.add_read(2, 4, b"path");
        batch.add_read(1, 8, b"list");
        batch.add_read(1, 9, b"buffer");
        assert_eq!(batch.open_read(1), Some(&b"list"[..]));
        assert_eq!(batch.open_read(0), None);
        batch.add_write(1, 9, b"new");
        assert_eq!(batch.open_read(2), Some(&b"path"[..]));
    }
}
