//! The terminal UI (`hypatia tui`). [`App`] is the state and the screen: keys and results in,
//! commands out, drawn with ratatui and never blocked on work. [`run`] owns the terminal and carries
//! the commands out against a project: searches, papers, runs followed from their journal, exports.

mod app;
mod hypotheses;
mod keys;
mod launcher;
mod library;
mod literature;
mod runs;
mod runtime;
mod theme;

pub use app::{App, Command, FOLLOW_EVERY, Outcome, View};
pub use keys::{HELP, Key};
pub use launcher::{Answer, Launcher, NewRun, NewRunForm};
pub use library::{DEBOUNCE, Field, SearchSpec};
pub use literature::LiteratureState;
pub use runs::RunSummary;
pub use runtime::{Worker, run};
pub use theme::Theme;
