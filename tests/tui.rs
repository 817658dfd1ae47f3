//! `hypatia tui` as a person meets it: the real binary in a real terminal (tmux), keys typed, the
//! screen read back with `tmux capture-pane`.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::TestProject;

struct Tmux {
    session: String,
}

impl Tmux {
    fn available() -> bool {
        let found = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found && std::env::var_os("HYPATIA_REQUIRE_TMUX").is_some() {
            panic!("HYPATIA_REQUIRE_TMUX is set but tmux cannot run here (apt-get install tmux)");
        }
        if !found {
            eprintln!("skipping the terminal UI smoke test: tmux is not installed");
        }
        found
    }

    fn start(project: &TestProject, environment: &str) -> Tmux {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let session = format!(
            "hypatia-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let script = format!(
            "HYPATIA_CONFIG=none NO_COLOR=1 {environment} '{}' tui; echo \"EXITED $?\"; sleep 60",
            env!("CARGO_BIN_EXE_hypatia")
        );
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", &session, "-x", "100", "-y", "30", "-c"])
            .arg(project.path())
            .arg(script)
            .status()
            .expect("tmux new-session");
        assert!(status.success(), "tmux could not start a session");
        Tmux { session }
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    fn screen(&self) -> String {
        let output = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits (at most 30 s, then fails with the screen) until the screen shows `text`.
    fn wait_for(&self, text: &str) -> String {
        self.wait_longer_for(text, Duration::from_secs(30))
    }

    fn wait_longer_for(&self, text: &str, limit: Duration) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(started.elapsed() < limit, "the screen never showed {text:?}:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

#[test]
fn the_terminal_ui_searches_as_you_type_and_quits_leaving_the_terminal_usable() {
    if !Tmux::available() {
        return;
    }
    let project = TestProject::new();
    project.ingest(&["library.bib", "abstracts.txt"]).success();
    let tmux = Tmux::start(&project, "");
    let first = tmux.wait_for("1 Library");
    assert!(first.contains("Search (/)"), "{first}");
    tmux.keys(&["/"]);
    tmux.keys(&["-l", "language models"]);
    let found = tmux.wait_for("Autonomous chemical research");
    assert!(found.contains("Results: 1"), "{found}");
    // The help overlay lists the keys, and closes again.
    escape(&tmux);
    tmux.keys(&["?"]);
    tmux.wait_for("Keys (Esc closes)");
    escape(&tmux);
    tmux.keys(&["q"]);
    let after = tmux.wait_for("EXITED 0");
    assert!(
        !after.contains("Search (/)"),
        "the UI's screen was left behind:\n{after}"
    );
    let log = project.path().join(".hypatia/tui.log");
    assert!(
        log.is_file(),
        "logs go to {} while the UI owns the terminal",
        log.display()
    );
}

/// The UI's model: the tiny GGUF, two sequences at once.
fn tiny_model_environment() -> String {
    format!(
        "HYPATIA_MODEL='{}' HYPATIA_MAX_SEQUENCES=2 HYPATIA_THREADS={}",
        hypatia_testkit::tiny_model().display(),
        hypatia_testkit::test_threads()
    )
}

/// Esc, then a pause: Esc followed at once by a key reads as Alt+key in any terminal.
fn escape(tmux: &Tmux) {
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn a_review_started_in_the_terminal_ui_runs_to_its_leaderboard_and_exports() {
    if !Tmux::available() {
        return;
    }
    let _model = crate::support::model_lock();
    let project = TestProject::new();
    project.ingest(&["library.bib", "abstracts.txt"]).success();
    let tmux = Tmux::start(&project, &tiny_model_environment());
    tmux.wait_for("1 Library");
    tmux.keys(&["2"]);
    tmux.wait_for("press n to start one");
    tmux.keys(&["n"]);
    tmux.wait_for("New review");
    tmux.keys(&["-l", "Can language models rank hypotheses?"]);
    tmux.keys(&["Tab", "BSpace", "2", "Tab", "BSpace", "1", "Enter"]);
    tmux.wait_for("started run-");
    // Followed live: tasks tick off until the run is over.
    let done = tmux.wait_longer_for("Usage · completed", Duration::from_secs(300));
    assert!(done.contains("✓"), "{done}");
    tmux.keys(&["3"]);
    let board = tmux.wait_for("rating");
    assert!(board.contains("h1") && board.contains("h2"), "{board}");
    // The run's synthesis, one section per sub-question, whatever the tiny model managed.
    tmux.keys(&["4"]);
    let literature = tmux.wait_for("What the literature shows");
    assert!(
        ["written", "failed", "no_evidence"]
            .iter()
            .any(|status| literature.contains(status)),
        "{literature}"
    );
    tmux.keys(&["e"]);
    tmux.wait_for("exported");
    let reports: Vec<String> = std::fs::read_dir(project.path().join("reports"))
        .expect("reports folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    for ext in [".md", ".html", ".bib"] {
        assert!(
            reports.iter().any(|name| name.ends_with(ext)),
            "no {ext} in {reports:?}"
        );
    }
    escape(&tmux);
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0");
    let runs = project.json(&["runs", "list", "--json"]);
    assert_eq!(runs[0]["status"], "completed", "{runs}");
}

/// The whole session: on the 249-paper corpus with the tiny model, search, start a review,
/// watch it, critique a hypothesis, pin a paper, ask for another round, see the leaderboard grow,
/// and export.
#[test]
fn one_session_searches_reviews_steers_and_exports_the_249_paper_corpus() {
    let Some(corpus) = crate::support::shared("corpus/llm-science-abstracts.txt") else {
        return;
    };
    if !Tmux::available() {
        return;
    }
    let _model = crate::support::model_lock();
    let project = TestProject::new();
    project.cmd().arg("ingest").arg(&corpus).assert().success();
    let tmux = Tmux::start(&project, &tiny_model_environment());
    tmux.wait_for("1 Library");
    tmux.keys(&["/"]);
    tmux.keys(&["-l", "scientific hypotheses"]);
    tmux.wait_for("Results: ");
    escape(&tmux);

    tmux.keys(&["2", "n"]);
    tmux.wait_for("New review");
    tmux.keys(&["-l", "How can language models generate scientific hypotheses?"]);
    tmux.keys(&["Tab", "BSpace", "2", "Tab", "BSpace", "1", "Enter"]);
    tmux.wait_for("started run-");
    let watched = tmux.wait_longer_for("Usage · completed", Duration::from_secs(300));
    assert!(watched.contains("round 1") && watched.contains("✓"), "{watched}");

    // The leader gets the researcher's critique: the run goes on and reviews it again.
    tmux.keys(&["3"]);
    let board = tmux.wait_for("rating");
    assert!(
        board.contains("h1") && board.contains("h2") && !board.contains("h3"),
        "{board}"
    );
    tmux.keys(&["a"]);
    tmux.wait_for("Your critique of");
    tmux.keys(&["-l", "The evidence never measures novelty; quit hand-waving."]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the run goes on");
    tmux.keys(&["2"]);
    tmux.wait_longer_for("finished.2", Duration::from_secs(300));

    // A paper pinned from the library, then another round.
    tmux.keys(&["1"]);
    tmux.wait_for("Results: ");
    tmux.keys(&["P"]);
    tmux.wait_for("R asks for another round");
    let marked = tmux.wait_for("pin ");
    assert!(marked.contains("Results: "), "{marked}");
    tmux.keys(&["2", "R"]);
    tmux.wait_for("another round asked for");
    let second = tmux.wait_longer_for("finished.3", Duration::from_secs(300));
    assert!(second.contains("r2.judge."), "round 2 ran: {second}");

    // The leaderboard now holds the revision.
    tmux.keys(&["3"]);
    let board = tmux.wait_for("h3");
    assert!(board.contains("rating"), "{board}");
    tmux.keys(&["e"]);
    tmux.wait_for("exported");
    let reports = project.path().join("reports");
    let markdown = std::fs::read_dir(&reports)
        .expect("reports folder")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "md"))
        .expect("a Markdown report");
    let text = std::fs::read_to_string(&markdown).expect("read the report");
    assert!(text.contains("## Steering"), "{text}");
    assert!(text.contains("quit hand-waving"), "the critique is in the report");
    assert!(text.contains("Pinned “"), "the pin is in the report");
    escape(&tmux);
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0");
    let runs = project.json(&["runs", "list", "--json"]);
    assert_eq!(runs[0]["status"], "completed", "{runs}");
}
