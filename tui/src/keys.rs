//! The key map, in one table: which input sends which message in which
//! mode, and what it does. The key handling ([`message_for`]) and the help
//! screen ([`help`]) both read [`BINDINGS`], so the help lists exactly the
//! keys that work.

use crate::app::Message;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};
// Short names for the table.
use Input::{Ctrl, Key};
use KeyCode::Char;
use Mode::{Breakpoints, Browse, FilterMenu, Help, Memory, Prompt};

/// What the keys act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The call list and its panes.
    Browse,
    /// The filter prompt (`f`).
    FilterMenu,
    /// The help (`?`).
    Help,
    /// Typing a call number (`:`), a search (`/`), a breakpoint (`b`) or
    /// an address (`g` in the memory view).
    Prompt,
    /// The memory view (`m`).
    Memory,
    /// The list of breakpoints (`B`).
    Breakpoints,
}

impl Mode {
    /// The order of the help screen.
    pub const ALL: [Mode; 6] = [
        Mode::Browse,
        Mode::Memory,
        Mode::Breakpoints,
        Mode::FilterMenu,
        Mode::Prompt,
        Mode::Help,
    ];

    /// The help screen's heading over the mode's keys.
    pub fn heading(self) -> &'static str {
        match self {
            Mode::Browse => "in the call list",
            Mode::FilterMenu => "typing a filter after f",
            Mode::Prompt => "typing after : / b, or g in the memory view",
            Mode::Memory => "in the memory view (m)",
            Mode::Breakpoints => "in the list of breakpoints (B)",
            Mode::Help => "in this help",
        }
    }
}

/// An input a binding answers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// A key pressed without Ctrl or Alt (Shift is in the character).
    Key(KeyCode),
    /// A letter pressed with Ctrl.
    Ctrl(char),
    /// Any character pressed without Ctrl or Alt.
    AnyChar,
    WheelUp,
    WheelDown,
}

impl Input {
    /// The input's name on the help screen.
    pub fn name(self) -> String {
        match self {
            Input::Key(KeyCode::Char(' ')) => "Space".into(),
            Input::Key(KeyCode::Char(c)) => c.to_string(),
            Input::Key(KeyCode::PageUp) => "PgUp".into(),
            Input::Key(KeyCode::PageDown) => "PgDn".into(),
            // Named here rather than by crossterm, whose names vary by
            // platform (Enter is Return on macOS).
            Input::Key(KeyCode::Up) => "Up".into(),
            Input::Key(KeyCode::Down) => "Down".into(),
            Input::Key(KeyCode::Home) => "Home".into(),
            Input::Key(KeyCode::End) => "End".into(),
            Input::Key(KeyCode::Tab) => "Tab".into(),
            Input::Key(KeyCode::Enter) => "Enter".into(),
            Input::Key(KeyCode::Esc) => "Esc".into(),
            Input::Key(KeyCode::Backspace) => "Backspace".into(),
            Input::Key(KeyCode::BackTab) => "Shift-Tab".into(),
            Input::Key(KeyCode::Delete) => "Del".into(),
            Input::Key(code) => code.to_string(),
            Input::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Input::AnyChar => "any character".into(),
            Input::WheelUp => "wheel up".into(),
            Input::WheelDown => "wheel down".into(),
        }
    }

    fn matches(self, event: &Event) -> bool {
        match (self, event) {
            (Input::WheelUp, Event::Mouse(m)) => m.kind == MouseEventKind::ScrollUp,
            (Input::WheelDown, Event::Mouse(m)) => m.kind == MouseEventKind::ScrollDown,
            (_, Event::Key(key)) if key.kind != KeyEventKind::Release => self.matches_key(key),
            _ => false,
        }
    }

    fn matches_key(self, key: &KeyEvent) -> bool {
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match self {
            Input::Key(code) => plain && key.code == code,
            Input::Ctrl(c) => {
                key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
            }
            Input::AnyChar => plain && matches!(key.code, KeyCode::Char(_)),
            Input::WheelUp | Input::WheelDown => false,
        }
    }
}

/// Inputs that send one message in one mode.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    pub mode: Mode,
    pub inputs: &'static [Input],
    /// For [`Input::AnyChar`], [`Message::PromptChar`] carries the
    /// character typed.
    pub message: Message,
    pub help: &'static str,
}

const fn bind(
    mode: Mode,
    inputs: &'static [Input],
    message: Message,
    help: &'static str,
) -> Binding {
    Binding {
        mode,
        inputs,
        message,
        help,
    }
}

