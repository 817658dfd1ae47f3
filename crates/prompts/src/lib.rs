//! Prompt templates. Each prompt is a file in the repository's `prompts/` folder, compiled into the
//! binary; a user's prompts folder can override any of them. Rendering is strict: an undefined variable
//! is an error, so a renamed variable cannot silently produce a prompt with a hole in it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Every built-in prompt: (name, template text). A test checks this lists every file in `prompts/`.
const EMBEDDED: &[(&str, &str)] = &[
    ("answer_system", include_str!("../../../prompts/answer_system.j2")),
    ("answer_user", include_str!("../../../prompts/answer_user.j2")),
    ("ask_system", include_str!("../../../prompts/ask_system.j2")),
    ("generate_user", include_str!("../../../prompts/generate_user.j2")),
    (
        "hypothesis_system",
        include_str!("../../../prompts/hypothesis_system.j2"),
    ),
    ("judge_system", include_str!("../../../prompts/judge_system.j2")),
    ("judge_user", include_str!("../../../prompts/judge_user.j2")),
    ("plan_system", include_str!("../../../prompts/plan_system.j2")),
    ("plan_user", include_str!("../../../prompts/plan_user.j2")),
    ("relation_system", include_str!("../../../prompts/relation_system.j2")),
    ("relation_user", include_str!("../../../prompts/relation_user.j2")),
    ("review_system", include_str!("../../../prompts/review_system.j2")),
    ("review_user", include_str!("../../../prompts/review_user.j2")),
    ("revise_user", include_str!("../../../prompts/revise_user.j2")),
    ("synthesis_system", include_str!("../../../prompts/synthesis_system.j2")),
    ("synthesis_user", include_str!("../../../prompts/synthesis_user.j2")),
    (
        "support_statements_user",
        include_str!("../../../prompts/support_statements_user.j2"),
    ),
    ("support_system", include_str!("../../../prompts/support_system.j2")),
    ("support_user", include_str!("../../../prompts/support_user.j2")),
    ("json_answer", include_str!("../../../prompts/json_answer.j2")),
    (
        "reask_invalid_json",
        include_str!("../../../prompts/reask_invalid_json.j2"),
    ),
];

const EXTENSION: &str = "j2";

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("there is no prompt named `{0}`")]
    Unknown(String),
    #[error("{path}: not a prompt Hypatia uses (expected one of: {known})")]
    UnknownOverride { path: PathBuf, known: String },
    #[error("cannot read the prompts folder {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Template { path: String, message: String },
    #[error("rendering prompt `{name}`: {message}")]
    Render { name: String, message: String },
}

/// The compiled set of prompts, built-in or overridden.
#[derive(Debug)]
pub struct Prompts {
    env: Environment<'static>,
    overridden: Vec<PathBuf>,
    /// Every template's text by name, as in effect: what [`Prompts::sha256`] covers.
    sources: BTreeMap<String, String>,
}

impl Prompts {
    /// The prompts compiled into the binary.
    pub fn embedded() -> Self {
        let mut env = strict_environment();
        for (name, source) in EMBEDDED {
            // Built-in templates are checked by this crate's tests, so they always compile.
            if let Err(error) = env.add_template(name, source) {
                broken_builtin_prompt(name, &error);
            }
        }
        Prompts {
            env,
            overridden: Vec::new(),
            sources: EMBEDDED
                .iter()
                .map(|(name, source)| ((*name).to_owned(), (*source).to_owned()))
                .collect(),
        }
    }

    /// The built-in prompts with any `NAME.j2` file in `dir` replacing the prompt of that name. A file
    /// with an unknown name or a template error is refused with its path (and line, for syntax errors).
    pub fn with_overrides(dir: &Path) -> Result<Self, PromptError> {
        let mut prompts = Prompts::embedded();
        if !dir.exists() {
            return Ok(prompts);
        }
        let entries = std::fs::read_dir(dir).map_err(|source| PromptError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| PromptError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) == Some(EXTENSION) {
                files.push(path);
            }
        }
        files.sort();
        for path in files {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            if !EMBEDDED.iter().any(|(known, _)| *known == name) {
                return Err(PromptError::UnknownOverride {
                    path,
                    known: names().collect::<Vec<_>>().join(", "),
                });
            }
            let source = std::fs::read_to_string(&path).map_err(|source| PromptError::Io {
                path: path.clone(),
                source,
            })?;
            prompts.sources.insert(name.clone(), source.clone());
            prompts
                .env
                .add_template_owned(name, source)
                .map_err(|error| PromptError::Template {
                    path: path.display().to_string(),
                    message: describe(&error),
                })?;
            prompts.overridden.push(path);
        }
        Ok(prompts)
    }

    /// The override files in use, for `hypatia config show`.
    pub fn overridden(&self) -> &[PathBuf] {
        &self.overridden
    }

    /// SHA-256 (hex) over every prompt in effect, in name order: two runs with the same value sent the
    /// same templates, whether built in or overridden.
    pub fn sha256(&self) -> String {
        let mut hasher = Sha256::new();
        for (name, source) in &self.sources {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(source.as_bytes());
            hasher.update([0]);
        }
        hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
    }

    pub fn render(&self, name: &str, context: &impl Serialize) -> Result<String, PromptError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|_| PromptError::Unknown(name.to_string()))?;
        template
            .render(minijinja::value::Serde(context))
            .map_err(|error| PromptError::Render {
                name: name.to_string(),
                message: describe(&error),
            })
    }
}

/// The names of all prompts.
pub fn names() -> impl Iterator<Item = &'static str> {
    EMBEDDED.iter().map(|(name, _)| *name)
}

fn strict_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env
}

fn describe(error: &minijinja::Error) -> String {
    match error.line() {
        Some(line) => format!("line {line}: {}", error.detail().unwrap_or(&error.kind().to_string())),
        None => error.to_string(),
    }
}

#[cold]
fn broken_builtin_prompt(name: &str, error: &minijinja::Error) -> ! {
    // Unreachable in a tested build: `embedded_prompts_compile` covers every built-in template.
    panic!("built-in prompt `{name}` does not compile: {error}")
}

#[cfg(test)]
mod tests;
