//! The report when the guest parts from the recording, and the other ways
//! a replay stops before the guest ends.

use super::serve::ReplayState;
use crate::decode::Decoder;
use crate::trace::{Call, TraceReader};
use std::collections::VecDeque;
use std::fmt;

/// The first difference between the replayed run and the recording.
#[derive(Clone, Debug)]
pub struct Divergence {
    /// Number of the call where it happened.
    pub seq: u64,
    /// What differs, in words.
    pub what: String,
    /// The recorded call, decoded (none when the guest made more calls than
    /// were recorded).
    pub recorded: Option<String>,
    /// The call the guest made, decoded (none when the guest ended early).
    pub replayed: Option<String>,
    /// The calls just before, decoded.
    pub before: Vec<String>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "replay diverged at call #{}: {}", self.seq, self.what)?;
        if let Some(r) = &self.recorded {
            writeln!(f, "  recorded: {r}")?;
        }
        if let Some(r) = &self.replayed {
            writeln!(f, "  replayed: {r}")?;
        }
        if !self.before.is_empty() {
            writeln!(f, "  calls before:")?;
            for line in &self.before {
                writeln!(f, "    {line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Divergence {}

/// Stops the guest before the recording says it stopped: at `--until`, or
/// where an interrupted or unfinished recording ends. Not the guest's error.
#[derive(Debug)]
pub(super) struct StopHere {
    pub(super) reason: String,
    /// The exit code wtrace reports: 0 for --until and an unfinished
    /// recording, 128 + N for a recording stopped by signal N.
    pub(super) code: i32,
}
impl fmt::Display for StopHere {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}
impl std::error::Error for StopHere {}

/// The trace cannot be read on (a damaged chunk): wtrace's error, not the
/// guest's divergence.
#[derive(Debug)]
pub(super) struct Unreadable(pub(super) String);
impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read the trace: {}", self.0)
    }
}
impl std::error::Error for Unreadable {}

const CONTEXT_CALLS: usize = 3;

/// Builds the divergence report: the recorded call (if any), the call made,
/// and the calls before with the fd paths a full decode knows.
pub(super) fn divergence(
    state: &mut ReplayState,
    seq: u64,
    what: String,
    made: Option<Call>,
) -> Divergence {
    let header = &state.header;
    let mut decoder = Decoder::default();
    let mut before = VecDeque::new();
    let mut recorded = None;
    let upto = (seq + 1).min(state.total);
    // The report decodes the calls up to here once more, for the fd paths
    // they opened; a trace that cannot be read again gets a shorter report.
    let mut reader = TraceReader::open(&state.trace_path).ok();
    for i in 0..upto {
        let Some(Ok(call)) = reader.as_mut().map(|r| r.call(i)) else {
            break;
        };
        let line = format!("#{i} {}", decoder.line(header, &call));
        if i == seq {
            recorded = Some(line);
        } else {
            before.push_back(line);
            if before.len() > CONTEXT_CALLS {
                before.pop_front();
            }
        }
    }
    let replayed = made.map(|c| {
        let mut line = decoder.decode(header, &c);
        line.result = "?".into();
        line.outs.clear();
        format!("#{seq} {}", line.line())
    });
    Divergence {
        seq,
        what,
        recorded,
        replayed,
        before: before.into(),
    }
}

pub(super) fn diverge(
    state: &mut ReplayState,
    seq: u64,
    what: String,
    made: Option<Call>,
) -> wasmtime::Error {
    wasmtime::Error::new(divergence(state, seq, what, made))
}
