//! `hypatia-hybrid-bench`: query latency of bm25, dense and hybrid search through the project's own
//! search path, and the memory and disk passage vectors take, at library sizes that cannot be
//! embedded in a benchmark's time (200,000 papers are 1.2 M passages: hours for a real model on two
//! cores).
//!
//! So the vectors here come from a synthetic embedder: a seeded pseudo-random unit vector per text,
//! of the real model's width. Search cost does not depend on what the vectors say, only on how many
//! there are and how long they are; the real model's share of a query (embedding the query) is
//! measured apart with `--model`. Quality figures come from `hypatia eval retrieval`, never from here.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use common::{Latency, folder_bytes, latency, read_queries};
use hypatia_core::SourceFormat;
use hypatia_llm::{BoxFuture, EmbedRole, EmbedderIdentity, EmbeddingBackend, LlmError};
use hypatia_project::{IngestOptions, Project, SearchMode, SearchRequest};
use serde::Serialize;

#[derive(Debug, Parser)]
struct Args {
    /// BEIR corpora to measure (SciFact's, and the generated one `hypatia-bench` writes).
    #[arg(long, required = true)]
    corpus: Vec<PathBuf>,
    /// The queries (BEIR queries.jsonl).
    #[arg(long, default_value = "../shared/eval-data/scifact-beir/queries.jsonl")]
    queries: PathBuf,
    /// Vector width of the synthetic embedder (all-MiniLM-L6-v2: 384).
    #[arg(long, default_value_t = 384)]
    dimensions: usize,
    /// A real GGUF embedding model: its query-embedding latency is measured too.
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, default_value_t = 2)]
    threads: u32,
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Deterministic stand-in vectors: FNV-1a of the text seeds SplitMix64, 1 dimension per draw.
struct SyntheticEmbedder {
    identity: EmbedderIdentity,
}

impl EmbeddingBackend for SyntheticEmbedder {
    fn identity(&self) -> &EmbedderIdentity {
        &self.identity
    }

    fn embed<'a>(&'a self, texts: Vec<String>, _role: EmbedRole) -> BoxFuture<'a, Result<Vec<Vec<f32>>, LlmError>> {
        let dims = self.identity.dimensions;
        Box::pin(async move {
            texts
                .iter()
                .map(|text| {
                    let mut rng = hypatia_core::SplitMix64::new(hypatia_vectors::text_hash(text));
                    let v: Vec<f32> = (0..dims).map(|_| rng.below(2001) as f32 / 1000.0 - 1.0).collect();
                    hypatia_llm::normalized(v)
                })
                .collect()
        })
    }
}

#[derive(Debug, Serialize)]
struct ModeLatency {
    mode: SearchMode,
    /// `hypatia search`: top 10 with snippets.
    top10_snippets: Latency,
    /// The retriever's and the evaluation's path: top 100, no snippets.
    top100: Latency,
}

#[derive(Debug, Serialize)]
struct SizeResult {
    corpus: PathBuf,
    papers: i64,
    passages: i64,
    dimensions: usize,
    vector_file_bytes: u64,
    vector_bytes_per_passage: f64,
    /// Resident memory the vectors added (process RSS before and after loading them).
    vector_memory_bytes: u64,
    embed_seconds_synthetic: f64,
    modes: Vec<ModeLatency>,
}

#[derive(Debug, Serialize)]
struct Report {
    sizes: Vec<SizeResult>,
    /// One query through the real model, when `--model` is given.
    query_embedding: Option<Latency>,
}

fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|pages| pages.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let queries = read_queries(&args.queries)?;
    let mut sizes = Vec::new();
    for corpus in &args.corpus {
        eprintln!("{}: ingesting", corpus.display());
        let dir = tempfile::tempdir()?;
        let mut project = Project::init(dir.path(), Some("bench")).await?;
        let options = IngestOptions {
            format: Some(SourceFormat::Beir),
            ..IngestOptions::default()
        };
        project
            .ingest_file(corpus, options, &|_| {})
            .await
            .with_context(|| format!("ingesting {}", corpus.display()))?;
        let status = project.status().await?;
        let before = resident_bytes();
        project.attach_embedder(Arc::new(SyntheticEmbedder {
            identity: EmbedderIdentity {
                name: "synthetic".into(),
                fingerprint: String::new(),
                dimensions: args.dimensions,
            },
        }))?;
        eprintln!(
            "{}: {} passages: embedding (synthetic)",
            corpus.display(),
            status.passages
        );
        let never = tokio_util::sync::CancellationToken::new();
        let started = Instant::now();
        project.embed_passages(&|_| {}, &never).await?;
        let embed_seconds_synthetic = started.elapsed().as_secs_f64();
        let vector_memory_bytes = resident_bytes().saturating_sub(before);
        let vector_file_bytes = folder_bytes(&dir.path().join(".hypatia/vectors"));
        let mut modes = Vec::new();
        for mode in SearchMode::ALL {
            let run = async |limit: usize, snippets: bool| -> anyhow::Result<Latency> {
                for query in &queries {
                    let request = SearchRequest {
                        snippets,
                        ..SearchRequest::new(query, limit)
                    };
                    std::hint::black_box(project.find_papers(&request, mode).await?);
                }
                let mut millis = Vec::with_capacity(queries.len());
                for query in &queries {
                    let request = SearchRequest {
                        snippets,
                        ..SearchRequest::new(query, limit)
                    };
                    let started = Instant::now();
                    std::hint::black_box(project.find_papers(&request, mode).await?);
                    millis.push(started.elapsed().as_secs_f64() * 1000.0);
                }
                Ok(latency(millis))
            };
            let top10_snippets = run(10, true).await?;
            let top100 = run(100, false).await?;
            eprintln!(
                "{:>8} passages {:>6}: top10 p50 {:.2} ms p99 {:.2} ms | top100 p50 {:.2} ms p99 {:.2} ms",
                status.passages, mode, top10_snippets.p50_ms, top10_snippets.p99_ms, top100.p50_ms, top100.p99_ms
            );
            modes.push(ModeLatency {
                mode,
                top10_snippets,
                top100,
            });
        }
        project.close().await;
        sizes.push(SizeResult {
            corpus: corpus.clone(),
            papers: status.papers,
            passages: status.passages,
            dimensions: args.dimensions,
            vector_file_bytes,
            vector_bytes_per_passage: vector_file_bytes as f64 / status.passages.max(1) as f64,
            vector_memory_bytes,
            embed_seconds_synthetic,
            modes,
        });
    }
    let query_embedding = match &args.model {
        Some(model) => {
            let mut settings = hypatia_llama::EmbedderSettings::new(model);
            settings.threads = Some(args.threads);
            let engine = tokio::task::spawn_blocking(move || hypatia_llama::LlamaEmbedder::load(settings)).await??;
            let mut millis = Vec::new();
            for query in &queries {
                let started = Instant::now();
                engine.embed(vec![query.clone()], EmbedRole::Query).await?;
                millis.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            Some(latency(millis))
        }
        None => None,
    };
    let report = Report { sizes, query_embedding };
    let json = serde_json::to_string_pretty(&report)?;
    println!("{json}");
    if let Some(path) = args.json {
        std::fs::write(path, json)?;
    }
    Ok(())
}
