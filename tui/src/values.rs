//! Decoded values as lines of the detail pane. Each argument gets a line;
//! a value that fits the pane stays on its name's line, written as `dump`
//! writes it; a longer list or structure opens onto a line per element,
//! indented under its name.

use crate::source::{Item, Value, ValueKind};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

/// Spaces per level of nesting.
const INDENT: usize = 2;

/// The lines of `items`, `indent` spaces in, for a pane `width` wide.
pub fn item_lines(items: &[Item], indent: usize, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for item in items {
        push_value(
            &mut out,
            format!("{} = ", item.name),
            &item.value,
            indent,
            width,
        );
    }
    out
}

/// `label value` on one line when it fits (or cannot be split), else the
/// label and an opening bracket, the elements a level in, the closing one.
fn push_value(
    out: &mut Vec<Line<'static>>,
    label: String,
    value: &Value,
    indent: usize,
    width: usize,
) {
    let mut spans = vec![Span::raw(" ".repeat(indent)), Span::raw(label)];
    let inline = inline_spans(value);
    let fits = spans_width(&spans) + spans_width(&inline) <= width;
    let (open, close) = match value {
        Value::List(_) => ("[", "]"),
        Value::Record(_) => ("{", "}"),
        Value::Scalar { .. } | Value::Fd { .. } => ("", ""),
    };
    if fits || open.is_empty() {
        spans.extend(inline);
        out.push(Line::from(spans));
        return;
    }
    spans.push(Span::raw(open));
    out.push(Line::from(spans));
    let inner = indent + INDENT;
    match value {
        Value::List(values) => {
            for v in values {
                push_value(out, String::new(), v, inner, width);
            }
        }
        Value::Record(items) => out.extend(item_lines(items, inner, width)),
        Value::Scalar { .. } | Value::Fd { .. } => {}
    }
    out.push(Line::raw(format!("{}{close}", " ".repeat(indent))));
}

fn spans_width(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// The value on one line, as `dump` writes it: `[a, b]`, `{name=v, data}`,
/// `4</data/x>`.
pub fn inline_spans(value: &Value) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    push_inline(&mut out, value, false);
    out
}

/// `compact` leaves out the numbers, names and addresses inside
/// structures (a run of them becomes `…`): `[{…, "data"}]`.
fn push_inline(out: &mut Vec<Span<'static>>, value: &Value, compact: bool) {
    match value {
        Value::Scalar { text, kind } => out.push(Span::styled(text.clone(), style(*kind))),
        Value::Fd { fd, path } => {
            out.push(Span::raw(fd.to_string()));
            if let Some(p) = path {
                out.push(Span::styled(format!("<{p}>"), Style::new().fg(Color::Cyan)));
            }
        }
        Value::List(values) => {
            out.push(Span::raw("["));
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push(Span::raw(", "));
                }
                push_inline(out, v, compact);
            }
            out.push(Span::raw("]"));
        }
        Value::Record(items) => {
            out.push(Span::raw("{"));
            let left_out = |i: usize| compact && rank(&items[i].value) >= 2;
            for (i, item) in items.iter().enumerate() {
                if left_out(i) && i > 0 && left_out(i - 1) {
                    continue;
                }
                if i > 0 {
                    out.push(Span::raw(", "));
                }
                if left_out(i) {
                    out.push(Span::raw("…"));
                    continue;
                }
                if !item.bare {
                    out.push(Span::raw(format!("{}=", item.name)));
                }
                push_inline(out, &item.value, compact);
            }
            out.push(Span::raw("}"));
        }
    }
}

/// How telling an argument is on a one-line row, most first: data and
/// paths, then fds (with their paths), then numbers and names, then
/// addresses.
fn rank(value: &Value) -> u8 {
    match value {
        Value::Scalar {
            kind: ValueKind::Str,
            ..
        } => 0,
        Value::List(values) if values.iter().any(|v| rank(v) == 0) => 0,
        Value::Record(items) if items.iter().any(|i| rank(&i.value) == 0) => 0,
        Value::Fd { .. } => 1,
        Value::Scalar {
            kind: ValueKind::Address | ValueKind::Note,
            ..
        } => 3,
        _ => 2,
    }
}

