use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// The `hypatia` binary, isolated from the caller's environment.
pub fn hypatia() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hypatia"));
    command
        .env_remove("HYPATIA_PROJECT")
        .env_remove("HYPATIA_LOG")
        .env("NO_COLOR", "1")
        // No user config file, and no model settings from the caller's environment.
        .env("HYPATIA_CONFIG", "none");
    for name in [
        "HYPATIA_MODEL",
        "HYPATIA_BACKEND",
        "HYPATIA_MODELS_DIR",
        "HYPATIA_PROMPTS_DIR",
        "HYPATIA_OPENAI_MODEL",
        "HYPATIA_THREADS",
        "HYPATIA_CONTEXT_TOKENS",
        "HYPATIA_EMBEDDING_MODEL",
        "HYPATIA_EMBEDDING_OPENAI_MODEL",
        "HYPATIA_EMBEDDING_THREADS",
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
        "HF_TOKEN",
        "HF_ENDPOINT",
    ] {
        command.env_remove(name);
    }
    command
}

/// Held by tests that run a model (in a child process): llama.cpp's threads busy-wait, so two at once
/// on a small machine only slow each other down.
pub fn model_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A fresh project in a temporary folder; commands run inside it.
pub struct TestProject {
    pub dir: TempDir,
}

impl TestProject {
    pub fn new() -> TestProject {
        let dir = tempfile::tempdir().expect("tempdir");
        hypatia().arg("init").arg(dir.path()).assert().success();
        TestProject { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self) -> Command {
        let mut command = hypatia();
        command.current_dir(self.dir.path());
        command
    }

    /// `hypatia ingest` of files from tests/data, asserted on by the caller.
    pub fn ingest(&self, files: &[&str]) -> assert_cmd::assert::Assert {
        let mut command = self.cmd();
        command.arg("ingest");
        for file in files {
            command.arg(data(file));
        }
        command.assert()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let output = self.cmd().args(args).output().expect("run hypatia");
        assert!(
            output.status.success(),
            "hypatia {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("JSON output")
    }

    /// (papers, passages) stored, checked against what the index holds.
    pub fn counts(&self) -> (i64, i64) {
        let status = self.json(&["status", "--json"]);
        let papers = status["papers"].as_i64().expect("papers");
        let passages = status["passages"].as_i64().expect("passages");
        assert_eq!(
            status["indexed_papers"].as_i64(),
            Some(papers),
            "store and index disagree: {status}"
        );
        assert_eq!(
            status["indexed_passages"].as_i64(),
            Some(passages),
            "store and index disagree: {status}"
        );
        (papers, passages)
    }
}

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// `../shared` beside the checkout, if this machine has it. Tests that need
/// it say why they skip when it is absent (CI always has it).
pub fn shared(relative: &str) -> Option<PathBuf> {
    hypatia_testkit::shared_data(relative)
}
