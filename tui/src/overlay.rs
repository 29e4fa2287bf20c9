//! The views drawn over the panes: the help, the filter menu and the
//! statistics.

use crate::app::App;
use crate::filter_menu::FilterMenu;
use crate::keys;
use crate::source::{StatRow, TraceSource};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};
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
/// line per binding; a description longer than `width` columns allow goes
/// on under itself.
pub fn help_lines(width: usize) -> Vec<Line<'static>> {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let indent = " ".repeat(KEYS_WIDTH + 3);
    let room = width.saturating_sub(KEYS_WIDTH + 3).max(20);
    let mut lines = Vec::new();
    for (i, (heading, bindings)) in keys::help().into_iter().enumerate() {
        if i > 0 {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(heading, bold));
        for b in &bindings {
            for (j, part) in wrap_words(b.help, room).into_iter().enumerate() {
                lines.push(Line::raw(match j {
                    0 => format!("  {:<KEYS_WIDTH$} {part}", b.keys),
                    _ => format!("{indent}{part}"),
                }));
            }
        }
    }
    lines
}

/// `text` in lines of at most `width` columns, broken between words.
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = vec![String::new()];
    for word in text.split(' ') {
        let line = out.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    out
}

/// The help, `scroll` lines down; never past its last line, so a short
/// terminal shows all of it a part at a time.
pub fn draw_help(frame: &mut Frame, scroll: u16) {
    let lines = help_lines(frame.area().width.saturating_sub(4) as usize);
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

/// Completions shown at once under the filter prompt.
const MENU_ROWS: usize = 12;

/// The filter prompt: what is typed, a hint or why it was refused, and the
/// words that fit the one being typed, the picked one marked.
pub fn draw_filter_menu<S: TraceSource>(app: &App<S>, frame: &mut Frame, menu: &FilterMenu) {
    let candidates = menu.candidates(&app.filter_words);
    let cursor = menu.cursor.unwrap_or(0);
    // The window of candidates keeps the picked one in view.
    let first = (cursor + 1).saturating_sub(MENU_ROWS);
    let mut lines = vec![
        Line::raw(format!("filter: {}_", menu.text)),
        match &menu.error {
            Some(why) => Line::styled(why.clone(), Style::new().fg(Color::Red)),
            None => Line::styled(
                "Tab completes, Enter filters, nothing typed: every call",
                Style::new().fg(Color::DarkGray),
            ),
        },
    ];
    for (i, word) in candidates.iter().enumerate().skip(first).take(MENU_ROWS) {
        let line = format!("  {word}");
        lines.push(match menu.cursor == Some(i) {
            true => Line::styled(line, Style::new().add_modifier(Modifier::REVERSED)),
            false => Line::raw(line),
        });
    }
    if candidates.is_empty() {
        lines.push(Line::raw(format!(
            "  no name or class has {:?}",
            menu.word()
        )));
    }
    let title = " filter, as dump -e takes it (Esc closes) ";
    let widest = lines.iter().map(Line::width).max().unwrap_or(0);
    let width = (widest.max(title.len()) + 2) as u16;
    let area = centered(frame.area(), width.max(50), lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        area,
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

/// The breakpoints, numbered as the status line names them, the one
/// picked in reverse video.
pub fn draw_breakpoints(frame: &mut Frame, breakpoints: &[String], cursor: usize) {
    let mut lines: Vec<Line> = breakpoints
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let line = format!("{:>3}  {b}", i + 1);
            match i == cursor {
                true => Line::styled(line, Style::new().add_modifier(Modifier::REVERSED)),
                false => Line::raw(line),
            }
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::raw("no breakpoints: b sets one"));
    }
    lines.push(Line::styled(
        "c continues to the next match, C back to the previous",
        Style::new().fg(Color::DarkGray),
    ));
    let title = " breakpoints (d deletes, b adds, B closes) ";
    let widest = lines.iter().map(Line::width).max().unwrap_or(0);
    let width = (widest.max(title.len()) + 2) as u16;
    let area = centered(frame.area(), width, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        area,
    );
}
