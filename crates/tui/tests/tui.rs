//! The terminal UI driven by keys on a real project (SQLite store, tantivy index), drawn into
//! ratatui's `TestBackend`, with the screens snapshotted.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hypatia_bus::Journaled;
use hypatia_project::{IngestOptions, Project};
use hypatia_report::ExportDocument;
use hypatia_research::{AgentName, Envelope, Payload};
use hypatia_research::{Budget, CallUsage, Plan, RunSettings, SubQuestion};
use hypatia_tui::{App, Command, DEBOUNCE, Key, Outcome, Theme, View, Worker};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use tokio::sync::mpsc;

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(name)
}

async fn project() -> (tempfile::TempDir, Arc<Project>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = Project::init(dir.path(), Some("tui")).await.expect("init");
    for file in ["library.bib", "abstracts.txt"] {
        project
            .ingest_file(&data(file), IngestOptions::default(), &|_| {})
            .await
            .expect("ingest");
    }
    (dir, Arc::new(project))
}

fn worker(project: &Arc<Project>) -> Worker {
    let (outcomes, _) = mpsc::unbounded_channel();
    Worker {
        project: project.clone(),
        launcher: None,
        outcomes,
    }
}

/// Carries out every command the app gives, feeding outcomes back, until it asks for nothing more.
async fn settle(app: &mut App, worker: &Worker, mut commands: Vec<Command>) {
    while let Some(command) = commands.pop() {
        if command == Command::Quit {
            continue;
        }
        let outcome = worker.carry_out(command).await;
        commands.extend(app.apply(outcome));
    }
}

