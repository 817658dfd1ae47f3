use std::process::ExitCode;

use hypatia_eval::{
    ClaimsOptions, ClaimsReport, EvalOptions, EvalRun, RetrievalReport, Sample, evaluate_claims,
    evaluate_retrieval_runs, load_claims,
};
use hypatia_project::{DEFAULT_FUSION, SearchMode};

use crate::cli::{EvalCommand, EvalMode};

pub async fn run(explicit: Option<&std::path::Path>, command: EvalCommand) -> anyhow::Result<ExitCode> {
    match command {
        EvalCommand::Claims {
            scifact,
            split,
            limit,
            seed,
            json,
            model,
        } => {
            // The data is read, and refused if unusable, before a model is loaded.
            let examples = load_claims(&scifact, &split)?;
            let config = super::model_config(explicit, &super::model_flags(&model))?;
            let parallel = hypatia_session::parallel_calls(&config);
            let built = hypatia_models::build_llm(&config).await?;
            let thinker = hypatia_session::thinker(built, &config, hypatia_session::DEFAULT_CALL_TIMEOUT);
            let options = ClaimsOptions {
                split,
                limit: limit.map(|n| n as usize),
                seed,
                parallel,
            };
            let bar = super::progress_bar(2);
            bar.set_message("judging claims");
            let cancel = super::cancel_on_ctrl_c();
            let report = evaluate_claims(
                &thinker,
                examples,
                &options,
                &|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                },
                &cancel,
            )
            .await?;
            bar.finish_and_clear();
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_claims(&scifact, &report);
            }
            Ok(ExitCode::SUCCESS)
        }
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

fn print_claims(dir: &std::path::Path, report: &ClaimsReport) {
    let sample = if report.pairs < report.pairs_in_split {
        format!(
            " (the first {} of {}: a sample, not comparable with published figures)",
            report.pairs, report.pairs_in_split
        )
    } else {
        String::new()
    };
    println!(
        "SciFact {} ({}): {} claims, {} claim–abstract pairs{sample}",
        report.split,
        dir.display(),
        report.claims,
        report.pairs
    );
    println!("model: {}", report.model);
    println!(
        "{:<22} {:>6} {:>9} {:>9} {:>9} {:>9}",
        "label", "gold", "predicted", "precision", "recall", "F1"
    );
    for row in report.classes.iter().chain(std::iter::once(&report.overall)) {
        println!(
            "{:<22} {:>6} {:>9} {:>9.3} {:>9.3} {:>9.3}",
            row.label, row.gold, row.predicted, row.precision, row.recall, row.f1
        );
    }
    println!(
        "accuracy {:.3}, macro F1 {:.3}; {} pairs without a valid judgement (scored as wrong)",
        report.accuracy, report.macro_f1, report.unanswered
    );
    println!(
        "Overall is SciFact's abstract-level label-only measure over the claims' cited abstracts. Published \
         (abstracts retrieved, not given): VeriSci 0.510 F1 (dev), MultiVerS 0.725 (test)."
    );
}
