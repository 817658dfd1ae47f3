//! `hypatia enrich`: missing abstracts, DOIs, venues and years filled from the APIs, by DOI, arXiv id
//! or (only when confident) title. A title match must be the same normalised title, within a year;
//! a DOI or arXiv id another paper holds is never taken, so two papers are never merged.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::ExitCode;

use hypatia_core::{Paper, normalize_title, title_is_distinctive};
use hypatia_project::Project;
use hypatia_sources::{FetchedPaper, PaperRef};

use crate::cli::EnrichArgs;

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

pub async fn run(project: Project, args: EnrichArgs) -> anyhow::Result<ExitCode> {
    let sources = super::fetch::sources_for(&project, args.refresh)?;
    let papers = hypatia_citations::all_papers(&project).await?;
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
        .take(args.max)
        .collect();
    let bar = super::progress_bar(candidates.len() as u64);
    let mut enriched = Vec::new();
    let mut filled: BTreeMap<&'static str, usize> = BTreeMap::new();
    let (mut not_found, mut failures) = (0usize, Vec::new());
    for paper in &candidates {
        bar.set_message(paper.title.chars().take(50).collect::<String>());
        let reference = PaperRef {
            doi: paper.doi.clone(),
            arxiv_id: paper.arxiv_id.clone(),
            s2_id: None,
            title: paper.title.clone(),
        };
        let found = match sources.lookup(&reference).await {
            Ok(found) => found,
            Err(error) => {
                failures.push(format!("{} ({}): {error}", paper.id, paper.title));
                bar.inc(1);
                continue;
            }
        };
        bar.inc(1);
        let Some(mut found) = found.into_iter().find(|f| same_paper(paper, f)) else {
            not_found += 1;
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
        let record = &mut found.record;
        let mut gained = Vec::new();
        for (field, missing, offered) in [
            (
                "abstract",
                paper.abstract_text.is_none(),
                record.abstract_text.is_some(),
            ),
            ("doi", paper.doi.is_none(), record.doi.is_some()),
            ("venue", paper.venue.is_none(), record.venue.is_some()),
            ("year", paper.year.is_none(), record.year.is_some()),
        ] {
            if missing && offered {
                gained.push(field);
            }
        }
        if gained.is_empty() {
            not_found += 1;
            continue;
        }
        for field in gained {
            *filled.entry(field).or_default() += 1;
        }
        // Matched to this paper by its own identity: its title and identifiers lead.
        record.title.clone_from(&paper.title);
        if paper.doi.is_some() {
            record.doi.clone_from(&paper.doi);
        }
        if paper.arxiv_id.is_some() {
            record.arxiv_id.clone_from(&paper.arxiv_id);
        }
        enriched.push(found);
    }
    bar.finish_and_clear();
    let count = enriched.len();
    let summaries = super::fetch::store_papers(&project, "enrich", enriched).await?;
    let merged: usize = summaries.iter().map(|(_, s)| s.merged).sum();
    let added: usize = summaries.iter().map(|(_, s)| s.added).sum();
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({
            "candidates": candidates.len(),
            "enriched": count,
            "merged": merged,
            "added": added,
            "filled": filled,
            "not_found": not_found,
            "failures": failures,
        });
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
    } else {
        let fields: Vec<String> = filled.iter().map(|(f, n)| format!("{n} {f}s")).collect();
        writeln!(
            out,
            "Enriched {count} of {} papers lacking something ({}); {not_found} found nothing to add; {} lookups failed.",
            candidates.len(),
            if fields.is_empty() {
                "nothing filled".to_owned()
            } else {
                fields.join(", ")
            },
            failures.len()
        )?;
        for failure in failures.iter().take(5) {
            eprintln!("warning: {failure}");
        }
    }
    project.close().await;
    Ok(ExitCode::SUCCESS)
}
