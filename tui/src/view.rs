//! Drawing the model. Nothing here changes state.

use crate::app::{App, Overlay, Pane, Prompt, StateView};
use crate::overlay;
use crate::source::{CallResult, Detail, MemBlock, RunStatus, TraceSource};
use crate::values;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

struct Areas {
    header: Rect,
    list: Rect,
    detail: Rect,
    timeline: Rect,
    output: Rect,
    status: Rect,
}

/// Columns from which the detail pane sits beside the list; on a narrower
/// terminal the list takes the whole width, so names are never cut.
const WIDE: u16 = 120;

/// Wide: the detail beside the list, a boxed timeline, the output at the
/// bottom. Narrow: the list across the screen, a one-line timeline, the
/// detail and the output side by side at the bottom.
fn areas(area: Rect) -> Areas {
    let wide = area.width >= WIDE;
    let (list_min, timeline_height) = if wide { (8, 4) } else { (6, 1) };
    let [header, middle, timeline, bottom, status] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(list_min),
        Constraint::Length(timeline_height),
        Constraint::Length(8),
        Constraint::Length(1),
    ])
    .areas(area);
    let (split, percent) = if wide { (middle, 58) } else { (bottom, 60) };
    let [left, right] = Layout::horizontal([
        Constraint::Percentage(percent),
        Constraint::Percentage(100 - percent),
    ])
    .areas(split);
    let (list, detail, output) = match wide {
        true => (left, right, bottom),
        false => (middle, left, right),
    };
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

/// The inside of the detail pane on a terminal of `area`.
pub fn detail_inner(area: Rect) -> Rect {
    Block::bordered().inner(areas(area).detail)
}

pub(crate) fn time(ns: u64) -> String {
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
    list::draw_list(app, frame, a.list);
    draw_detail(app, frame, a.detail);
    draw_timeline(app, frame, a.timeline);
    draw_output(app, frame, a.output);
    draw_status(app, frame, a.status);
    if app.memory.open {
        memory::draw_memory(app, frame);
    }
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => overlay::draw_help(frame, *scroll),
        Overlay::Stats(rows, extra) => overlay::draw_stats(frame, rows, extra),
        Overlay::Filter(menu) => overlay::draw_filter_menu(app, frame, menu),
        Overlay::Breakpoints { cursor } => {
            overlay::draw_breakpoints(frame, &app.breakpoints, *cursor)
        }
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
pub(crate) fn result_style(result: &CallResult) -> Style {
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

/// The state section under the call: its stack, the memory's size and
/// pointer arguments, the exported globals; or word that it is still
/// coming. Absent when the source computes no states.
fn state_lines(state: &StateView) -> Vec<Line<'static>> {
    let heading = |text: String| Line::styled(text, Style::new().fg(Color::Yellow));
    let s = match state {
        StateView::None => return Vec::new(),
        StateView::Computing(task) if task.done > 0 && task.done < task.total => {
            return vec![heading(format!(
                "stack and memory: replaying to #{}, at #{}",
                task.total - 1,
                task.done
            ))]
        }
        StateView::Computing(_) => return vec![heading("stack and memory: computing...".into())],
        StateView::Failed(why) => return vec![heading(format!("no stack or memory: {why}"))],
        StateView::Ready(s) => s,
    };
    let mut lines = vec![heading("stack:".into())];
    lines.extend(s.frames.iter().map(|f| Line::raw(format!("  {f}"))));
    lines.push(heading(format!(
        "memory when it returned: {} bytes (m shows it)",
        s.memory_size
    )));
    lines.extend(
        s.pointers
            .iter()
            .map(|p| Line::raw(format!("  {} {:#x}:{}", p.name, p.addr, p.len))),
    );
    if !s.globals.is_empty() {
        lines.push(heading("exported globals:".into()));
        lines.extend(
            s.globals
                .iter()
                .map(|(name, value)| Line::raw(format!("  {name} = {value}"))),
        );
    }
    lines
}

/// The detail pane's text, wrapped to the pane.
fn detail_paragraph<S: TraceSource>(app: &App<S>, width: u16) -> Paragraph<'static> {
    let mut lines = app
        .detail
        .as_ref()
        .map_or_else(Vec::new, |d| detail_lines(d, width as usize));
    // The state goes right under the result, before the memory dumps.
    let at = app
        .detail
        .as_ref()
        .map_or(0, |d| lines.len().min(detail_head_len(d, width as usize)));
    lines.splice(at..at, state_lines(&app.state));
    Paragraph::new(Text::from(lines)).wrap(Wrap { trim: false })
}

/// Lines of the detail before its memory dumps.
fn detail_head_len(d: &Detail, width: usize) -> usize {
    let mut short = d.clone();
    short.memory.clear();
    detail_lines(&short, width).len()
}

