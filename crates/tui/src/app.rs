//! The UI's state and what it asks for. Keys and results go in, [`Command`]s come out; the runtime
//! carries the commands out off the UI's thread and feeds their [`Outcome`]s back. Nothing here
//! waits on the store, the index or a model, so the screen never freezes, and tests drive it directly.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hypatia_core::{Paper, PaperId};
use hypatia_project::PaperHit;
use hypatia_report::ExportDocument;
use hypatia_research::Envelope;
use hypatia_runstore::SteerAction;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Row, Table, Tabs};

use crate::hypotheses::HypothesesState;
use crate::keys::{HELP, Key};
use crate::launcher::{NewRun, NewRunForm};
use crate::library::{LibraryState, SearchSpec, pane};
use crate::literature::LiteratureState;
use crate::runs::{RunSummary, RunsState};
use crate::theme::Theme;

/// How often the followed run's journal is read for new messages.
pub const FOLLOW_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Library,
    Runs,
    Hypotheses,
    /// What the run's syntheses found, and the passages judged to agree or contradict.
    Literature,
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
    /// Steer the followed run; journaled, then read by whoever drives it.
    Steer {
        run_id: String,
        action: SteerAction,
    },
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
    /// Steering journaled for a run (what was done), or why not.
    Steered(Result<(String, String), String>),
    Failed(String),
}

pub struct App {
    pub view: View,
    pub library: LibraryState,
    pub runs: RunsState,
    pub hypotheses: HypothesesState,
    pub literature: LiteratureState,
    pub help: bool,
    /// The new-run form, while open.
    pub form: Option<NewRunForm>,
    /// The critique being written, while its box is open.
    pub critique: Option<CritiqueForm>,
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
            literature: LiteratureState::default(),
            help: false,
            form: None,
            critique: None,
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
        if self.critique.is_some() {
            return self.on_critique_key(key);
        }
        let typing = self.view == View::Library && self.library.is_typing();
        match key {
            Key::F(1) => return self.switch(View::Library),
            Key::F(2) => return self.switch(View::Runs),
            Key::F(3) => return self.switch(View::Hypotheses),
            Key::F(4) => return self.switch(View::Literature),
            _ if typing => return self.library.on_key(key, now),
            Key::Char('q') => return self.quit(),
            Key::Char('?') => {
                self.help = true;
                return Vec::new();
            }
            Key::Char('1') => return self.switch(View::Library),
            Key::Char('2') => return self.switch(View::Runs),
            Key::Char('3') => return self.switch(View::Hypotheses),
            Key::Char('4') => return self.switch(View::Literature),
            Key::Char('P' | 'X' | 'R') => return self.steer_key(key),
            Key::Char('a') if self.view == View::Hypotheses => return self.open_critique(),
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
            View::Literature => {
                let commands = self.literature.on_key(key, self.hypotheses.document.as_ref());
                self.route(commands)
            }
        }
    }

    /// The run steering applies to: the followed one.
    fn steered_run(&mut self) -> Option<(String, &hypatia_runs::Steering)> {
        match &self.runs.followed {
            Some(followed) => Some((followed.run_id.clone(), &followed.record.steering)),
            None => {
                self.status = Some(("follow a run first: 2, then Enter on it".to_owned(), true));
                None
            }
        }
    }

    /// `P` pins (or unpins) a paper, `X` excludes (or lets back) one: the library's selected paper,
    /// or the hypotheses view's selected citation. `R` asks for another round.
    fn steer_key(&mut self, key: Key) -> Vec<Command> {
        let paper = match self.view {
            View::Library => self.library.selected_paper().cloned(),
            View::Hypotheses => self.hypotheses.selected_citation().map(|c| c.paper_id.clone()),
            View::Literature => self.literature.marked_paper(self.hypotheses.document.as_ref()),
            View::Runs => None,
        };
        let Some((run_id, steering)) = self.steered_run() else {
            return Vec::new();
        };
        let action = match (key, paper) {
            (Key::Char('R'), _) => SteerAction::AnotherRound {
                reason: "asked for in the terminal UI".to_owned(),
            },
            (Key::Char('P'), Some(paper)) if steering.is_pinned(&paper) => SteerAction::Release(paper),
            (Key::Char('P'), Some(paper)) => SteerAction::Pin(paper),
            (Key::Char('X'), Some(paper)) if steering.is_excluded(&paper) => SteerAction::Release(paper),
            (Key::Char('X'), Some(paper)) => SteerAction::Exclude(paper),
            _ => return self.tell("select a paper first (a search result or a citation)".to_owned(), true),
        };
        vec![Command::Steer { run_id, action }]
    }

    fn open_critique(&mut self) -> Vec<Command> {
        let Some(hypothesis) = self.hypotheses.selected_id() else {
            return self.tell("no hypothesis selected".to_owned(), true);
        };
        let Some((run_id, _)) = self.steered_run() else {
            return Vec::new();
        };
        self.critique = Some(CritiqueForm {
            run_id,
            hypothesis,
            text: String::new(),
        });
        Vec::new()
    }

    fn on_critique_key(&mut self, key: Key) -> Vec<Command> {
        let Some(form) = &mut self.critique else {
            return Vec::new();
        };
        match key {
            Key::Esc => self.critique = None,
            Key::Enter if form.text.trim().is_empty() => {}
            Key::Enter => {
                let form = self.critique.take().expect("checked above");
                self.status = Some((format!("sending the critique of {}…", form.hypothesis), false));
                return vec![Command::Steer {
                    run_id: form.run_id,
                    action: SteerAction::Critique {
                        hypothesis: form.hypothesis,
                        critique: form.text,
                    },
                }];
            }
            Key::Backspace => {
                form.text.pop();
            }
            Key::Char(c) if form.text.chars().count() < hypatia_runstore::CRITIQUE_MAX_CHARS => form.text.push(c),
            _ => {}
        }
        Vec::new()
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
                    // New hypotheses, reviews or ratings: the leaderboard follows, and the list
                    // of runs once the run has ended.
                    let ended = self.runs.followed.as_ref().is_some_and(|f| f.record.status.is_some());
                    let mut commands = vec![Command::LoadDocument(run_id)];
                    if ended {
                        commands.push(Command::ListRuns);
                    }
                    commands
                } else {
                    Vec::new()
                }
            }
            Outcome::Document(Ok(document)) => {
                let same_run = self
                    .hypotheses
                    .document
                    .as_ref()
                    .is_some_and(|d| d.run_id == document.run_id);
                if !same_run {
                    self.literature = LiteratureState::default();
                }
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
            Outcome::Steered(Ok((run_id, message))) => {
                self.tell(message, false);
                // Read at once: a completed run steered goes on, and following it starts again.
                let after_seq = self
                    .runs
                    .followed
                    .as_ref()
                    .filter(|f| f.run_id == run_id)
                    .map_or(0, |f| f.last_seq);
                vec![Command::ListRuns, Command::Poll { run_id, after_seq }]
            }
            Outcome::Steered(Err(error)) => self.tell(error, true),
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
            View::Literature => 3,
        };
        let tabs = Tabs::new(vec![" 1 Library ", " 2 Runs ", " 3 Hypotheses ", " 4 Literature "])
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
            View::Library => {
                let steering = self.runs.followed.as_ref().map(|f| &f.record.steering);
                self.library.draw(frame, body, steering, theme)
            }
            View::Runs => self.runs.draw(frame, body, theme),
            View::Hypotheses => self.hypotheses.draw(frame, body, theme),
            View::Literature => self
                .literature
                .draw(frame, body, self.hypotheses.document.as_ref(), theme),
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
        if let Some(critique) = &self.critique {
            critique_overlay(frame, body, critique, theme);
        }
    }

    fn hints(&self) -> String {
        match self.view {
            View::Library if self.library.is_typing() => "type to search · Tab next field · Enter/Esc results".into(),
            View::Library => "/ search · j/k move · P pin · X exclude (followed run) · 2 runs · 3 hypotheses".into(),
            View::Runs => "Enter follow · n new · p pause/resume · x cancel · R round · f filter · e export".into(),
            View::Hypotheses => "j/k · Tab · c citation · a critique · P pin · X exclude · R round · e export".into(),
            View::Literature => "j/k section · Tab · c passage · Enter paper · P pin · X exclude · e export".into(),
        }
    }
}

