use std::process::ExitCode;

use hypatia_project::Project;

pub async fn run(project: Project, json: bool) -> anyhow::Result<ExitCode> {
    let status = project.status().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        println!("project:   {}", status.root.display());
        println!("papers:    {} stored, {} indexed", status.papers, status.indexed_papers);
        println!(
            "passages:  {} stored, {} indexed",
            status.passages, status.indexed_passages
        );
        println!("sources:   {}", status.sources);
        println!(
            "changes:   store at {}, index at {}",
            status.change_seq, status.indexed_seq
        );
        println!("analyzer:  {}", status.analyzer);
        println!("journal:   {}", status.journal_mode);
        if !status.recent_ingests.is_empty() {
            println!("recent ingests:");
            for log in &status.recent_ingests {
                println!(
                    "  {}  {} ({}): {} added, {} merged, {} unchanged, {} skipped",
                    log.at, log.path, log.format, log.added, log.merged, log.unchanged, log.skipped
                );
            }
        }
    }
    project.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn reindex(
    mut project: Project,
    explicit: Option<&std::path::Path>,
    embedding_model: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    let bar = super::progress_bar(1);
    let papers = project
        .reindex(&|done| bar.set_message(format!("indexing: {done} papers")))
        .await?;
    bar.finish_and_clear();
    let status = project.status().await?;
    println!(
        "Reindexed {papers} papers ({} passages) from the project database",
        status.indexed_passages
    );
    if let Some(embedded) = super::attach_embedding(&mut project, explicit, embedding_model, true).await? {
        println!(
            "Embedded {} passages with {} ({} dimensions) in {:.1} s",
            embedded.embedded, embedded.model, embedded.dimensions, embedded.seconds
        );
    }
    project.close().await;
    Ok(ExitCode::SUCCESS)
}
