//! The view drawn on a test backend: exact text and colours.

use super::*;
use crate::app::Message;
use crate::fake::{Fake, ENDLESS};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;

/// The screen drawn on a terminal `width` by `height`.
pub(super) fn render_on(app: &mut App<Fake>, width: u16, height: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    app.refresh_screen(Rect::new(0, 0, width, height));
    t.draw(|f| draw(app, f)).unwrap();
    t.backend().buffer().clone()
}

fn render(app: &mut App<Fake>) -> Buffer {
    render_on(app, 140, 40)
}

/// The screen as text, a line per row.
pub(super) fn lines(buf: &Buffer) -> Vec<String> {
    buf.content()
        .chunks(buf.area.width as usize)
        .map(|row| row.iter().map(|c| c.symbol()).collect())
        .collect()
}

fn screen(app: &mut App<Fake>) -> Vec<String> {
    lines(&render(app))
}

pub(super) fn find<'a>(lines: &'a [String], text: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("{text:?} not on screen:\n{}", lines.join("\n")))
}

/// Whether the screen shows `block`: its lines one under the other,
/// starting at one column, each followed by blanks up to a box's
/// border or the screen's edge.
pub(super) fn shows(lines: &[String], block: &[&str]) -> bool {
    let grid: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
    let at = |y: usize, x: usize, text: &str| {
        let Some(row) = grid.get(y) else {
            return false;
        };
        let want: Vec<char> = text.chars().collect();
        let end = x + want.len();
        let rest = row.get(end..).unwrap_or_default();
        let blanks = rest.iter().take_while(|c| **c != '│').all(|c| *c == ' ');
        row.get(x..end) == Some(&want[..]) && blanks
    };
    (0..grid.len())
        .any(|y| (0..grid[y].len()).any(|x| block.iter().enumerate().all(|(i, t)| at(y + i, x, t))))
}

pub(super) fn assert_shows(lines: &[String], block: &[&str]) {
    assert!(
        shows(lines, block),
        "{block:#?} not on screen:\n{}",
        lines.join("\n")
    );
}

/// The foreground colours of the row showing call `seq` in the list.
fn row_colours(buf: &Buffer, seq: u64) -> Vec<Color> {
    let text = lines(buf);
    let y = text
        .iter()
        .position(|l| l.starts_with(&format!("│#{seq} ")))
        .unwrap_or_else(|| panic!("no row #{seq}:\n{}", text.join("\n")));
    let list = areas(buf.area).list;
    (list.x + 1..list.right() - 1)
        .map(|x| buf[(x, y as u16)].fg)
        .collect()
}

/// The foreground colour of `text` where the screen first shows it.
fn colour_of(buf: &Buffer, text: &str) -> Color {
    let s = lines(buf);
    let y = s.iter().position(|l| l.contains(text)).unwrap();
    let x = s[y].chars().count() - s[y][s[y].find(text).unwrap()..].chars().count();
    buf[(x as u16, y as u16)].fg
}

pub(super) fn go_to(app: &mut App<Fake>, seq: u64) {
    app.update(Message::StartGoto);
    for c in seq.to_string().chars() {
        app.update(Message::PromptChar(c));
    }
    app.update(Message::PromptSubmit);
}

#[test]
fn the_header_shows_the_argv_and_how_the_run_ended() {
    let s = screen(&mut App::new(Fake::new(100)));
    assert_eq!(
        s[0].trim_end(),
        "fake.wasm blake3 0123456789abcdef  argv: fake.wasm x \"two words\""
    );
    assert_eq!(s[1].trim_end(), "100 calls in 0.000 s, exited with 2");
}

