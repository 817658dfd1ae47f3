//! `hypatia tui`, and `hypatia` alone on a terminal.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::CommandFactory;
use hypatia_project::Project;

pub async fn run(mut project: Project, explicit: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() {
        anyhow::bail!("the terminal UI needs a terminal: run `hypatia tui` in one (or use the other commands)");
    }
    // The library searches hybrid when an embedding model is configured (by words if it cannot run).
    if let Err(error) = super::attach_embedding(&mut project, explicit, None, false).await {
        eprintln!(
            "warning: the library searches by words alone: the embedding model cannot be used: {}",
            crate::output::describe(&error)
        );
        project.detach_embedder();
    }
    let project = Arc::new(project);
    let launcher = hypatia_session::InProcess::new(project.clone(), Some(project.root().to_path_buf()));
    let result = hypatia_tui::run(
        project.clone(),
        Some(Arc::new(super::launch::UiLauncher(launcher.clone()))),
    )
    .await;
    // Runs this process was working on stay resumable.
    launcher.shutdown().await;
    drop(launcher);
    result.context("the terminal UI failed")?;
    if let Ok(project) = Arc::try_unwrap(project) {
        project.close().await;
    }
    Ok(ExitCode::SUCCESS)
}

/// With no command: the UI on a terminal, the usage otherwise (a script gets text, not a screen).
pub async fn open_or_help(explicit: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        return run(super::open(explicit).await?, explicit).await;
    }
    crate::cli::Cli::command().print_help()?;
    println!();
    Ok(ExitCode::SUCCESS)
}
