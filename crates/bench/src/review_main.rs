//! hypatia-review-bench: a whole review through the real agents, bus, store
//! and index, with a GGUF through the in-process engine (default: the tiny
//! generated model), on a corpus (default: the 249-paper corpus in ../shared).
//!
//! Reports wall time, model calls and tokens, and the orchestration
//! overhead: the share of the review's wall time during which no model call
//! was in progress (measured at the backend, so queueing inside Hypatia
//! counts as overhead).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use hypatia_agentkit::{Thinker, ThinkerSettings};
use hypatia_bus::RunJournal;
use hypatia_gguf::{TinyModelSpec, ensure_tiny_model};
use hypatia_llama::{LlamaEngine, LlamaSettings};
use hypatia_llm::{BoxFuture, CallControl, ChatBackend, ChatRequest, Completion, Llm, LlmError};
use hypatia_planner::RunOutcome;
use hypatia_project::{IngestOptions, Project};
use hypatia_prompts::Prompts;
use hypatia_research::{RunSettings, defaults};
use hypatia_session::Session;
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
struct Args {
    /// Default: ../shared/corpus/llm-science-abstracts.txt beside the workspace.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// A GGUF; default: the generated tiny model.
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, default_value_t = 8)]
    hypotheses: u32,
    #[arg(long, default_value_t = 2)]
    rounds: u32,
    #[arg(long, default_value_t = 3)]
    leaders: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// Model calls in flight at once (and engine sequences).
    #[arg(long, default_value_t = 4)]
    parallel: u32,
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The engine, with the start and end of every call recorded.
struct Timed {
    inner: Arc<LlamaEngine>,
    calls: Mutex<Vec<(Instant, Instant)>>,
}

impl ChatBackend for Timed {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn chat<'a>(&'a self, request: ChatRequest, control: CallControl) -> BoxFuture<'a, Result<Completion, LlmError>> {
        Box::pin(async move {
            let start = Instant::now();
            let answer = self.inner.chat(request, control).await;
            if let Ok(mut calls) = self.calls.lock() {
                calls.push((start, Instant::now()));
            }
            answer
        })
    }
}

/// Time covered by at least one interval.
fn covered(mut intervals: Vec<(Instant, Instant)>) -> Duration {
    intervals.sort();
    let mut total = Duration::ZERO;
    let mut current: Option<(Instant, Instant)> = None;
    for (start, end) in intervals {
        current = match current {
            Some((s, e)) if start <= e => Some((s, e.max(end))),
            Some((s, e)) => {
                total += e - s;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    if let Some((s, e)) = current {
        total += e - s;
    }
    total
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let workspace = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let corpus = args
        .corpus
        .clone()
        .unwrap_or_else(|| workspace.join("../shared/corpus/llm-science-abstracts.txt"));
    let model = match &args.model {
        Some(path) => path.clone(),
        None => {
            let spec = TinyModelSpec::default();
            let path = workspace.join(format!("target/test-models/tiny-{}.gguf", spec.seed));
            std::fs::create_dir_all(workspace.join("target/test-models"))?;
            ensure_tiny_model(&path, &spec)?
        }
    };

    let dir = tempfile::tempdir()?;
    let project = Project::init(dir.path(), None).await?;
    let started = Instant::now();
    let summary = project
        .ingest_file(&corpus, IngestOptions::default(), &|_| {})
        .await
        .with_context(|| format!("ingesting {}", corpus.display()))?;
    let ingest = started.elapsed();
    let project = Arc::new(project);

    let mut settings = LlamaSettings::new(&model);
    settings.threads = Some(args.threads);
    settings.max_sequences = args.parallel.max(1);
    let engine = Arc::new(tokio::task::spawn_blocking(move || LlamaEngine::load(settings)).await??);
    let timed = Arc::new(Timed {
        inner: engine.clone(),
        calls: Mutex::new(Vec::new()),
    });
    let prompts = Arc::new(Prompts::embedded());
    let llm = Llm::new(timed.clone(), prompts.clone());
    let thinker = Thinker::new(
        llm.clone(),
        prompts,
        ThinkerSettings {
            sampling: Default::default(),
            parallel_calls: args.parallel as usize,
            call_timeout: Duration::from_secs(600),
        },
    );
    let session = Session::start(project.clone(), thinker, args.parallel as usize);
    let run_id = "run-bench001";
    let run = RunSettings {
        question: "How can large language models generate and rank scientific hypotheses?".into(),
        hypotheses: args.hypotheses,
        rounds: args.rounds,
        leaders: args.leaders,
        seed: args.seed,
        evidence_limit: defaults::EVIDENCE,
        budget: Default::default(),
        model: llm.describe(),
        model_file: Some(model.clone()),
        provenance: None,
        synthesis: defaults::SYNTHESIS,
    };
    let started = Instant::now();
    hypatia_planner::start_run(session.bus(), run_id, run).await?;
    let outcome = hypatia_planner::drive(session.bus(), run_id, CancellationToken::new()).await?;
    let wall = started.elapsed();
    session.stop().await;

    let record = RunJournal::new(project.store()).record(run_id).await?;
    let calls = timed.calls.lock().map(|c| c.clone()).unwrap_or_default();
    let in_model = covered(calls.clone());
    let overhead = 1.0 - in_model.as_secs_f64() / wall.as_secs_f64();
    let status = match &outcome {
        RunOutcome::Finished { status, detail } => format!("{} ({detail})", status.as_str()),
        RunOutcome::Interrupted => "interrupted".into(),
    };
    let stats = engine.stats();
    let report = json!({
        "model": llm.describe(),
        "corpus_papers": summary.added,
        "ingest_s": ingest.as_secs_f64(),
        "hypotheses": args.hypotheses, "rounds": args.rounds, "leaders": args.leaders, "parallel": args.parallel,
        "status": status,
        "wall_s": wall.as_secs_f64(),
        "backend_calls": calls.len(),
        "model_calls": record.usage.model_calls,
        "prompt_tokens": record.usage.prompt_tokens,
        "cached_prompt_tokens": record.usage.cached_prompt_tokens,
        "completion_tokens": record.usage.completion_tokens,
        "messages_journaled": record.messages,
        "tasks_skipped": record.failures.len(),
        "skipped": record.failures.iter().map(|f| format!("{}: {}", f.task, f.message)).collect::<Vec<_>>(),
        "time_in_model_calls_s": in_model.as_secs_f64(),
        "orchestration_overhead": overhead,
        "engine_max_sequences_in_a_batch": stats.max_sequences_in_a_batch,
        "completion_tokens_per_s": record.usage.completion_tokens as f64 / wall.as_secs_f64(),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_intervals_count_once() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let total = covered(vec![
            (at(0), at(10)),
            (at(5), at(20)),
            (at(30), at(40)),
            (at(35), at(36)),
        ]);
        assert_eq!(total, Duration::from_millis(30));
        assert_eq!(covered(Vec::new()), Duration::ZERO);
    }
}
