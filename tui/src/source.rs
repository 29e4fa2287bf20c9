//! What the UI needs from a trace, as data: the UI draws these types and
//! never parses text back out of them.

use crate::task::Task;
use std::fmt;

/// How the recorded run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// The guest exited (`proc_exit`, or `_start` returned) with this code.
    Exited(i32),
    /// The guest trapped: the trap's cause, on one line.
    Trapped(String),
    /// The recording was stopped by this signal.
    Killed(i32),
    /// The trace could not be written: why.
    RecordingStopped(String),
    /// The trace has no end: why, when the reader knows.
    Unfinished(Option<String>),
}

impl Default for RunStatus {
    fn default() -> RunStatus {
        RunStatus::Unfinished(None)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            RunStatus::Exited(code) => write!(f, "exited with {code}"),
            RunStatus::Trapped(cause) => write!(f, "trapped: {cause}"),
            RunStatus::Killed(signal) => write!(f, "killed by signal {signal}"),
            RunStatus::RecordingStopped(why) => write!(f, "recording stopped: {why}"),
            RunStatus::Unfinished(Some(why)) => write!(f, "unfinished: {why}"),
            RunStatus::Unfinished(None) => write!(f, "unfinished"),
        }
    }
}

/// The trace as a whole, for the header.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub module: String,
    pub blake3: String,
    /// The guest's argv, program name first.
    pub argv: Vec<String>,
    pub status: RunStatus,
    pub calls: u64,
    pub duration_ns: u64,
}

/// What a call returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallResult {
    /// For one-line lists: `0`, `44 ENOENT`, `? exit 2`, `? trap`.
    pub short: String,
    /// In full: `44 ENOENT (No such file or directory)`,
    /// `? +++ exited with 2 +++`.
    pub full: String,
    /// A nonzero errno or a trap. `proc_exit` ending the run is not one.
    pub is_error: bool,
    /// The result was injected (`record --inject`, `--chaos`), not the host's.
    pub injected: bool,
}

/// One line of the call list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    pub seq: u64,
    /// Time since the start of the recording.
    pub time_ns: u64,
    pub func: String,
    /// Decoded arguments; the list fits them to its column.
    pub args: Vec<Item>,
    pub result: CallResult,
}

/// What a scalar value is, so the view can colour it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// A count, size, offset, timestamp or code.
    Number,
    /// A guest address or an opaque tag.
    Address,
    /// A name for a number: an enum value or a set of flags.
    Name,
    /// A path or data from guest memory, quoted.
    Str,
    /// An errno other than success (inside a structure).
    Error,
    /// Not a value: what is left of an entry the buffer cut.
    Note,
}

/// A decoded value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// One value, as text (`4096`, `0x1a000`, `CREAT|TRUNC`, `"a\n"`).
    Scalar {
        text: String,
        kind: ValueKind,
    },
    /// A file descriptor and the path it was opened from, when known.
    Fd {
        fd: u64,
        path: Option<String>,
    },
    List(Vec<Value>),
    /// A structure: its fields in order.
    Record(Vec<Item>),
}

impl Value {
    pub fn scalar(text: impl Into<String>, kind: ValueKind) -> Value {
        Value::Scalar {
            text: text.into(),
            kind,
        }
    }
}

/// A named value: an argument, an out-parameter or a structure's field.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub name: String,
    /// Shown without its name on one line, as strace shows data and tags.
    pub bare: bool,
    pub value: Value,
}

impl Item {
    pub fn new(name: impl Into<String>, value: Value) -> Item {
        Item {
            name: name.into(),
            bare: false,
            value,
        }
    }
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
    pub args: Vec<Item>,
    pub result: CallResult,
    /// What the host returned through out-pointers and buffers.
    pub outs: Vec<Item>,
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

/// A search's match: the call, and whether the search went past the end
/// (or the start, going back) to find it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchHit {
    pub seq: u64,
    pub wrapped: bool,
}

/// Guest memory a pointer argument of a call covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer {
    /// The parameter: `path`, `iovs`, `buf`.
    pub name: String,
    pub addr: u32,
    pub len: u32,
}

/// The guest's state when a call returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallState {
    pub seq: u64,
    /// The call stack, innermost frame first, a line per frame.
    pub frames: Vec<String>,
    /// The module's exported globals: name and value as text.
    pub globals: Vec<(String, String)>,
    /// Bytes of linear memory.
    pub memory_size: u64,
    /// The memory behind the call's pointer arguments, in parameter order.
    pub pointers: Vec<Pointer>,
}

/// A breakpoint's hit: the call, and which breakpoint (an index into the
/// list continued with) matched it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakHit {
    pub seq: u64,
    pub breakpoint: usize,
}

/// A trace as the UI reads it. Implementations decode only what is asked
/// for: the UI asks for the rows on screen and the selected call.
pub trait TraceSource {
    fn summary(&self) -> Summary;
    /// The words a filter is made of (`%fd`, `path_open`, `--failed`, …),
    /// in the order the filter menu offers them.
    fn filter_words(&self) -> Vec<String>;
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
    /// Starts looking for the first call after (or before) `from` whose
    /// function, decoded arguments or data contain `text`, wrapping around.
    /// Progress is counted in calls, out of [`TraceSource::len`].
    fn search(&mut self, from: u64, forward: bool, text: &str) -> Task<Option<SearchHit>>;
    /// Starts gathering the calls the filter `expr` keeps, in order; `expr`
    /// is what `dump` takes: `-e` lists and `--failed`, space-separated
    /// (`%path,!fd_close --failed`). A bad expression is an error at once,
    /// a line naming the bad part.
    fn select(&mut self, expr: &str) -> Result<Task<Vec<u64>>, String>;
    /// Starts computing the guest's state when call `seq` returned (a
    /// line of its own when it cannot be computed); `None` when the source
    /// computes no states. Dropping the task gives up on it.
    fn state(&mut self, seq: u64) -> Option<Task<Result<CallState, String>>> {
        let _ = seq;
        None
    }
    /// Starts reading `len` bytes of guest memory at `addr` as they stood
    /// when call `seq` returned (fewer at the end of memory; an error, a
    /// line, past it).
    fn memory(&mut self, seq: u64, addr: u32, len: u32) -> Task<Result<Vec<u8>, String>> {
        let _ = (seq, addr, len);
        Task::ready(Err("this trace has no memory to show".into()))
    }
    /// Whether `expr` is a breakpoint, in `replay --break`'s grammar
    /// (`path_open path~config`, `fd_write fd=2 when=3`, `errno!=0`,
    /// `#1200`); the error is a line naming the bad part.
    fn check_breakpoint(&self, expr: &str) -> Result<(), String>;
    /// Starts looking for the first call after `from` (going forward) or the
    /// last before it (going back) that one of `breakpoints` matches;
    /// `when=N` counts matches from the start of the trace. Progress is
    /// counted in calls.
    fn continue_to(
        &mut self,
        from: u64,
        forward: bool,
        breakpoints: &[String],
    ) -> Result<Task<Option<BreakHit>>, String>;
    /// Calls per time bucket over the whole run; may be computed a step at a
    /// time: returns `None` until done, and `step` does more of the work.
    fn density(&mut self, buckets: usize) -> Option<Vec<u64>>;
    fn step(&mut self) {}
    /// Calls, errors and time per function; bytes per fd as extra lines.
    fn stats(&mut self) -> (Vec<StatRow>, Vec<String>);
}
