//! The citation graph around the project: each paper's references and citations fetched, stored as
//! edges between paper keys, and (with `add`) the papers found stored and expanded in turn.

use std::collections::BTreeSet;

use hypatia_citations::{PaperKeys, all_papers};
use hypatia_core::Paper;
use hypatia_project::Project;
use hypatia_sources::{PaperRef, SourceKind, Sources};
use hypatia_store::CitationEdgeRow;

use crate::{OnlineError, Progress, store_papers};

#[derive(Debug, Clone, Copy)]
pub struct ExpandOptions {
    /// Levels of papers to expand: 1 is the project's own.
    pub depth: u32,
    /// References and citations asked for per paper.
    pub max: usize,
    /// Store the papers found, and expand them at the next level.
    pub add: bool,
    /// Expand papers expanded before, too.
    pub refresh: bool,
}

/// What an expansion found, by count; `failures` name the paper and the lookup.
#[derive(Debug, Default)]
pub struct ExpandSummary {
    pub expanded: usize,
    pub references: usize,
    pub citations: usize,
    pub new_edges: u64,
    pub added_papers: usize,
    pub failures: Vec<String>,
}

pub async fn expand(
    project: &Project,
    sources: &Sources,
    options: ExpandOptions,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<ExpandSummary, OnlineError> {
    let expanded: BTreeSet<String> = if options.refresh {
        BTreeSet::new()
    } else {
        project.store().expanded_papers().await?.into_iter().collect()
    };
    let mut keys = PaperKeys::load(project).await?;
    let mut queue: Vec<Paper> = all_papers(project)
        .await?
        .into_iter()
        .filter(|p| keys.expandable(p).is_some_and(|k| !expanded.contains(&k)))
        .collect();
    let mut summary = ExpandSummary::default();
    for level in 1..=options.depth {
        if queue.is_empty() {
            break;
        }
        let mut to_add = Vec::new();
        for (done, paper) in queue.iter().enumerate() {
            progress(Progress {
                level,
                done,
                total: queue.len(),
                title: &paper.title,
            });
            let Some(key) = keys.expandable(paper) else { continue };
            let reference = PaperRef {
                doi: paper.doi.clone(),
                arxiv_id: paper.arxiv_id.clone(),
                s2_id: keys.s2_id(paper),
                title: paper.title.clone(),
            };
            let mut edges = Vec::new();
            let mut failed_here = false;
            let mut source = SourceKind::SemanticScholar;
            let (mut references, mut citations) = (0, 0);
            match sources.references(&reference, options.max).await {
                Ok((linked, from)) => {
                    source = from;
                    references = linked.len();
                    for link in linked {
                        edges.push(CitationEdgeRow {
                            citing_key: key.clone(),
                            cited_key: link.key,
                            citing_title: Some(paper.title.clone()),
                            cited_title: link.title,
                            source: from.as_str().to_owned(),
                        });
                        to_add.extend(link.paper);
                    }
                }
                Err(error) => {
                    failed_here = true;
                    summary.failures.push(format!("references of {}: {error}", paper.id));
                }
            }
            match sources.citations(&reference, options.max).await {
                Ok((linked, from)) => {
                    citations = linked.len();
                    for link in linked {
                        edges.push(CitationEdgeRow {
                            citing_key: link.key,
                            cited_key: key.clone(),
                            citing_title: link.title,
                            cited_title: Some(paper.title.clone()),
                            source: from.as_str().to_owned(),
                        });
                        to_add.extend(link.paper);
                    }
                }
                Err(error) => {
                    failed_here = true;
                    summary.failures.push(format!("citations of {}: {error}", paper.id));
                }
            }
            // A paper whose lookup failed is not marked expanded: the next run tries it again.
            let expanded = (!failed_here).then_some((key.as_str(), references, citations, source.as_str()));
            summary.new_edges += project.store().add_citation_edges(&edges, expanded).await?;
            summary.references += references;
            summary.citations += citations;
            summary.expanded += 1;
        }
        if !options.add {
            break;
        }
        let before: BTreeSet<String> = all_papers(project)
            .await?
            .into_iter()
            .map(|p| p.id.to_string())
            .collect();
        for (_, stored) in store_papers(project, "graph expand", to_add).await? {
            summary.added_papers += stored.added;
        }
        keys = PaperKeys::load(project).await?;
        queue = all_papers(project)
            .await?
            .into_iter()
            .filter(|p| !before.contains(&p.id.to_string()) && keys.expandable(p).is_some())
            .collect();
    }
    Ok(summary)
}
