//! The key map, in one place: input events to messages.

use crate::app::{Message, Prompt};
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};

/// The keys, as `?` shows them.
pub const HELP: &[(&str, &str)] = &[
    (
        "Up/Down, k/j",
        "previous/next call (or scroll the focused pane)",
    ),
    ("PgUp/PgDn", "a page up/down"),
    ("g / G", "first / last call"),
    (": N Enter", "go to call N"),
    (
        "/ TEXT Enter",
        "search function names, decoded arguments and data",
    ),
    ("n / N", "next / previous match"),
    (
        "f",
        "filter: each class of calls in turn, then errors, then none",
    ),
    (
        "s",
        "statistics: calls, errors and time per function; bytes per fd",
    ),
    ("Tab", "move between the list, detail and output panes"),
    ("mouse wheel", "scroll"),
    ("?", "this help"),
    ("q, Esc", "close a view, or quit"),
];

pub fn message_for(event: &Event, prompt: Option<&Prompt>) -> Option<Message> {
    match event {
        Event::Key(KeyEvent {
            code,
            modifiers,
            kind,
            ..
        }) if *kind != KeyEventKind::Release => {
            if prompt.is_some() {
                return match code {
                    KeyCode::Enter => Some(Message::PromptSubmit),
                    KeyCode::Esc => Some(Message::PromptCancel),
                    KeyCode::Backspace => Some(Message::PromptBackspace),
                    KeyCode::Char(c) => Some(Message::PromptChar(*c)),
                    _ => None,
                };
            }
            if modifiers.contains(KeyModifiers::CONTROL) && *code == KeyCode::Char('c') {
                return Some(Message::Quit);
            }
            Some(match code {
                KeyCode::Up | KeyCode::Char('k') => Message::Up,
                KeyCode::Down | KeyCode::Char('j') => Message::Down,
                KeyCode::PageUp => Message::PageUp,
                KeyCode::PageDown | KeyCode::Char(' ') => Message::PageDown,
                KeyCode::Home | KeyCode::Char('g') => Message::First,
                KeyCode::End | KeyCode::Char('G') => Message::Last,
                KeyCode::Char(':') => Message::StartGoto,
                KeyCode::Char('/') => Message::StartSearch,
                KeyCode::Char('n') => Message::NextMatch,
                KeyCode::Char('N') => Message::PrevMatch,
                KeyCode::Char('f') => Message::CycleFilter,
                KeyCode::Char('s') => Message::ToggleStats,
                KeyCode::Char('?') => Message::ToggleHelp,
                KeyCode::Tab => Message::FocusNext,
                KeyCode::Char('q') | KeyCode::Esc => Message::Quit,
                _ => return None,
            })
        }
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp => Some(Message::Scroll(-3)),
            MouseEventKind::ScrollDown => Some(Message::Scroll(3)),
            _ => None,
        },
        _ => None,
    }
}
