//! Commands that read a trace for a bug report: `info`, `verify`, `stats`,
//! `diff` and `export`. Each module renders one command's output; all read
//! traces through [`crate::trace::TraceReader`] a chunk at a time.

pub mod diff;
pub mod export;
pub mod info;
pub mod stats;
pub mod verify;
