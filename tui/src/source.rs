//! What the UI needs from a trace.

/// The trace as a whole, for the header.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub module: String,
    pub blake3: String,
    pub args: String,
    /// `exited with 0`, `trapped: ...`, `unfinished: ...`.
    pub status: String,
    pub calls: u64,
    pub duration_ns: u64,
}

/// One line of the call list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    pub seq: u64,
    /// Time since the start of the recording.
    pub time_ns: u64,
    pub func: String,
    /// Decoded arguments, on one line.
    pub args: String,
    /// `0`, `44 ENOENT (...)`, `? +++ exited with 2 +++`.
    pub result: String,
    pub is_error: bool,
    /// strace-like class: fd, path, clock, random, poll, proc, sock, args.
    pub class: String,
}

/// A range of guest memory the host read or wrote.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemBlock {
    /// `read path`, `wrote buf`.
    pub label: String,
    pub addr: u32,
    pub bytes: Vec<u8>,
}

/// Everything about one call, for the detail pane.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detail {
    pub seq: u64,
    pub func: String,
    pub args: Vec<(String, String)>,
    pub result: String,
    pub outs: Vec<(String, String)>,
    pub time_ns: u64,
    pub dur_ns: u64,
    pub memory: Vec<MemBlock>,
}

/// One line of the statistics view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatRow {
    pub name: String,
    pub calls: u64,
    pub errors: u64,
    pub ns: u64,
}

/// A trace as the UI reads it. Implementations decode only what is asked
/// for: the UI asks for the rows on screen and the selected call.
pub trait TraceSource {
    fn summary(&self) -> Summary;
    /// Number of calls.
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Rows `start..start + count` (fewer at the end).
    fn rows(&mut self, start: u64, count: usize) -> Vec<Row>;
    fn detail(&mut self, seq: u64) -> Option<Detail>;
    /// The last `max` bytes the guest had written to stdout and stderr when
    /// call `seq` returned.
    fn output_at(&mut self, seq: u64, max: usize) -> (Vec<u8>, Vec<u8>);
    /// The first call after (or before) `from` whose function, decoded
    /// arguments or data contain `text`, wrapping around.
    fn search(&mut self, from: u64, forward: bool, text: &str) -> Option<u64>;
    /// The calls of `class` (fd, path, clock, random, poll, proc, sock,
    /// args, or `errors` for failed calls), in order.
    fn select(&mut self, class: &str) -> Vec<u64>;
    /// Calls per time bucket over the whole run; may be computed a step at a
    /// time: returns `None` until done, and `step` does more of the work.
    fn density(&mut self, buckets: usize) -> Option<Vec<u64>>;
    fn step(&mut self) {}
    /// Calls, errors and time per function; bytes per fd as extra lines.
    fn stats(&mut self) -> (Vec<StatRow>, Vec<String>);
}
