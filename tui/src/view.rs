//! Drawing the model. Nothing here changes state.

use crate::app::{App, Overlay, Pane, Prompt};
use crate::keys::HELP;
use crate::source::{MemBlock, TraceSource};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, Paragraph, Row as TableRow, Table, TableState, Wrap,
};
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

fn pane_block(title: String, focused: bool) -> Block<'static> {
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
        Overlay::Help => draw_help(frame),
        Overlay::Stats(rows, extra) => draw_stats(frame, rows, extra),
    }
}

fn draw_header<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    let s = &app.summary;
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let lines = vec![
        Line::from(vec![
            Span::styled(format!("{} ", s.module), bold),
            Span::raw(format!("blake3 {}  ", &s.blake3[..s.blake3.len().min(16)])),
            Span::raw(format!("args {}", s.args)),
        ]),
        Line::from(format!(
            "{} calls in {:.3} s, {}",
            s.calls,
            s.duration_ns as f64 / 1e9,
            s.status
        )),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_list<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    let rows = app.visible.iter().map(|r| {
        let style = if r.is_error {
            Style::new().fg(Color::Red)
        } else {
            Style::new()
        };
        TableRow::new(vec![
            Cell::from(format!("#{}", r.seq)),
            Cell::from(time(r.time_ns)),
            Cell::from(r.func.clone()),
            Cell::from(r.args.clone()),
            Cell::from(r.result.clone()),
        ])
        .style(style)
    });
    let widths = [
        Constraint::Length(9),
        Constraint::Length(10),
        Constraint::Length(22),
        Constraint::Fill(1),
        Constraint::Length(18),
    ];
    let title = match &app.filter {
        Some((class, seqs)) => format!(
            " calls: {class} filter, {} of {} ",
            seqs.len(),
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
                if (0x20..0x7f).contains(&b) {
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

fn draw_detail<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = Vec::new();
    if let Some(d) = &app.detail {
        lines.push(Line::styled(
            format!(
                "#{} {}  at {} s, {} µs",
                d.seq,
                d.func,
                time(d.time_ns),
                d.dur_ns / 1000
            ),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        for (k, v) in &d.args {
            lines.push(Line::from(format!("  {k} = {v}")));
        }
        let style = if d.result.starts_with('0') {
            Style::new()
        } else {
            Style::new().fg(Color::Red)
        };
        lines.push(Line::styled(format!("result: {}", d.result), style));
        for (k, v) in &d.outs {
            lines.push(Line::from(if k.is_empty() {
                format!("  {v}")
            } else {
                format!("  {k} = {v}")
            }));
        }
        for m in &d.memory {
            lines.push(Line::styled(
                format!("{} at {:#x}, {} bytes", m.label, m.addr, m.bytes.len()),
                Style::new().fg(Color::Yellow),
            ));
            lines.extend(hex_lines(m, 128).into_iter().map(Line::from));
        }
    }
    let p = Paragraph::new(Text::from(lines))
        .block(pane_block(" detail ".into(), app.focus == Pane::Detail))
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

fn draw_help(frame: &mut Frame) {
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, v)| Line::from(format!("{k:<16} {v}")))
        .collect();
    let area = centered(frame.area(), 90, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" keys (q or ? closes) ")),
        area,
    );
}

fn draw_stats(frame: &mut Frame, rows: &[crate::source::StatRow], extra: &[String]) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests::Fake;
    use crate::app::Message;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    /// The screen as text, a line per row.
    fn screen(app: &mut App<Fake>) -> Vec<String> {
        let backend = TestBackend::new(140, 40);
        let mut t = Terminal::new(backend).unwrap();
        app.refresh(list_page(Rect::new(0, 0, 140, 40)));
        t.draw(|f| draw(app, f)).unwrap();
        let buf = t.backend().buffer();
        buf.content()
            .chunks(buf.area.width as usize)
            .map(|row| row.iter().map(|c| c.symbol()).collect())
            .collect()
    }

    fn find<'a>(lines: &'a [String], text: &str) -> &'a str {
        lines
            .iter()
            .find(|l| l.contains(text))
            .unwrap_or_else(|| panic!("{text:?} not on screen:\n{}", lines.join("\n")))
    }

    #[test]
    fn the_screen_shows_header_rows_detail_output_and_status() {
        let mut app = App::new(Fake { n: 100 });
        let s = screen(&mut app);
        assert!(
            s[0].starts_with("fake.wasm blake3 0123456789abcdef  args [\"x\"]"),
            "{}",
            s[0]
        );
        assert!(
            s[1].starts_with("100 calls in 0.000 s, exited with 0"),
            "{}",
            s[1]
        );
        assert!(find(&s, " calls (100) ").starts_with("┌"));
        assert!(find(&s, "#0 ").contains("fd_write"));
        assert!(find(&s, "#7 ").contains("path_open") && find(&s, "#7 ").contains("44 ENOENT"));
        find(&s, "#0 fd_write  at 0.000000 s, 2 µs");
        assert!(find(&s, "0x00000010  68 65 6c 6c 6f 2c 20 77").contains("|hello, w|"));
        assert!(find(&s, "0x00000018  6f 72 6c 64 21").contains("|orld!|"));
        assert!(find(&s, "line 0").starts_with("│line 0"));
        assert!(
            s.last().unwrap().ends_with("call 0 of 100  ? help  q quit"),
            "{}",
            s.last().unwrap()
        );
    }

    #[test]
    fn jumping_to_the_end_and_the_help_overlay() {
        let mut app = App::new(Fake { n: 100 });
        screen(&mut app);
        app.update(Message::Last);
        let s = screen(&mut app);
        assert!(find(&s, "#99 ").contains("clock_time_get"));
        assert!(
            s.iter().any(|l| l.contains("line 95")),
            "output as it stood at #99"
        );
        assert!(s
            .last()
            .unwrap()
            .ends_with("call 99 of 100  ? help  q quit"));
        app.update(Message::ToggleHelp);
        let s = screen(&mut app);
        assert!(find(&s, " keys (q or ? closes) ").contains('┌'));
        assert!(find(&s, ": N Enter").contains("go to call N"));
        app.update(Message::StartSearch);
        app.update(Message::PromptChar('f'));
        let s = screen(&mut app);
        assert!(
            s.last().unwrap().starts_with("/f_"),
            "{}",
            s.last().unwrap()
        );
    }
}
