//! `hypatia review` and `hypatia resume`: the headless review job.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use hypatia_agentkit::{Thinker, ThinkerSettings};
use hypatia_bus::Bus;
use hypatia_bus::payload::{Budget, ModelIdentity, RunProvenance, RunSettings, RunStatus};
use hypatia_models::{BuiltModel, PullOutcome, build_llm, default_sampling};
use hypatia_planner::RunOutcome;
use hypatia_project::{IngestOptions, ModelConfig, Project, ProjectError, find_project_root};
use hypatia_session::Session;

use super::runs::{load_report, print_report};
use crate::cli::{EngineArgs, ResumeArgs, ReviewArgs};

/// What `--pull-model` fetches: a small instruct model that runs on a laptop CPU.
pub const DEFAULT_MODEL: &str = "Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf";

/// Model calls at once when the configuration does not say (`max_sequences`).
const DEFAULT_PARALLEL_CALLS: usize = 4;

pub async fn review(explicit_project: Option<&Path>, args: ReviewArgs) -> anyhow::Result<ExitCode> {
    let question = args.question.split_whitespace().collect::<Vec<_>>().join(" ");
    if question.is_empty() {
        bail!("the question is empty");
    }
    let mut flags = super::model_flags(&args.model);
    let config = super::model_config(explicit_project, &flags)?;
    if config.backend.is_none() && !args.pull_model {
        bail!(
            "no model is configured, so the review cannot start. Any one of these works:\n  \
             hypatia review … --pull-model            (downloads {DEFAULT_MODEL}, ~400 MB)\n  \
             hypatia models pull {DEFAULT_MODEL}   then --model PATH or HYPATIA_MODEL=PATH\n  \
             hypatia review … --model PATH            (any GGUF file you have)\n  \
             hypatia review … --openai-base-url URL --openai-model NAME   (llama-server, vLLM, Ollama, OpenAI)"
        );
    }
    let project = open_or_create(explicit_project).await?;
    if !args.corpus.is_empty() {
        ingest_corpus(&project, &args.corpus).await?;
    }
    // A newcomer with nothing but a question and an empty project: fill it from arXiv (open, no key).
    let fetch = match args.fetch {
        Some(kind) => Some(kind),
        None if args.corpus.is_empty() && project.status().await?.papers == 0 => {
            eprintln!(
                "the project has no papers: fetching up to {} from arXiv for the question \
                 (--corpus FILE or --fetch SOURCE to choose)",
                args.max
            );
            Some(hypatia_sources::SourceKind::Arxiv)
        }
        None => None,
    };
    if let Some(kind) = fetch {
        // Before any model work: a user with nothing but a question gets a grounded review.
        let sources = super::fetch::sources_for(&project, false)?;
        let query = hypatia_sources::SearchQuery {
            text: args.question.clone(),
            max: args.max,
            years: None,
        };
        let (source, fetched, summary) = super::fetch::fetch_into(&project, &sources, kind, &query, true).await?;
        eprintln!(
            "fetched {fetched} papers from {source}: {} added, {} merged, {} unchanged",
            summary.added, summary.merged, summary.unchanged
        );
    }
    let config = if args.pull_model && config.backend.is_none() {
        let path = match super::models::pull_with_progress(DEFAULT_MODEL, &config.models_dir, None).await? {
            PullOutcome::Downloaded { path, .. } | PullOutcome::AlreadyPresent { path, .. } => path,
        };
        eprintln!("model: {}", path.display());
        flags.model = Some(path);
        super::model_config(Some(project.root()), &flags)?
    } else {
        config
    };
    let built = build_llm(&config).await?;
    let seed = args
        .seed
        .or(config.settings.generation.seed.map(u64::from))
        .unwrap_or_else(|| hypatia_bus::now_ms() as u64);
    let settings = RunSettings {
        question: question.clone(),
        hypotheses: args.hypotheses,
        rounds: args.rounds,
        leaders: args.leaders.min(args.hypotheses),
        seed,
        evidence_limit: args.evidence,
        budget: Budget {
            model_calls: args.budget_calls,
            tokens: args.budget_tokens,
            minutes: args.budget_minutes.filter(|m| *m > 0.0),
        },
        model: built.llm.describe(),
        model_file: built.local.as_ref().map(|summary| summary.path.clone()),
        provenance: Some(provenance(&built, &config).await?),
    };
    let project = Arc::new(project);
    let run_id = hypatia_planner::new_run_id(&question);
    let _lock = project.lock_run(&run_id)?;
    let engine = Engine::start(project.clone(), built, &config, &args.engine);
    hypatia_planner::start_run(&engine.bus, &run_id, settings).await?;
    eprintln!("run {run_id}: {question}");
    finish(engine, project, &run_id, args.json).await
}

