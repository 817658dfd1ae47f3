//! `hypatia fetch SOURCE QUERY`: papers from a scholarly API into the project, deduplicated against
//! what it holds like any ingested file.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use hypatia_online::sources_for;
use hypatia_project::{IngestSummary, Project};
use hypatia_sources::{FetchProgress, SearchQuery, SourceKind, Sources};

use crate::cli::FetchArgs;

/// Searches `kind` (falling back to the others unless told not to) and stores what it finds, with a
/// progress line; returns the source that answered, how many papers it gave and the store's summary.
pub async fn fetch_into(
    project: &Project,
    sources: &Sources,
    kind: SourceKind,
    query: &SearchQuery,
    fall_back: bool,
) -> anyhow::Result<(SourceKind, usize, IngestSummary)> {
    let bar = super::progress_bar(1);
    bar.set_message(format!("asking {kind} for `{}`", query.text));
    let progress = |p: FetchProgress| {
        let total = p.total.map_or(String::new(), |t| format!(" of {t}"));
        bar.set_message(format!("{}: page {}, {} papers{total}", p.source, p.page, p.fetched));
    };
    let fetched = hypatia_online::fetch_into(project, sources, kind, query, fall_back, &progress).await;
    bar.finish_and_clear();
    let fetched = fetched?;
    for error in &fetched.failed {
        eprintln!("warning: {error}");
    }
    if fetched.source != kind {
        eprintln!("{kind} failed; the papers come from {} instead", fetched.source);
    }
    Ok((fetched.source, fetched.fetched, fetched.summary))
}

pub async fn run(project: Project, args: FetchArgs) -> anyhow::Result<ExitCode> {
    let text = args.query.join(" ");
    if text.trim().is_empty() {
        bail!("the query is empty");
    }
    let years = args
        .year
        .map(|range| (range.from.unwrap_or(1000), range.to.unwrap_or(3000)));
    let query = SearchQuery {
        text: text.trim().to_owned(),
        max: args.max,
        years,
    };
    let sources = sources_for(&project, args.refresh)?;
    let (source, fetched, summary) = fetch_into(&project, &sources, args.source, &query, !args.no_fallback).await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({
            "asked": args.source.as_str(),
            "source": source.as_str(),
            "fetched": fetched,
            "added": summary.added,
            "merged": summary.merged,
            "unchanged": summary.unchanged,
            "warnings": summary.warnings,
        });
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
    } else {
        for warning in &summary.warnings {
            eprintln!("warning: {warning}");
        }
        writeln!(
            out,
            "Fetched {fetched} papers from {source} for `{}`: {} added, {} merged, {} unchanged.",
            query.text, summary.added, summary.merged, summary.unchanged
        )?;
    }
    project.close().await;
    Ok(ExitCode::SUCCESS)
}
