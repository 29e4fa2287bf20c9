//! `wtrace verify`: every frame's hash, the chain, the records and the
//! index; exit 0 only for an intact, finished trace.

use crate::trace::VerifyReport;

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
