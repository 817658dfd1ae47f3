//! Loading a BEIR corpus into a scratch project and scoring its queries.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use hypatia_core::{PaperId, SourceFormat};
use hypatia_llm::EmbeddingBackend;
use hypatia_project::{
    Analyzer, DEFAULT_FUSION, EmbedProgress, FieldBoosts, Fusion, IngestOptions, Project, SearchMode, SearchRequest,
};
use serde::Serialize;

use crate::{BeirDataset, EvalError, Sample, mrr_at_k, ndcg_at_k, recall_at_k};

#[derive(Clone, Default)]
pub struct EvalOptions {
    pub analyzer: Analyzer,
    /// Field weights; `None` for the product's defaults.
    pub boosts: Option<FieldBoosts>,
    /// The embedding model, for dense and hybrid runs.
    pub embedder: Option<Arc<dyn EmbeddingBackend>>,
    /// Evaluate part of the dataset (quick checks); the whole of it by default.
    pub sample: Sample,
}

impl std::fmt::Debug for EvalOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalOptions")
            .field("analyzer", &self.analyzer)
            .field("boosts", &self.boosts)
            .field("embedder", &self.embedder.as_ref().map(|e| e.identity().key()))
            .field("sample", &self.sample)
            .finish()
    }
}

/// One way of searching to score: a mode, and for hybrid the fusion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalRun {
    pub mode: SearchMode,
    pub fusion: Fusion,
}

impl EvalRun {
    pub fn of(mode: SearchMode) -> EvalRun {
        EvalRun {
            mode,
            fusion: DEFAULT_FUSION,
        }
    }
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
    /// Documents in the whole corpus; more than `documents` when the evaluation was sampled.
    pub corpus_documents: usize,
    /// A sample of the dataset was evaluated: not comparable with published figures.
    pub sampled: bool,
    pub analyzer: String,
    pub mode: SearchMode,
    /// The fusion of a hybrid run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fusion: Option<String>,
    /// The embedding model's identity, for dense and hybrid runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_model: Option<String>,
    /// Time to embed the corpus's passages (shared by every run of one evaluation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embed_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passages_embedded: Option<u64>,
}

/// Ingests `dir`'s corpus into a scratch project and runs every query of
/// `split` through the search users get (top 100), in `run`'s mode.
pub async fn evaluate_retrieval(
    dir: &Path,
    split: &str,
    options: &EvalOptions,
    run: EvalRun,
) -> Result<RetrievalReport, EvalError> {
    let mut reports = evaluate_retrieval_runs(dir, split, options, &[run], &|_| {}).await?;
    reports.pop().ok_or_else(|| EvalError::Data {
        path: dir.to_owned(),
        message: "no run was evaluated".into(),
    })
}

/// As [`evaluate_retrieval`] for several runs over one ingest (and one embedding of the corpus):
/// how modes and fusions are compared on equal terms. `progress` hears how embedding goes.
pub async fn evaluate_retrieval_runs(
    dir: &Path,
    split: &str,
    options: &EvalOptions,
    runs: &[EvalRun],
    progress: &(dyn Fn(EmbedProgress) + Sync),
) -> Result<Vec<RetrievalReport>, EvalError> {
    let started = Instant::now();
    let mut dataset = BeirDataset::load(dir, split)?;
    let scratch = tempfile::tempdir().map_err(EvalError::Scratch)?;
    if let Some(limit) = options.sample.queries {
        crate::sample::limit_queries(&mut dataset, limit);
    }
    let (corpus, corpus_documents) = match options.sample.documents {
        Some(documents) => {
            let sampled = scratch.path().join("sampled-corpus.jsonl");
            let whole = crate::sample::write_sampled_corpus(&dataset, documents, &sampled)?;
            (sampled, Some(whole))
        }
        None => (dataset.corpus.clone(), None),
    };
    let project_dir = scratch.path().join("project");
    std::fs::create_dir(&project_dir).map_err(EvalError::Scratch)?;
    let analyzer = options.analyzer;
    let mut project = Project::init_with(&project_dir, Some("eval"), |config| config.index.analyzer = analyzer).await?;
    if let Some(boosts) = options.boosts {
        project.set_boosts(boosts);
    }
    let needs_vectors = runs.iter().any(|run| run.mode.is_dense());
    if needs_vectors {
        let embedder = options
            .embedder
            .clone()
            .ok_or(hypatia_project::ProjectError::NoEmbedder {
                mode: runs
                    .iter()
                    .map(|run| run.mode)
                    .find(|mode| mode.is_dense())
                    .unwrap_or(SearchMode::Dense),
            })?;
        project.attach_embedder(embedder)?;
    }
    let ingest = IngestOptions {
        format: Some(SourceFormat::Beir),
        ..IngestOptions::default()
    };
    project.ingest_file(&corpus, ingest, &|_| {}).await?;
    let ingest_seconds = started.elapsed().as_secs_f64();
    let embedded = if needs_vectors {
        let never = tokio_util::sync::CancellationToken::new();
        project.embed_passages(progress, &never).await?
    } else {
        None
    };

    // A merged paper answers for every BEIR document it came from.
    let mut documents_of: HashMap<PaperId, Vec<String>> = HashMap::new();
    for (record, paper) in project.records_of_format(SourceFormat::Beir).await? {
        documents_of.entry(paper).or_default().push(record);
    }
    let documents = documents_of.values().map(Vec::len).sum();

    let mut reports = Vec::with_capacity(runs.len());
    for run in runs {
        let search_started = Instant::now();
        let (mut ndcg, mut recall, mut mrr) = (0.0, 0.0, 0.0);
        for (id, text) in &dataset.queries {
            let hits = project
                .find_papers_fused(&SearchRequest::new(text, 100), run.mode, run.fusion)
                .await?;
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
        let mean = |sum: f64| if queries == 0 { 0.0 } else { sum / queries as f64 };
        let dense = run.mode.is_dense();
        reports.push(RetrievalReport {
            ndcg_at_10: mean(ndcg),
            recall_at_100: mean(recall),
            mrr_at_10: mean(mrr),
            queries,
            seconds: started.elapsed().as_secs_f64(),
            ingest_seconds,
            search_seconds,
            documents,
            corpus_documents: corpus_documents.unwrap_or(documents),
            sampled: !options.sample.is_whole(),
            analyzer: analyzer.to_string(),
            mode: run.mode,
            fusion: (run.mode == SearchMode::Hybrid).then(|| run.fusion.to_string()),
            embedding_model: dense.then(|| embedded.as_ref().map(|e| e.model.clone())).flatten(),
            embed_seconds: dense.then(|| embedded.as_ref().map(|e| e.seconds)).flatten(),
            passages_embedded: dense.then(|| embedded.as_ref().map(|e| e.embedded)).flatten(),
        });
    }
    project.close().await;
    Ok(reports)
}