/// Lines the detail takes wrapped to `width` columns.
pub fn detail_height<S: TraceSource>(app: &App<S>, width: u16) -> usize {
    if width == 0 {
        return 0;
    }
    detail_paragraph(app, width).line_count(width)
}

fn draw_detail<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    let inner = Block::bordered().inner(area);
    let total = detail_height(app, inner.width);
    let title = if total > inner.height as usize {
        let first = app.detail_scroll as usize + 1;
        let last = (app.detail_scroll as usize + inner.height as usize).min(total);
        format!(" detail {first}-{last} of {total} (J/K) ")
    } else {
        " detail ".into()
    };
    let p = detail_paragraph(app, inner.width)
        .block(pane_block(title, app.focus == Pane::Detail))
        .scroll((app.detail_scroll, 0));
    frame.render_widget(p, area);
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The timeline's bars across `width` columns, and the column of the
/// selected call.
fn timeline_bars<S: TraceSource>(app: &App<S>, buckets: &[u64], width: usize) -> (String, usize) {
    let max = buckets.iter().copied().max().unwrap_or(1).max(1);
    let bars: String = (0..width)
        .map(|x| buckets[x * buckets.len() / width])
        .map(|n| match n {
            0 => ' ',
            n => BARS[((n * 7) / max) as usize],
        })
        .collect();
    let at = app.detail.as_ref().map(|d| d.time_ns).unwrap_or(0);
    let total = app.summary.duration_ns.max(1);
    let x = ((at as u128 * width as u128) / total as u128).min(width as u128 - 1) as usize;
    (bars, x)
}

fn draw_timeline<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    // On a narrow terminal: one line, no box, the selected call's column
    // in reverse video.
    let boxed = area.height >= 3;
    let width = area.width.saturating_sub(if boxed { 2 } else { 0 }) as usize;
    let lines = match &app.density {
        Some(buckets) if !buckets.is_empty() && width > 0 => {
            let (bars, x) = timeline_bars(app, buckets, width);
            if boxed {
                vec![Line::from(bars), Line::from(format!("{}^", " ".repeat(x)))]
            } else {
                let chars: Vec<char> = bars.chars().collect();
                let part = |r: std::ops::Range<usize>| chars[r].iter().collect::<String>();
                vec![Line::from(vec![
                    Span::raw(part(0..x)),
                    Span::styled(
                        part(x..x + 1),
                        Style::new().add_modifier(Modifier::REVERSED),
                    ),
                    Span::raw(part(x + 1..width)),
                ])]
            }
        }
        _ => vec![Line::from("computing the timeline...")],
    };
    let p = Paragraph::new(lines);
    let p = match boxed {
        true => p.block(Block::bordered().title(" timeline (calls over time) ")),
        false => p,
    };
    frame.render_widget(p, area);
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

/// What the status line says on the left: the prompt being typed, the
/// work in progress, or what just happened.
fn status_text<S: TraceSource>(app: &App<S>) -> String {
    if let Some(prompt) = &app.prompt {
        return match prompt {
            Prompt::Goto(s) => format!(":{s}_"),
            Prompt::Search(s) => format!("/{s}_"),
            Prompt::Address(s) => format!("address (0x hex or decimal): {s}_"),
            Prompt::Break(s) => format!("breakpoint (as replay --break): {s}_"),
        };
    }
    match &app.job {
        Some(job) => {
            let (done, total) = job.progress();
            format!(
                "{}: {}% ({done} of {total} calls), Esc stops",
                job.what(),
                job.percent()
            )
        }
        None => app.status.clone(),
    }
}

/// Where the selection is: `#41 (100 calls)`, call numbers as `dump`
/// prints them.
pub fn position_text<S: TraceSource>(app: &App<S>) -> String {
    let at = app.selected_seq().map_or("-".into(), |s| format!("#{s}"));
    match &app.filter {
        Some(f) => format!("{at} ({} of {} calls)", f.seqs.len(), app.source.len()),
        None => format!("{at} ({} calls)", app.source.len()),
    }
}

fn draw_status<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    // The help hint gives way to a long message.
    let mut right = format!("{}  ? help", position_text(app));
    if status_text(app).chars().count() + right.chars().count() >= area.width as usize {
        right = position_text(app);
    }
    let room = (area.width as usize).saturating_sub(right.chars().count() + 1);
    let left: String = status_text(app).chars().take(room).collect();
    let pad = (area.width as usize).saturating_sub(left.chars().count() + right.chars().count());
    frame.render_widget(
        Paragraph::new(format!("{left}{}{right}", " ".repeat(pad)))
            .style(Style::new().add_modifier(Modifier::REVERSED)),
        area,
    );
}

#[cfg(test)]
mod debugger_tests;
mod list;
pub mod memory;
#[cfg(test)]
mod tests;
