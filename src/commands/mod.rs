mod answer;
mod ask;
mod claims;
mod config;
mod enrich;
mod eval;
mod export;
mod fetch;
mod graph;
mod ingest;
mod launch;
mod models;
mod papers;
mod progress;
mod review;
mod runs;
mod search;
mod status;
mod tui;

use std::process::ExitCode;

use anyhow::Context;
use hypatia_project::{Project, find_project_root};

use crate::cli::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let Some(command) = cli.command else {
        return tui::open_or_help(cli.project.as_deref()).await;
    };
    match command {
        Command::Init { dir, name } => {
            let dir = dir.unwrap_or_else(|| ".".into());
            let project = Project::init(&dir, name.as_deref()).await?;
            println!(
                "Created Hypatia project `{}` in {}",
                project.config().project.name,
                project.root().display()
            );
            println!("Next: hypatia ingest <files or folders>");
            project.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest(args) => ingest::run(open(cli.project.as_deref()).await?, args, cli.project.as_deref()).await,
        Command::Search(args) => search::run(open(cli.project.as_deref()).await?, args, cli.project.as_deref()).await,
        Command::Fetch(args) => fetch::run(open(cli.project.as_deref()).await?, args).await,
        Command::Enrich(args) => enrich::run(open(cli.project.as_deref()).await?, args).await,
        Command::Graph { command } => graph::run(open(cli.project.as_deref()).await?, command).await,
        Command::Papers { command } => papers::run(open(cli.project.as_deref()).await?, command).await,
        Command::Reindex { embedding_model } => {
            status::reindex(
                open(cli.project.as_deref()).await?,
                cli.project.as_deref(),
                embedding_model,
            )
            .await
        }
        Command::Status { json } => status::run(open(cli.project.as_deref()).await?, json).await,
        Command::Eval { command } => eval::run(cli.project.as_deref(), command).await,
        Command::Claims(args) => claims::run(open(cli.project.as_deref()).await?, args).await,
        Command::Answer(args) => answer::run(open(cli.project.as_deref()).await?, args, cli.project.as_deref()).await,
        Command::Ask(args) => ask::run(cli.project.as_deref(), args).await,
        Command::Models { command } => models::run(cli.project.as_deref(), command).await,
        Command::Config { command } => config::run(cli.project.as_deref(), command).await,
        Command::Review(args) => review::review(cli.project.as_deref(), args).await,
        Command::Resume(args) => review::resume(cli.project.as_deref(), args).await,
        Command::Runs { command } => runs::run(open(cli.project.as_deref()).await?, command).await,
        Command::Export(args) => export::run(open(cli.project.as_deref()).await?, args).await,
        Command::Tui => tui::run(open(cli.project.as_deref()).await?, cli.project.as_deref()).await,
    }
}

/// The model configuration: the project's when there is one (an explicit `--project` must exist),
/// else the user file and environment alone.
pub fn model_config(
    explicit: Option<&std::path::Path>,
    flags: &hypatia_models::ModelFlags,
) -> anyhow::Result<hypatia_models::ModelConfig> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    Ok(hypatia_session::model_config_in(explicit, &cwd, flags)?)
}

async fn open(explicit: Option<&std::path::Path>) -> anyhow::Result<Project> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let root = find_project_root(explicit, &cwd)?;
    Ok(Project::open(&root).await?)
}

/// Attaches the configured embedding model (`flag`, else the layered `[embedding]` config) to
/// `project`, then embeds the passages that lack vectors with a progress bar; Ctrl-C stops
/// embedding, keeping what is done for next time. `Ok(None)` when no embedding model is configured.
pub async fn attach_embedding(
    project: &mut Project,
    explicit: Option<&std::path::Path>,
    flag: Option<std::path::PathBuf>,
    again: bool,
) -> anyhow::Result<Option<hypatia_project::EmbedSummary>> {
    let flags = hypatia_models::ModelFlags {
        embedding_model: flag,
        ..hypatia_models::ModelFlags::default()
    };
    let config = model_config(explicit.or(Some(project.root())), &flags)?;
    let Some(built) = hypatia_models::build_embedder(&config).await? else {
        return Ok(None);
    };
    project.attach_embedder(built.embedder)?;
    if !project.vectors_writable() {
        eprintln!(
            "warning: another Hypatia process is writing this project's vectors; searching them as they are \
             (new passages are embedded when it is done)"
        );
        return Ok(None);
    }
    let bar = progress_bar(2);
    bar.set_message("embedding passages (Ctrl-C stops; the next run resumes)");
    // Ctrl-C stops embedding only: the listener ends with it, so a later Ctrl-C (a review's) is
    // the command's own.
    let cancel = tokio_util::sync::CancellationToken::new();
    let trigger = cancel.clone();
    let listener = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            trigger.cancel();
        }
    });
    let progress = |p: hypatia_project::EmbedProgress| {
        bar.set_length(p.passages.max(1));
        bar.set_position(p.vectors);
    };
    let summary = if again {
        project.reembed_passages(&progress, &cancel).await
    } else {
        project.embed_passages(&progress, &cancel).await
    };
    listener.abort();
    bar.finish_and_clear();
    let summary = summary?;
    if let Some(summary) = &summary {
        if summary.embedded > 0 {
            tracing::info!(
                embedded = summary.embedded,
                seconds = summary.seconds,
                "passages embedded"
            );
        }
        if summary.interrupted {
            eprintln!(
                "embedding stopped: {} passages have vectors; run the command again to embed the rest",
                summary.vectors
            );
        }
    }
    Ok(summary)
}

/// The embedding model for a search in `mode` (none for bm25). Asked for by the mode, a model that
/// cannot be used is an error; by default, words alone answer, with a warning: then `Ok(true)`.
pub async fn attach_for_search(
    project: &mut Project,
    explicit: Option<&std::path::Path>,
    flag: Option<std::path::PathBuf>,
    mode: Option<hypatia_project::SearchMode>,
) -> anyhow::Result<bool> {
    if mode == Some(hypatia_project::SearchMode::Bm25) {
        return Ok(false);
    }
    match attach_embedding(project, explicit, flag, false).await {
        Ok(_) => Ok(false),
        Err(error) if mode.is_some() => Err(error),
        Err(error) => {
            eprintln!(
                "warning: searching by words alone: the embedding model cannot be used: {}",
                crate::output::describe(&error)
            );
            project.detach_embedder();
            Ok(true)
        }
    }
}

/// Progress goes to stderr, and only when it is a terminal: a bar over
/// `steps` when there are several, else a spinner with a message.
pub fn progress_bar(steps: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = if steps > 1 {
        let bar = indicatif::ProgressBar::new(steps);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

pub fn model_flags(model: &crate::cli::ModelArgs) -> hypatia_models::ModelFlags {
    hypatia_models::ModelFlags {
        model: model.model.clone(),
        openai_base_url: model.openai_base_url.clone(),
        openai_model: model.openai_model.clone(),
        embedding_model: model.embedding_model.clone(),
    }
}

/// Ctrl-C cancels the work in progress (a model call stops, a run can be resumed) instead of killing the
/// process mid-write; a second Ctrl-C exits at once.
pub fn cancel_on_ctrl_c() -> tokio_util::sync::CancellationToken {
    let token = tokio_util::sync::CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            trigger.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    token
}
