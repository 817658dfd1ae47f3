//! What the benchmark binaries share: latency percentiles, folder sizes, JSON Lines.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
}

pub fn latency(mut millis: Vec<f64>) -> Latency {
    millis.sort_by(f64::total_cmp);
    let at = |q: f64| millis[((millis.len() as f64 - 1.0) * q).round() as usize];
    Latency {
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        mean_ms: millis.iter().sum::<f64>() / millis.len() as f64,
    }
}

pub fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => folder_bytes(&entry.path()),
            _ => entry.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

pub fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| serde_json::from_str(line).with_context(|| format!("{} line {}", path.display(), i + 1)))
        .collect()
}

#[derive(serde::Deserialize)]
struct QueryLine {
    text: String,
}

/// The texts of a BEIR queries.jsonl.
pub fn read_queries(path: &Path) -> anyhow::Result<Vec<String>> {
    let queries: Vec<QueryLine> = read_jsonl(path)?;
    Ok(queries.into_iter().map(|q| q.text).collect())
}