/// Every key the UI answers to. The first binding of the mode that matches
/// an input wins.
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    bind(Browse, &[Key(KeyCode::Up), Key(Char('k'))], Message::Up,
        "previous call, or scroll the focused pane up"),
    bind(Browse, &[Key(KeyCode::Down), Key(Char('j'))], Message::Down,
        "next call, or scroll the focused pane down"),
    bind(Browse, &[Key(KeyCode::PageUp)], Message::PageUp, "a page up"),
    bind(Browse, &[Key(KeyCode::PageDown), Key(Char(' '))], Message::PageDown, "a page down"),
    bind(Browse, &[Key(KeyCode::Home), Key(Char('g'))], Message::First, "first call"),
    bind(Browse, &[Key(KeyCode::End), Key(Char('G'))], Message::Last, "last call"),
    bind(Browse, &[Input::WheelUp], Message::Scroll(-3), "scroll the focused pane up"),
    bind(Browse, &[Input::WheelDown], Message::Scroll(3), "scroll the focused pane down"),
    bind(Browse, &[Key(Char(':'))], Message::StartGoto, "go to a call: its number, then Enter"),
    bind(Browse, &[Key(Char('/'))], Message::StartSearch,
        "search function names, decoded arguments and data: text, then Enter"),
    bind(Browse, &[Key(Char('n'))], Message::NextMatch, "next match"),
    bind(Browse, &[Key(Char('N'))], Message::PrevMatch, "previous match"),
    bind(Browse, &[Key(Char('f'))], Message::OpenFilters,
        "filter the calls, as dump -e takes it (%path,!fd_close --failed)"),
    bind(Browse, &[Key(Char('J'))], Message::ScrollDetail(1), "scroll the detail down"),
    bind(Browse, &[Key(Char('K'))], Message::ScrollDetail(-1), "scroll the detail up"),
    bind(Browse, &[Ctrl('d')], Message::ScrollDetail(10), "scroll the detail 10 lines down"),
    bind(Browse, &[Ctrl('u')], Message::ScrollDetail(-10), "scroll the detail 10 lines up"),
    bind(Browse, &[Key(Char('s'))], Message::ToggleStats,
        "statistics: calls, errors and time per function; bytes per fd"),
    bind(Browse, &[Key(KeyCode::Tab)], Message::FocusNext,
        "move between the list, detail and output panes"),
    bind(Browse, &[Key(Char('m'))], Message::ToggleMemory,
        "memory view: the guest's memory when the selected call returned"),
    bind(Browse, &[Key(Char('b'))], Message::StartBreakpoint,
        "set a breakpoint, as replay --break takes it (fd_write fd=2, errno!=0, #12, when=3)"),
    bind(Browse, &[Key(Char('B'))], Message::ToggleBreakpoints, "list and delete breakpoints"),
    bind(Browse, &[Key(Char('c'))], Message::Continue,
        "continue to the next call a breakpoint matches"),
    bind(Browse, &[Key(Char('C'))], Message::ContinueBack,
        "continue back to the previous call a breakpoint matches"),
    bind(Browse, &[Key(Char('?'))], Message::ToggleHelp, "this help"),
    bind(Browse, &[Key(KeyCode::Esc)], Message::Escape,
        "stop the search, filter or continue in progress; else as q"),
    bind(Browse, &[Key(Char('q'))], Message::Quit, "close a view, or quit"),
    bind(Browse, &[Ctrl('c')], Message::Exit, "quit"),
    bind(Memory, &[Key(KeyCode::Up), Key(Char('k'))], Message::ScrollMemory(-1), "a row up"),
    bind(Memory, &[Key(KeyCode::Down), Key(Char('j'))], Message::ScrollMemory(1), "a row down"),
    bind(Memory, &[Key(KeyCode::PageUp)], Message::PageMemory(-1), "a page up"),
    bind(Memory, &[Key(KeyCode::PageDown), Key(Char(' '))], Message::PageMemory(1),
        "a page down"),
    bind(Memory, &[Input::WheelUp], Message::ScrollMemory(-3), "scroll up"),
    bind(Memory, &[Input::WheelDown], Message::ScrollMemory(3), "scroll down"),
    bind(Memory, &[Key(Char('g')), Key(Char(':'))], Message::StartAddress,
        "go to an address: hex with 0x, or decimal, then Enter"),
    bind(Memory, &[Key(KeyCode::Tab)], Message::FollowPointer(1),
        "follow the call's next pointer argument (path, iovs, buf...)"),
    bind(Memory, &[Key(KeyCode::BackTab)], Message::FollowPointer(-1),
        "follow the previous pointer argument"),
    bind(Memory, &[Key(Char('c'))], Message::Continue,
        "continue to the next call a breakpoint matches, its memory in view"),
    bind(Memory, &[Key(Char('C'))], Message::ContinueBack,
        "continue back to the previous call a breakpoint matches"),
    bind(Memory, &[Key(Char('?'))], Message::ToggleHelp, "this help"),
    bind(Memory, &[Key(Char('m')), Key(Char('q'))], Message::ToggleMemory,
        "close the memory view"),
    bind(Memory, &[Key(KeyCode::Esc)], Message::Escape,
        "stop the work in progress; else close the memory view"),
    bind(Memory, &[Ctrl('c')], Message::Exit, "quit"),
    bind(Breakpoints, &[Key(KeyCode::Up), Key(Char('k'))], Message::MenuUp,
        "pick the breakpoint above"),
    bind(Breakpoints, &[Key(KeyCode::Down), Key(Char('j'))], Message::MenuDown,
        "pick the breakpoint below"),
    bind(Breakpoints, &[Key(Char('d')), Key(KeyCode::Delete)], Message::DeleteBreakpoint,
        "delete the breakpoint picked"),
    bind(Breakpoints, &[Key(Char('b'))], Message::StartBreakpoint, "set a breakpoint"),
    bind(Breakpoints, &[Key(Char('c'))], Message::Continue,
        "continue to the next call a breakpoint matches"),
    bind(Breakpoints, &[Key(Char('C'))], Message::ContinueBack,
        "continue back to the previous call a breakpoint matches"),
    bind(Breakpoints, &[Key(Char('B')), Key(Char('q')), Key(KeyCode::Esc)],
        Message::ToggleBreakpoints, "close the list"),
    bind(Breakpoints, &[Ctrl('c')], Message::Exit, "quit"),
    bind(FilterMenu, &[Key(KeyCode::Enter)], Message::MenuChoose,
        "show the calls the filter keeps (nothing typed: every call)"),
    bind(FilterMenu, &[Key(KeyCode::Tab)], Message::MenuComplete,
        "complete the word being typed with the word picked, or the first"),
    bind(FilterMenu, &[Key(KeyCode::Up)], Message::MenuUp, "pick the word above"),
    bind(FilterMenu, &[Key(KeyCode::Down)], Message::MenuDown, "pick the word below"),
    bind(FilterMenu, &[Key(KeyCode::Backspace)], Message::PromptBackspace,
        "delete the last character"),
    bind(FilterMenu, &[Key(KeyCode::Esc)], Message::MenuClose, "close, keeping the filter"),
    bind(FilterMenu, &[Ctrl('c')], Message::Exit, "quit"),
    bind(FilterMenu, &[Input::AnyChar], Message::PromptChar(' '), "typed into the filter"),
    bind(Prompt, &[Key(KeyCode::Enter)], Message::PromptSubmit,
        "go to the call or address, search, or set the breakpoint"),
    bind(Prompt, &[Key(KeyCode::Backspace)], Message::PromptBackspace,
        "delete the last character"),
    bind(Prompt, &[Key(KeyCode::Esc)], Message::PromptCancel, "cancel"),
    bind(Prompt, &[Ctrl('c')], Message::Exit, "quit"),
    bind(Prompt, &[Input::AnyChar], Message::PromptChar(' '), "typed into the prompt"),
    bind(Help, &[Key(KeyCode::Up), Key(Char('k'))], Message::ScrollHelp(-1), "scroll up"),
    bind(Help, &[Key(KeyCode::Down), Key(Char('j'))], Message::ScrollHelp(1), "scroll down"),
    bind(Help, &[Key(KeyCode::PageUp)], Message::ScrollHelp(-10), "10 lines up"),
    bind(Help, &[Key(KeyCode::PageDown), Key(Char(' '))], Message::ScrollHelp(10),
        "10 lines down"),
    bind(Help, &[Input::WheelUp], Message::ScrollHelp(-3), "scroll up"),
    bind(Help, &[Input::WheelDown], Message::ScrollHelp(3), "scroll down"),
    bind(Help, &[Key(Char('q')), Key(KeyCode::Esc), Key(Char('?'))], Message::ToggleHelp,
        "close the help"),
    bind(Help, &[Ctrl('c')], Message::Exit, "quit"),
];

