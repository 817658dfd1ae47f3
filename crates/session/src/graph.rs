//! The citation graph as stored: edges between paper keys, with the project's papers recognised
//! under their DOI, arXiv id, or the source id their provenance records.

use std::collections::BTreeMap;

use hypatia_core::{Paper, SourceFormat};
use hypatia_graph::CitationGraph;
use hypatia_project::Project;

use crate::RunError;

/// The keys a paper is known by in the graph, strongest first.
pub fn graph_keys(paper: &Paper) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(doi) = &paper.doi {
        keys.push(format!("doi:{}", doi.to_lowercase()));
    }
    if let Some(arxiv) = &paper.arxiv_id {
        keys.push(format!("arxiv:{arxiv}"));
    }
    keys
}

/// Every paper of the project.
pub async fn all_papers(project: &Project) -> Result<Vec<Paper>, RunError> {
    let mut papers = Vec::new();
    loop {
        let page = project.list_papers(500, papers.len() as u32).await?;
        let done = page.len() < 500;
        papers.extend(page);
        if done {
            return Ok(papers);
        }
    }
}

/// The stored edges as a graph; project papers carry their ids (and titles).
pub async fn citation_graph(project: &Project) -> Result<CitationGraph, RunError> {
    let papers = all_papers(project).await?;
    let mut by_key: BTreeMap<String, &Paper> = BTreeMap::new();
    for paper in &papers {
        for key in graph_keys(paper) {
            by_key.insert(key, paper);
        }
    }
    // Papers fetched from Semantic Scholar or OpenAlex without a DOI are known by the source's id,
    // which their provenance records (`s2:…`, `openalex:…`) as edges do.
    let by_id: BTreeMap<String, &Paper> = papers.iter().map(|p| (p.id.to_string(), p)).collect();
    for format in [SourceFormat::SemanticScholar, SourceFormat::OpenAlex] {
        for (record, id) in project.records_of_format(format).await? {
            if let Some(paper) = by_id.get(id.as_str()) {
                by_key.entry(record).or_insert(paper);
            }
        }
    }
    // A project paper known under two keys is one node, under its strongest key.
    let canonical = |key: &str| -> String {
        match by_key.get(key) {
            Some(paper) => graph_keys(paper).into_iter().next().unwrap_or_else(|| key.to_owned()),
            None => key.to_owned(),
        }
    };
    let mut graph = CitationGraph::default();
    for edge in project.store().citation_edges().await? {
        let (citing, cited) = (canonical(&edge.citing_key), canonical(&edge.cited_key));
        for (key, title) in [(&citing, &edge.citing_title), (&cited, &edge.cited_title)] {
            let paper = by_key.get(key.as_str());
            let id = paper.map(|p| p.id.to_string());
            let title = paper.map(|p| p.title.clone()).or_else(|| title.clone());
            graph.add_paper(key, title.as_deref(), id.as_deref());
        }
        graph.add_citation(&citing, &cited);
    }
    Ok(graph)
}
