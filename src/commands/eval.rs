use std::process::ExitCode;

use hypatia_eval::{EvalOptions, EvalRun, RetrievalReport, Sample, evaluate_retrieval_runs};
use hypatia_project::{DEFAULT_FUSION, SearchMode};

use crate::cli::{EvalCommand, EvalMode};

pub async fn run(command: EvalCommand) -> anyhow::Result<ExitCode> {
    match command {
        EvalCommand::Retrieval {
            beir,
            split,
            json,
            analyzer,
            boosts,
            mode,
            fusion,
            embedding_model,
            limit_queries,
            sample_documents,
        } => {
            let flags = hypatia_models::ModelFlags {
                embedding_model,
                ..hypatia_models::ModelFlags::default()
            };
            let config = hypatia_models::resolve_config(None, &flags)?;
            let wants_vectors = !matches!(mode, Some(EvalMode::One(SearchMode::Bm25)));
            let built = if wants_vectors {
                hypatia_models::build_embedder(&config).await?
            } else {
                None
            };
            let modes: Vec<SearchMode> = match mode {
                Some(EvalMode::One(mode)) => vec![mode],
                Some(EvalMode::All) => SearchMode::ALL.to_vec(),
                None if built.is_some() => vec![SearchMode::Hybrid],
                None => vec![SearchMode::Bm25],
            };
            let fusions = if fusion.is_empty() {
                vec![DEFAULT_FUSION]
            } else {
                fusion
            };
            let runs: Vec<EvalRun> = modes
                .iter()
                .flat_map(|&mode| {
                    let fusions = if mode == SearchMode::Hybrid {
                        fusions.clone()
                    } else {
                        vec![DEFAULT_FUSION]
                    };
                    fusions.into_iter().map(move |fusion| EvalRun { mode, fusion })
                })
                .collect();
            let options = EvalOptions {
                analyzer,
                boosts,
                embedder: built.map(|built| built.embedder),
                sample: Sample {
                    queries: limit_queries.map(|n| n as usize),
                    documents: sample_documents.map(|n| n as usize),
                },
            };
            let bar = super::progress_bar(2);
            bar.set_message("embedding the corpus");
            let reports = evaluate_retrieval_runs(&beir, &split, &options, &runs, &|progress| {
                bar.set_length(progress.passages.max(1));
                bar.set_position(progress.vectors);
            })
            .await?;
            bar.finish_and_clear();
            if json {
                match reports.as_slice() {
                    [one] => println!("{}", serde_json::to_string_pretty(one)?),
                    all => println!("{}", serde_json::to_string_pretty(all)?),
                }
            } else {
                print_reports(&beir, &split, &reports);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_reports(beir: &std::path::Path, split: &str, reports: &[RetrievalReport]) {
    let Some(first) = reports.first() else { return };
    println!(
        "dataset:       {} ({split}, {} queries, {} documents)",
        beir.display(),
        first.queries,
        first.documents
    );
    if first.sampled {
        println!(
            "sample:        {} of the corpus's {} documents (every judged one kept): not comparable with published figures",
            first.documents, first.corpus_documents
        );
    }
    if let Some(model) = reports.iter().find_map(|r| r.embedding_model.as_ref()) {
        println!("embedding:     {model}");
    }
    println!(
        "{:<8} {:>8} {:>11} {:>8} {:>10}",
        "mode", "nDCG@10", "Recall@100", "MRR@10", "queries s"
    );
    for report in reports {
        println!(
            "{:<8} {:>8.4} {:>11.4} {:>8.4} {:>10.2}{}",
            report.mode.as_str(),
            report.ndcg_at_10,
            report.recall_at_100,
            report.mrr_at_10,
            report.search_seconds,
            report.fusion.as_ref().map(|f| format!("  ({f})")).unwrap_or_default()
        );
    }
    let last = reports.last().unwrap_or(first);
    let embed = last
        .embed_seconds
        .map(|s| format!(", embedding {s:.1} s"))
        .unwrap_or_default();
    println!(
        "time:          {:.1} s (ingest and index {:.1} s{embed})",
        last.seconds, last.ingest_seconds
    );
}
