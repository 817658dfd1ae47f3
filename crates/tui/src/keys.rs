//! Keys as the UI understands them, decoupled from the terminal library so tests can type.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Enter,
    Esc,
    Backspace,
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    F(u8),
}

impl Key {
    /// `None` for key releases and keys the UI has no use for.
    pub fn from_event(event: KeyEvent) -> Option<Key> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        Some(match event.code {
            KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
            KeyCode::Char(c) => Key::Char(c),
            KeyCode::Enter => Key::Enter,
            KeyCode::Esc => Key::Esc,
            KeyCode::Backspace => Key::Backspace,
            KeyCode::Tab => Key::Tab,
            KeyCode::BackTab => Key::BackTab,
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::Left => Key::Left,
            KeyCode::Right => Key::Right,
            KeyCode::PageUp => Key::PageUp,
            KeyCode::PageDown => Key::PageDown,
            KeyCode::Home => Key::Home,
            KeyCode::End => Key::End,
            KeyCode::F(n) => Key::F(n),
            _ => return None,
        })
    }
}

/// Every key the UI answers to, for the help overlay: (keys, what they do).
pub const HELP: &[(&str, &str)] = &[
    ("1 2 3 4 / F1-F4", "library, runs, hypotheses, literature"),
    ("Tab / Shift-Tab", "next / previous pane or field"),
    ("↑ ↓  j k", "move in a list"),
    ("PgUp PgDn  g G", "page, first, last"),
    ("/", "search the library (type; results follow)"),
    ("Enter", "open: the selected paper, run or citation"),
    ("Esc", "leave a text field; close this help"),
    ("f", "runs: filter the message stream by agent"),
    ("e", "runs, hypotheses: export the run (Markdown, HTML, BibTeX)"),
    ("r", "runs: reload the list of runs"),
    ("n", "runs: start a review (question, hypotheses, rounds)"),
    ("p", "runs: pause the followed run, or resume it"),
    ("x", "runs: cancel the followed run for good"),
    (
        "c",
        "hypotheses: next cited passage; literature: next passage of the section",
    ),
    ("a", "hypotheses: write your critique of the selected hypothesis"),
    (
        "P",
        "library, hypotheses: pin the paper into the followed run (again: unpin)",
    ),
    (
        "X",
        "library, hypotheses: exclude the paper from the followed run (again: let back)",
    ),
    ("R", "runs, hypotheses: ask the planner for another round"),
    ("?", "this help"),
    ("q  Ctrl-C", "quit"),
];
