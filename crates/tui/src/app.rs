//! The UI's state and what it asks for. Keys and results go in, [`Command`]s come out; the runtime
//! carries the commands out off the UI's thread and feeds their [`Outcome`]s back. Nothing here
//! waits on the store, the index or a model, so the screen never freezes, and tests drive it directly.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hypatia_bus::Envelope;
use hypatia_core::{Paper, PaperId};
use hypatia_project::PaperHit;
use hypatia_report::ExportDocument;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Row, Table, Tabs};

use crate::hypotheses::HypothesesState;
use crate::keys::{HELP, Key};
use crate::launcher::{NewRun, NewRunForm};
use crate::library::{LibraryState, SearchSpec, pane};
use crate::runs::{RunSummary, RunsState};
use crate::theme::Theme;

/// How often the followed run's journal is read for new messages.
pub const FOLLOW_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Library,
    Runs,
    Hypotheses,
}

/// Work for the runtime.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Search(SearchSpec),
    OpenPaper(PaperId),
    /// Open a paper in the library view (from a citation).
    ShowPaper(PaperId),
    ListRuns,
    Follow(String),
    Poll {
        run_id: String,
        after_seq: i64,
    },
    LoadDocument(String),
    Export(String),
    OpenForm,
    StartRun(NewRun),
    PauseOrResume(String),
    Cancel(String),
    Quit,
}

/// What the runtime found.
#[derive(Debug)]
pub enum Outcome {
    Searched(SearchSpec, Result<Vec<PaperHit>, String>),
    Paper(Result<Paper, String>),
    Runs(Result<Vec<RunSummary>, String>),
    Journal {
        run_id: String,
        envelopes: Vec<Envelope>,
        from_start: bool,
    },
    Document(Result<Box<ExportDocument>, String>),
    Exported(Result<Vec<PathBuf>, String>),
    Started(Result<String, String>),
    /// A pause, resume or cancel done (the message says which), or why not.
    Controlled(Result<String, String>),
    Failed(String),
}

pub struct App {
    pub view: View,
    pub library: LibraryState,
    pub runs: RunsState,
    pub hypotheses: HypothesesState,
    pub help: bool,
    /// The new-run form, while open.
    pub form: Option<NewRunForm>,
    pub theme: Theme,
    /// The last thing worth telling: an export written, an error.
    pub status: Option<(String, bool)>,
    next_poll: Option<Instant>,
    pub quit: bool,
}

impl App {
    pub fn new(theme: Theme) -> App {
        App {
            view: View::Library,
            library: LibraryState::default(),
            runs: RunsState::default(),
            hypotheses: HypothesesState::default(),
            help: false,
            form: None,
            theme,
            status: None,
            next_poll: None,
            quit: false,
        }
    }

    /// What to do first: list the runs.
    pub fn start(&mut self) -> Vec<Command> {
        vec![Command::ListRuns]
    }

    pub fn on_key(&mut self, key: Key, now: Instant) -> Vec<Command> {
        if key == Key::Ctrl('c') {
            return self.quit();
        }
        if self.help {
            if matches!(key, Key::Esc | Key::Char('?') | Key::Char('q') | Key::Enter) {
                self.help = false;
            }
            return Vec::new();
        }
        if let Some(form) = &mut self.form {
            return match key {
                Key::Esc => {
                    self.form = None;
                    Vec::new()
                }
                Key::Tab | Key::Down => {
                    form.field = (form.field + 1) % 3;
                    Vec::new()
                }
                Key::BackTab | Key::Up => {
                    form.field = (form.field + 2) % 3;
                    Vec::new()
                }
                Key::Enter => match form.submit() {
                    Ok(run) => {
                        self.form = None;
                        self.status = Some(("starting the review…".to_owned(), false));
                        vec![Command::StartRun(run)]
                    }
                    Err(problem) => {
                        form.problem = Some(problem);
                        Vec::new()
                    }
                },
                Key::Backspace => {
                    form.field_mut().pop();
                    Vec::new()
                }
                Key::Char(c) => {
                    form.field_mut().push(c);
                    form.problem = None;
                    Vec::new()
                }
                _ => Vec::new(),
            };
        }
        let typing = self.view == View::Library && self.library.is_typing();
        match key {
            Key::F(1) => return self.switch(View::Library),
            Key::F(2) => return self.switch(View::Runs),
            Key::F(3) => return self.switch(View::Hypotheses),
            _ if typing => return self.library.on_key(key, now),
            Key::Char('q') => return self.quit(),
            Key::Char('?') => {
                self.help = true;
                return Vec::new();
            }
            Key::Char('1') => return self.switch(View::Library),
            Key::Char('2') => return self.switch(View::Runs),
            Key::Char('3') => return self.switch(View::Hypotheses),
            _ => {}
        }
        match self.view {
            View::Library => self.library.on_key(key, now),
            View::Runs => {
                let commands = self.runs.on_key(key);
                self.route(commands)
            }
            View::Hypotheses => {
                let commands = self.hypotheses.on_key(key);
                self.route(commands)
            }
        }
    }

