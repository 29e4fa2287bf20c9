//! The model and its update function.

mod breaks;
mod filter;
mod jobs;
mod memory;

use crate::filter_menu::FilterMenu;
use crate::keys::Mode;
use crate::source::{Detail, Row, StatRow, Summary, TraceSource};
use ratatui::layout::Rect;

pub use jobs::{Job, StateView};
pub use memory::{parse_address, MemoryView, Window, ROW_BYTES};

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
    /// An address in the memory view.
    Address(String),
    /// A breakpoint to set.
    Break(String),
}

impl Prompt {
    fn text(&mut self) -> &mut String {
        match self {
            Prompt::Goto(t) | Prompt::Search(t) | Prompt::Address(t) | Prompt::Break(t) => t,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    None,
    /// The help, scrolled down `scroll` lines.
    Help {
        scroll: u16,
    },
    Stats(Vec<StatRow>, Vec<String>),
    /// The filter prompt and its completions.
    Filter(FilterMenu),
    /// The breakpoints, the one picked at `cursor`.
    Breakpoints {
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
    /// The detail pane, whatever has the focus: lines, negative is up.
    ScrollDetail(i16),
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
    MenuComplete,
    MenuChoose,
    MenuClose,
    ToggleStats,
    ToggleHelp,
    /// Lines, negative is up.
    ScrollHelp(i16),
    FocusNext,
    /// Close the overlay, or quit when there is none.
    Quit,
    /// Stop the work in progress; else as [`Message::Quit`].
    Escape,
    /// Quit whatever is open.
    Exit,
    /// Open or close the memory view.
    ToggleMemory,
    /// The memory view: rows, negative is up.
    ScrollMemory(i64),
    /// The memory view: pages, negative is up.
    PageMemory(i64),
    StartAddress,
    /// Follow the call's next (1) or previous (-1) pointer argument.
    FollowPointer(i64),
    StartBreakpoint,
    ToggleBreakpoints,
    DeleteBreakpoint,
    /// Continue to the next call a breakpoint matches.
    Continue,
    /// Continue back to the previous call a breakpoint matches.
    ContinueBack,
}

/// The filter in force and the calls it keeps.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveFilter {
    /// As typed: `%path,!fd_close --failed`.
    pub expr: String,
    pub seqs: Vec<u64>,
}

pub struct App<S: TraceSource> {
    pub source: S,
    pub summary: Summary,
    /// The words the filter prompt completes.
    pub filter_words: Vec<String>,
    /// Index of the selected row among the rows shown (all calls, or the
    /// filter's).
    pub selected: u64,
    /// Index of the first row on screen.
    pub offset: u64,
    /// Rows that fit in the list, set from the terminal size.
    pub page: u64,
    /// Inside of the detail pane (width, height), set from the terminal
    /// size: scrolling stops at the detail's last line.
    pub detail_size: (u16, u16),
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
    /// The search or filter running in the background.
    pub job: Option<Job>,
    /// What `refresh` fetched for the view.
    pub visible: Vec<Row>,
    /// The rows `visible` holds: first row, count, filter.
    visible_window: Option<(u64, u64, Option<String>)>,
    pub detail: Option<Detail>,
    /// The guest's state at the selected call, when the source computes it.
    pub state: StateView,
    pub memory: MemoryView,
    /// Breakpoints in `replay --break`'s grammar, in the order set.
    pub breakpoints: Vec<String>,
    pub output: (Vec<u8>, Vec<u8>),
    pub density: Option<Vec<u64>>,
    /// The source is still reading the whole trace in the background.
    pub reading: bool,
}

impl<S: TraceSource> App<S> {
    pub fn new(source: S) -> App<S> {
        let summary = source.summary();
        let filter_words = source.filter_words();
        App {
            source,
            summary,
            filter_words,
            selected: 0,
            offset: 0,
            page: 20,
            detail_size: (40, 10),
            filter: None,
            focus: Pane::List,
            detail_scroll: 0,
            output_scroll: 0,
            prompt: None,
            last_search: None,
            status: "? for help".into(),
            overlay: Overlay::None,
            quit: false,
            job: None,
            visible: Vec::new(),
            visible_window: None,
            detail: None,
            state: StateView::None,
            memory: MemoryView::default(),
            breakpoints: Vec::new(),
            output: (Vec::new(), Vec::new()),
            density: None,
            reading: true,
        }
    }

    /// What the keys act on now.
    pub fn mode(&self) -> Mode {
        if self.prompt.is_some() {
            Mode::Prompt
        } else if matches!(self.overlay, Overlay::Filter(_)) {
            Mode::FilterMenu
        } else if matches!(self.overlay, Overlay::Help { .. }) {
            Mode::Help
        } else if matches!(self.overlay, Overlay::Breakpoints { .. }) {
            Mode::Breakpoints
        } else if self.memory.open {
            Mode::Memory
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
            Message::ScrollDetail(n) => self.scroll_detail(n),
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
            Message::MenuComplete => self.complete_filter(),
            Message::MenuChoose => self.choose_filter(),
            Message::MenuClose => self.overlay = Overlay::None,
            Message::ToggleStats => self.toggle_stats(),
            Message::ToggleHelp => self.toggle_help(),
            Message::ScrollHelp(n) => self.scroll_help(n),
            Message::FocusNext => self.focus = self.focus.next(),
            Message::Quit => self.close_or_quit(),
            Message::Escape => self.escape(),
            Message::Exit => self.quit = true,
            Message::ToggleMemory => self.toggle_memory(),
            Message::ScrollMemory(n) => self.scroll_memory(n),
            Message::PageMemory(n) => self.page_memory(n),
            Message::StartAddress => self.start_address(),
            Message::FollowPointer(by) => self.follow_pointer(by),
            Message::StartBreakpoint => self.start_breakpoint(),
            Message::ToggleBreakpoints => self.toggle_breakpoints(),
            Message::DeleteBreakpoint => self.delete_breakpoint(),
            Message::Continue => self.continue_to(true),
            Message::ContinueBack => self.continue_to(false),
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
            Pane::Detail => self.scroll_detail(lines.clamp(-9999, 9999) as i16),
            Pane::Output => self.output_scroll = bump(self.output_scroll),
        }
    }

    fn scroll_detail(&mut self, lines: i16) {
        self.detail_scroll = self
            .detail_scroll
            .saturating_add_signed(lines)
            .min(self.detail_scroll_max());
    }

    /// How far the detail scrolls: its last line at the pane's bottom.
    pub fn detail_scroll_max(&self) -> u16 {
        let (width, height) = self.detail_size;
        let total = crate::view::detail_height(self, width);
        total.saturating_sub(height as usize).min(u16::MAX as usize) as u16
    }

    fn edit_prompt(&mut self, edit: impl FnOnce(&mut String)) {
        match (&mut self.prompt, &mut self.overlay) {
            (Some(prompt), _) => edit(prompt.text()),
            (None, Overlay::Filter(menu)) => menu.edit(edit),
            _ => {}
        }
    }

    fn submit_prompt(&mut self) {
        match self.prompt.take() {
            Some(Prompt::Goto(text)) => self.goto(&text),
            Some(Prompt::Search(text)) if !text.is_empty() => {
                self.last_search = Some(text);
                self.search(true);
            }
            Some(Prompt::Address(text)) => self.goto_address(&text),
            Some(Prompt::Break(text)) => self.add_breakpoint(&text),
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
            self.status = match self.source.len() {
                0 => format!("there is no call #{seq}: the trace has no calls"),
                n => format!("there is no call #{seq}: the last is #{}", n - 1),
            };
            return;
        }
        self.select_call(seq);
        if self.selected_seq() != Some(seq) {
            self.status = format!("#{seq} is not in the filter: went to the next call that is");
        }
    }

    /// Starts a search from the selected call; it runs in the background.
    fn search(&mut self, forward: bool) {
        let Some(text) = self.last_search.clone() else {
            self.status = "no search yet: / TEXT Enter".into();
            return;
        };
        let from = self.selected_seq().unwrap_or(0);
        let task = self.source.search(from, forward, &text);
        self.job = Some(Job::Search {
            task,
            text,
            forward,
        });
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
        let last = crate::overlay::help_lines(0).len().saturating_sub(1) as u16;
        if let Overlay::Help { scroll } = &mut self.overlay {
            *scroll = scroll.saturating_add_signed(lines).min(last);
        }
    }

    fn close_or_quit(&mut self) {
        match self.overlay {
            Overlay::None if self.memory.open => self.memory.open = false,
            Overlay::None => self.quit = true,
            _ => self.overlay = Overlay::None,
        }
    }

    /// Esc: stops the search or filter in progress (the selection stays
    /// where it was), else closes a view or quits.
    fn escape(&mut self) {
        match self.job.take() {
            Some(job) => self.status = format!("{} stopped at {}%", job.what(), job.percent()),
            None => self.close_or_quit(),
        }
    }

    /// Sizes the panes for a terminal of `screen`, then fetches what the
    /// view shows.
    pub fn refresh_screen(&mut self, screen: Rect) {
        let detail = crate::view::detail_inner(screen);
        self.detail_size = (detail.width, detail.height);
        self.memory.rows = crate::view::memory::rows(screen);
        self.refresh(crate::view::list_page(screen));
    }

    /// Fetches what the view shows: the visible rows, the selected call's
    /// detail and output, the timeline; takes in what background work
    /// finished. Only this asks the source to decode.
    pub fn refresh(&mut self, page: u64) {
        self.poll_job();
        self.page = page.max(1);
        self.select(self.selected as i128);
        // Rows are decoded again only when others show, or while the
        // background pass still brings fd paths; not on every tick of a
        // search.
        let window = (
            self.offset,
            self.page,
            self.filter.as_ref().map(|f| f.expr.clone()),
        );
        if self.density.is_none() || self.visible_window.as_ref() != Some(&window) {
            self.visible = self.fetch_visible_rows();
            self.visible_window = Some(window);
        }
        self.fetch_selected_call();
        self.poll_state();
        self.refresh_memory();
        self.detail_scroll = self.detail_scroll.min(self.detail_scroll_max());
        if self.density.is_none() {
            self.source.step();
            self.density = self.source.density(64);
        }
        self.reading = self.density.is_none();
    }

    /// Whether the screen should be drawn again soon without a key: work
    /// is running in the background.
    pub fn busy(&self) -> bool {
        self.job.is_some()
            || self.density.is_none()
            || self.state.is_computing()
            || self.memory_busy()
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
            self.state = StateView::None;
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
        if stale {
            // The state of the call selected before is given up on.
            self.state = match self.source.state(seq) {
                Some(task) => StateView::Computing(task),
                None => StateView::None,
            };
        }
    }
}

#[cfg(test)]
mod tests;
