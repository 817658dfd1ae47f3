//! The terminal and the work: reads keys on their own thread, carries out the app's commands on tokio
//! tasks (searches on blocking threads), and draws. The terminal is restored on exit and on panic.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hypatia_bus::RunJournal;
use hypatia_project::{Project, SearchRequest};
use hypatia_report::Format;
use hypatia_runstore::SteerAction;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event, MouseEventKind};
use ratatui::crossterm::execute;
use tokio::sync::mpsc;

use crate::app::{App, Command, Outcome};
use crate::keys::Key;
use crate::launcher::Launcher;
use crate::library::{HIT_LIMIT, SearchSpec};
use crate::runs::RunSummary;
use crate::theme::Theme;

/// Redraws and timers run at this pace when nothing else happens.
const FRAME: Duration = Duration::from_millis(50);

enum Input {
    Key(Key),
    Redraw,
}

/// Runs the UI on `project` until the user quits; with a `launcher`, reviews can be started,
/// paused, resumed and cancelled from it.
pub async fn run(project: Arc<Project>, launcher: Option<Arc<dyn Launcher>>) -> io::Result<()> {
    let mut terminal = ratatui::init();
    let _ = execute!(io::stdout(), EnableMouseCapture);
    let result = event_loop(&mut terminal, project, launcher).await;
    let _ = execute!(io::stdout(), DisableMouseCapture);
    ratatui::restore();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    project: Arc<Project>,
    launcher: Option<Arc<dyn Launcher>>,
) -> io::Result<()> {
    let (input_tx, mut input) = mpsc::unbounded_channel();
    std::thread::spawn(move || read_input(&input_tx));
    let (outcome_tx, mut outcomes) = mpsc::unbounded_channel();
    let mut app = App::new(Theme::from_env());
    let worker = Worker {
        project,
        launcher,
        outcomes: outcome_tx,
    };
    for command in app.start() {
        worker.execute(command);
    }
    let mut frame = tokio::time::interval(FRAME);
    loop {
        terminal.draw(|f| app.draw(f))?;
        let commands = tokio::select! {
            Some(input) = input.recv() => match input {
                Input::Key(key) => app.on_key(key, Instant::now()),
                Input::Redraw => Vec::new(),
            },
            Some(outcome) = outcomes.recv() => app.apply(outcome),
            _ = frame.tick() => app.tick(Instant::now()),
        };
        for command in commands {
            if command == Command::Quit {
                return Ok(());
            }
            worker.execute(command);
        }
        if app.quit {
            return Ok(());
        }
    }
}