#[test]
fn the_screen_shows_rows_detail_output_and_status() {
    let mut app = App::new(Fake::new(100));
    let s = screen(&mut app);
    assert!(find(&s, " calls (100) ").starts_with("┌"));
    assert!(find(&s, "#0 ").contains("fd_write"));
    assert!(find(&s, "#7 ").contains("path_open") && find(&s, "#7 ").contains("44 ENOENT"));
    assert_shows(
        &s,
        &[
            "#0 fd_write  at 0.000000 s, 2 µs",
            "  fd = 1",
            "  iovs = [",
            "    {buf=0x10, len=13, \"hello, world!\"}",
            "    {buf=0x20, len=23, \"a second, longer buffer\"}",
            "  ]",
            "result: 0",
            "read iovs at 0x10, 13 bytes",
            "0x00000010  68 65 6c 6c 6f 2c 20 77  |hello, w|",
            "0x00000018  6f 72 6c 64 21           |orld!|",
        ],
    );
    assert!(find(&s, "line 0").starts_with("│line 0"));
    assert!(
        s.last().unwrap().ends_with("#0 (100 calls)  ? help"),
        "{}",
        s.last().unwrap()
    );
}

#[test]
fn a_failed_call_is_red_and_its_detail_shows_each_argument() {
    let mut app = App::new(Fake::new(10));
    go_to(&mut app, 7);
    let buf = render(&mut app);
    let s = lines(&buf);
    assert!(row_colours(&buf, 7).iter().all(|c| *c == Color::Red));
    assert_shows(
        &s,
        &[
            "#7 path_open  at 0.000007 s, 2 µs",
            "  fd = 3</data>",
            "  dirflags = SYMLINK_FOLLOW",
            "  path = \"missing\"",
            "  oflags = CREAT|TRUNC",
            "  fs_rights_base = FD_READ|FD_SEEK|...(24 rights)",
            "result: 44 ENOENT (No such file or directory)",
        ],
    );
    assert_eq!(colour_of(&buf, "result: 44"), Color::Red);
    assert_eq!(colour_of(&buf, "</data>"), Color::Cyan, "the fd's path");
    assert_eq!(colour_of(&buf, "\"missing\""), Color::Green);
}

#[test]
fn an_injected_call_is_magenta_and_says_so() {
    let mut app = App::new(Fake::new(20));
    go_to(&mut app, 14);
    let buf = render(&mut app);
    assert!(row_colours(&buf, 14).iter().all(|c| *c == Color::Magenta));
    assert!(row_colours(&buf, 7).iter().all(|c| *c == Color::Red));
    assert_shows(
        &lines(&buf),
        &["result: 44 ENOENT (No such file or directory) (INJECTED)"],
    );
    assert_eq!(colour_of(&buf, "result: 44"), Color::Magenta);
}

#[test]
fn a_proc_exit_that_ends_the_run_is_not_red() {
    let mut app = App::new(Fake::new(10));
    let buf = render(&mut app);
    assert_shows(
        &lines(&buf),
        &["#9   0.000009 proc_exit      rval=2                                   ? exit 2"],
    );
    assert!(row_colours(&buf, 9).iter().all(|c| *c == Color::Reset));
    go_to(&mut app, 9);
    let buf = render(&mut app);
    let s = lines(&buf);
    assert_shows(
        &s,
        &[
            "#9 proc_exit  at 0.000009 s, 2 µs",
            "  rval = 2",
            "result: ? +++ exited with 2 +++",
        ],
    );
    assert_eq!(colour_of(&buf, "result: ?"), Color::Reset);
}

#[test]
fn the_help_lists_every_key_from_the_key_map() {
    let mut app = App::new(Fake::new(100));
    app.update(Message::ToggleHelp);
    let s = lines(&render_on(&mut app, 140, 120));
    assert!(find(&s, " keys (Up/Down scroll, q or ? closes) ").contains('┌'));
    assert_shows(
        &s,
        &[
            "in the call list",
            "  Up, k            previous call, or scroll the focused pane up",
            "  Down, j          next call, or scroll the focused pane down",
            "  PgUp             a page up",
            "  PgDn, Space      a page down",
            "  Home, g          first call",
            "  End, G           last call",
        ],
    );
    assert_shows(
        &s,
        &[
            "  Esc              stop the search, filter or continue in progress; else as q",
            "  q                close a view, or quit",
            "  Ctrl-C           quit",
            "",
            "in the memory view (m)",
        ],
    );
    assert_shows(
        &s,
        &[
            "typing after : / b, or g in the memory view",
            "  Enter            go to the call or address, search, or set the breakpoint",
            "  Backspace        delete the last character",
            "  Esc              cancel",
            "  Ctrl-C           quit",
            "  any character    typed into the prompt",
            "",
            "in this help",
        ],
    );
}

