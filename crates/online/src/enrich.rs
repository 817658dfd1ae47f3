//! Missing abstracts, DOIs, venues and years filled from the APIs, by DOI, arXiv id or (only when
//! confident) title. A title match must be the same normalised title, within a year; a DOI or arXiv
//! id another paper holds is never taken, so two papers are never merged.

use std::collections::{BTreeMap, BTreeSet};

use hypatia_core::{Paper, normalize_title, title_is_distinctive};
use hypatia_project::Project;
use hypatia_sources::{FetchedPaper, PaperRef, Sources};

use crate::{OnlineError, Progress, store_papers};

/// What an enrichment did, by count; `failures` name the paper and the error.
#[derive(Debug, Default)]
pub struct EnrichSummary {
    pub candidates: usize,
    pub enriched: usize,
    pub merged: usize,
    pub added: usize,
    /// How many papers gained each field.
    pub filled: BTreeMap<&'static str, usize>,
    pub not_found: usize,
    pub failures: Vec<String>,
}

/// Looks up at most `max` papers that lack something and stores what the APIs add.
pub async fn enrich(
    project: &Project,
    sources: &Sources,
    max: usize,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<EnrichSummary, OnlineError> {
    let papers = hypatia_citations::all_papers(project).await?;
    let taken_dois: BTreeMap<String, String> = papers
        .iter()
        .filter_map(|p| Some((p.doi.clone()?.to_lowercase(), p.id.to_string())))
        .collect();
    let taken_arxiv: BTreeSet<String> = papers.iter().filter_map(|p| p.arxiv_id.clone()).collect();
    let candidates: Vec<&Paper> = papers
        .iter()
        .filter(|p| !lacks(p).is_empty())
        // A title alone identifies a paper only when it is distinctive.
        .filter(|p| p.doi.is_some() || p.arxiv_id.is_some() || title_is_distinctive(&normalize_title(&p.title)))
        .take(max)
        .collect();
    let mut summary = EnrichSummary {
        candidates: candidates.len(),
        ..EnrichSummary::default()
    };
    let mut enriched = Vec::new();
    for (done, paper) in candidates.iter().enumerate() {
        progress(Progress {
            level: 1,
            done,
            total: candidates.len(),
            title: &paper.title,
        });
        let reference = PaperRef {
            doi: paper.doi.clone(),
            arxiv_id: paper.arxiv_id.clone(),
            s2_id: None,
            title: paper.title.clone(),
        };
        let found = match sources.lookup(&reference).await {
            Ok(found) => found,
            Err(error) => {
                summary
                    .failures
                    .push(format!("{} ({}): {error}", paper.id, paper.title));
                continue;
            }
        };
        let Some(mut found) = found.into_iter().find(|f| same_paper(paper, f)) else {
            summary.not_found += 1;
            continue;
        };
        // Identifiers another paper holds would merge the two: keep this paper's own.
        if let Some(doi) = &found.record.doi
            && taken_dois
                .get(&doi.to_lowercase())
                .is_some_and(|owner| owner != &paper.id.to_string())
        {
            found.record.doi = None;
        }
        if let Some(arxiv) = &found.record.arxiv_id
            && paper.arxiv_id.as_ref() != Some(arxiv)
            && taken_arxiv.contains(arxiv)
        {
            found.record.arxiv_id = None;
        }
        let gained = gained(paper, &found);
        if gained.is_empty() {
            summary.not_found += 1;
            continue;
        }
        for field in gained {
            *summary.filled.entry(field).or_default() += 1;
        }
        // Matched to this paper by its own identity: its title and identifiers lead.
        let record = &mut found.record;
        record.title.clone_from(&paper.title);
        if paper.doi.is_some() {
            record.doi.clone_from(&paper.doi);
        }
        if paper.arxiv_id.is_some() {
            record.arxiv_id.clone_from(&paper.arxiv_id);
        }
        enriched.push(found);
    }
    summary.enriched = enriched.len();
    let stored = store_papers(project, "enrich", enriched).await?;
    summary.merged = stored.iter().map(|(_, s)| s.merged).sum();
    summary.added = stored.iter().map(|(_, s)| s.added).sum();
    Ok(summary)
}

fn lacks(paper: &Paper) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if paper.abstract_text.is_none() {
        missing.push("abstract");
    }
    if paper.doi.is_none() {
        missing.push("doi");
    }
    if paper.venue.is_none() {
        missing.push("venue");
    }
    if paper.year.is_none() {
        missing.push("year");
    }
    missing
}

/// The fields the paper lacks that the found record offers.
fn gained(paper: &Paper, found: &FetchedPaper) -> Vec<&'static str> {
    let record = &found.record;
    [
        (
            "abstract",
            paper.abstract_text.is_none(),
            record.abstract_text.is_some(),
        ),
        ("doi", paper.doi.is_none(), record.doi.is_some()),
        ("venue", paper.venue.is_none(), record.venue.is_some()),
        ("year", paper.year.is_none(), record.year.is_some()),
    ]
    .into_iter()
    .filter(|(_, missing, offered)| *missing && *offered)
    .map(|(field, ..)| field)
    .collect()
}

/// The found paper, if it is this one: same DOI or arXiv id, or the same title within a year.
fn same_paper(paper: &Paper, found: &FetchedPaper) -> bool {
    let record = &found.record;
    if let (Some(a), Some(b)) = (&paper.doi, &record.doi) {
        return a.eq_ignore_ascii_case(b);
    }
    if let (Some(a), Some(b)) = (&paper.arxiv_id, &record.arxiv_id) {
        return a == b;
    }
    let years_agree = match (paper.year, record.year) {
        (Some(a), Some(b)) => (a - b).abs() <= 1,
        _ => true,
    };
    normalize_title(&paper.title) == normalize_title(&record.title) && years_agree
}
