//! Drawing the model. Nothing here changes state.

use crate::app::{App, Overlay, Pane, Prompt};
use crate::overlay;
use crate::source::{CallResult, Detail, MemBlock, RunStatus, TraceSource};
use crate::values;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row as TableRow, Table, TableState, Wrap};
use ratatui::Frame;

struct Areas {
    header: Rect,
    list: Rect,
    detail: Rect,
    timeline: Rect,
    output: Rect,
    status: Rect,
}

fn areas(area: Rect) -> Areas {
    let [header, middle, timeline, output, status] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(8),
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Length(1),
    ])
    .areas(area);
    let [list, detail] =
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(middle);
    Areas {
        header,
        list,
        detail,
        timeline,
        output,
        status,
    }
}

/// Rows of the call list that fit in `area` (borders and the column titles
/// take three lines).
pub fn list_page(area: Rect) -> u64 {
    areas(area).list.height.saturating_sub(3).max(1) as u64
}

fn time(ns: u64) -> String {
    format!("{:.6}", ns as f64 / 1e9)
}

pub fn pane_block(title: String, focused: bool) -> Block<'static> {
    let style = if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new()
    };
    Block::new()
        .borders(Borders::ALL)
        .border_style(style)
        .title(title)
}

pub fn draw<S: TraceSource>(app: &App<S>, frame: &mut Frame) {
    let a = areas(frame.area());
    draw_header(app, frame, a.header);
    draw_list(app, frame, a.list);
    draw_detail(app, frame, a.detail);
    draw_timeline(app, frame, a.timeline);
    draw_output(app, frame, a.output);
    draw_status(app, frame, a.status);
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => overlay::draw_help(frame, *scroll),
        Overlay::Stats(rows, extra) => overlay::draw_stats(frame, rows, extra),
        Overlay::Filters { cursor } => overlay::draw_filter_menu(app, frame, *cursor),
    }
}

/// The argv as a shell would take it back: words with spaces, quotes or
/// other special characters quoted.
pub fn argv_text(argv: &[String]) -> String {
    let plain = |w: &str| {
        !w.is_empty()
            && w.chars().all(|c| {
                matches!(c, 'a'..='z' | 'A'..='Z' | '0'..='9'
                    | '-' | '_' | '.' | '/' | '=' | ':' | ',' | '+' | '@' | '%')
            })
    };
    let words: Vec<String> = argv
        .iter()
        .map(|w| {
            if plain(w) {
                w.clone()
            } else {
                format!("{w:?}")
            }
        })
        .collect();
    words.join(" ")
}

/// How the run ended: a trap in red, a run that did not end in yellow.
fn status_style(status: &RunStatus) -> Style {
    match status {
        RunStatus::Exited(_) => Style::new(),
        RunStatus::Trapped(_) => Style::new().fg(Color::Red),
        RunStatus::Killed(_) | RunStatus::RecordingStopped(_) | RunStatus::Unfinished(_) => {
            Style::new().fg(Color::Yellow)
        }
    }
}

/// Injected results in magenta (they are not the host's), errors in red.
fn result_style(result: &CallResult) -> Style {
    if result.injected {
        Style::new().fg(Color::Magenta)
    } else if result.is_error {
        Style::new().fg(Color::Red)
    } else {
        Style::new()
    }
}

fn draw_header<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    let s = &app.summary;
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let lines = vec![
        Line::from(vec![
            Span::styled(format!("{} ", s.module), bold),
            Span::raw(format!("blake3 {}  ", &s.blake3[..s.blake3.len().min(16)])),
            Span::raw(format!("argv: {}", argv_text(&s.argv))),
        ]),
        Line::from(vec![
            Span::raw(format!(
                "{} calls in {:.3} s, ",
                s.calls,
                s.duration_ns as f64 / 1e9
            )),
            Span::styled(s.status.to_string(), status_style(&s.status)),
        ]),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_list<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    let rows = app.visible.iter().map(|r| {
        TableRow::new(vec![
            Cell::from(format!("#{}", r.seq)),
            Cell::from(time(r.time_ns)),
            Cell::from(r.func.clone()),
            Cell::from(r.args.clone()),
            Cell::from(r.result.short.clone()),
        ])
        .style(result_style(&r.result))
    });
    let widths = [
        Constraint::Length(9),
        Constraint::Length(10),
        Constraint::Length(22),
        Constraint::Fill(1),
        Constraint::Length(18),
    ];
    let title = match &app.filter {
        Some(f) => format!(
            " calls: {} filter, {} of {} ",
            f.filter,
            f.seqs.len(),
            app.source.len()
        ),
        None => format!(" calls ({}) ", app.source.len()),
    };
    let table = Table::new(rows, widths)
        .header(
            TableRow::new(["call", "time s", "function", "arguments", "result"])
                .style(Style::new().add_modifier(Modifier::BOLD)),
        )
        .block(pane_block(title, app.focus == Pane::List))
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default();
    if app.count() > 0 {
        state.select(Some((app.selected - app.offset) as usize));
    }
    frame.render_stateful_widget(table, area, &mut state);
}

