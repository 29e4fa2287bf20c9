//! The memory view: guest memory when the selected call returned, in rows
//! of 16 bytes as hex and text under their addresses (as `xxd` and hex
//! editors show it), the bytes of the pointer argument followed marked.

use crate::app::{App, StateView, Window, ROW_BYTES};
use crate::source::{CallState, TraceSource};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table};
use ratatui::Frame;

/// Where the view goes: the screen but the status line.
fn area(screen: Rect) -> Rect {
    Rect {
        height: screen.height.saturating_sub(1),
        ..screen
    }
}

/// Rows of memory that fit on a screen of `screen`: borders, the pointer
/// line and the column titles take four lines.
pub fn rows(screen: Rect) -> u16 {
    area(screen).height.saturating_sub(4).max(1)
}

/// A byte as text: printable ASCII, else `.`.
fn printable(b: u8) -> char {
    if b.is_ascii_graphic() || b == b' ' {
        b as char
    } else {
        '.'
    }
}

/// One row: the address, the bytes in hex (a gap after the 8th) and as
/// text; bytes in `mark` stand out.
fn memory_row(addr: u32, bytes: &[u8], mark: Option<(u32, u32)>) -> Row<'static> {
    let marked = |i: usize| {
        let at = addr as u64 + i as u64;
        mark.is_some_and(|(a, len)| at >= a as u64 && at < a as u64 + len.max(1) as u64)
    };
    let style = |i: usize| match marked(i) {
        true => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        false => Style::new(),
    };
    let mut hex = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        let gap = match i {
            0 => "",
            8 => "  ",
            _ => " ",
        };
        hex.push(Span::raw(gap));
        hex.push(Span::styled(format!("{b:02x}"), style(i)));
    }
    let text: Vec<Span> = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| Span::styled(printable(*b).to_string(), style(i)))
        .collect();
    Row::new(vec![
        Cell::from(format!("{addr:08x}")),
        Cell::from(Line::from(hex)),
        Cell::from(Line::from(text)),
    ])
}

/// The call's pointer arguments, the one followed in reverse video.
fn pointer_line(state: &CallState, followed: Option<usize>) -> Line<'static> {
    if state.pointers.is_empty() {
        return Line::raw("no pointer arguments");
    }
    let mut spans = vec![Span::raw("pointer arguments (Tab): ")];
    for (i, p) in state.pointers.iter().enumerate() {
        let text = format!("{} {:#x}:{}", p.name, p.addr, p.len);
        spans.push(match followed == Some(i) {
            true => Span::styled(text, Style::new().add_modifier(Modifier::REVERSED)),
            false => Span::raw(text),
        });
        spans.push(Span::raw("  "));
    }
    Line::from(spans)
}

/// The rows of `window`.
fn window_rows(w: &Window, mark: Option<(u32, u32)>) -> Vec<Row<'static>> {
    match &w.bytes {
        Ok(bytes) => bytes
            .chunks(ROW_BYTES as usize)
            .enumerate()
            .map(|(i, row)| memory_row(w.addr + i as u32 * ROW_BYTES, row, mark))
            .collect(),
        Err(why) => vec![Row::new(vec![Cell::from(""), Cell::from(why.clone())])],
    }
}

pub fn draw_memory<S: TraceSource>(app: &App<S>, frame: &mut Frame) {
    let area = area(frame.area());
    frame.render_widget(Clear, area);
    let seq = app.selected_seq().map_or("-".into(), |s| format!("#{s}"));
    let state = match &app.state {
        StateView::Ready(state) => state,
        other => {
            let why = match other {
                StateView::Failed(why) => why.clone(),
                StateView::None => "this trace has no memory to show".into(),
                _ => "still being computed...".into(),
            };
            let block = Block::bordered().title(format!(" memory when {seq} returned (m close) "));
            frame.render_widget(Paragraph::new(why).block(block), area);
            return;
        }
    };
    let title = format!(
        " memory when {seq} returned: {} bytes; g address, Tab pointer, m close ",
        state.memory_size
    );
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [pointers, table] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    frame.render_widget(
        Paragraph::new(pointer_line(state, app.memory.pointer)),
        pointers,
    );
    let rows = match &app.memory.window {
        Some(w) if w.seq == state.seq => window_rows(w, app.memory.mark),
        _ => vec![Row::new(vec![Cell::from(""), Cell::from("reading...")])],
    };
    let header = Row::new(vec![
        "address",
        "00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f",
        "text",
    ])
    .style(Style::new().add_modifier(Modifier::BOLD));
    let widths = [
        Constraint::Length(8),
        Constraint::Length(48),
        Constraint::Length(16),
    ];
    let table_widget = Table::new(rows, widths).header(header).column_spacing(2);
    frame.render_widget(table_widget, table);
}
