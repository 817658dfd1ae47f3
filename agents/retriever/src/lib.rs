//! The retriever: runs each query of the plan on the passage index, fuses
//! the ranked lists with reciprocal rank fusion, drops duplicates, and
//! answers with an evidence set of passages (stable ids, text, paper).

mod fusion;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use hypatia_bus::Agent;
use hypatia_core::{PaperId, PassageId, PassageLocation};
use hypatia_project::Project;
use hypatia_project::SearchRequest;
use hypatia_research::{AgentFailure, AgentName, Envelope, Payload};
use hypatia_research::{EvidencePassage, SkippedQuery};
use tokio_util::sync::CancellationToken;

pub use fusion::{RRF_K, reciprocal_rank_fusion};

/// Hits read per query before fusion.
const HITS_PER_QUERY: usize = 50;
/// At most this many passages of one paper in an evidence set, so one
/// long abstract cannot crowd out the others.
const PASSAGES_PER_PAPER: usize = 2;

pub struct Retriever {
    project: Arc<Project>,
}

impl Retriever {
    pub fn new(project: Arc<Project>) -> Retriever {
        Retriever { project }
    }

    async fn retrieve(&self, queries: &[String], limit: usize) -> Result<Payload, AgentFailure> {
        let mut lists: Vec<Vec<PassageId>> = Vec::new();
        let mut skipped = Vec::new();
        let mut found: BTreeMap<PassageId, (PaperId, Option<i32>, String, Option<PassageLocation>)> = BTreeMap::new();
        let mut seen_queries = HashSet::new();
        for query in queries {
            let key = query.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
            if !seen_queries.insert(key) {
                continue;
            }
            let skip = |reason: &str| SkippedQuery {
                query: query.clone(),
                reason: reason.to_owned(),
            };
            if !self.project.has_searchable_words(query).map_err(index_failure)? {
                skipped.push(skip("no searchable words (only stop words or punctuation)"));
                continue;
            }
            // Hybrid when the project has an embedding model: the passage that says it in other words.
            let hits = self
                .project
                .find_passages(&SearchRequest::new(query, HITS_PER_QUERY), self.project.default_mode())
                .await
                .map_err(index_failure)?;
            if hits.is_empty() {
                skipped.push(skip("no passage matches it"));
                continue;
            }
            lists.push(hits.iter().map(|hit| hit.passage_id.clone()).collect());
            for hit in hits {
                found
                    .entry(hit.passage_id)
                    .or_insert((hit.paper_id, hit.year, hit.text.text, hit.location));
            }
        }
        let mut evidence = Vec::new();
        let mut per_paper: BTreeMap<PaperId, usize> = BTreeMap::new();
        let mut seen_texts = HashSet::new();
        let mut titles: BTreeMap<PaperId, String> = BTreeMap::new();
        for (passage_id, score) in reciprocal_rank_fusion(&lists, RRF_K) {
            if evidence.len() >= limit {
                break;
            }
            let Some((paper_id, year, text, location)) = found.get(&passage_id) else {
                continue;
            };
            // The same sentence in two papers (a reprint, a copied abstract) is one piece of evidence.
            if !seen_texts.insert(normalise(text)) {
                continue;
            }
            let count = per_paper.entry(paper_id.clone()).or_default();
            if *count >= PASSAGES_PER_PAPER {
                continue;
            }
            *count += 1;
            let title = match titles.get(paper_id) {
                Some(title) => title.clone(),
                None => {
                    let paper = self
                        .project
                        .paper(paper_id)
                        .await
                        .map_err(|error| AgentFailure::fatal(format!("reading paper {paper_id}: {error}")))?;
                    let title = paper.map(|(paper, _)| paper.title).unwrap_or_default();
                    titles.insert(paper_id.clone(), title.clone());
                    title
                }
            };
            evidence.push(EvidencePassage {
                passage_id,
                paper_id: paper_id.clone(),
                title,
                year: *year,
                text: text.clone(),
                score,
                location: location.clone(),
            });
        }
        Ok(Payload::EvidenceReady { evidence, skipped })
    }
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn index_failure(error: hypatia_project::ProjectError) -> AgentFailure {
    // An embedding server that is busy or unreachable may answer a retry; a broken index will not.
    let kind = if error.is_transient() {
        hypatia_research::FailureKind::Transient
    } else {
        hypatia_research::FailureKind::Fatal
    };
    AgentFailure::new(kind, format!("searching the literature: {error}"))
}

impl Agent for Retriever {
    fn name(&self) -> AgentName {
        AgentName::Retriever
    }

    async fn handle(self: Arc<Self>, request: Envelope, _cancel: CancellationToken) -> Result<Payload, AgentFailure> {
        match &request.payload {
            Payload::RetrieveRequest { queries, limit } => self.retrieve(queries, *limit as usize).await,
            other => Err(AgentFailure::fatal(format!(
                "the retriever cannot handle `{}`",
                other.kind()
            ))),
        }
    }
}
