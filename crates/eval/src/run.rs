//! Loading a BEIR corpus into a scratch project and scoring its queries.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use hypatia_core::{PaperId, SourceFormat};
use hypatia_project::{Analyzer, FieldBoosts, IngestOptions, Project, SearchRequest};
use serde::Serialize;

use crate::{BeirDataset, EvalError, mrr_at_k, ndcg_at_k, recall_at_k};

#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    pub analyzer: Analyzer,
    /// Field weights; `None` for the product's defaults.
    pub boosts: Option<FieldBoosts>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetrievalReport {
    pub ndcg_at_10: f64,
    pub recall_at_100: f64,
    pub mrr_at_10: f64,
    pub queries: usize,
    /// Wall time of the whole evaluation: ingest, indexing and all queries.
    pub seconds: f64,
    pub ingest_seconds: f64,
    pub search_seconds: f64,
    pub documents: usize,
    pub analyzer: String,
}

/// Ingests `dir`'s corpus into a scratch project and runs every query of
/// `split` through the search users get (top 100).
pub async fn evaluate_retrieval(dir: &Path, split: &str, options: &EvalOptions) -> Result<RetrievalReport, EvalError> {
    let started = Instant::now();
    let dataset = BeirDataset::load(dir, split)?;
    let scratch = tempfile::tempdir().map_err(EvalError::Scratch)?;
    let analyzer = options.analyzer;
    let mut project =
        Project::init_with(scratch.path(), Some("eval"), |config| config.index.analyzer = analyzer).await?;
    if let Some(boosts) = options.boosts {
        project.set_boosts(boosts);
    }
    let ingest = IngestOptions {
        format: Some(SourceFormat::Beir),
        ..IngestOptions::default()
    };
    project.ingest_file(&dataset.corpus, ingest, &|_| {}).await?;
    let ingest_seconds = started.elapsed().as_secs_f64();

    // A merged paper answers for every BEIR document it came from.
    let mut documents_of: HashMap<PaperId, Vec<String>> = HashMap::new();
    for (record, paper) in project.records_of_format(SourceFormat::Beir).await? {
        documents_of.entry(paper).or_default().push(record);
    }
    let documents = documents_of.values().map(Vec::len).sum();

    let search_started = Instant::now();
    let (mut ndcg, mut recall, mut mrr) = (0.0, 0.0, 0.0);
    for (id, text) in &dataset.queries {
        let hits = project.search_papers(&SearchRequest::new(text, 100))?;
        let ranked: Vec<String> = hits
            .iter()
            .flat_map(|hit| documents_of.get(&hit.paper_id).cloned().unwrap_or_default())
            .collect();
        let judged = &dataset.qrels[id];
        ndcg += ndcg_at_k(&ranked, judged, 10);
        recall += recall_at_k(&ranked, judged, 100);
        mrr += mrr_at_k(&ranked, judged, 10);
    }
    let search_seconds = search_started.elapsed().as_secs_f64();
    let queries = dataset.queries.len();
    project.close().await;
    let mean = |sum: f64| if queries == 0 { 0.0 } else { sum / queries as f64 };
    Ok(RetrievalReport {
        ndcg_at_10: mean(ndcg),
        recall_at_100: mean(recall),
        mrr_at_10: mean(mrr),
        queries,
        seconds: started.elapsed().as_secs_f64(),
        ingest_seconds,
        search_seconds,
        documents,
        analyzer: analyzer.to_string(),
    })
}