/// Keys and mouse wheels from the terminal, on a thread of their own (the read blocks).
fn read_input(input: &mpsc::UnboundedSender<Input>) {
    loop {
        if input.is_closed() {
            return;
        }
        match event::poll(Duration::from_millis(100)) {
            Ok(false) => continue,
            Ok(true) => {}
            Err(_) => return,
        }
        let sent = match event::read() {
            Ok(Event::Key(key)) => match Key::from_event(key) {
                Some(key) => input.send(Input::Key(key)),
                None => Ok(()),
            },
            Ok(Event::Mouse(mouse)) => match mouse.kind {
                MouseEventKind::ScrollDown => input.send(Input::Key(Key::Down)),
                MouseEventKind::ScrollUp => input.send(Input::Key(Key::Up)),
                _ => Ok(()),
            },
            Ok(Event::Resize(..)) => input.send(Input::Redraw),
            Ok(_) => Ok(()),
            Err(_) => return,
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Carries out commands; each answer comes back as an [`Outcome`].
#[derive(Clone)]
pub struct Worker {
    pub project: Arc<Project>,
    pub launcher: Option<Arc<dyn Launcher>>,
    pub outcomes: mpsc::UnboundedSender<Outcome>,
}

impl Worker {
    pub fn execute(&self, command: Command) {
        let worker = self.clone();
        match command {
            // The app handles these itself.
            Command::Quit | Command::ShowPaper(_) | Command::OpenForm => {}
            other => {
                tokio::spawn(async move {
                    let outcome = worker.carry_out(other).await;
                    let _ = worker.outcomes.send(outcome);
                });
            }
        }
    }

    /// The asynchronous commands; also what tests call to get an outcome without a terminal.
    pub async fn carry_out(&self, command: Command) -> Outcome {
        let project = &self.project;
        match command {
            Command::Search(spec) => {
                let result = search(project, &spec).await;
                Outcome::Searched(spec, result)
            }
            Command::OpenPaper(id) | Command::ShowPaper(id) => Outcome::Paper(match project.paper(&id).await {
                Ok(Some((paper, _))) => Ok(paper),
                Ok(None) => Err(format!("paper {id} is not in this project")),
                Err(error) => Err(error.to_string()),
            }),
            Command::ListRuns => Outcome::Runs(match project.store().list_runs().await {
                Ok(rows) => Ok(rows
                    .into_iter()
                    .map(|row| RunSummary {
                        status: hypatia_runstore::shown_status(project, &row.id, &row.status),
                        id: row.id,
                        question: row.question,
                        messages: row.messages,
                    })
                    .collect()),
                Err(error) => Err(error.to_string()),
            }),
            Command::Follow(run_id) => self.journal(run_id, 0, true).await,
            Command::Poll { run_id, after_seq } => self.journal(run_id, after_seq, false).await,
            Command::LoadDocument(run_id) => Outcome::Document(
                hypatia_runstore::load_document(project, &run_id)
                    .await
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            ),
            Command::Export(run_id) => Outcome::Exported(self.export(&run_id).await),
            Command::StartRun(run) => Outcome::Started(match &self.launcher {
                Some(launcher) => launcher.start(run).await,
                None => Err(NO_LAUNCHER.to_owned()),
            }),
            Command::PauseOrResume(run_id) => Outcome::Controlled(match &self.launcher {
                Some(launcher) if launcher.is_active(&run_id) => launcher
                    .pause(run_id.clone())
                    .await
                    .map(|()| format!("paused {run_id}: p resumes")),
                Some(launcher) => launcher
                    .resume(run_id.clone())
                    .await
                    .map(|()| format!("resumed {run_id}")),
                None => Err(NO_LAUNCHER.to_owned()),
            }),
            Command::Cancel(run_id) => Outcome::Controlled(match &self.launcher {
                Some(launcher) => launcher
                    .cancel(run_id.clone())
                    .await
                    .map(|()| format!("cancelled {run_id}")),
                None => Err(NO_LAUNCHER.to_owned()),
            }),
            Command::Steer { run_id, action } => Outcome::Steered(self.steer(run_id, action).await),
            Command::Quit | Command::OpenForm => Outcome::Failed("nothing to do".to_owned()),
        }
    }

    /// Journals the steering; a completed run it opens again is driven here if nobody else does.
    async fn steer(&self, run_id: String, action: SteerAction) -> Result<(String, String), String> {
        let what = match &action {
            SteerAction::Pin(paper) => format!("pinned {paper}"),
            SteerAction::Exclude(paper) => format!("excluded {paper}"),
            SteerAction::Release(paper) => format!("released {paper}"),
            SteerAction::Critique { hypothesis, .. } => format!("critique of {hypothesis} sent"),
            SteerAction::AnotherRound { .. } => "another round asked for".to_owned(),
        };
        let steered = hypatia_runstore::steer(&self.project, &run_id, action)
            .await
            .map_err(|e| e.to_string())?;
        let driven_here = self.launcher.as_ref().is_some_and(|l| l.is_active(&run_id));
        let next = if steered.reopened {
            match &self.launcher {
                Some(launcher) if !self.project.run_is_active(&run_id) => {
                    launcher.resume(run_id.clone()).await?;
                    "; the run goes on".to_owned()
                }
                Some(_) => "; the process driving it takes it up".to_owned(),
                None => format!("; `hypatia resume {run_id}` carries it out"),
            }
        } else if steered.needs_round {
            "; the run has completed: R asks for another round".to_owned()
        } else if driven_here || self.project.run_is_active(&run_id) {
            "; the planner takes it up now".to_owned()
        } else {
            "; it takes effect when the run goes on (p)".to_owned()
        };
        Ok((run_id.clone(), format!("{run_id}: {what}{next}")))
    }

    async fn journal(&self, run_id: String, after_seq: i64, from_start: bool) -> Outcome {
        let journal = RunJournal::new(self.project.store());
        let envelopes = match journal.envelopes(&run_id, after_seq).await {
            Ok(envelopes) => envelopes,
            Err(error) => return Outcome::Failed(format!("reading run {run_id}: {error}")),
        };
        Outcome::Journal {
            run_id,
            envelopes,
            from_start,
        }
    }

    /// Markdown and HTML into the project's `reports/` folder, through the same integrity gate as
    /// `hypatia export`.
    async fn export(&self, run_id: &str) -> Result<Vec<std::path::PathBuf>, String> {
        let document = hypatia_runstore::load_document(&self.project, run_id)
            .await
            .map_err(|e| e.to_string())?;
        let dir = self.project.root().join("reports");
        hypatia_runstore::export_to_dir(&document, &[Format::Markdown, Format::Html, Format::Bibtex], &dir)
            .map_err(|e| format!("{}: {e}", dir.display()))
    }
}

const NO_LAUNCHER: &str = "this UI cannot run models; start reviews with `hypatia review`";

/// The library's search: hybrid when the project has an embedding model, else BM25.
async fn search(project: &Project, spec: &SearchSpec) -> Result<Vec<hypatia_project::PaperHit>, String> {
    if spec.query.is_empty() && spec.years.is_none() && spec.author.is_none() {
        return Ok(Vec::new());
    }
    let request = SearchRequest {
        query: &spec.query,
        limit: HIT_LIMIT,
        years: spec.years,
        author: spec.author.as_deref(),
        snippets: false,
    };
    project
        .find_papers(&request, project.default_mode())
        .await
        .map_err(|e| e.to_string())
}
