//! The call list: columns as wide as what they show, names never cut, the
//! arguments in what is left, the most telling ones kept.

use super::{pane_block, result_style, time};
use crate::app::{App, Pane};
use crate::source::{Row, TraceSource};
use crate::values;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Cell, Row as TableRow, Table, TableState};
use ratatui::Frame;

const TITLES: [&str; 5] = ["call", "time s", "function", "arguments", "result"];
/// Narrower than this, the arguments column gives way to the time column.
const MIN_ARGS: u16 = 16;

/// Widths of the call, time, function and result columns for `rows`
/// (each as wide as its widest cell), and of the arguments: what is left
/// of `inner`. The time column goes when the arguments would get less
/// than [`MIN_ARGS`].
pub fn column_widths(rows: &[Row], inner: u16) -> [u16; 5] {
    let widest = |title: &str, cells: &mut dyn Iterator<Item = usize>| {
        cells.max().unwrap_or(0).max(title.len()) as u16
    };
    let call = widest(
        TITLES[0],
        &mut rows.iter().map(|r| r.seq.to_string().len() + 1),
    );
    let mut time_w = widest(TITLES[1], &mut rows.iter().map(|r| time(r.time_ns).len()));
    let func = widest(TITLES[2], &mut rows.iter().map(|r| r.func.chars().count()));
    let result = widest(
        TITLES[4],
        &mut rows.iter().map(|r| r.result.short.chars().count()),
    );
    // One space between columns.
    let fixed = |time_w: u16| call + time_w + func + result + if time_w > 0 { 4 } else { 3 };
    if inner.saturating_sub(fixed(time_w)) < MIN_ARGS {
        time_w = 0;
    }
    let args = inner.saturating_sub(fixed(time_w));
    [call, time_w, func, args, result]
}

pub fn draw_list<S: TraceSource>(app: &App<S>, frame: &mut Frame, area: Rect) {
    let inner = area.width.saturating_sub(2);
    let widths = column_widths(&app.visible, inner);
    let with_time = widths[1] > 0;
    let rows = app.visible.iter().map(|r| {
        let mut cells = vec![Cell::from(format!("#{}", r.seq))];
        if with_time {
            cells.push(Cell::from(time(r.time_ns)));
        }
        cells.push(Cell::from(r.func.clone()));
        let args = values::fit_args(&r.args, widths[3] as usize);
        // A failed or injected call's row is red or magenta throughout.
        let args = match r.result.is_error || r.result.injected {
            true => args.to_string().into(),
            false => args,
        };
        cells.push(Cell::from(args));
        cells.push(Cell::from(r.result.short.clone()));
        TableRow::new(cells).style(result_style(&r.result))
    });
    let (titles, widths): (Vec<&str>, Vec<Constraint>) = TITLES
        .iter()
        .zip(widths)
        .filter(|(_, w)| *w > 0)
        .map(|(t, w)| (*t, Constraint::Length(w)))
        .unzip();
    let title = match &app.filter {
        Some(f) => format!(
            " calls: filter {}, {} of {} ",
            f.expr,
            f.seqs.len(),
            app.source.len()
        ),
        None => format!(" calls ({}) ", app.source.len()),
    };
    let table = Table::new(rows, widths)
        .header(TableRow::new(titles).style(Style::new().add_modifier(Modifier::BOLD)))
        .block(pane_block(title, app.focus == Pane::List))
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default();
    if app.count() > 0 {
        state.select(Some((app.selected - app.offset) as usize));
    }
    frame.render_stateful_widget(table, area, &mut state);
}