/// A box of at most `width` × `height` in the middle of `area`.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let (width, height) = (area.width.min(width), area.height.min(height));
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

fn form_overlay(frame: &mut Frame, area: Rect, form: &NewRunForm, theme: Theme) {
    let popup = centered(area, 76, 9);
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

/// The critique being written of a hypothesis of the followed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CritiqueForm {
    pub run_id: String,
    pub hypothesis: String,
    pub text: String,
}

fn critique_overlay(frame: &mut Frame, area: Rect, form: &CritiqueForm, theme: Theme) {
    let popup = centered(area, 76, 9);
    let lines = vec![
        Line::from(vec![Span::raw(form.text.clone()), Span::raw("▏")]),
        Line::from(""),
        Line::from(Span::styled(
            "Enter sends it to the reviewer and the next revision · Esc drops it",
            theme.muted(),
        )),
    ];
    let widget = Paragraph::new(lines)
        .wrap(ratatui::widgets::Wrap { trim: false })
        .block(pane(
            Line::from(format!(" Your critique of {} ", form.hypothesis)),
            true,
            theme,
        ));
    frame.render_widget(Clear, popup);
    frame.render_widget(widget, popup);
}

fn help_overlay(frame: &mut Frame, area: Rect, theme: Theme) {
    let popup = centered(area, 72, HELP.len() as u16 + 2);
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
