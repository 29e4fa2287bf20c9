//! The model and its update function.

use crate::source::{Detail, Filter, Row, StatRow, Summary, TraceSource};

/// Bytes of stdout and stderr kept for the output pane.
pub const OUTPUT_TAIL: usize = 8192;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    List,
    Detail,
    Output,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prompt {
    Goto(String),
    Search(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    None,
    Help,
    Stats(Vec<StatRow>, Vec<String>),
}

/// What the user asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    CycleFilter,
    ToggleStats,
    ToggleHelp,
    FocusNext,
    Quit,
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
    /// The filters `f` cycles through: the source's classes, then errors.
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

    fn scroll_focused(&mut self, lines: i64) {
        let bump = |v: u16| (v as i64 + lines).clamp(0, u16::MAX as i64) as u16;
        match self.focus {
            Pane::List => self.select(self.selected as i128 + lines as i128),
            Pane::Detail => self.detail_scroll = bump(self.detail_scroll),
            Pane::Output => self.output_scroll = bump(self.output_scroll),
        }
    }

    fn search(&mut self, forward: bool) {
        let Some(text) = self.last_search.clone() else {
            self.status = "no search yet: / TEXT Enter".into();
            return;
        };
        let from = self.selected_seq().unwrap_or(0);
        match self.source.search(from, forward, &text) {
            Some(seq) => {
                if let Some(f) = &self.filter {
                    if f.seqs.binary_search(&seq).is_err() {
                        self.status = format!(
                            "#{seq} matches {text:?} but is not in the {} filter: filter cleared",
                            f.filter
                        );
                        self.filter = None;
                    }
                }
                let row = self.row_of(seq);
                self.select(row as i128);
                if !self.status.contains("filter cleared") {
                    self.status = format!("#{seq} matches {text:?}");
                }
            }
            None => self.status = format!("no call matches {text:?}"),
        }
    }

    pub fn update(&mut self, msg: Message) {
        if !matches!(msg, Message::PromptChar(_) | Message::PromptBackspace) {
            self.status.clear();
        }
        match msg {
            Message::Up => self.scroll_focused(-1),
            Message::Down => self.scroll_focused(1),
            Message::PageUp => self.scroll_focused(-(self.page.max(1) as i64)),
            Message::PageDown => self.scroll_focused(self.page.max(1) as i64),
            Message::Scroll(n) => self.scroll_focused(n),
            Message::First => self.select(0),
            Message::Last => self.select(self.count() as i128 - 1),
            Message::StartGoto => self.prompt = Some(Prompt::Goto(String::new())),
            Message::StartSearch => self.prompt = Some(Prompt::Search(String::new())),
            Message::PromptChar(c) => match &mut self.prompt {
                Some(Prompt::Goto(s) | Prompt::Search(s)) => s.push(c),
                None => {}
            },
            Message::PromptBackspace => match &mut self.prompt {
                Some(Prompt::Goto(s) | Prompt::Search(s)) => {
                    s.pop();
                }
                None => {}
            },
            Message::PromptCancel => self.prompt = None,
            Message::PromptSubmit => {
                match self.prompt.take() {
                    Some(Prompt::Goto(text)) => {
                        match text.trim().trim_start_matches('#').parse::<u64>() {
                            Ok(seq) if seq < self.source.len() => {
                                let row = self.row_of(seq);
                                self.select(row as i128);
                                if self.selected_seq() != Some(seq) {
                                    self.status = format!("#{seq} is not in the filter: went to the next call that is");
                                }
                            }
                            Ok(seq) => {
                                self.status = format!(
                                    "there is no call #{seq}: the trace has {}",
                                    self.source.len()
                                )
                            }
                            Err(_) => self.status = format!("{text:?} is not a call number"),
                        }
                    }
                    Some(Prompt::Search(text)) if !text.is_empty() => {
                        self.last_search = Some(text);
                        self.search(true);
                    }
                    _ => {}
                }
            }
            Message::NextMatch => self.search(true),
            Message::PrevMatch => self.search(false),
            Message::CycleFilter => {
                let next = match &self.filter {
                    None => self.filters.first(),
                    Some(f) => self
                        .filters
                        .iter()
                        .position(|g| *g == f.filter)
                        .and_then(|i| self.filters.get(i + 1)),
                };
                let keep = self.selected_seq().unwrap_or(0);
                self.filter = next.cloned().map(|filter| ActiveFilter {
                    seqs: self.source.select(&filter),
                    filter,
                });
                self.offset = 0;
                let row = self.row_of(keep);
                self.selected = 0;
                self.select(row as i128);
                self.status = match &self.filter {
                    Some(f) => {
                        format!(
                            "filter {}: {} calls (f: next filter)",
                            f.filter,
                            f.seqs.len()
                        )
                    }
                    None => "no filter".into(),
                };
            }
            Message::ToggleStats => {
                self.overlay = match self.overlay {
                    Overlay::Stats(..) => Overlay::None,
                    _ => {
                        let (rows, extra) = self.source.stats();
                        Overlay::Stats(rows, extra)
                    }
                }
            }
            Message::ToggleHelp => {
                self.overlay = if self.overlay == Overlay::Help {
                    Overlay::None
                } else {
                    Overlay::Help
                };
            }
            Message::FocusNext => {
                self.focus = match self.focus {
                    Pane::List => Pane::Detail,
                    Pane::Detail => Pane::Output,
                    Pane::Output => Pane::List,
                }
            }
            Message::Quit => {
                if self.overlay != Overlay::None {
                    self.overlay = Overlay::None;
                } else {
                    self.quit = true;
                }
            }
        }
    }

    /// Fetches what the view shows: the visible rows, the selected call's
    /// detail and output, the timeline. Only this asks the source to decode.
    pub fn refresh(&mut self, page: u64) {
        self.page = page.max(1);
        self.select(self.selected as i128);
        self.visible = match &self.filter {
            None => self.source.rows(self.offset, self.page as usize),
            Some(f) => {
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
        };
        match self.selected_seq() {
            Some(seq) => {
                // While the background pass runs, fd paths and output are
                // still arriving: fetch them again.
                if self.density.is_none() || self.detail.as_ref().is_none_or(|d| d.seq != seq) {
                    self.detail = self.source.detail(seq);
                    self.output = self.source.output_at(seq, OUTPUT_TAIL);
                }
            }
            None => {
                self.detail = None;
                self.output = (Vec::new(), Vec::new());
            }
        }
        if self.density.is_none() {
            self.source.step();
            self.density = self.source.density(64);
        }
        self.reading = self.density.is_none();
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
    fn goto_search_and_the_sources_filters() {
        let mut a = app(100);
        for m in [
            Message::StartGoto,
            Message::PromptChar('4'),
            Message::PromptChar('2'),
            Message::PromptSubmit,
        ] {
            a.update(m);
        }
        assert_eq!(a.selected_seq(), Some(42));
        for m in [
            Message::StartGoto,
            Message::PromptChar('x'),
            Message::PromptSubmit,
        ] {
            a.update(m);
        }
        assert_eq!(a.status, "\"x\" is not a call number");
        a.update(Message::StartSearch);
        for c in "path".chars() {
            a.update(Message::PromptChar(c));
        }
        a.update(Message::PromptSubmit);
        assert_eq!(a.selected_seq(), Some(49));
        assert_eq!(a.status, "#49 matches \"path\"");
        a.update(Message::NextMatch);
        assert_eq!(a.selected_seq(), Some(56));
        a.update(Message::PrevMatch);
        assert_eq!(a.selected_seq(), Some(49));
        a.update(Message::CycleFilter);
        assert_eq!(
            a.filter.as_ref().unwrap().filter,
            Filter::Class("fd".into())
        );
        assert_eq!(a.count(), 20);
        assert_eq!(a.selected_seq(), Some(50), "the next fd call after #49");
        let mut next = Vec::new();
        for _ in 0..3 {
            a.update(Message::CycleFilter);
            next.push(a.filter.as_ref().unwrap().filter.to_string());
        }
        assert_eq!(next, ["path", "teleport", "errors"], "the source's classes");
        a.update(Message::CycleFilter);
        assert!(a.filter.is_none());
        assert_eq!(a.count(), 100);
    }

    #[test]
    fn quit_closes_an_overlay_first() {
        let mut a = app(10);
        a.update(Message::ToggleStats);
        assert!(matches!(a.overlay, Overlay::Stats(..)));
        a.update(Message::Quit);
        assert_eq!(a.overlay, Overlay::None);
        assert!(!a.quit);
        a.update(Message::Quit);
        assert!(a.quit);
    }
}
