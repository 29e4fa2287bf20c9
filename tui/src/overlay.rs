//! The views drawn over the panes: the help, the filter menu and the
//! statistics.

use crate::app::App;
use crate::keys;
use crate::source::{Filter, StatRow, TraceSource};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, List, ListState, Paragraph};
use ratatui::Frame;

/// Width of the help screen's key column.
const KEYS_WIDTH: usize = 16;

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The help screen's text, from the key map: per mode, its heading and a
/// line per binding.
pub fn help_lines() -> Vec<Line<'static>> {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    for (i, (heading, bindings)) in keys::help().into_iter().enumerate() {
        if i > 0 {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(heading, bold));
        lines.extend(
            bindings
                .iter()
                .map(|b| Line::raw(format!("  {:<KEYS_WIDTH$} {}", b.keys, b.help))),
        );
    }
    lines
}

/// The help, `scroll` lines down; never past its last line, so a short
/// terminal shows all of it a part at a time.
pub fn draw_help(frame: &mut Frame, scroll: u16) {
    let lines = help_lines();
    let width = lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 4;
    let area = centered(frame.area(), width, lines.len() as u16 + 2);
    let hidden = (lines.len() as u16).saturating_sub(area.height.saturating_sub(2));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(" keys (Up/Down scroll, q or ? closes) "))
            .scroll((scroll.min(hidden), 0)),
        area,
    );
}

/// A filter menu entry: every call, a class, or the failed calls.
fn menu_label(entry: Option<&Filter>) -> String {
    match entry {
        None => "all calls".into(),
        Some(Filter::Class(name)) => name.clone(),
        Some(Filter::Errors) => "errors (failed calls)".into(),
    }
}

pub fn draw_filter_menu<S: TraceSource>(app: &App<S>, frame: &mut Frame, cursor: usize) {
    let labels: Vec<String> = app.menu_entries().into_iter().map(menu_label).collect();
    let title = " filter: Enter picks, Esc closes ";
    let widest = labels.iter().map(|l| l.len()).max().unwrap_or(0);
    let width = (widest + 4).max(title.len() + 2) as u16;
    let area = centered(frame.area(), width, labels.len() as u16 + 2);
    let list = List::new(labels)
        .block(Block::bordered().title(title))
        .highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .highlight_symbol("> ");
    frame.render_widget(Clear, area);
    frame.render_stateful_widget(
        list,
        area,
        &mut ListState::default().with_selected(Some(cursor)),
    );
}

pub fn draw_stats(frame: &mut Frame, rows: &[StatRow], extra: &[String]) {
    let total: u64 = rows.iter().map(|r| r.ns).sum::<u64>().max(1);
    let mut lines = vec![Line::styled(
        format!(
            "{:>7} {:>12} {:>10} {:>8}  function",
            "% time", "seconds", "calls", "errors"
        ),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    for r in rows {
        lines.push(Line::from(format!(
            "{:>7.2} {:>12.6} {:>10} {:>8}  {}",
            r.ns as f64 * 100.0 / total as f64,
            r.ns as f64 / 1e9,
            r.calls,
            r.errors,
            r.name
        )));
    }
    lines.push(Line::from(""));
    lines.extend(extra.iter().map(|l| Line::from(l.clone())));
    let area = centered(frame.area(), 100, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" statistics (s or q closes) ")),
        area,
    );
}