/// Bytes per hex dump line: hex and text side by side fit a narrow pane.
const HEX_WIDTH: usize = 8;

/// `0x00001000  68 65 6c 6c 6f 2c 20 77  |hello, w|`.
pub fn hex_lines(block: &MemBlock, max_lines: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (i, chunk) in block.bytes.chunks(HEX_WIDTH).enumerate() {
        if i == max_lines {
            out.push(format!(
                "  ... {} more bytes",
                block.bytes.len() - i * HEX_WIDTH
            ));
            break;
        }
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let text: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        out.push(format!(
            "{:#010x}  {:<23}  |{text}|",
            block.addr as usize + i * HEX_WIDTH,
            hex.join(" ")
        ));
    }
    out
}

/// The selected call: a title line, an argument per line, the result (red
/// when the call failed), the outputs, then the memory it touched.
fn detail_lines(d: &Detail, width: usize) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(
        format!(
            "#{} {}  at {} s, {} µs",
            d.seq,
            d.func,
            time(d.time_ns),
            d.dur_ns / 1000
        ),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    lines.extend(values::item_lines(&d.args, 2, width));
    lines.push(Line::styled(
        format!("result: {}", d.result.full),
        result_style(&d.result),
    ));
    lines.extend(values::item_lines(&d.outs, 2, width));
    for m in &d.memory {
        lines.push(Line::styled(
            format!("{} at {:#x}, {} bytes", m.label, m.addr, m.bytes.len()),
            Style::new().fg(Color::Yellow),
        ));
        lines.extend(hex_lines(m, 128).into_iter().map(Line::from));
    }
    lines
}

fn draw_detail<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    let width = area.width.saturating_sub(2) as usize;
    let lines = app
        .detail
        .as_ref()
        .map_or_else(Vec::new, |d| detail_lines(d, width));
    let p = Paragraph::new(Text::from(lines))
        .block(pane_block(" detail ".into(), app.focus == Pane::Detail))
        // Long data wraps rather than running off the pane.
        .wrap(Wrap { trim: false })
        .scroll((app.detail_scroll, 0));
    frame.render_widget(p, area);
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn draw_timeline<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    let width = area.width.saturating_sub(2) as usize;
    let lines = match &app.density {
        Some(buckets) if !buckets.is_empty() && width > 0 => {
            let max = buckets.iter().copied().max().unwrap_or(1).max(1);
            let cells: Vec<usize> = (0..width).map(|x| x * buckets.len() / width).collect();
            let bars: String = cells
                .iter()
                .map(|&b| {
                    if buckets[b] == 0 {
                        ' '
                    } else {
                        BARS[((buckets[b] * 7) / max) as usize]
                    }
                })
                .collect();
            let at = app.detail.as_ref().map(|d| d.time_ns).unwrap_or(0);
            let total = app.summary.duration_ns.max(1);
            let x = ((at as u128 * width as u128) / total as u128).min(width as u128 - 1) as usize;
            vec![Line::from(bars), Line::from(format!("{}^", " ".repeat(x)))]
        }
        _ => vec![Line::from("computing the timeline...")],
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" timeline (calls over time) ")),
        area,
    );
}

fn draw_output<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    let (out, err) = &app.output;
    let mut lines: Vec<Line> = String::from_utf8_lossy(out)
        .lines()
        .map(|l| Line::from(l.to_string()))
        .collect();
    lines.extend(
        String::from_utf8_lossy(err)
            .lines()
            .map(|l| Line::styled(l.to_string(), Style::new().fg(Color::Red))),
    );
    let height = area.height.saturating_sub(2) as usize;
    let bottom = lines.len().saturating_sub(height) as u16;
    let p = Paragraph::new(Text::from(lines))
        .block(pane_block(
            if app.reading {
                " guest output at this call (stderr in red; still reading the trace...) ".into()
            } else {
                " guest output at this call (stderr in red) ".into()
            },
            app.focus == Pane::Output,
        ))
        .wrap(Wrap { trim: false })
        .scroll((bottom.saturating_sub(app.output_scroll), 0));
    frame.render_widget(p, area);
}

fn draw_status<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    let left = match &app.prompt {
        Some(Prompt::Goto(s)) => format!(":{s}_"),
        Some(Prompt::Search(s)) => format!("/{s}_"),
        None => app.status.clone(),
    };
    let right = format!(
        "call {} of {}  ? help  q quit",
        app.selected_seq().map_or("-".into(), |s| s.to_string()),
        app.source.len()
    );
    let pad = (area.width as usize).saturating_sub(left.chars().count() + right.len());
    frame.render_widget(
        Paragraph::new(format!("{left}{}{right}", " ".repeat(pad)))
            .style(Style::new().add_modifier(Modifier::REVERSED)),
        area,
    );
}

#[cfg(test)]
mod tests;