pub async fn resume(explicit_project: Option<&Path>, args: ResumeArgs) -> anyhow::Result<ExitCode> {
    let project = super::open(explicit_project).await?;
    let Some(run) = project.store().run(&args.run).await? else {
        bail!(
            "there is no run `{}` in this project (`hypatia runs list` shows them)",
            args.run
        );
    };
    if run.status != RunStatus::Running.as_str() {
        bail!("run {} has ended ({}): there is nothing to resume", run.id, run.status);
    }
    let _lock = project.lock_run(&run.id).map_err(|error| match error {
        ProjectError::RunBusy { .. } => anyhow::anyhow!("{error}; wait for it, or stop it first"),
        other => other.into(),
    })?;
    let mut flags = super::model_flags(&args.model);
    let mut config = super::model_config(explicit_project, &flags)?;
    let settings = run_settings(&project, &run.id).await?;
    if config.backend.is_none() {
        // The model the run began with, unless another is given.
        if let Some(file) = settings.as_ref().and_then(|s| s.model_file.clone()) {
            eprintln!("model: {} (the run's own)", file.display());
            flags.model = Some(file);
            config = super::model_config(explicit_project, &flags)?;
        }
    }
    let built = build_llm(&config).await?;
    if let Some(began) = settings.as_ref().and_then(|s| s.provenance.as_ref()).map(|p| &p.model)
        && let Some(warning) = model_change(began, &built, &config)
    {
        eprintln!("warning: {warning}");
    }
    let project = Arc::new(project);
    let engine = Engine::start(project.clone(), built, &config, &args.engine);
    eprintln!("resuming run {}: {}", run.id, run.question);
    finish(engine, project, &run.id, args.json).await
}

/// Drives the run to its end (or Ctrl-C), stops the agents, and prints the result.
async fn finish(engine: Engine, project: Arc<Project>, run_id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let cancel = super::cancel_on_ctrl_c();
    let progress = super::progress::follow(&engine.bus, run_id);
    let outcome = hypatia_planner::drive(&engine.bus, run_id, cancel).await;
    progress.finish().await;
    let bus = engine.bus.clone();
    engine.stop().await;
    let outcome = outcome?;
    let report = load_report(&project, run_id).await?;
    print_report(&report, json)?;
    if let Ok(project) = Arc::try_unwrap(project) {
        project.close().await;
    }
    drop(bus);
    Ok(match outcome {
        RunOutcome::Interrupted => {
            eprintln!("interrupted: continue with `hypatia resume {run_id}`");
            ExitCode::from(130)
        }
        RunOutcome::Finished { status, detail } => match status {
            RunStatus::Completed => ExitCode::SUCCESS,
            RunStatus::BudgetExhausted => {
                eprintln!("stopped early: {detail}");
                ExitCode::SUCCESS
            }
            _ => {
                eprintln!("error: run {run_id} {}: {detail}", status.as_str());
                ExitCode::FAILURE
            }
        },
    })
}

/// The session, with the model shared by its agents.
pub(super) struct Engine {
    pub(super) bus: Bus,
    session: Session,
}

impl Engine {
    pub(super) fn start(project: Arc<Project>, built: BuiltModel, config: &ModelConfig, args: &EngineArgs) -> Engine {
        let parallel_calls = parallel_calls(config);
        let thinker = Thinker::new(
            built.llm,
            built.prompts,
            ThinkerSettings {
                sampling: default_sampling(&config.settings.generation),
                parallel_calls,
                call_timeout: Duration::from_secs(args.call_timeout.max(1)),
            },
        );
        let session = Session::start(project, thinker, parallel_calls);
        Engine {
            bus: session.bus().clone(),
            session,
        }
    }

    pub(super) async fn stop(self) {
        self.session.stop().await;
    }
}

/// What the run's report will name as its model, prompts and sampler. Hashing the GGUF reads it once
/// (about a second per gigabyte), which is small beside a review.
pub(super) async fn provenance(built: &BuiltModel, config: &ModelConfig) -> anyhow::Result<RunProvenance> {
    let model = match &built.local {
        Some(summary) => {
            let (size_bytes, sha256) = hypatia_models::fingerprint(&summary.path).await?;
            ModelIdentity::Local {
                file_name: summary.path.file_name().map_or_else(
                    || summary.path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                ),
                size_bytes,
                sha256,
                parameters: summary.parameters,
                context_tokens: summary.context_tokens,
            }
        }
        None => ModelIdentity::Openai {
            base_url: config
                .settings
                .openai
                .base_url
                .as_deref()
                .map(without_credentials)
                .unwrap_or_default(),
            model: config.settings.openai.model.clone().unwrap_or_default(),
        },
    };
    let sampling = default_sampling(&config.settings.generation);
    Ok(RunProvenance {
        hypatia_version: env!("CARGO_PKG_VERSION").to_owned(),
        prompts_sha256: built.prompts.sha256(),
        prompt_overrides: built
            .prompts
            .overridden()
            .iter()
            .map(|path| path.display().to_string())
            .collect(),
        model,
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        parallel_calls: parallel_calls(config) as u32,
    })
}