/// The message `event` sends in `mode`, if any.
pub fn message_for(event: &Event, mode: Mode) -> Option<Message> {
    let binding = BINDINGS
        .iter()
        .filter(|b| b.mode == mode)
        .find(|b| b.inputs.iter().any(|i| i.matches(event)))?;
    Some(match (binding.message, event) {
        (
            Message::PromptChar(_),
            Event::Key(KeyEvent {
                code: KeyCode::Char(c),
                ..
            }),
        ) => Message::PromptChar(*c),
        (message, _) => message,
    })
}

/// One line of the help screen: the inputs, and what they do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelpLine {
    pub keys: String,
    pub help: &'static str,
}

/// The help screen: per mode, its heading and its keys.
pub fn help() -> Vec<(&'static str, Vec<HelpLine>)> {
    Mode::ALL
        .iter()
        .map(|&mode| {
            let lines = BINDINGS
                .iter()
                .filter(|b| b.mode == mode)
                .map(|b| HelpLine {
                    keys: b
                        .inputs
                        .iter()
                        .map(|i| i.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                    help: b.help,
                })
                .collect();
            (mode.heading(), lines)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{MouseEvent, MouseEventKind};

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent::new(code, modifiers))
    }

    fn wheel(kind: MouseEventKind) -> Event {
        Event::Mouse(MouseEvent {
            kind,
            column: 0,
            row: 0,
            modifiers: KeyModifiers::NONE,
        })
    }

    /// Every input a terminal can send that the UI might answer to, and
    /// its name as a person would look it up in the help (named here,
    /// not by [`Input::name`], so the test does not trust the table).
    fn every_input() -> Vec<(Event, String)> {
        let named = [
            (KeyCode::Up, "Up"),
            (KeyCode::Down, "Down"),
            (KeyCode::Left, "Left"),
            (KeyCode::Right, "Right"),
            (KeyCode::PageUp, "PgUp"),
            (KeyCode::PageDown, "PgDn"),
            (KeyCode::Home, "Home"),
            (KeyCode::End, "End"),
            (KeyCode::Tab, "Tab"),
            (KeyCode::BackTab, "Shift-Tab"),
            (KeyCode::Enter, "Enter"),
            (KeyCode::Esc, "Esc"),
            (KeyCode::Backspace, "Backspace"),
            (KeyCode::Delete, "Del"),
            (KeyCode::Insert, "Insert"),
            (KeyCode::F(1), "F1"),
            (KeyCode::Char(' '), "Space"),
        ];
        let mut inputs = Vec::new();
        let modifiers = [
            (KeyModifiers::NONE, ""),
            (KeyModifiers::SHIFT, ""),
            (KeyModifiers::CONTROL, "Ctrl-"),
            (KeyModifiers::ALT, "Alt-"),
        ];
        for (m, prefix) in modifiers {
            for (code, name) in named {
                inputs.push((key(code, m), format!("{prefix}{name}")));
            }
            for c in '!'..='~' {
                let name = if prefix.is_empty() {
                    c.to_string()
                } else {
                    c.to_ascii_uppercase().to_string()
                };
                inputs.push((key(KeyCode::Char(c), m), format!("{prefix}{name}")));
            }
        }
        inputs.push((wheel(MouseEventKind::ScrollUp), "wheel up".into()));
        inputs.push((wheel(MouseEventKind::ScrollDown), "wheel down".into()));
        inputs
    }

    #[test]
    fn every_key_the_handler_accepts_is_in_the_help() {
        let help = help();
        for (mode, (heading, lines)) in Mode::ALL.iter().zip(&help) {
            let listed = |name: &str| lines.iter().any(|l| l.keys.split(", ").any(|k| k == name));
            for (event, name) in every_input() {
                match message_for(&event, *mode) {
                    None => {}
                    // Characters typed into a prompt are its text.
                    Some(Message::PromptChar(_)) => assert!(listed("any character")),
                    Some(msg) => assert!(
                        listed(&name),
                        "{name} sends {msg:?} {heading} but the help does not list it"
                    ),
                }
            }
        }
    }

    #[test]
    fn keys_send_their_messages_in_their_mode() {
        let plain = |code| key(code, KeyModifiers::NONE);
        let ctrl_c = key(Char('c'), KeyModifiers::CONTROL);
        assert_eq!(
            message_for(&plain(Char(' ')), Browse),
            Some(Message::PageDown)
        );
        assert_eq!(
            message_for(&plain(KeyCode::Home), Browse),
            Some(Message::First)
        );
        assert_eq!(
            message_for(&plain(KeyCode::End), Browse),
            Some(Message::Last)
        );
        assert_eq!(
            message_for(&key(Char('G'), KeyModifiers::SHIFT), Browse),
            Some(Message::Last)
        );
        assert_eq!(message_for(&ctrl_c, Browse), Some(Message::Exit));
        assert_eq!(message_for(&ctrl_c, Prompt), Some(Message::Exit));
        assert_eq!(
            message_for(&plain(Char('q')), Prompt),
            Some(Message::PromptChar('q'))
        );
        assert_eq!(
            message_for(&plain(KeyCode::Down), FilterMenu),
            Some(Message::MenuDown)
        );
        assert_eq!(
            message_for(&plain(Char('j')), FilterMenu),
            Some(Message::PromptChar('j'))
        );
        assert_eq!(
            message_for(&plain(KeyCode::Esc), Browse),
            Some(Message::Escape)
        );
        assert_eq!(
            message_for(&wheel(MouseEventKind::ScrollUp), Browse),
            Some(Message::Scroll(-3))
        );
        let release = Event::Key(KeyEvent {
            kind: KeyEventKind::Release,
            ..KeyEvent::new(Char('j'), KeyModifiers::NONE)
        });
        assert_eq!(message_for(&release, Browse), None);
    }
}