/// `name=value`, or the value alone for a bare item.
fn item_spans(item: &Item, compact: bool) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    if !item.bare {
        spans.push(Span::raw(format!("{}=", item.name)));
    }
    push_inline(&mut spans, &item.value, compact);
    spans
}

/// The arguments on one line of at most `width` columns, as `dump` writes
/// them. When they do not fit, the least telling go first (see [`rank`];
/// among equals, the later), each run of them shown as `…`; then the
/// numbers and addresses inside structures (an iovec's data stays); the
/// last one left is cut at the end.
pub fn fit_args(items: &[Item], width: usize) -> Line<'static> {
    let (line, cut) = fit_parts(items, width, false);
    match cut {
        true => fit_parts(items, width, true).0,
        false => line,
    }
}

/// [`fit_args`] with structures in full or `compact`; true when the line
/// had to be cut.
fn fit_parts(items: &[Item], width: usize, compact: bool) -> (Line<'static>, bool) {
    let parts: Vec<Vec<Span>> = items.iter().map(|i| item_spans(i, compact)).collect();
    let mut keep = vec![true; items.len()];
    let mut worst_first: Vec<usize> = (0..items.len()).collect();
    worst_first.sort_by_key(|&i| std::cmp::Reverse((rank(&items[i].value), i)));
    let mut drops = worst_first.into_iter();
    loop {
        let line = join_kept(&parts, &keep);
        if line.width() <= width {
            return (line, false);
        }
        match drops.next() {
            Some(i) if keep.iter().filter(|k| **k).count() > 1 => keep[i] = false,
            _ => return (cut(line, width), true),
        }
    }
}