async fn type_text(app: &mut App, worker: &Worker, text: &str) {
    let start = Instant::now();
    for c in text.chars() {
        let commands = app.on_key(Key::Char(c), start);
        assert!(commands.is_empty(), "a search ran before typing paused");
    }
    let commands = app.tick(start + DEBOUNCE + Duration::from_millis(1));
    settle(app, worker, commands).await;
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal.draw(|frame| app.draw(frame)).expect("draw");
    let buffer = terminal.backend().buffer().clone();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

fn plain() -> Theme {
    Theme { colour: false }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_as_you_type_shows_hits_the_paper_and_the_years() {
    let (_dir, project) = project().await;
    let worker = worker(&project);
    let mut app = App::new(plain());
    app.on_key(Key::Char('/'), Instant::now());
    type_text(&mut app, &worker, "language models").await;
    let hits = &app.library.hits;
    assert!(!hits.is_empty(), "no hits for a query in the library");
    assert!(hits[0].title.contains("language models"), "{:?}", hits[0].title);
    let detail = app.library.detail.as_ref().expect("the first hit opens");
    assert_eq!(&detail.id, app.library.selected_paper().expect("selected"));
    insta::assert_snapshot!("library", screen(&app, 100, 30));

    // Down moves through the results once the search box is left.
    app.on_key(Key::Esc, Instant::now());
    let before = app.library.selected;
    let commands = app.on_key(Key::Char('j'), Instant::now());
    if app.library.hits.len() > 1 {
        assert_eq!(app.library.selected, before + 1);
        assert!(matches!(commands.as_slice(), [Command::OpenPaper(_)]), "{commands:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_fast_runs_one_search_with_the_whole_query_and_stale_answers_are_dropped() {
    let mut app = App::new(plain());
    app.on_key(Key::Char('/'), Instant::now());
    let start = Instant::now();
    for (i, c) in "protein".chars().enumerate() {
        let commands = app.on_key(Key::Char(c), start + Duration::from_millis(10 * i as u64));
        assert!(commands.is_empty());
        assert!(
            app.tick(start + Duration::from_millis(10 * i as u64 + 5)).is_empty(),
            "searched mid-word"
        );
    }
    let commands = app.tick(start + Duration::from_secs(1));
    let [Command::Search(spec)] = commands.as_slice() else {
        panic!("expected one search, got {commands:?}");
    };
    assert_eq!(spec.query, "protein");
    assert!(
        app.tick(start + Duration::from_secs(2)).is_empty(),
        "the same search twice"
    );
    // An answer for what was typed before is not shown.
    let mut old = spec.clone();
    old.query = "prot".into();
    app.apply(Outcome::Searched(old, Ok(Vec::new())));
    assert!(app.library.searched.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_narrow_the_search_and_a_bad_year_is_explained() {
    let (_dir, project) = project().await;
    let worker = worker(&project);
    let mut app = App::new(plain());
    app.on_key(Key::Char('/'), Instant::now());
    type_text(&mut app, &worker, "research").await;
    let unfiltered = app.library.hits.len();
    app.on_key(Key::Tab, Instant::now()); // to the years field
    type_text(&mut app, &worker, "2030..").await;
    assert!(app.library.hits.is_empty(), "nothing is from 2030 on");
    assert!(unfiltered > 0);
    app.on_key(Key::Backspace, Instant::now());
    type_text(&mut app, &worker, "x").await;
    let problem = app.library.problem.clone().expect("a bad year range is reported");
    assert!(problem.contains("years"), "{problem}");
    assert!(screen(&app, 100, 30).contains("years:"), "the problem is on screen");
}

/// The report crate's stored-run fixture, exported as JSON: a run with 4 ranked hypotheses.
fn document() -> ExportDocument {
    let snapshot = include_str!("../../report/tests/snapshots/export__export_json.snap");
    let json = snapshot.splitn(3, "---\n").nth(2).expect("the snapshot body");
    serde_json::from_str(json).expect("an export document")
}

#[test]
fn the_leaderboard_shows_ranks_ratings_and_courses_and_a_citation_opens_its_paper() {
    let mut app = App::new(plain());
    app.apply(Outcome::Document(Ok(Box::new(document()))));
    app.on_key(Key::Char('3'), Instant::now());
    assert_eq!(app.view, View::Hypotheses);
    insta::assert_snapshot!("hypotheses", screen(&app, 120, 36));
    app.on_key(Key::Char('j'), Instant::now());
    assert_eq!(app.hypotheses.selected, 1);
    app.on_key(Key::Char('c'), Instant::now());
    assert_eq!(app.hypotheses.citation, 1, "h1 cites two passages");
    let commands = app.on_key(Key::Enter, Instant::now());
    let cited = &document().hypotheses[1].citations[1];
    assert_eq!(commands, vec![Command::OpenPaper(cited.paper_id.clone())]);
    assert_eq!(app.view, View::Library, "the paper opens in the library view");
}

fn journal() -> Vec<Envelope> {
    let run = "run-0tui";
    let mut envelopes = vec![
        Envelope::new(
            run,
            "start",
            AgentName::User,
            AgentName::Planner,
            Payload::RunStarted {
                settings: RunSettings {
                    question: "How do agents rank ideas?".into(),
                    hypotheses: 2,
                    rounds: 1,
                    leaders: 1,
                    seed: 1,
                    evidence_limit: 4,
                    budget: Budget {
                        model_calls: Some(40),
                        tokens: None,
                        minutes: None,
                    },
                    model: "llama:tiny.gguf".into(),
                    model_file: None,
                    provenance: None,
                    synthesis: false,
                },
            },
        ),
        Envelope::new(
            run,
            "r0.plan",
            AgentName::Planner,
            AgentName::Planner,
            Payload::PlanRequest {
                question: "How do agents rank ideas?".into(),
                seed: 1,
            },
        ),
    ];
    let mut reply = Envelope::new(
        run,
        "r0.plan/reply",
        AgentName::Planner,
        AgentName::Planner,
        Payload::PlanReady {
            plan: Plan {
                sub_questions: vec![SubQuestion {
                    question: "Which tournaments are fair?".into(),
                    queries: vec!["elo tournament".into()],
                }],
                queries: vec!["How do agents rank ideas?".into(), "elo tournament".into()],
                fallback: None,
            },
            usage: CallUsage {
                prompt_tokens: 300,
                cached_prompt_tokens: 0,
                completion_tokens: 80,
                ms: 900,
                attempts: 1,
            },
        },
    );
    reply.parent_id = Some("r0.plan".into());
    envelopes.push(reply);
    envelopes.push(Envelope::new(
        run,
        "r0.retrieve",
        AgentName::Planner,
        AgentName::Retriever,
        Payload::RetrieveRequest {
            queries: vec!["elo tournament".into()],
            limit: 4,
        },
    ));
    for (index, envelope) in envelopes.iter_mut().enumerate() {
        envelope.seq = index as i64 + 1;
        envelope.time_ms = 1_795_651_200_000 + 1000 * index as i64;
    }
    envelopes
}

#[test]
fn a_followed_run_shows_its_tasks_messages_and_budget_and_new_entries_extend_it() {
    let mut app = App::new(plain());
    app.apply(Outcome::Runs(Ok(vec![hypatia_tui::RunSummary {
        id: "run-0tui".into(),
        question: "How do agents rank ideas?".into(),
        status: "running".into(),
        messages: 4,
    }])));
    app.on_key(Key::Char('2'), Instant::now());
    let commands = app.on_key(Key::Enter, Instant::now());
    assert_eq!(
        commands,
        vec![
            Command::Follow("run-0tui".into()),
            Command::LoadDocument("run-0tui".into())
        ]
    );
    let mut envelopes = journal();
    let last = envelopes.pop().expect("the retrieve request");
    app.apply(Outcome::Journal {
        run_id: "run-0tui".into(),
        envelopes,
        from_start: true,
    });
    // The next tick reads what came after the last message seen.
    let polls = app.tick(Instant::now());
    assert_eq!(
        polls,
        vec![Command::Poll {
            run_id: "run-0tui".into(),
            after_seq: 3
        }]
    );
    app.apply(Outcome::Journal {
        run_id: "run-0tui".into(),
        envelopes: vec![last],
        from_start: false,
    });
    let followed = app.runs.followed.as_ref().expect("followed");
    assert_eq!(followed.envelopes.len(), 4);
    assert_eq!(followed.record.usage.model_calls, 1);
    insta::assert_snapshot!("runs", screen(&app, 120, 30));
    // Filtering by agent keeps the retriever's messages only.
    app.on_key(Key::Char('f'), Instant::now());
    app.on_key(Key::Char('f'), Instant::now());
    assert!(screen(&app, 120, 30).contains("Messages · retriever"));
    // Once the run has ended its journal stops changing, and so does the polling.
    let mut end = Envelope::new(
        "run-0tui",
        "finished",
        AgentName::Planner,
        AgentName::User,
        Payload::RunFinished {
            status: hypatia_research::RunStatus::Cancelled,
            detail: "cancelled from the terminal UI".into(),
        },
    );
    end.seq = 5;
    app.apply(Outcome::Journal {
        run_id: "run-0tui".into(),
        envelopes: vec![end],
        from_start: false,
    });
    assert!(
        app.tick(Instant::now() + Duration::from_secs(5)).is_empty(),
        "a finished run is still polled"
    );
}

#[test]
fn help_lists_every_key_and_every_view_fits_80_by_24() {
    let mut app = App::new(plain());
    app.apply(Outcome::Document(Ok(Box::new(document()))));
    app.on_key(Key::Esc, Instant::now());
    app.on_key(Key::Char('?'), Instant::now());
    let help = screen(&app, 100, 30);
    for (keys, _) in hypatia_tui::HELP {
        assert!(help.contains(keys), "help lacks {keys}");
    }
    app.on_key(Key::Esc, Instant::now());
    assert!(!app.help);
    for view in ['1', '2', '3'] {
        app.on_key(Key::Esc, Instant::now());
        app.on_key(Key::Char(view), Instant::now());
        let small = screen(&app, 80, 24);
        assert!(small.contains("Hypatia"), "view {view} at 80x24:\n{small}");
    }
    insta::assert_snapshot!("hypotheses_80x24", screen(&app, 80, 24));
}

#[test]
fn no_color_draws_without_colour() {
    let mut app = App::new(Theme { colour: false });
    app.apply(Outcome::Document(Ok(Box::new(document()))));
    app.on_key(Key::Char('3'), Instant::now());
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    terminal.draw(|frame| app.draw(frame)).expect("draw");
    let buffer = terminal.backend().buffer();
    assert!(
        buffer
            .content()
            .iter()
            .all(|cell| cell.fg == Color::Reset && cell.bg == Color::Reset),
        "a coloured cell with NO_COLOR"
    );
    let mut coloured = App::new(Theme { colour: true });
    coloured.apply(Outcome::Document(Ok(Box::new(document()))));
    coloured.on_key(Key::Char('3'), Instant::now());
    terminal.draw(|frame| coloured.draw(frame)).expect("draw");
    assert!(
        terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .any(|cell| cell.fg != Color::Reset),
        "the colour theme drew no colour, so the check above proves nothing"
    );
}

#[test]
fn ctrl_c_and_q_quit_but_q_types_in_the_search_box() {
    let mut app = App::new(plain());
    app.on_key(Key::Char('/'), Instant::now());
    assert!(app.on_key(Key::Char('q'), Instant::now()).is_empty());
    assert_eq!(app.library.query, "q", "q is a letter while typing");
    assert!(!app.quit);
    app.on_key(Key::Esc, Instant::now());
    assert_eq!(app.on_key(Key::Char('q'), Instant::now()), vec![Command::Quit]);
    let mut other = App::new(plain());
    assert_eq!(other.on_key(Key::Ctrl('c'), Instant::now()), vec![Command::Quit]);
}

#[test]
fn the_new_review_form_checks_what_it_is_given_and_starts_a_followed_run() {
    let mut app = App::new(plain());
    app.on_key(Key::Char('2'), Instant::now());
    assert!(app.on_key(Key::Char('n'), Instant::now()).is_empty());
    assert!(app.form.is_some(), "n opens the form");
    // An empty question is refused with the reason, and the form stays.
    assert!(app.on_key(Key::Enter, Instant::now()).is_empty());
    let problem = app.form.as_ref().and_then(|f| f.problem.clone()).expect("a problem");
    assert!(problem.contains("question"), "{problem}");
    for c in "Why do ideas win?".chars() {
        app.on_key(Key::Char(c), Instant::now());
    }
    app.on_key(Key::Tab, Instant::now());
    app.on_key(Key::Backspace, Instant::now());
    app.on_key(Key::Char('0'), Instant::now());
    app.on_key(Key::Enter, Instant::now());
    assert!(
        app.form
            .as_ref()
            .and_then(|f| f.problem.as_deref())
            .is_some_and(|p| p.contains("hypotheses")),
        "0 hypotheses is refused"
    );
    app.on_key(Key::Backspace, Instant::now());
    app.on_key(Key::Char('3'), Instant::now());
    insta::assert_snapshot!("new_review_form", screen(&app, 100, 30));
    let commands = app.on_key(Key::Enter, Instant::now());
    assert_eq!(
        commands,
        vec![Command::StartRun(hypatia_tui::NewRun {
            question: "Why do ideas win?".into(),
            hypotheses: 3,
            rounds: 2,
        })]
    );
    assert!(app.form.is_none());
    let follow = app.apply(Outcome::Started(Ok("run-0new".into())));
    assert!(follow.contains(&Command::Follow("run-0new".into())), "{follow:?}");
    // Without a model the UI says so instead of failing silently.
    app.apply(Outcome::Started(Err("no model is configured".into())));
    assert!(screen(&app, 100, 30).contains("cannot start the review: no model is configured"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_launcher_starting_a_review_explains_itself() {
    let (_dir, project) = project().await;
    let outcome = worker(&project)
        .carry_out(Command::StartRun(hypatia_tui::NewRun {
            question: "q".into(),
            hypotheses: 1,
            rounds: 1,
        }))
        .await;
    assert!(
        matches!(&outcome, Outcome::Started(Err(message)) if message.contains("hypatia review")),
        "{outcome:?}"
    );
}

/// A completed one-hypothesis run stored in `project`, citing the first passage of the library's
/// first paper: what the UI steers in the test below.
async fn stored_run(project: &Project) -> (String, hypatia_core::PaperId) {
    use hypatia_research::{
        EvidencePassage, Hypothesis, PassageRelation, Relation, RunStatus, Support, SupportJudgement, SynthesisSection,
        SynthesisStatement,
    };
    let request = hypatia_project::SearchRequest::new("research prediction scientist", 10);
    let hits = project.search_papers(&request).expect("search");
    let mut evidence = Vec::new();
    for hit in &hits {
        let (paper, passages) = project.paper(&hit.paper_id).await.expect("read").expect("stored");
        // Entries without an abstract have nothing to cite.
        let Some(passage) = passages.into_iter().next() else {
            continue;
        };
        if evidence.len() == 2 {
            break;
        }
        evidence.push(EvidencePassage {
            passage_id: passage.id,
            paper_id: paper.id,
            title: paper.title,
            year: paper.year,
            text: passage.text,
            score: 1.0,
            location: None,
        });
    }
    let bus = hypatia_bus::Bus::new(project.store());
    let run = "run-0steer";
    const QUESTION: &str = "Can language models plan experiments?";
    let settings = RunSettings {
        question: QUESTION.into(),
        hypotheses: 1,
        rounds: 1,
        leaders: 1,
        seed: 3,
        evidence_limit: 4,
        budget: Budget::default(),
        model: "llama:tiny.gguf".into(),
        model_file: None,
        provenance: None,
        synthesis: true,
    };
    let start = Envelope::new(
        run,
        "start",
        AgentName::User,
        AgentName::Planner,
        Payload::RunStarted { settings },
    );
    bus.start_run("Can language models plan experiments?", start)
        .await
        .expect("start");
    let exchange = |id: &str, to: AgentName, ask: Payload, answer: Payload| {
        let request = Envelope::new(run, id, AgentName::Planner, to, ask);
        let reply = request.reply(answer);
        (request, reply)
    };
    let hypothesis = Hypothesis {
        id: "h1".into(),
        round: 1,
        parent: None,
        statement: "Language models plan experiments when given passages.".into(),
        rationale: "The cited passage says so.".into(),
        prediction: "Plans improve.".into(),
        experiment: "Compare plans.".into(),
        citations: vec![evidence[0].passage_id.clone()],
        gap: None,
    };
    let messages = [
        exchange(
            "retrieve",
            AgentName::Retriever,
            Payload::RetrieveRequest {
                queries: vec!["language models".into()],
                limit: 4,
            },
            Payload::EvidenceReady {
                evidence: evidence.clone(),
                skipped: vec![],
            },
        ),
        // The one section (the question itself: the run has no plan), and its two passages judged
        // to contradict each other.
        exchange(
            "synth.1",
            AgentName::Reviewer,
            Payload::SynthesisRequest {
                question: QUESTION.into(),
                index: 0,
                sub_question: QUESTION.into(),
                evidence: evidence.clone(),
                seed: 2,
            },
            Payload::SynthesisReady {
                section: SynthesisSection {
                    index: 0,
                    sub_question: QUESTION.into(),
                    statements: vec![SynthesisStatement {
                        text: "Language models propose research plans from passages.".into(),
                        citations: vec![evidence[1].passage_id.clone()],
                        support: vec![SupportJudgement {
                            passage_id: evidence[1].passage_id.clone(),
                            label: Support::Supports,
                            reason: "It says so.".into(),
                        }],
                    }],
                    agreement: "Both use language models.".into(),
                    disagreement: "They disagree on what a plan needs.".into(),
                    gaps: vec!["No study runs the plans in a laboratory.".into()],
                },
                usage: CallUsage::default(),
            },
        ),
        exchange(
            "relate.1",
            AgentName::Reviewer,
            Payload::RelateRequest {
                index: 0,
                pairs: vec![(evidence[0].clone(), evidence[1].clone())],
                seed: 3,
            },
            Payload::RelationsReady {
                index: 0,
                relations: vec![PassageRelation {
                    first: evidence[0].passage_id.clone(),
                    second: evidence[1].passage_id.clone(),
                    relation: Relation::Contradict,
                    reason: "One says plans work, the other that they fail.".into(),
                    model: "llama:tiny.gguf".into(),
                    reused: false,
                }],
                asked: 1,
                usage: CallUsage::default(),
            },
        ),
        exchange(
            "r1.gen.01",
            AgentName::Hypothesis,
            Payload::GenerateRequest {
                question: "q".into(),
                hypothesis_id: "h1".into(),
                evidence: evidence.clone(),
                inspiration: vec![],
                gaps: vec![],
                seed: 1,
            },
            Payload::HypothesisReady {
                hypothesis,
                usage: CallUsage::default(),
            },
        ),
    ];
    for (request, reply) in messages {
        bus.journal(request).await.expect("journal");
        bus.journal(reply).await.expect("journal");
    }
    let end = Envelope::new(
        run,
        "finished",
        AgentName::Planner,
        AgentName::User,
        Payload::RunFinished {
            status: RunStatus::Completed,
            detail: "1 round done".into(),
        },
    );
    bus.finish_run(end, RunStatus::Completed, "1 round done")
        .await
        .expect("finish");
    (run.to_owned(), evidence[1].paper_id.clone())
}

fn kinds(envelopes: &[Envelope]) -> Vec<&'static str> {
    envelopes.iter().map(|e| e.kind()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steering_from_the_ui_pins_excludes_critiques_and_asks_for_a_round_through_the_journal() {
    let (_dir, project) = project().await;
    let (run, other_paper) = stored_run(&project).await;
    let worker = worker(&project);
    let mut app = App::new(plain());

    // Nothing followed: steering says what to do first.
    app.on_key(Key::Char('2'), Instant::now());
    assert!(app.on_key(Key::Char('R'), Instant::now()).is_empty());
    assert!(screen(&app, 100, 30).contains("follow a run first"));

    let commands = app.start();
    settle(&mut app, &worker, commands).await;
    let commands = app.on_key(Key::Enter, Instant::now());
    settle(&mut app, &worker, commands).await;
    assert_eq!(
        app.runs.followed.as_ref().map(|f| f.run_id.as_str()),
        Some(run.as_str())
    );

    // A critique of h1, written in the hypotheses view.
    app.on_key(Key::Char('3'), Instant::now());
    assert!(app.on_key(Key::Char('a'), Instant::now()).is_empty());
    for c in "Only one passage supports this.".chars() {
        assert!(
            app.on_key(Key::Char(c), Instant::now()).is_empty(),
            "typed into the box"
        );
    }
    insta::assert_snapshot!("critique_box", screen(&app, 100, 30));
    let commands = app.on_key(Key::Enter, Instant::now());
    assert!(app.critique.is_none());
    settle(&mut app, &worker, commands).await;
    let (status, problem) = app.status.clone().expect("told");
    assert!(!problem, "{status}");
    // No launcher in this test: the completed run is reopened, and the UI says how it goes on.
    assert!(status.contains("hypatia resume"), "{status}");
    let stored = project.store().run(&run).await.expect("run").expect("exists");
    assert_eq!(stored.status, "running", "a critique opens a completed run again");

    // The literature view: the run's section, its gap, and the pair judged to contradict.
    app.on_key(Key::Char('4'), Instant::now());
    let literature = screen(&app, 140, 45);
    for shown in [
        "4 Literature",
        "What the literature shows",
        "written",
        "Language models propose research plans from passages.",
        "Supports the claim",
        "1.1 No study runs the plans in a laboratory.",
        "CONTRADICT",
        "One says plans work, the other that they fail.",
    ] {
        assert!(literature.contains(shown), "{shown:?} is not shown:\n{literature}");
    }
    // `c` walks the section's passages: the statement's citation, then the other side of the pair.
    let document = app.hypotheses.document.as_ref();
    assert_eq!(app.literature.marked_paper(document), Some(other_paper.clone()));
    app.on_key(Key::Char('c'), Instant::now());
    let document = app.hypotheses.document.as_ref();
    assert_ne!(app.literature.marked_paper(document), Some(other_paper.clone()));
    assert!(app.literature.marked_paper(document).is_some());

    // Pin a search result, then exclude it instead.
    app.on_key(Key::Char('1'), Instant::now());
    app.on_key(Key::Char('/'), Instant::now());
    type_text(&mut app, &worker, "research prediction scientist").await;
    app.on_key(Key::Esc, Instant::now());
    while app.library.selected_paper() != Some(&other_paper) {
        let before = app.library.selected;
        let commands = app.on_key(Key::Char('j'), Instant::now());
        settle(&mut app, &worker, commands).await;
        assert_ne!(app.library.selected, before, "the cited paper is among the hits");
    }
    let commands = app.on_key(Key::Char('P'), Instant::now());
    settle(&mut app, &worker, commands).await;
    let followed = app.runs.followed.as_ref().expect("followed");
    assert!(
        followed.record.steering.is_pinned(&other_paper),
        "the poll after steering folds it in"
    );
    assert!(screen(&app, 100, 30).contains("pin "), "the pinned hit is marked");
    let commands = app.on_key(Key::Char('X'), Instant::now());
    settle(&mut app, &worker, commands).await;
    let steering = &app.runs.followed.as_ref().expect("followed").record.steering;
    assert!(steering.is_excluded(&other_paper) && !steering.is_pinned(&other_paper));

    // Another round, from the runs view.
    app.on_key(Key::Char('2'), Instant::now());
    let commands = app.on_key(Key::Char('R'), Instant::now());
    settle(&mut app, &worker, commands).await;

    let entries = project.store().run_messages(&run, 0).await.expect("journal");
    let envelopes: Vec<Envelope> = entries
        .iter()
        .map(|e| Envelope::from_entry(e).expect("decodes"))
        .collect();
    let steering: Vec<&Envelope> = envelopes.iter().filter(|e| e.payload.is_steering()).collect();
    assert_eq!(
        steering.iter().map(|e| e.kind()).collect::<Vec<_>>(),
        ["critique_added", "paper_pinned", "paper_excluded", "round_requested"],
        "{:?}",
        kinds(&envelopes)
    );
    assert!(
        steering
            .iter()
            .all(|e| e.sender == AgentName::User && e.recipient == AgentName::Planner)
    );
    match &steering[0].payload {
        Payload::CritiqueAdded {
            hypothesis_id,
            critique,
        } => assert_eq!(
            (hypothesis_id.as_str(), critique.as_str()),
            ("h1", "Only one passage supports this.")
        ),
        other => panic!("{other:?}"),
    }
    // The pin carries the paper's passages as stored, so the journal alone replays the run.
    let (_, passages) = project.paper(&other_paper).await.expect("read").expect("stored");
    match &steering[1].payload {
        Payload::PaperPinned { passages: pinned, .. } => {
            assert!(!pinned.is_empty());
            for (given, stored) in pinned.iter().zip(&passages) {
                assert_eq!((&given.passage_id, &given.text), (&stored.id, &stored.text));
            }
        }
        other => panic!("{other:?}"),
    }
    let record = hypatia_runs::RunRecord::from_envelopes(&run, &envelopes);
    assert_eq!(record.rounds(), 2);
    assert!(record.status.is_none(), "the run is open again");
    // A critique of a hypothesis the run does not have is refused by name.
    let refused = worker
        .carry_out(Command::Steer {
            run_id: run.clone(),
            action: hypatia_runstore::SteerAction::Critique {
                hypothesis: "h9".into(),
                critique: "x".into(),
            },
        })
        .await;
    assert!(
        matches!(&refused, Outcome::Steered(Err(message)) if message.contains("no hypothesis `h9`") && message.contains("h1")),
        "{refused:?}"
    );
}
