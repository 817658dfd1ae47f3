//! `hypatia enrich`: missing abstracts, DOIs, venues and years filled from the APIs, by DOI, arXiv id
//! or (only when confident) title. A title match must be the same normalised title, within a year;
//! a DOI or arXiv id another paper holds is never taken, so two papers are never merged.

use std::io::Write;
use std::process::ExitCode;

use hypatia_online::{Progress, enrich, sources_for};
use hypatia_project::Project;

use crate::cli::EnrichArgs;

pub async fn run(project: Project, args: EnrichArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    enrich_and_report(&project, &args, &mut out).await?;
    project.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Enriches the project's papers and writes what was done to `out`: also what `ingest --enrich`
/// does after storing its files.
pub async fn enrich_and_report(project: &Project, args: &EnrichArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let sources = sources_for(project, args.refresh)?;
    let bar = super::progress_bar(2);
    let progress = |p: Progress<'_>| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        bar.set_message(p.title.chars().take(50).collect::<String>());
    };
    let summary = enrich(project, &sources, args.max, &progress).await;
    bar.finish_and_clear();
    let summary = summary?;
    if args.json {
        let value = serde_json::json!({
            "candidates": summary.candidates,
            "enriched": summary.enriched,
            "merged": summary.merged,
            "added": summary.added,
            "filled": summary.filled,
            "not_found": summary.not_found,
            "failures": summary.failures,
        });
        serde_json::to_writer_pretty(&mut *out, &value)?;
        writeln!(out)?;
    } else {
        let fields: Vec<String> = summary.filled.iter().map(|(f, n)| format!("{n} {f}s")).collect();
        writeln!(
            out,
            "Enriched {} of {} papers lacking something ({}); {} found nothing to add; {} lookups failed.",
            summary.enriched,
            summary.candidates,
            if fields.is_empty() {
                "nothing filled".to_owned()
            } else {
                fields.join(", ")
            },
            summary.not_found,
            summary.failures.len()
        )?;
        for failure in summary.failures.iter().take(5) {
            eprintln!("warning: {failure}");
        }
    }
    Ok(())
}
