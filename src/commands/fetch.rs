//! `hypatia fetch SOURCE QUERY`: papers from a scholarly API into the project, deduplicated against
//! what it holds like any ingested file.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use hypatia_core::SourceFormat;
use hypatia_project::{IngestSummary, Project};
use hypatia_sources::{FetchProgress, FetchedPaper, SearchQuery, SourceKind, Sources, SourcesConfig};

use crate::cli::FetchArgs;

/// The sources as this project uses them: the public APIs unless the environment points elsewhere,
/// with the response cache in `.hypatia/cache/sources`.
pub fn sources_for(project: &Project, refresh: bool) -> anyhow::Result<Sources> {
    let mut config = SourcesConfig::default();
    config.apply_env(|name| std::env::var(name).ok())?;
    config.cache_dir = Some(project.root().join(".hypatia/cache/sources"));
    let sources = Sources::new(config);
    Ok(if refresh { sources.refreshing() } else { sources })
}

pub fn format_of(kind: SourceKind) -> SourceFormat {
    match kind {
        SourceKind::Arxiv => SourceFormat::Arxiv,
        SourceKind::SemanticScholar => SourceFormat::SemanticScholar,
        SourceKind::OpenAlex => SourceFormat::OpenAlex,
        SourceKind::Crossref => SourceFormat::Crossref,
    }
}

/// Stores fetched papers under one label per source; each record is keyed by its source id.
pub async fn store_papers(
    project: &Project,
    label: &str,
    papers: Vec<FetchedPaper>,
) -> anyhow::Result<Vec<(SourceKind, IngestSummary)>> {
    let mut by_source: std::collections::BTreeMap<SourceKind, Vec<_>> = Default::default();
    for paper in papers {
        let key = format!("{}:{}", paper.source.as_str(), paper.source_id);
        by_source.entry(paper.source).or_default().push((paper.record, key));
    }
    let mut summaries = Vec::new();
    for (kind, records) in by_source {
        let summary = project
            .store_fetched(&format!("{}:{label}", kind.as_str()), format_of(kind), records, &|_| {})
            .await?;
        summaries.push((kind, summary));
    }
    Ok(summaries)
}

/// Searches `kind` (falling back to the others unless told not to) and stores what it finds;
/// returns the summary line.
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
    let fetched = match sources.search_with_fallback(kind, query, fall_back, &progress).await {
        Ok(fetched) => fetched,
        Err(failed) => {
            bar.finish_and_clear();
            bail!("{failed}");
        }
    };
    bar.finish_and_clear();
    for (_, error) in &fetched.failed {
        eprintln!("warning: {error}");
    }
    if fetched.source != kind {
        eprintln!("{kind} failed; the papers come from {} instead", fetched.source);
    }
    let count = fetched.papers.len();
    let label = format!("search \"{}\"", query.text);
    let mut summaries = store_papers(project, &label, fetched.papers).await?;
    let summary = match summaries.pop() {
        Some((_, summary)) => summary,
        None => IngestSummary {
            path: label.into(),
            format: format_of(fetched.source),
            added: 0,
            merged: 0,
            unchanged: 0,
            skipped: Vec::new(),
            warnings: Vec::new(),
        },
    };
    Ok((fetched.source, count, summary))
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
