//! The citation graph as stored: edges between paper keys, with the project's papers recognised
//! under their DOI, arXiv id, or the source id their provenance records.

use std::collections::BTreeMap;

use hypatia_core::{Paper, PaperId, SourceFormat};
use hypatia_graph::CitationGraph;
use hypatia_project::Project;

use hypatia_project::ProjectError;

/// The keys project papers are known by in the graph: the DOI, the arXiv id, then the Semantic
/// Scholar or OpenAlex ids they were fetched under (`s2:…`, `openalex:…`, as their provenance
/// records them and as edges name them).
#[derive(Debug, Default)]
pub struct PaperKeys {
    fetched: BTreeMap<PaperId, Vec<String>>,
}

impl PaperKeys {
    /// The fetched ids of every paper of the project.
    pub async fn load(project: &Project) -> Result<PaperKeys, ProjectError> {
        let mut keys = PaperKeys::default();
        for format in [SourceFormat::SemanticScholar, SourceFormat::OpenAlex] {
            for (record, id) in project.records_of_format(format).await? {
                keys.fetched.entry(id).or_default().push(record);
            }
        }
        Ok(keys)
    }

    /// The fetched ids of just these papers (a report's few), read from their provenance.
    pub async fn of_papers(project: &Project, papers: &[PaperId]) -> Result<PaperKeys, ProjectError> {
        let mut keys = PaperKeys::default();
        for id in papers {
            let records: Vec<String> = project
                .store()
                .sources(id)
                .await?
                .into_iter()
                .filter(|source| matches!(source.format, SourceFormat::SemanticScholar | SourceFormat::OpenAlex))
                .map(|source| source.record)
                .collect();
            if !records.is_empty() {
                keys.fetched.insert(id.clone(), records);
            }
        }
        Ok(keys)
    }

    /// Every key of `paper`, strongest first.
    pub fn of(&self, paper: &Paper) -> Vec<String> {
        let mut keys = Vec::new();
        if let Some(doi) = &paper.doi {
            keys.push(format!("doi:{}", doi.to_lowercase()));
        }
        if let Some(arxiv) = &paper.arxiv_id {
            keys.push(format!("arxiv:{arxiv}"));
        }
        keys.extend(self.fetched.get(&paper.id).into_iter().flatten().cloned());
        // Edges read from the reference list of a PDF whose paper has no DOI or arXiv id.
        keys.push(format!("paper:{}", paper.id));
        keys
    }

    /// The key references and citations of `paper` can be looked up by (DOI, arXiv id or
    /// Semantic Scholar id), if any.
    pub fn expandable(&self, paper: &Paper) -> Option<String> {
        self.of(paper)
            .into_iter()
            .find(|key| !key.starts_with("openalex:") && !key.starts_with("paper:"))
    }

    /// The Semantic Scholar paperId `paper` was fetched under.
    pub fn s2_id(&self, paper: &Paper) -> Option<String> {
        self.fetched
            .get(&paper.id)?
            .iter()
            .find_map(|record| record.strip_prefix("s2:").map(str::to_owned))
    }

    /// Key → paper, for every key of `papers`.
    fn index<'a>(&self, papers: impl IntoIterator<Item = &'a Paper>) -> BTreeMap<String, &'a Paper> {
        let mut by_key = BTreeMap::new();
        for paper in papers {
            for key in self.of(paper) {
                by_key.entry(key).or_insert(paper);
            }
        }
        by_key
    }
}

