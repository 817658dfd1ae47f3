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

    fn start(project: &TestProject) -> Tmux {
        let session = format!("hypatia-test-{}", std::process::id());
        let script = format!(
            "HYPATIA_CONFIG=none NO_COLOR=1 '{}' tui; echo \"EXITED $?\"; sleep 60",
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
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the screen never showed {text:?}:\n{screen}"
            );
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
    let tmux = Tmux::start(&project);
    let first = tmux.wait_for("1 Library");
    assert!(first.contains("Search (/)"), "{first}");
    tmux.keys(&["/"]);
    tmux.keys(&["-l", "language models"]);
    let found = tmux.wait_for("Autonomous chemical research");
    assert!(found.contains("Results: 1"), "{found}");
    // The help overlay lists the keys, and closes again.
    // Esc followed at once by a key reads as Alt+key, as in any terminal: a person pauses between them.
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys(&["?"]);
    tmux.wait_for("Keys (Esc closes)");
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
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
