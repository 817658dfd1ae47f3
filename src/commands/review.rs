//! `hypatia review` and `hypatia resume`: the headless review job.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use hypatia_bus::RunJournal;
use hypatia_models::{BuiltModel, DEFAULT_MODEL, ModelConfig, PullOutcome, build_llm};
use hypatia_planner::RunOutcome;
use hypatia_project::{IngestOptions, Project, ProjectError, find_project_root};
use hypatia_research::{Budget, RunStatus};
use hypatia_session::{ModelRecord, NewReview, Resumption, Session, start_review};

use super::runs::{load_report, print_report};
use crate::cli::{EngineArgs, ResumeArgs, ReviewArgs};

pub async fn review(explicit_project: Option<&Path>, args: ReviewArgs) -> anyhow::Result<ExitCode> {
    let review = NewReview {
        hypotheses: args.hypotheses,
        rounds: args.rounds,
        leaders: args.leaders,
        evidence: args.evidence,
        seed: args.seed,
        budget: Budget {
            model_calls: args.budget_calls,
            tokens: args.budget_tokens,
            minutes: args.budget_minutes,
        },
        synthesis: !args.no_synthesis,
        ..NewReview::new(&args.question)
    };
    if review.question.is_empty() {
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
    let mut project = open_or_create(explicit_project).await?;
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
        let sources = hypatia_online::sources_for(&project, false)?;
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
    // With an embedding model the retriever and the novelty check search hybrid.
    super::attach_embedding(&mut project, explicit_project, flags.embedding_model.clone(), false).await?;
    let built = build_llm(&config).await?;
    let (project, model, session) = start_agents(project, built, &config, &args.engine).await?;
    let run_id = review.run_id();
    let _lock = project.lock_run(&run_id)?;
    start_review(session.bus(), &run_id, &review, &model, &config).await?;
    eprintln!("run {run_id}: {}", review.question);
    finish(session, project, &run_id, args.json).await
}

pub async fn resume(explicit_project: Option<&Path>, args: ResumeArgs) -> anyhow::Result<ExitCode> {
    let mut project = super::open(explicit_project).await?;
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
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let journal = RunJournal::new(project.store());
    let flags = super::model_flags(&args.model);
    let resumption = Resumption::of(&journal, &run.id, explicit_project, &cwd, &flags).await?;
    if let Some(file) = &resumption.runs_own_model {
        eprintln!("model: {} (the run's own)", file.display());
    }
    let built = build_llm(&resumption.config).await?;
    if let Some(warning) = resumption.model_change(&built) {
        eprintln!("warning: {warning}");
    }
    let config = resumption.config;
    super::attach_embedding(&mut project, explicit_project, flags.embedding_model.clone(), false).await?;
    // The model it goes on with, by content: what the judgements it keeps are keyed by.
    let (project, _, session) = start_agents(project, built, &config, &args.engine).await?;
    eprintln!("resuming run {}: {}", run.id, run.question);
    finish(session, project, &run.id, args.json).await
}

/// The agents on `project`, thinking with `built`, which is identified (hashed) for the run's record
/// and for the judgements it keeps.
async fn start_agents(
    project: Project,
    built: BuiltModel,
    config: &ModelConfig,
    engine: &EngineArgs,
) -> anyhow::Result<(Arc<Project>, ModelRecord, Session)> {
    let model = ModelRecord::of(&built, config, &project).await?;
    let project = Arc::new(project);
    let session = Session::with_model(
        project.clone(),
        built,
        &model.provenance.model,
        config,
        call_timeout(engine),
    );
    Ok((project, model, session))
}

/// Drives the run to its end (or Ctrl-C), stops the agents, and prints the result.
async fn finish(session: Session, project: Arc<Project>, run_id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let cancel = super::cancel_on_ctrl_c();
    let progress = super::progress::follow(session.bus(), run_id);
    let outcome = hypatia_planner::drive(session.bus(), run_id, cancel).await;
    progress.finish().await;
    let bus = session.bus().clone();
    session.stop().await;
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

fn call_timeout(engine: &EngineArgs) -> Duration {
    Duration::from_secs(engine.call_timeout)
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
