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
pub mod keys;
pub mod overlay;
pub mod source;
pub mod terminal;
pub mod values;
pub mod view;

pub use app::App;
pub use source::{
    CallResult, Detail, Filter, Item, MemBlock, Row, RunStatus, StatRow, Summary, TraceSource,
    Value, ValueKind,
};
pub use terminal::run;