/// Every paper of the project.
pub async fn all_papers(project: &Project) -> Result<Vec<Paper>, ProjectError> {
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

/// The stored edges as a graph; project papers carry their ids (and titles), each one node under
/// its strongest key.
pub async fn citation_graph(project: &Project) -> Result<CitationGraph, ProjectError> {
    let papers = all_papers(project).await?;
    let keys = PaperKeys::load(project).await?;
    let by_key = keys.index(&papers);
    let canonical = |key: &str| -> String {
        by_key
            .get(key)
            .and_then(|paper| keys.of(paper).into_iter().next())
            .unwrap_or_else(|| key.to_owned())
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

/// Citations (citing, cited) among `papers` only: what a report draws. Reads only the edges whose
/// both ends are keys of these papers, not the whole graph.
pub async fn citations_among(project: &Project, papers: &[&Paper]) -> Result<Vec<(PaperId, PaperId)>, ProjectError> {
    let ids: Vec<PaperId> = papers.iter().map(|p| p.id.clone()).collect();
    let keys = PaperKeys::of_papers(project, &ids).await?;
    let by_key = keys.index(papers.iter().copied());
    let wanted: Vec<String> = by_key.keys().cloned().collect();
    let mut edges: Vec<(PaperId, PaperId)> = project
        .store()
        .citation_edges_among(&wanted)
        .await?
        .into_iter()
        .filter_map(|edge| {
            let citing = by_key.get(&edge.citing_key)?.id.clone();
            let cited = by_key.get(&edge.cited_key)?.id.clone();
            (citing != cited).then_some((citing, cited))
        })
        .collect();
    edges.sort();
    edges.dedup();
    Ok(edges)
}

#[cfg(test)]
mod tests {
    use hypatia_core::PaperRecord;
    use hypatia_store::CitationEdgeRow;

    use super::*;

    fn record(title: &str, doi: Option<&str>) -> PaperRecord {
        PaperRecord {
            title: title.into(),
            abstract_text: None,
            authors: vec![],
            year: None,
            venue: None,
            doi: doi.map(str::to_owned),
            arxiv_id: None,
            url: None,
        }
    }

    fn edge(citing: &str, cited: &str) -> CitationEdgeRow {
        CitationEdgeRow {
            citing_key: citing.into(),
            cited_key: cited.into(),
            citing_title: None,
            cited_title: None,
            source: "s2".into(),
        }
    }

    #[tokio::test]
    async fn a_report_gets_the_citations_among_its_papers_by_doi_and_by_fetched_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let project = Project::init(dir.path(), Some("graph")).await.expect("init");
        let records = vec![
            (record("Citing paper about graphs", Some("10.1/a")), "s2:aaa".to_owned()),
            (record("Cited paper without a DOI", None), "s2:bbb".to_owned()),
            (
                record("Unrelated paper on proteins", Some("10.1/c")),
                "s2:ccc".to_owned(),
            ),
        ];
        project
            .store_fetched("s2:test", SourceFormat::SemanticScholar, records, &|_| {})
            .await
            .expect("store");
        project
            .store()
            .add_citation_edges(
                &[
                    edge("doi:10.1/a", "s2:bbb"),
                    edge("doi:10.1/a", "doi:10.1/c"),
                    edge("doi:10.1/a", "doi:elsewhere"),
                ],
                None,
            )
            .await
            .expect("edges");
        let papers = all_papers(&project).await.expect("papers");
        let by_title = |t: &str| papers.iter().find(|p| p.title.starts_with(t)).expect("stored");
        let (a, b, c) = (by_title("Citing"), by_title("Cited"), by_title("Unrelated"));
        // Only a and b are in the report: a → b, found through b's Semantic Scholar id.
        let among = citations_among(&project, &[a, b]).await.expect("among");
        assert_eq!(among, [(a.id.clone(), b.id.clone())]);
        let all = citations_among(&project, &[a, b, c]).await.expect("among");
        assert_eq!(all.len(), 2);
        // The whole graph: one node per project paper under its strongest key, and the outside one.
        let graph = citation_graph(&project).await.expect("graph");
        assert_eq!(graph.stats().nodes, 4);
        assert_eq!(
            graph.paper("s2:bbb").and_then(|n| n.paper_id.clone()),
            Some(b.id.to_string())
        );
        project.close().await;
    }
}
