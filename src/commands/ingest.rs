use std::io::Write;
use std::process::ExitCode;

use hypatia_project::{IngestOptions, IngestProgress, IngestSummary, Project, ZoteroLibrary};

use crate::cli::{FormatChoice, IngestArgs};

pub async fn run(
    mut project: Project,
    args: IngestArgs,
    explicit: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.zotero {
        let status = zotero(&project, dir, &args).await?;
        embed_new_passages(&mut project, &args, explicit).await?;
        project.close().await;
        return Ok(status);
    }
    let files = Project::expand_paths(&args.paths)?;
    let options = IngestOptions {
        format: match args.format {
            FormatChoice::Auto => None,
            FormatChoice::Format(format) => Some(format),
        },
        skip_invalid: args.skip_invalid,
        ..IngestOptions::default()
    };
    let bar = super::progress_bar(files.len() as u64);
    let mut summaries: Vec<IngestSummary> = Vec::new();
    let mut failures = 0usize;
    let mut unreadable = 0usize;
    for (number, file) in files.iter().enumerate() {
        let prefix = format!("[{}/{}]", number + 1, files.len());
        let progress = |event: IngestProgress<'_>| {
            let message = match event {
                IngestProgress::Reading(path) => format!("{prefix} reading {}", path.display()),
                IngestProgress::Storing { path, records } => {
                    format!("{prefix} storing {records} records from {}", path.display())
                }
                IngestProgress::Indexing { papers } => format!("{prefix} indexing: {papers} papers"),
            };
            bar.set_message(message);
        };
        match project.ingest_file(file, options, &progress).await {
            Ok(summary) => summaries.push(summary),
            Err(error) => {
                let skipped = args.skip_invalid && error.is_unreadable_file();
                if skipped {
                    unreadable += 1;
                } else {
                    failures += 1;
                }
                let message = error.to_string();
                let shown = file.display().to_string();
                let message = if message.contains(&shown) {
                    message
                } else {
                    format!("{shown}: {message}")
                };
                let label = if skipped { "skipped" } else { "error" };
                bar.suspend(|| eprintln!("{label}: {message}"));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &summaries)?;
        writeln!(out)?;
    } else {
        for summary in &summaries {
            writeln!(
                out,
                "{} ({}): {} added, {} merged, {} unchanged, {} skipped",
                summary.path.display(),
                summary.format,
                summary.added,
                summary.merged,
                summary.unchanged,
                summary.skipped.len()
            )?;
            for skipped in &summary.skipped {
                writeln!(out, "  skipped {skipped}")?;
            }
            for warning in &summary.warnings {
                writeln!(out, "  warning: {warning}")?;
            }
            for document in &summary.documents {
                if document.new_version {
                    writeln!(
                        out,
                        "  full text v{} of {}: {} pages, {} passages, {} references ({} with a DOI)",
                        document.version,
                        document.paper_id,
                        document.pages,
                        document.passages,
                        document.references,
                        document.references_with_doi
                    )?;
                } else {
                    writeln!(
                        out,
                        "  full text of {} unchanged (v{})",
                        document.paper_id, document.version
                    )?;
                }
            }
        }
        if files.len() > 1 {
            let total = |f: fn(&IngestSummary) -> usize| summaries.iter().map(f).sum::<usize>();
            writeln!(
                out,
                "total: {} files, {} added, {} merged, {} unchanged, {} skipped, {} refused",
                files.len(),
                total(|s| s.added),
                total(|s| s.merged),
                total(|s| s.unchanged),
                total(|s| s.skipped.len()) + unreadable,
                failures
            )?;
        }
    }
    if args.enrich {
        // With --json, stdout holds the ingest summary alone; the enrichment is told on stderr.
        let enrich_args = crate::cli::EnrichArgs {
            max: 200,
            refresh: false,
            json: false,
        };
        if args.json {
            super::enrich::enrich_and_report(&project, &enrich_args, &mut std::io::stderr().lock()).await?;
        } else {
            super::enrich::enrich_and_report(&project, &enrich_args, &mut out).await?;
        }
    }
    drop(out);
    embed_new_passages(&mut project, &args, explicit).await?;
    project.close().await;
    Ok(if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// With an embedding model configured, the new passages get their vectors now (told on stderr, so
/// `--json` output stays the ingest summary alone).
async fn embed_new_passages(
    project: &mut Project,
    args: &IngestArgs,
    explicit: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    // What was ingested is stored and searchable by words; vectors can follow on a later command.
    match super::attach_embedding(project, explicit, args.embedding_model.clone(), false).await {
        Ok(Some(embedded)) if embedded.embedded > 0 => eprintln!(
            "embedded {} passages with {} in {:.1} s",
            embedded.embedded, embedded.model, embedded.seconds
        ),
        Ok(_) => {}
        Err(error) => eprintln!(
            "warning: the files are stored, but their passages were not embedded: {}; \
             the next search with the embedding model embeds them",
            crate::output::describe(&error)
        ),
    }
    Ok(())
}

/// `ingest --zotero [DIR]`: a Zotero library, whole or one collection.
async fn zotero(project: &Project, dir: &std::path::Path, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let dir = if dir.as_os_str().is_empty() {
        ZoteroLibrary::default_dir()
            .ok_or_else(|| anyhow::anyhow!("no home folder to find ~/Zotero in; name the folder: --zotero DIR"))?
    } else {
        dir.to_owned()
    };
    let library = ZoteroLibrary::open(&dir).await?;
    let bar = super::progress_bar(1);
    let progress = |event: IngestProgress<'_>| match event {
        IngestProgress::Storing { path, records } => {
            bar.set_position(records as u64);
            bar.set_message(format!("item {}", path.display()));
        }
        IngestProgress::Indexing { papers } => bar.set_message(format!("indexing: {papers} papers")),
        IngestProgress::Reading(_) => {}
    };
    let summary = project
        .ingest_zotero(&library, args.collection.as_deref(), &progress)
        .await;
    bar.finish_and_clear();
    library.close().await;
    let summary = summary?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &summary)?;
        writeln!(out)?;
    } else {
        let collection = summary
            .collection
            .as_ref()
            .map_or(String::new(), |c| format!(", collection `{c}`"));
        writeln!(
            out,
            "Zotero library {}{collection}: {} items, {} added, {} merged, {} unchanged; {} PDFs read, {} already stored",
            summary.library.display(),
            summary.items,
            summary.added,
            summary.merged,
            summary.unchanged,
            summary.pdfs_read,
            summary.pdfs_known
        )?;
        for warning in &summary.warnings {
            writeln!(out, "  warning: {warning}")?;
        }
    }
    if args.enrich {
        let enrich_args = crate::cli::EnrichArgs {
            max: 200,
            refresh: false,
            json: false,
        };
        super::enrich::enrich_and_report(project, &enrich_args, &mut std::io::stderr().lock()).await?;
    }
    Ok(ExitCode::SUCCESS)
}
