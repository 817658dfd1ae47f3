//! `hypatia-bench`: ingest throughput and query latency of the literature
//! layer, on SciFact and on a larger corpus generated from it.
//!
//! Run in release mode on an otherwise idle machine; see BENCHMARKS.md.

mod common;
mod synth;

use common::{Latency, folder_bytes, latency, read_jsonl, read_queries};

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use hypatia_core::{SourceFormat, split_passages};
use hypatia_project::{IngestOptions, Project, SearchRequest};
use serde::Serialize;

#[derive(Debug, Parser)]
struct Args {
    /// SciFact in BEIR format (corpus.jsonl, queries.jsonl).
    #[arg(long, default_value = "../shared/eval-data/scifact-beir")]
    scifact: PathBuf,
    /// Corpus sizes to measure; the SciFact size uses the real corpus, larger ones a generated one.
    #[arg(long, value_delimiter = ',', default_value = "5183,200000")]
    sizes: Vec<usize>,
    /// Where generated corpora are written (kept, so a peer can be run on the same files).
    #[arg(long, default_value = "target/bench-corpora")]
    corpus_dir: PathBuf,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Also write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct SizeResult {
    documents: usize,
    corpus: PathBuf,
    ingest_seconds: f64,
    documents_per_second: f64,
    passages: i64,
    project_bytes: u64,
    queries: usize,
    /// `hypatia search`: top 10 with highlighted snippets.
    search_top10_snippets: Latency,
    /// The evaluation and retriever path: top 100, no snippets.
    search_top100: Latency,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let corpus = args.scifact.join("corpus.jsonl");
    let sources = read_sources(&corpus)?;
    let queries = read_queries(&args.scifact.join("queries.jsonl"))?;
    std::fs::create_dir_all(&args.corpus_dir).with_context(|| format!("creating {}", args.corpus_dir.display()))?;

    let mut results = Vec::new();
    for &size in &args.sizes {
        let path = if size == sources.len() {
            corpus.clone()
        } else {
            let path = args
                .corpus_dir
                .join(format!("scifact-synthetic-{size}-seed{}.jsonl", args.seed));
            if !path.exists() {
                eprintln!("generating {} documents into {}", size, path.display());
                synth::write_corpus(&sources, size, args.seed, &path)?;
            }
            path
        };
        eprintln!("measuring {size} documents");
        let result = measure(&path, size, &queries).await?;
        print_result(&result);
        results.push(result);
    }
    if let Some(out) = &args.json {
        std::fs::write(out, serde_json::to_string_pretty(&results)?)?;
    }
    Ok(())
}

async fn measure(corpus: &Path, documents: usize, queries: &[String]) -> anyhow::Result<SizeResult> {
    let dir = tempfile::tempdir()?;
    let project = Project::init(dir.path(), Some("bench")).await?;
    let options = IngestOptions {
        format: Some(SourceFormat::Beir),
        ..IngestOptions::default()
    };
    let started = Instant::now();
    let summary = project.ingest_file(corpus, options, &|_| {}).await?;
    let ingest_seconds = started.elapsed().as_secs_f64();
    if summary.added + summary.merged != documents {
        bail!(
            "expected {documents} documents from {}, stored {}",
            corpus.display(),
            summary.added + summary.merged
        );
    }
    let status = project.status().await?;

    let run = |limit: usize, snippets: bool| -> anyhow::Result<Latency> {
        // One untimed pass so every query finds the index pages in the OS cache.
        for query in queries {
            project.search_papers(&SearchRequest {
                snippets,
                ..SearchRequest::new(query, limit)
            })?;
        }
        let mut millis = Vec::with_capacity(queries.len());
        for query in queries {
            let started = Instant::now();
            let hits = project.search_papers(&SearchRequest {
                snippets,
                ..SearchRequest::new(query, limit)
            })?;
            millis.push(started.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(hits);
        }
        Ok(latency(millis))
    };
    let search_top10_snippets = run(10, true)?;
    let search_top100 = run(100, false)?;
    // Measured after closing: SQLite folds its write-ahead log into the database then.
    project.close().await;
    let project_bytes = folder_bytes(dir.path());
    Ok(SizeResult {
        documents,
        corpus: corpus.to_owned(),
        ingest_seconds,
        documents_per_second: documents as f64 / ingest_seconds,
        passages: status.passages,
        project_bytes,
        queries: queries.len(),
        search_top10_snippets,
        search_top100,
    })
}

fn print_result(r: &SizeResult) {
    println!(
        "{:>7} docs | ingest+index {:>7.2} s ({:>7.0} docs/s, {} passages, {:.1} MiB on disk) | top10+snippets p50 {:.3} ms p99 {:.3} ms | top100 p50 {:.3} ms p99 {:.3} ms",
        r.documents,
        r.ingest_seconds,
        r.documents_per_second,
        r.passages,
        r.project_bytes as f64 / 1048576.0,
        r.search_top10_snippets.p50_ms,
        r.search_top10_snippets.p99_ms,
        r.search_top100.p50_ms,
        r.search_top100.p99_ms,
    );
}

#[derive(serde::Deserialize)]
struct BeirLine {
    title: String,
    text: String,
}

fn read_sources(path: &Path) -> anyhow::Result<Vec<synth::SourceDoc>> {
    let docs: Vec<BeirLine> = read_jsonl(path)?;
    Ok(docs
        .into_iter()
        .map(|doc| synth::SourceDoc {
            title: doc.title,
            sentences: split_passages(&doc.text),
        })
        .collect())
}
