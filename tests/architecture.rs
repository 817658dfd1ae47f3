//! ARCHITECTURE.md's invariants that a machine can check: which crate may depend on which, where
//! each outside system is spoken to, and that the code map names every crate there is.
//! Read from `cargo metadata`, so a new dependency that breaks a rule fails here, naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The workspace's crates: name → (normal dependencies, folder).
struct Workspace {
    crates: BTreeMap<String, (BTreeSet<String>, PathBuf)>,
}

impl Workspace {
    fn load() -> Workspace {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let output = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo metadata runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata is JSON");
        let mut crates = BTreeMap::new();
        for package in metadata["packages"].as_array().expect("packages") {
            let name = package["name"].as_str().expect("name").to_owned();
            let dependencies = package["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().expect("dependency name").to_owned())
                .collect();
            let manifest = PathBuf::from(package["manifest_path"].as_str().expect("manifest path"));
            let folder = manifest.parent().expect("a folder").to_path_buf();
            crates.insert(name, (dependencies, folder));
        }
        Workspace { crates }
    }

    fn dependencies(&self, name: &str) -> &BTreeSet<String> {
        &self.crates.get(name).unwrap_or_else(|| panic!("no crate {name}")).0
    }

    /// Every workspace crate `name` links, directly or through others.
    fn closure(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![name.to_owned()];
        while let Some(next) = stack.pop() {
            for dependency in self.dependencies(&next) {
                if self.crates.contains_key(dependency) && seen.insert(dependency.clone()) {
                    stack.push(dependency.clone());
                }
            }
        }
        seen
    }

    fn dependents(&self, dependency: &str) -> BTreeSet<&str> {
        self.crates
            .iter()
            .filter(|(_, (dependencies, _))| dependencies.contains(dependency))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    fn agents(&self) -> Vec<&str> {
        self.crates
            .iter()
            .filter(|(_, (_, folder))| folder.parent().is_some_and(|p| p.ends_with("agents")))
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// Each outside system, and the only crates that may depend on it directly.
const OUTSIDE_SYSTEMS: &[(&str, &[&str])] = &[
    // The project database; and, read-only, a Zotero library's.
    ("sqlx", &["hypatia-store", "hypatia-zotero"]),
    ("tantivy", &["hypatia-index"]),
    ("llama-cpp-2", &["hypatia-llama"]),
    ("llama-cpp-sys-2", &["hypatia-llama"]),
    ("async-openai", &["hypatia-openai"]),
    // HTTP: to model servers, to model downloads, to scholarly APIs.
    ("reqwest", &["hypatia-openai", "hypatia-models", "hypatia-sources"]),
    ("ratatui", &["hypatia-tui"]),
    ("minijinja", &["hypatia-prompts"]),
    // The PDF parser: its panics and hangs are contained in one place.
    ("pdf-extract", &["hypatia-pdf"]),
    ("lopdf", &["hypatia-pdf"]),
    // Errors as values in libraries; `anyhow` only at a binary's edge.
    ("anyhow", &["hypatia", "hypatia-bench", "xtask"]),
];

/// Crates that link no database, index, engine or network: data and pure functions.
const PURE: &[&str] = &[
    "hypatia-core",
    "hypatia-research",
    "hypatia-runs",
    "hypatia-report",
    "hypatia-graph",
    "hypatia-ingest",
    "hypatia-pdf",
    "hypatia-gguf",
    "hypatia-prompts",
    "hypatia-llm",
    "hypatia-retry",
    "hypatia-agentkit",
    "hypatia-vectors",
];

/// What a pure crate must not link, even through another crate.
const IMPURE: &[&str] = &[
    "hypatia-store",
    "hypatia-index",
    "hypatia-project",
    "hypatia-bus",
    "hypatia-llama",
    "hypatia-openai",
    "hypatia-models",
    "hypatia-sources",
];

#[test]
fn each_outside_system_is_spoken_to_by_its_own_crates_only() {
    let workspace = Workspace::load();
    let mut broken = Vec::new();
    for (system, allowed) in OUTSIDE_SYSTEMS {
        for user in workspace.dependents(system) {
            if !allowed.contains(&user) {
                broken.push(format!("{user} depends on {system} (only {allowed:?} may)"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn pure_crates_link_no_database_index_engine_or_network() {
    let workspace = Workspace::load();
    let mut broken = Vec::new();
    for name in PURE {
        for linked in workspace.closure(name) {
            if IMPURE.contains(&linked.as_str()) {
                broken.push(format!("{name} links {linked}"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn agents_never_depend_on_each_other_and_reach_papers_through_the_project() {
    let workspace = Workspace::load();
    let agents = workspace.agents();
    assert_eq!(agents.len(), 4, "the four agents: {agents:?}");
    let forbidden = [
        "hypatia-store",
        "hypatia-index",
        "hypatia-llama",
        "hypatia-openai",
        "hypatia-models",
    ];
    let mut broken = Vec::new();
    for agent in &agents {
        for dependency in workspace.dependencies(agent) {
            if agents.contains(&dependency.as_str()) || forbidden.contains(&dependency.as_str()) {
                broken.push(format!("{agent} depends on {dependency}"));
            }
        }
    }
    // The agents are started by the session; only the planner's driver and run ids are used elsewhere.
    for agent in &agents {
        for user in workspace.dependents(agent) {
            let allowed = user == "hypatia-session"
                || (*agent == "hypatia-planner" && ["hypatia", "hypatia-bench"].contains(&user));
            if !allowed {
                broken.push(format!("{user} depends on the agent {agent}"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_terminal_ui_compiles_without_agents_or_a_model() {
    let workspace = Workspace::load();
    let linked = workspace.closure("hypatia-tui");
    let mut forbidden: Vec<&str> = workspace.agents();
    forbidden.extend([
        "hypatia-session",
        "hypatia-agentkit",
        "hypatia-llama",
        "hypatia-openai",
        "hypatia-models",
    ]);
    let found: Vec<&&str> = forbidden.iter().filter(|name| linked.contains(**name)).collect();
    assert!(found.is_empty(), "hypatia-tui links {found:?}");
}

#[test]
fn the_code_map_names_every_crate_and_no_other() {
    let workspace = Workspace::load();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mapped: BTreeSet<String> = text
        .lines()
        .filter(|line| line.starts_with("| `"))
        .filter_map(|line| line.split('`').nth(1))
        .map(str::to_owned)
        .collect();
    let crates: BTreeSet<String> = workspace.crates.keys().cloned().collect();
    let missing: Vec<&String> = crates.difference(&mapped).collect();
    let stale: Vec<&String> = mapped.difference(&crates).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "ARCHITECTURE.md's code map lacks {missing:?} and names crates that do not exist: {stale:?}"
    );
}

#[test]
fn the_core_reads_no_clock_no_randomness_and_no_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/core/src");
    let mut found = Vec::new();
    for file in rust_files(&root) {
        let text = std::fs::read_to_string(&file).expect("read a source file");
        for needle in [
            "std::fs",
            "std::net",
            "SystemTime::now",
            "Instant::now",
            "RandomState",
            "std::env",
        ] {
            if text.contains(needle) {
                found.push(format!("{}: {needle}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn unsafe_code_is_in_one_file_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let allowed = root.join("crates/llama/src/system_info.rs");
    // Spelled apart so that this file does not match itself.
    let needles = [
        concat!("unsafe", " {"),
        concat!("unsafe", " fn"),
        concat!("unsafe", " impl"),
    ];
    let mut found = Vec::new();
    for folder in ["src", "crates", "agents", "tests"] {
        for file in rust_files(&root.join(folder)) {
            let text = std::fs::read_to_string(&file).expect("read a source file");
            let code_lines = text.lines().filter(|line| !line.trim_start().starts_with("//"));
            if file != allowed
                && code_lines
                    .into_iter()
                    .any(|line| needles.iter().any(|n| line.contains(n)))
            {
                found.push(file.display().to_string());
            }
        }
    }
    assert!(found.is_empty(), "unsafe code outside {}: {found:?}", allowed.display());
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
