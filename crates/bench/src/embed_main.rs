//! `hypatia-embed-bench`: embedding throughput of Hypatia's engine beside llama-cpp-python's
//! embedding API, on the same GGUF, threads, batch size and texts, in one run; and that the two
//! agree on the vectors.
//!
//! The texts are SciFact's passages as a project embeds them (title, then the sentence passage).
//! Run in release mode on an otherwise idle machine; see BENCHMARKS.md.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use hypatia_llama::{EmbedderSettings, LlamaEmbedder};
use hypatia_llm::{EmbedRole, EmbeddingBackend};
use serde::Serialize;

#[derive(Debug, Parser)]
struct Args {
    /// The GGUF embedding model.
    #[arg(long)]
    model: PathBuf,
    /// SciFact in BEIR format.
    #[arg(long, default_value = "../shared/eval-data/scifact-beir")]
    scifact: PathBuf,
    /// How many passages to embed (from the start of the corpus).
    #[arg(long, default_value_t = 5000)]
    passages: usize,
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// Tokens packed per forward pass, for both (Hypatia's default is 256).
    #[arg(long, default_value_t = 256)]
    batch_tokens: u32,
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Skip the peer (llama-cpp-python).
    #[arg(long)]
    no_peer: bool,
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct Report {
    model: PathBuf,
    passages: usize,
    threads: u32,
    batch_tokens: u32,
    hypatia_passages_per_second: Vec<f64>,
    peer: Option<serde_json::Value>,
    /// Hypatia's median over the peer's.
    ratio: Option<f64>,
    /// Lowest cosine between the two's vectors for the same text (first 200 texts).
    min_cosine_with_peer: Option<f64>,
}

fn read_texts(scifact: &std::path::Path, limit: usize) -> anyhow::Result<Vec<String>> {
    let path = scifact.join("corpus.jsonl");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut texts = Vec::new();
    for line in text.lines() {
        let doc: serde_json::Value = serde_json::from_str(line)?;
        let title = doc["title"].as_str().unwrap_or_default();
        for passage in hypatia_core::split_passages(doc["text"].as_str().unwrap_or_default()) {
            texts.push(hypatia_project::embedding_text(title, &passage));
            if texts.len() == limit {
                return Ok(texts);
            }
        }
    }
    Ok(texts)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let texts = read_texts(&args.scifact, args.passages)?;
    eprintln!("{} passages", texts.len());
    let mut settings = EmbedderSettings::new(&args.model);
    settings.threads = Some(args.threads);
    settings.batch_tokens = args.batch_tokens;
    let engine = tokio::task::spawn_blocking(move || LlamaEmbedder::load(settings)).await??;
    // Warm up (first-touch of the weights), then time.
    engine
        .embed(texts[..texts.len().min(64)].to_vec(), EmbedRole::Document)
        .await?;
    let mut rates = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..args.repeat {
        let started = Instant::now();
        ours = engine.embed(texts.clone(), EmbedRole::Document).await?;
        rates.push(texts.len() as f64 / started.elapsed().as_secs_f64());
        eprintln!("hypatia: {:.1} passages/s", rates[rates.len() - 1]);
    }
    drop(engine);

    let (peer, ratio, min_cosine) = if args.no_peer {
        (None, None, None)
    } else {
        let dir = tempfile::tempdir()?;
        let texts_file = dir.path().join("texts.json");
        std::fs::File::create(&texts_file)?.write_all(&serde_json::to_vec(&texts)?)?;
        let vectors_file = dir.path().join("vectors.json");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peer/embed_peer.py");
        let output = Command::new("python3")
            .arg(&script)
            .arg(&args.model)
            .args([
                args.threads.to_string(),
                args.batch_tokens.to_string(),
                args.repeat.to_string(),
            ])
            .arg(&texts_file)
            .arg(&vectors_file)
            .output()
            .context("running the llama-cpp-python peer")?;
        if !output.status.success() {
            bail!("the peer failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let peer: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        let theirs: Vec<Vec<f32>> = serde_json::from_slice(&std::fs::read(&vectors_file)?)?;
        let min_cosine = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum::<f64>())
            .fold(f64::INFINITY, f64::min);
        let ratio = peer["passages_per_second"]
            .as_f64()
            .map(|theirs| median(&rates) / theirs);
        (Some(peer), ratio, Some(min_cosine))
    };
    let report = Report {
        model: args.model,
        passages: texts.len(),
        threads: args.threads,
        batch_tokens: args.batch_tokens,
        hypatia_passages_per_second: rates,
        peer,
        ratio,
        min_cosine_with_peer: min_cosine,
    };
    let json = serde_json::to_string_pretty(&report)?;
    println!("{json}");
    if let Some(path) = args.json {
        std::fs::write(path, json)?;
    }
    Ok(())
}