#[test]
fn the_help_scrolls_on_a_short_terminal() {
    let mut app = App::new(Fake::new(100));
    app.update(Message::ToggleHelp);
    let s = lines(&render_on(&mut app, 100, 24));
    assert_shows(&s, &["in the call list"]);
    assert!(!shows(&s, &["in this help"]));
    for _ in 0..10 {
        app.update(Message::ScrollHelp(10));
    }
    let s = lines(&render_on(&mut app, 100, 24));
    assert!(!shows(&s, &["in the call list"]));
    assert_shows(
        &s,
        &[
            "  q, Esc, ?        close the help",
            "  Ctrl-C           quit",
        ],
    );
    let y = s.iter().position(|l| l.contains("close the help")).unwrap();
    assert!(
        s[y + 2].contains("└──"),
        "the help's last line, then its box's bottom:\n{}",
        s.join("\n")
    );
}

#[test]
fn the_filter_prompt_lists_the_words_that_fit() {
    let mut app = App::new(Fake::new(100));
    app.update(Message::OpenFilters);
    for c in "%".chars() {
        app.update(Message::PromptChar(c));
    }
    app.update(Message::MenuDown);
    app.update(Message::MenuDown);
    let s = screen(&mut app);
    assert!(find(&s, " filter, as dump -e takes it (Esc closes) ").contains('┌'));
    assert_shows(
        &s,
        &[
            "filter: %_",
            "Tab completes, Enter filters, nothing typed: every call",
            "  %fd",
            "  %path",
            "  %teleport",
        ],
    );
    let buf = render(&mut app);
    let y = lines(&buf)
        .iter()
        .position(|l| l.contains("  %path "))
        .unwrap();
    let x = lines(&buf)[y].chars().position(|c| c == '%').unwrap();
    assert!(
        buf[(x as u16, y as u16)]
            .modifier
            .contains(Modifier::REVERSED),
        "the picked word"
    );
    app.update(Message::MenuComplete);
    for c in " --x".chars() {
        app.update(Message::PromptChar(c));
    }
    app.update(Message::MenuChoose);
    let s = screen(&mut app);
    assert_shows(&s, &["filter: %path --x_", "unknown filter \"%path --x\""]);
    assert_eq!(colour_of(&render(&mut app), "unknown filter"), Color::Red);
    for _ in 0..4 {
        app.update(Message::PromptBackspace);
    }
    app.update(Message::MenuChoose);
    let s = screen(&mut app);
    assert!(find(&s, " calls: filter %path, 11 of 100 ").starts_with('┌'));
    assert!(s
        .last()
        .unwrap()
        .starts_with("filter %path: 11 calls (f: change)"));
    assert!(s.last().unwrap().ends_with("#7 (11 of 100 calls)  ? help"));
}

#[test]
fn jumping_to_the_end_and_typing_a_search() {
    let mut app = App::new(Fake::new(100));
    screen(&mut app);
    app.update(Message::Last);
    let s = screen(&mut app);
    assert!(find(&s, "#99 ").contains("proc_exit"));
    assert!(
        s.iter().any(|l| l.contains("line 95")),
        "output as it stood at #99"
    );
    assert!(s.last().unwrap().ends_with("#99 (100 calls)  ? help"));
    app.update(Message::StartSearch);
    app.update(Message::PromptChar('f'));
    let s = screen(&mut app);
    assert!(
        s.last().unwrap().starts_with("/f_"),
        "{}",
        s.last().unwrap()
    );
}