    /// Handles the commands the UI answers itself; passes the rest on.
    fn route(&mut self, commands: Vec<Command>) -> Vec<Command> {
        let mut out = Vec::new();
        for command in commands {
            match command {
                Command::ShowPaper(id) => {
                    self.view = View::Library;
                    self.library.focus = crate::library::Field::Results;
                    out.push(Command::OpenPaper(id));
                }
                Command::Follow(run_id) => {
                    out.push(Command::Follow(run_id.clone()));
                    out.push(Command::LoadDocument(run_id));
                }
                Command::OpenForm => self.form = Some(NewRunForm::default()),
                Command::Quit => out.extend(self.quit()),
                other => out.push(other),
            }
        }
        out
    }

    fn quit(&mut self) -> Vec<Command> {
        self.quit = true;
        vec![Command::Quit]
    }

    fn switch(&mut self, view: View) -> Vec<Command> {
        self.view = view;
        Vec::new()
    }

    /// Time passing: the debounced search, and reading the followed run's journal.
    pub fn tick(&mut self, now: Instant) -> Vec<Command> {
        let mut commands = self.library.tick(now);
        // A finished run's journal does not change: polling stops with it.
        if let Some(followed) = self.runs.followed.as_ref().filter(|f| f.record.status.is_none())
            && self.next_poll.is_none_or(|due| now >= due)
        {
            self.next_poll = Some(now + FOLLOW_EVERY);
            commands.push(Command::Poll {
                run_id: followed.run_id.clone(),
                after_seq: followed.last_seq,
            });
        }
        commands
    }

    pub fn apply(&mut self, outcome: Outcome) -> Vec<Command> {
        match outcome {
            Outcome::Searched(spec, result) => self.library.searched(spec, result),
            Outcome::Paper(Ok(paper)) => {
                self.library.opened(paper);
                Vec::new()
            }
            Outcome::Paper(Err(error)) | Outcome::Failed(error) => self.tell(error, true),
            Outcome::Runs(Ok(runs)) => {
                self.runs.listed(runs);
                Vec::new()
            }
            Outcome::Runs(Err(error)) => self.tell(error, true),
            Outcome::Journal {
                run_id,
                envelopes,
                from_start,
            } => {
                if from_start {
                    self.runs.follow(&run_id, envelopes);
                    Vec::new()
                } else if self.runs.appended(&run_id, envelopes) {
                    // New hypotheses, reviews or ratings: the leaderboard follows.
                    vec![Command::LoadDocument(run_id)]
                } else {
                    Vec::new()
                }
            }
            Outcome::Document(Ok(document)) => {
                self.hypotheses.show(*document);
                Vec::new()
            }
            Outcome::Document(Err(error)) => self.tell(error, true),
            Outcome::Exported(Ok(files)) => {
                let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                self.tell(format!("exported {}", names.join(", ")), false)
            }
            Outcome::Exported(Err(error)) => self.tell(format!("export failed: {error}"), true),
            Outcome::Started(Ok(run_id)) => {
                self.tell(format!("started {run_id}"), false);
                self.view = View::Runs;
                vec![
                    Command::ListRuns,
                    Command::Follow(run_id.clone()),
                    Command::LoadDocument(run_id),
                ]
            }
            Outcome::Started(Err(error)) => self.tell(format!("cannot start the review: {error}"), true),
            Outcome::Controlled(Ok(message)) => {
                self.tell(message, false);
                vec![Command::ListRuns]
            }
            Outcome::Controlled(Err(error)) => self.tell(error, true),
        }
    }