/// The kept parts joined with `, `; a run of dropped ones is one `…`.
fn join_kept(parts: &[Vec<Span<'static>>], keep: &[bool]) -> Line<'static> {
    let mut spans: Vec<Span> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if !keep[i] && i > 0 && !keep[i - 1] {
            continue;
        }
        if i > 0 {
            spans.push(Span::raw(", "));
        }
        match keep[i] {
            true => spans.extend(part.iter().cloned()),
            false => spans.push(Span::raw("…")),
        }
    }
    Line::from(spans)
}

/// `line` cut to `width` columns, the cut marked with `…`.
fn cut(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let mut room = width.saturating_sub(1);
    let mut spans = Vec::new();
    for span in line.spans {
        if room == 0 {
            break;
        }
        let text: String = span.content.chars().take(room).collect();
        room -= text.chars().count();
        spans.push(Span::styled(text, span.style));
    }
    if width > 0 {
        spans.push(Span::raw("…"));
    }
    Line::from(spans)
}

fn style(kind: ValueKind) -> Style {
    match kind {
        ValueKind::Number => Style::new(),
        ValueKind::Address => Style::new().fg(Color::DarkGray),
        ValueKind::Name => Style::new().fg(Color::Magenta),
        ValueKind::Str => Style::new().fg(Color::Green),
        ValueKind::Error => Style::new().fg(Color::Red),
        ValueKind::Note => Style::new().fg(Color::Yellow),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    fn stat() -> Value {
        let n = |v: &str| Value::scalar(v, ValueKind::Number);
        Value::Record(vec![
            Item::new("filetype", Value::scalar("REGULAR_FILE", ValueKind::Name)),
            Item::new("size", n("18")),
            Item::new("mtim", n("1700000000000000000")),
        ])
    }

    fn path_open() -> Vec<Item> {
        let name = |v: &str| Value::scalar(v, ValueKind::Name);
        vec![
            Item::new(
                "fd",
                Value::Fd {
                    fd: 3,
                    path: Some("/data".into()),
                },
            ),
            Item::new("dirflags", name("SYMLINK_FOLLOW")),
            Item::new("path", Value::scalar("\"input/data.txt\"", ValueKind::Str)),
            Item::new("oflags", name("CREAT|TRUNC")),
            Item::new("fs_rights_base", name("FD_READ|FD_SEEK|...")),
            Item::new("buf", Value::scalar("0x1a000", ValueKind::Address)),
        ]
    }

    #[test]
    fn a_row_keeps_the_most_telling_arguments() {
        let fit = |w| fit_args(&path_open(), w).to_string();
        let all = "fd=3</data>, dirflags=SYMLINK_FOLLOW, path=\"input/data.txt\", \
                   oflags=CREAT|TRUNC, fs_rights_base=FD_READ|FD_SEEK|..., buf=0x1a000";
        assert_eq!(fit(200), all);
        assert_eq!(
            fit(90),
            "fd=3</data>, dirflags=SYMLINK_FOLLOW, path=\"input/data.txt\", oflags=CREAT|TRUNC, …"
        );
        assert_eq!(fit(40), "fd=3</data>, …, path=\"input/data.txt\", …");
        assert_eq!(fit(30), "…, path=\"input/data.txt\", …");
        assert_eq!(fit(12), "…, path=\"in…");
        assert!(fit(12).chars().count() <= 12);
    }

    #[test]
    fn a_row_keeps_the_data_of_a_structure() {
        let iovec = Value::Record(vec![
            Item::new("buf", Value::scalar("0x1464000", ValueKind::Address)),
            Item::new("len", Value::scalar("35", ValueKind::Number)),
            Item {
                bare: true,
                ..Item::new("data", Value::scalar("\"notes.txt has\"", ValueKind::Str))
            },
        ]);
        let items = [
            Item::new("fd", Value::Fd { fd: 1, path: None }),
            Item::new("iovs", Value::List(vec![iovec])),
        ];
        let fit = |w| fit_args(&items, w).to_string();
        assert_eq!(
            fit(60),
            "fd=1, iovs=[{buf=0x1464000, len=35, \"notes.txt has\"}]"
        );
        assert_eq!(fit(30), "…, iovs=[{…, \"notes.txt has\"}]");
        assert_eq!(fit(20), "…, iovs=[{…, \"notes…");
    }

    #[test]
    fn a_value_that_fits_stays_on_its_line() {
        let items = [
            Item::new(
                "fd",
                Value::Fd {
                    fd: 4,
                    path: Some("/data/x".into()),
                },
            ),
            Item::new("stat", stat()),
        ];
        assert_eq!(
            text(&item_lines(&items, 2, 80)),
            [
                "  fd = 4</data/x>",
                "  stat = {filetype=REGULAR_FILE, size=18, mtim=1700000000000000000}",
            ]
        );
        let fd = inline_spans(&items[0].value);
        assert_eq!(fd[1].style.fg, Some(Color::Cyan), "the path stands out");
    }

    #[test]
    fn a_long_list_or_structure_gets_a_line_per_element() {
        let items = [Item::new("stats", Value::List(vec![stat(), stat()]))];
        assert_eq!(
            text(&item_lines(&items, 2, 64)),
            [
                "  stats = [",
                "    {filetype=REGULAR_FILE, size=18, mtim=1700000000000000000}",
                "    {filetype=REGULAR_FILE, size=18, mtim=1700000000000000000}",
                "  ]",
            ]
        );
        assert_eq!(
            text(&item_lines(&items, 2, 40)),
            [
                "  stats = [",
                "    {",
                "      filetype = REGULAR_FILE",
                "      size = 18",
                "      mtim = 1700000000000000000",
                "    }",
                "    {",
                "      filetype = REGULAR_FILE",
                "      size = 18",
                "      mtim = 1700000000000000000",
                "    }",
                "  ]",
            ]
        );
    }
}
