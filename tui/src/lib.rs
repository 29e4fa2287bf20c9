//! The terminal UI of `wtrace tui`: a call list, a detail pane, the guest's
//! output as it stood at the selected call, and a timeline.
//!
//! This crate knows nothing of the trace format: it draws what a
//! [`TraceSource`] gives it (wtrace implements one over its trace reader),
//! which keeps the UI testable with a fake source. The app follows the
//! model / message / update / view split: [`keys::message_for`] maps input
//! to a [`app::Message`] through the one key table, [`app::App::update`]
//! changes the model, and [`view::draw`] renders it without changing
//! anything.

pub mod app;
#[cfg(test)]
mod fake;
pub mod filter_menu;
pub mod keys;
pub mod overlay;
pub mod source;
pub mod task;
pub mod terminal;
pub mod values;
pub mod view;

pub use app::App;
pub use source::{
    BreakHit, CallResult, CallState, Detail, Item, MemBlock, Pointer, Row, RunStatus, SearchHit,
    StatRow, Summary, TraceSource, Value, ValueKind,
};
pub use task::{Progress, Task};
pub use terminal::run;