    fn tell(&mut self, message: String, problem: bool) -> Vec<Command> {
        self.status = Some((message, problem));
        Vec::new()
    }

    pub fn draw(&self, frame: &mut Frame) {
        let theme = self.theme;
        let [tabs_area, body, status_area] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(5), Constraint::Length(1)]).areas(frame.area());
        let selected = match self.view {
            View::Library => 0,
            View::Runs => 1,
            View::Hypotheses => 2,
        };
        let tabs = Tabs::new(vec![" 1 Library ", " 2 Runs ", " 3 Hypotheses "])
            .select(selected)
            .highlight_style(theme.selected())
            .divider("│");
        let [tabs_left, tabs_right] =
            Layout::horizontal([Constraint::Min(20), Constraint::Length(24)]).areas(tabs_area);
        frame.render_widget(tabs, tabs_left);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("Hypatia", theme.title()),
                Span::raw("  ? help  q quit"),
            ])),
            tabs_right,
        );
        match self.view {
            View::Library => self.library.draw(frame, body, theme),
            View::Runs => self.runs.draw(frame, body, theme),
            View::Hypotheses => self.hypotheses.draw(frame, body, theme),
        }
        let status = match &self.status {
            Some((message, true)) => Line::from(Span::styled(message.clone(), theme.bad())),
            Some((message, false)) => Line::from(message.clone()),
            None => Line::from(Span::styled(self.hints(), theme.muted())),
        };
        frame.render_widget(Paragraph::new(status), status_area);
        if self.help {
            help_overlay(frame, body, theme);
        }
        if let Some(form) = &self.form {
            form_overlay(frame, body, form, theme);
        }
    }

    fn hints(&self) -> String {
        match self.view {
            View::Library if self.library.is_typing() => "type to search · Tab next field · Enter/Esc results".into(),
            View::Library => "/ search · j/k move · Tab fields · 2 runs · 3 hypotheses".into(),
            View::Runs => "Enter follow · n new review · p pause/resume · x cancel · f filter · e export".into(),
            View::Hypotheses => "j/k move · Tab detail · c citation · Enter open paper · e export".into(),
        }
    }
}

fn form_overlay(frame: &mut Frame, area: Rect, form: &NewRunForm, theme: Theme) {
    let width = area.width.min(76);
    let height = 9.min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let field = |index: usize, name: &str, value: &str| {
        let focused = form.field == index;
        Line::from(vec![
            Span::styled(format!("{name:<12}"), if focused { theme.key() } else { theme.muted() }),
            Span::raw(value.to_owned()),
            Span::raw(if focused { "▏" } else { "" }),
        ])
    };
    let mut lines = vec![
        field(0, "question", &form.question),
        field(1, "hypotheses", &form.hypotheses),
        field(2, "rounds", &form.rounds),
        Line::from(""),
    ];
    lines.push(match &form.problem {
        Some(problem) => Line::from(Span::styled(problem.clone(), theme.bad())),
        None => Line::from(Span::styled(
            "Enter starts · Tab next field · Esc closes",
            theme.muted(),
        )),
    });
    let widget = Paragraph::new(lines)
        .wrap(ratatui::widgets::Wrap { trim: false })
        .block(pane(Line::from(" New review "), true, theme));
    frame.render_widget(Clear, popup);
    frame.render_widget(widget, popup);
}

fn help_overlay(frame: &mut Frame, area: Rect, theme: Theme) {
    let width = area.width.min(72);
    let height = (HELP.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let rows = HELP
        .iter()
        .map(|(keys, what)| Row::new(vec![Span::styled(*keys, theme.key()), Span::raw(*what)]));
    let table = Table::new(rows, [Constraint::Length(20), Constraint::Min(10)]).block(pane(
        Line::from(" Keys (Esc closes) "),
        true,
        theme,
    ));
    frame.render_widget(Clear, popup);
    frame.render_widget(table, popup);
}
