//! Papers from a search of a scholarly API into the project, deduplicated against what it holds like
//! any ingested file.

use std::collections::BTreeMap;

use hypatia_core::SourceFormat;
use hypatia_project::{IngestSummary, Project};
use hypatia_sources::{FetchProgress, FetchedPaper, SearchQuery, SourceKind, Sources, SourcesConfig};

use crate::OnlineError;

/// The sources as this project uses them: the public APIs unless the environment points elsewhere,
/// with the response cache in `.hypatia/cache/sources`.
pub fn sources_for(project: &Project, refresh: bool) -> Result<Sources, OnlineError> {
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
) -> Result<Vec<(SourceKind, IngestSummary)>, OnlineError> {
    let mut by_source: BTreeMap<SourceKind, Vec<_>> = BTreeMap::new();
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

/// What one search brought into the project.
#[derive(Debug)]
pub struct Fetch {
    /// The source the papers came from: the one asked, or the one fallen back to.
    pub source: SourceKind,
    pub fetched: usize,
    pub summary: IngestSummary,
    /// Sources that failed before one answered.
    pub failed: Vec<String>,
}

/// Searches `kind` (falling back to the others unless told not to) and stores what it finds.
pub async fn fetch_into(
    project: &Project,
    sources: &Sources,
    kind: SourceKind,
    query: &SearchQuery,
    fall_back: bool,
    progress: &(dyn Fn(FetchProgress) + Sync),
) -> Result<Fetch, OnlineError> {
    let fetched = sources
        .search_with_fallback(kind, query, fall_back, progress)
        .await
        .map_err(OnlineError::AllSourcesFailed)?;
    let failed = fetched.failed.iter().map(|(_, error)| error.to_string()).collect();
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
            documents: Vec::new(),
        },
    };
    Ok(Fetch {
        source: fetched.source,
        fetched: count,
        summary,
        failed,
    })
}