#[test]
fn at_80_by_24_names_are_whole_and_path_calls_show_their_paths() {
    let mut app = App::new(Fake::new(100));
    go_to(&mut app, 98);
    let s = lines(&render_on(&mut app, 80, 24));
    let unlink = find(&s, "#98 ");
    assert!(unlink.contains(" path_unlink_file "), "{unlink}");
    assert!(
        unlink.contains("fd=3</data>, path=\"old/notes.txt\""),
        "{unlink}"
    );
    let open = find(&s, "#91 ");
    assert!(open.contains(" path_open "), "{open}");
    assert!(open.contains("path=\"missing\""), "{open}");
    assert!(open.contains("44 ENOENT"), "{open}");
    assert!(find(&s, "#97 ").contains(" clock_time_get "));
    assert!(
        find(&s, "#98 path_unlink_file  at ").starts_with('│'),
        "the detail"
    );
    assert!(s.last().unwrap().ends_with("#98 (100 calls)  ? help"));
}

#[test]
fn the_detail_wraps_and_scrolls_to_its_last_line() {
    let mut app = App::new(Fake::new(100));
    let s = lines(&render_on(&mut app, 80, 24));
    // 6 lines of a 46-column pane: the title says how far down it is.
    assert!(find(&s, " detail 1-6 of 15 (J/K) ").starts_with('┌'));
    assert!(!shows(&s, &["read iovs at 0x10, 13 bytes"]));
    for _ in 0..20 {
        app.update(Message::ScrollDetail(1));
    }
    assert_eq!(app.detail_scroll, 9, "no further than the last line");
    let s = lines(&render_on(&mut app, 80, 24));
    assert!(find(&s, " detail 10-15 of 15 (J/K) ").starts_with('┌'));
    assert_shows(
        &s,
        &[
            "read iovs at 0x10, 13 bytes",
            "0x00000010  68 65 6c 6c 6f 2c 20 77  |hello, ",
            "w|",
            "0x00000018  6f 72 6c 64 21           |orld!|",
        ],
    );
    app.update(Message::ScrollDetail(-10));
    let s = lines(&render_on(&mut app, 80, 24));
    assert!(find(&s, " detail 1-6 of 15 (J/K) ").starts_with('┌'));
}

#[test]
fn the_status_line_shows_progress_then_what_came_of_it() {
    let mut app = App::new(Fake::new(100));
    go_to(&mut app, 41);
    app.update(Message::StartSearch);
    for c in ENDLESS.chars() {
        app.update(Message::PromptChar(c));
    }
    app.update(Message::PromptSubmit);
    let status = loop {
        let s = lines(&render_on(&mut app, 80, 24));
        let status = s.last().unwrap().clone();
        if status.contains("33%") {
            break status;
        }
    };
    assert!(status.starts_with("search for \"endless\": 33% (33 of 100 calls), Esc stops  "));
    assert!(status.ends_with("  #41 (100 calls)  ? help"));
    app.update(Message::Escape);
    let s = lines(&render_on(&mut app, 80, 24));
    assert!(s
        .last()
        .unwrap()
        .starts_with("search for \"endless\" stopped at 33%  "));
    assert!(s.last().unwrap().ends_with("#41 (100 calls)  ? help"));
    assert!(find(&s, "#41 ").starts_with("│#41 "), "still selected");

    app.update(Message::Last);
    app.update(Message::StartSearch);
    app.update(Message::PromptChar('w'));
    app.update(Message::PromptSubmit);
    while app.job.is_some() {
        render_on(&mut app, 80, 24);
    }
    let s = lines(&render_on(&mut app, 80, 24));
    assert!(s
        .last()
        .unwrap()
        .starts_with("search wrapped to the top: #0 matches \"w\"  "));
}

#[test]
fn the_help_wraps_long_descriptions_at_80_columns() {
    let mut app = App::new(Fake::new(100));
    app.update(Message::ToggleHelp);
    app.update(Message::ScrollHelp(5));
    let s = lines(&render_on(&mut app, 80, 24));
    assert_shows(
        &s,
        &[
            "  /                search function names, decoded arguments and data: text,",
            "                   then Enter",
            "  n                next match",
        ],
    );
    assert!(s.iter().all(|l| l.chars().count() == 80));
}