/// Says so when a run is resumed with another model than it began with: its report would otherwise
/// name only the first. Files are compared by name and size (hashing again would cost a read).
fn model_change(began: &ModelIdentity, built: &BuiltModel, config: &ModelConfig) -> Option<String> {
    match (began, &built.local) {
        (
            ModelIdentity::Local {
                file_name, size_bytes, ..
            },
            Some(summary),
        ) => {
            let name = summary
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let size = std::fs::metadata(&summary.path).map(|m| m.len()).unwrap_or(0);
            (name != *file_name || size != *size_bytes).then(|| {
                format!("this run began with {file_name} ({size_bytes} bytes) and goes on with {name} ({size} bytes)")
            })
        }
        (ModelIdentity::Openai { model, .. }, None) => {
            let now = config.settings.openai.model.clone().unwrap_or_default();
            (now != *model).then(|| format!("this run began with the server model {model} and goes on with {now}"))
        }
        (ModelIdentity::Local { file_name, .. }, None) => Some(format!(
            "this run began with the local model {file_name} and goes on with a server model"
        )),
        (ModelIdentity::Openai { model, .. }, Some(_)) => Some(format!(
            "this run began with the server model {model} and goes on with a local GGUF"
        )),
    }
}

/// An endpoint as it may be shown: no `user:password@`, no query string (where some servers take keys).
fn without_credentials(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            if path.is_empty() {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        None => url.to_owned(),
    }
}

fn parallel_calls(config: &ModelConfig) -> usize {
    config
        .settings
        .model
        .max_sequences
        .map_or(DEFAULT_PARALLEL_CALLS, |n| n.max(1) as usize)
}

/// The settings a run was started with, from its first message.
async fn run_settings(project: &Project, run_id: &str) -> anyhow::Result<Option<RunSettings>> {
    let entries = project.store().run_messages(run_id, 0).await?;
    let Some(first) = entries.first() else { return Ok(None) };
    Ok(match hypatia_bus::Envelope::from_entry(first)?.payload {
        hypatia_bus::Payload::RunStarted { settings } => Some(settings),
        _ => None,
    })
}

async fn open_or_create(explicit: Option<&Path>) -> anyhow::Result<Project> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    match find_project_root(explicit, &cwd) {
        Ok(root) => Ok(Project::open(&root).await?),
        Err(ProjectError::NotFound { .. }) if explicit.is_none() => {
            let project = Project::init(&cwd, None).await?;
            eprintln!("created a Hypatia project in {}", project.root().display());
            Ok(project)
        }
        Err(error) => Err(error.into()),
    }
}

/// Ingests every file before any model work; a file that cannot be read stops the review.
async fn ingest_corpus(project: &Project, paths: &[PathBuf]) -> anyhow::Result<()> {
    let files = Project::expand_paths(paths)?;
    let bar = super::progress_bar(files.len() as u64);
    for file in &files {
        bar.set_message(format!("ingesting {}", file.display()));
        let summary = project
            .ingest_file(file, IngestOptions::default(), &|_| {})
            .await
            .map_err(|error| {
                let message = error.to_string();
                let shown = file.display().to_string();
                if message.contains(&shown) {
                    anyhow::anyhow!(message)
                } else {
                    anyhow::anyhow!("{shown}: {message}")
                }
            })?;
        bar.suspend(|| {
            eprintln!(
                "{}: {} added, {} merged, {} unchanged",
                file.display(),
                summary.added,
                summary.merged,
                summary.unchanged
            )
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::without_credentials;

    #[test]
    fn endpoints_are_recorded_without_credentials() {
        assert_eq!(
            without_credentials("https://user:sk-secret@api.example.com/v1?key=sk-2#x"),
            "https://api.example.com/v1"
        );
        assert_eq!(
            without_credentials("http://127.0.0.1:8080/v1"),
            "http://127.0.0.1:8080/v1"
        );
        assert_eq!(without_credentials("http://a:b@host"), "http://host");
    }
}
