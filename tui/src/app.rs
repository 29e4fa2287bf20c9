//! The model and its update function.

use crate::keys::Mode;
use crate::source::{Detail, Filter, Row, StatRow, Summary, TraceSource};

/// Bytes of stdout and stderr kept for the output pane.
pub const OUTPUT_TAIL: usize = 8192;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    List,
    Detail,
    Output,
}

impl Pane {
    /// The pane Tab moves to.
    fn next(self) -> Pane {
        match self {
            Pane::List => Pane::Detail,
            Pane::Detail => Pane::Output,
            Pane::Output => Pane::List,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prompt {
    Goto(String),
    Search(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    None,
    /// The help, scrolled down `scroll` lines.
    Help {
        scroll: u16,
    },
    Stats(Vec<StatRow>, Vec<String>),
    /// The filter menu; `cursor` indexes [`App::menu_entries`].
    Filters {
        cursor: usize,
    },
}

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    /// Mouse wheel: lines, negative is up.
    Scroll(i64),
    StartGoto,
    StartSearch,
    PromptChar(char),
    PromptBackspace,
    PromptSubmit,
    PromptCancel,
    NextMatch,
    PrevMatch,
    OpenFilters,
    MenuUp,
    MenuDown,
    MenuChoose,
    MenuClose,
    ToggleStats,
    ToggleHelp,
    /// Lines, negative is up.
    ScrollHelp(i16),
    FocusNext,
    /// Close the overlay, or quit when there is none.
    Quit,
    /// Quit whatever is open.
    Exit,
}

/// The filter in force and the calls it keeps.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveFilter {
    pub filter: Filter,
    pub seqs: Vec<u64>,
}

pub struct App<S: TraceSource> {
    pub source: S,
    pub summary: Summary,
    /// The filters the menu offers: the source's classes, then errors.
    pub filters: Vec<Filter>,
    /// Index of the selected row among the rows shown (all calls, or the
    /// filter's).
    pub selected: u64,
    /// Index of the first row on screen.
    pub offset: u64,
    /// Rows that fit in the list, set from the terminal size.
    pub page: u64,
    pub filter: Option<ActiveFilter>,
    pub focus: Pane,
    pub detail_scroll: u16,
    pub output_scroll: u16,
    pub prompt: Option<Prompt>,
    pub last_search: Option<String>,
    /// The status line: what just happened.
    pub status: String,
    pub overlay: Overlay,
    pub quit: bool,
    /// What `refresh` fetched for the view.
    pub visible: Vec<Row>,
    pub detail: Option<Detail>,
    pub output: (Vec<u8>, Vec<u8>),
    pub density: Option<Vec<u64>>,
    /// The source is still reading the whole trace in the background.
    pub reading: bool,
}

impl<S: TraceSource> App<S> {
    pub fn new(source: S) -> App<S> {
        let summary = source.summary();
        let filters = source
            .classes()
            .into_iter()
            .map(Filter::Class)
            .chain([Filter::Errors])
            .collect();
        App {
            source,
            summary,
            filters,
            selected: 0,
            offset: 0,
            page: 20,
            filter: None,
            focus: Pane::List,
            detail_scroll: 0,
            output_scroll: 0,
            prompt: None,
            last_search: None,
            status: "? for help".into(),
            overlay: Overlay::None,
            quit: false,
            visible: Vec::new(),
            detail: None,
            output: (Vec::new(), Vec::new()),
            density: None,
            reading: true,
        }
    }

    /// What the keys act on now.
    pub fn mode(&self) -> Mode {
        if self.prompt.is_some() {
            Mode::Prompt
        } else if matches!(self.overlay, Overlay::Filters { .. }) {
            Mode::FilterMenu
        } else if matches!(self.overlay, Overlay::Help { .. }) {
            Mode::Help
        } else {
            Mode::Browse
        }
    }

    /// Number of rows shown.
    pub fn count(&self) -> u64 {
        match &self.filter {
            Some(f) => f.seqs.len() as u64,
            None => self.source.len(),
        }
    }

    /// The call number of row `idx`.
    pub fn seq_at(&self, idx: u64) -> Option<u64> {
        match &self.filter {
            Some(f) => f.seqs.get(idx as usize).copied(),
            None => (idx < self.source.len()).then_some(idx),
        }
    }

    pub fn selected_seq(&self) -> Option<u64> {
        self.seq_at(self.selected)
    }

    /// The filter menu: every call (`None`), then each filter.
    pub fn menu_entries(&self) -> Vec<Option<&Filter>> {
        std::iter::once(None)
            .chain(self.filters.iter().map(Some))
            .collect()
    }

    pub fn update(&mut self, msg: Message) {
        if !matches!(msg, Message::PromptChar(_) | Message::PromptBackspace) {
            self.status.clear();
        }
        let page = self.page.max(1) as i64;
        match msg {
            Message::Up => self.scroll_focused(-1),
            Message::Down => self.scroll_focused(1),
            Message::PageUp => self.scroll_focused(-page),
            Message::PageDown => self.scroll_focused(page),
            Message::Scroll(n) => self.scroll_focused(n),
            Message::First => self.select(0),
            Message::Last => self.select(self.count() as i128 - 1),
            Message::StartGoto => self.prompt = Some(Prompt::Goto(String::new())),
            Message::StartSearch => self.prompt = Some(Prompt::Search(String::new())),
            Message::PromptChar(c) => self.edit_prompt(|text| text.push(c)),
            Message::PromptBackspace => self.edit_prompt(|text| {
                text.pop();
            }),
            Message::PromptCancel => self.prompt = None,
            Message::PromptSubmit => self.submit_prompt(),
            Message::NextMatch => self.search(true),
            Message::PrevMatch => self.search(false),
            Message::OpenFilters => self.open_filter_menu(),
            Message::MenuUp => self.move_menu_cursor(-1),
            Message::MenuDown => self.move_menu_cursor(1),
            Message::MenuChoose => self.choose_filter(),
            Message::MenuClose => self.overlay = Overlay::None,
            Message::ToggleStats => self.toggle_stats(),
            Message::ToggleHelp => self.toggle_help(),
            Message::ScrollHelp(n) => self.scroll_help(n),
            Message::FocusNext => self.focus = self.focus.next(),
            Message::Quit => self.close_or_quit(),
            Message::Exit => self.quit = true,
        }
    }

    /// The row showing call `seq`, or the first after it.
    fn row_of(&self, seq: u64) -> u64 {
        match &self.filter {
            Some(f) => f.seqs.partition_point(|s| *s < seq) as u64,
            None => seq,
        }
    }

    fn select(&mut self, idx: i128) {
        let last = self.count().saturating_sub(1) as i128;
        let idx = idx.clamp(0, last.max(0)) as u64;
        if idx != self.selected {
            self.detail_scroll = 0;
            self.output_scroll = 0;
        }
        self.selected = idx;
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + self.page {
            self.offset = self.selected + 1 - self.page.max(1);
        }
    }

    /// Selects call `seq`, or the first shown after it.
    fn select_call(&mut self, seq: u64) {
        let row = self.row_of(seq);
        self.select(row as i128);
    }

    fn scroll_focused(&mut self, lines: i64) {
        let bump = |v: u16| (v as i64 + lines).clamp(0, u16::MAX as i64) as u16;
        match self.focus {
            Pane::List => self.select(self.selected as i128 + lines as i128),
            Pane::Detail => self.detail_scroll = bump(self.detail_scroll),
            Pane::Output => self.output_scroll = bump(self.output_scroll),
        }
    }

    fn edit_prompt(&mut self, edit: impl FnOnce(&mut String)) {
        if let Some(Prompt::Goto(text) | Prompt::Search(text)) = &mut self.prompt {
            edit(text);
        }
    }

    fn submit_prompt(&mut self) {
        match self.prompt.take() {
            Some(Prompt::Goto(text)) => self.goto(&text),
            Some(Prompt::Search(text)) if !text.is_empty() => {
                self.last_search = Some(text);
                self.search(true);
            }
            _ => {}
        }
    }

    /// Goes to the call numbered in `typed` (`42` or `#42`).
    fn goto(&mut self, typed: &str) {
        let Ok(seq) = typed.trim().trim_start_matches('#').parse::<u64>() else {
            self.status = format!("{typed:?} is not a call number");
            return;
        };
        if seq >= self.source.len() {
            self.status = format!(
                "there is no call #{seq}: the trace has {}",
                self.source.len()
            );
            return;
        }
        self.select_call(seq);
        if self.selected_seq() != Some(seq) {
            self.status = format!("#{seq} is not in the filter: went to the next call that is");
        }
    }

    fn search(&mut self, forward: bool) {
        let Some(text) = self.last_search.clone() else {
            self.status = "no search yet: / TEXT Enter".into();
            return;
        };
        let from = self.selected_seq().unwrap_or(0);
        let Some(seq) = self.source.search(from, forward, &text) else {
            self.status = format!("no call matches {text:?}");
            return;
        };
        // A match the filter hides is still shown: the filter goes.
        let hidden_by = self.filter.take_if(|f| f.seqs.binary_search(&seq).is_err());
        self.select_call(seq);
        self.status = match hidden_by {
            Some(f) => format!(
                "#{seq} matches {text:?} but is not in the {} filter: filter cleared",
                f.filter
            ),
            None => format!("#{seq} matches {text:?}"),
        };
    }

    fn open_filter_menu(&mut self) {
        let current = self.filter.as_ref().map(|f| &f.filter);
        let cursor = self
            .menu_entries()
            .iter()
            .position(|entry| *entry == current)
            .unwrap_or(0);
        self.overlay = Overlay::Filters { cursor };
    }

    fn move_menu_cursor(&mut self, by: i64) {
        let last = self.filters.len() as i64;
        if let Overlay::Filters { cursor } = &mut self.overlay {
            *cursor = (*cursor as i64 + by).clamp(0, last) as usize;
        }
    }

    fn choose_filter(&mut self) {
        let Overlay::Filters { cursor } = self.overlay else {
            return;
        };
        self.overlay = Overlay::None;
        let chosen = self.menu_entries().get(cursor).copied().flatten().cloned();
        self.apply_filter(chosen);
    }

    /// Shows the calls `filter` keeps (all with `None`), keeping the
    /// selected call, or the next one the filter keeps, in view.
    fn apply_filter(&mut self, filter: Option<Filter>) {
        let keep = self.selected_seq().unwrap_or(0);
        self.filter = filter.map(|filter| ActiveFilter {
            seqs: self.source.select(&filter),
            filter,
        });
        self.offset = 0;
        self.selected = 0;
        self.select_call(keep);
        self.status = match &self.filter {
            Some(f) => format!("filter {}: {} calls (f: change)", f.filter, f.seqs.len()),
            None => "no filter".into(),
        };
    }

    fn toggle_stats(&mut self) {
        self.overlay = match self.overlay {
            Overlay::Stats(..) => Overlay::None,
            _ => {
                let (rows, extra) = self.source.stats();
                Overlay::Stats(rows, extra)
            }
        }
    }

    fn toggle_help(&mut self) {
        self.overlay = match self.overlay {
            Overlay::Help { .. } => Overlay::None,
            _ => Overlay::Help { scroll: 0 },
        }
    }

    fn scroll_help(&mut self, lines: i16) {
        // The view stops at the last line; this keeps the count near it.
        let last = crate::overlay::help_lines().len().saturating_sub(1) as u16;
        if let Overlay::Help { scroll } = &mut self.overlay {
            *scroll = scroll.saturating_add_signed(lines).min(last);
        }
    }

    fn close_or_quit(&mut self) {
        match self.overlay {
            Overlay::None => self.quit = true,
            _ => self.overlay = Overlay::None,
        }
    }

    /// Fetches what the view shows: the visible rows, the selected call's
    /// detail and output, the timeline. Only this asks the source to decode.
    pub fn refresh(&mut self, page: u64) {
        self.page = page.max(1);
        self.select(self.selected as i128);
        self.visible = self.fetch_visible_rows();
        self.fetch_selected_call();
        if self.density.is_none() {
            self.source.step();
            self.density = self.source.density(64);
        }
        self.reading = self.density.is_none();
    }

    fn fetch_visible_rows(&mut self) -> Vec<Row> {
        let Some(f) = &self.filter else {
            return self.source.rows(self.offset, self.page as usize);
        };
        let window: Vec<u64> = f
            .seqs
            .iter()
            .skip(self.offset as usize)
            .take(self.page as usize)
            .copied()
            .collect();
        window
            .into_iter()
            .flat_map(|seq| self.source.rows(seq, 1))
            .collect()
    }

    fn fetch_selected_call(&mut self) {
        let Some(seq) = self.selected_seq() else {
            self.detail = None;
            self.output = (Vec::new(), Vec::new());
            return;
        };
        // While the background pass runs, fd paths and output are still
        // arriving: fetch them again.
        let stale = self.detail.as_ref().is_none_or(|d| d.seq != seq);
        if self.density.is_none() || stale {
            self.detail = self.source.detail(seq);
            self.output = self.source.output_at(seq, OUTPUT_TAIL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::Fake;

    fn app(n: u64) -> App<Fake> {
        let mut a = App::new(Fake { n });
        a.refresh(10);
        a
    }

    fn send(a: &mut App<Fake>, messages: impl IntoIterator<Item = Message>) {
        for m in messages {
            a.update(m);
        }
    }

    fn active(a: &App<Fake>) -> Option<&Filter> {
        a.filter.as_ref().map(|f| &f.filter)
    }

    #[test]
    fn moving_keeps_the_selection_on_screen() {
        let mut a = app(100);
        a.update(Message::Down);
        a.update(Message::Down);
        assert_eq!(a.selected, 2);
        a.update(Message::PageDown);
        a.refresh(10);
        assert_eq!((a.selected, a.offset), (12, 3));
        a.update(Message::Last);
        a.refresh(10);
        assert_eq!((a.selected, a.offset), (99, 90));
        assert_eq!(a.visible.first().unwrap().seq, 90);
        a.update(Message::First);
        assert_eq!((a.selected, a.offset), (0, 0));
        a.update(Message::Up);
        assert_eq!(a.selected, 0, "no row before the first");
    }

    #[test]
    fn goto_and_search() {
        let mut a = app(100);
        let typed = |s: &str| s.chars().map(Message::PromptChar).collect::<Vec<_>>();
        send(&mut a, [Message::StartGoto]);
        send(&mut a, typed("42"));
        send(&mut a, [Message::PromptSubmit]);
        assert_eq!(a.selected_seq(), Some(42));
        send(
            &mut a,
            [
                Message::StartGoto,
                Message::PromptChar('x'),
                Message::PromptSubmit,
            ],
        );
        assert_eq!(a.status, "\"x\" is not a call number");
        send(&mut a, [Message::StartSearch]);
        send(&mut a, typed("path"));
        send(&mut a, [Message::PromptSubmit]);
        assert_eq!(a.selected_seq(), Some(49));
        assert_eq!(a.status, "#49 matches \"path\"");
        a.update(Message::NextMatch);
        assert_eq!(a.selected_seq(), Some(56));
        a.update(Message::PrevMatch);
        assert_eq!(a.selected_seq(), Some(49));
    }

    #[test]
    fn the_filter_menu_offers_the_sources_classes_then_errors() {
        let mut a = app(100);
        let entries: Vec<Option<String>> = a
            .menu_entries()
            .iter()
            .map(|e| e.map(|f| f.to_string()))
            .collect();
        let names = ["fd", "path", "teleport", "errors"].map(|n| Some(n.to_string()));
        assert_eq!(entries[0], None);
        assert_eq!(entries[1..], names);

        a.update(Message::StartGoto);
        send(&mut a, "49".chars().map(Message::PromptChar));
        send(&mut a, [Message::PromptSubmit, Message::OpenFilters]);
        assert_eq!(a.mode(), Mode::FilterMenu);
        send(&mut a, [Message::MenuDown, Message::MenuChoose]);
        assert_eq!(active(&a), Some(&Filter::Class("fd".into())));
        assert_eq!(a.status, "filter fd: 20 calls (f: change)");
        assert_eq!(a.count(), 20);
        assert_eq!(a.selected_seq(), Some(50), "the next fd call after #49");

        a.update(Message::OpenFilters);
        assert_eq!(
            a.overlay,
            Overlay::Filters { cursor: 1 },
            "on the filter in force"
        );
        send(&mut a, [Message::MenuDown; 9]);
        a.update(Message::MenuChoose);
        assert_eq!(
            active(&a),
            Some(&Filter::Errors),
            "the cursor stops at the last"
        );
        assert_eq!(a.selected_seq(), Some(56));

        send(
            &mut a,
            [Message::OpenFilters, Message::MenuUp, Message::MenuClose],
        );
        assert_eq!(active(&a), Some(&Filter::Errors), "closing changes nothing");
        a.update(Message::OpenFilters);
        send(&mut a, [Message::MenuUp; 9]);
        a.update(Message::MenuChoose);
        assert_eq!(a.filter, None);
        assert_eq!(a.count(), 100);
        assert_eq!(a.selected_seq(), Some(56));
    }

    #[test]
    fn a_search_match_the_filter_hides_clears_the_filter() {
        let mut a = app(100);
        send(
            &mut a,
            [Message::OpenFilters, Message::MenuDown, Message::MenuChoose],
        );
        send(&mut a, [Message::StartSearch, Message::PromptChar('c')]);
        send(&mut a, [Message::PromptSubmit]);
        assert_eq!(a.filter, None);
        assert_eq!(a.selected_seq(), Some(1));
        assert_eq!(
            a.status,
            "#1 matches \"c\" but is not in the fd filter: filter cleared"
        );
    }

    #[test]
    fn quit_closes_an_overlay_first_and_exit_quits_at_once() {
        let mut a = app(10);
        a.update(Message::ToggleStats);
        assert!(matches!(a.overlay, Overlay::Stats(..)));
        a.update(Message::Quit);
        assert_eq!(a.overlay, Overlay::None);
        assert!(!a.quit);
        a.update(Message::Quit);
        assert!(a.quit);

        let mut a = app(10);
        send(&mut a, [Message::ToggleHelp, Message::Exit]);
        assert!(a.quit);
    }
}
