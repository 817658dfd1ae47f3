use std::process::ExitCode;

use hypatia_eval::{EvalOptions, evaluate_retrieval};

use crate::cli::EvalCommand;

pub async fn run(command: EvalCommand) -> anyhow::Result<ExitCode> {
    match command {
        EvalCommand::Retrieval {
            beir,
            split,
            json,
            analyzer,
            boosts,
        } => {
            let options = EvalOptions { analyzer, boosts };
            let report = evaluate_retrieval(&beir, &split, &options).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "dataset:       {} ({split}, {} queries, {} documents)",
                    beir.display(),
                    report.queries,
                    report.documents
                );
                println!("nDCG@10:       {:.4}", report.ndcg_at_10);
                println!("Recall@100:    {:.4}", report.recall_at_100);
                println!("MRR@10:        {:.4}", report.mrr_at_10);
                println!(
                    "time:          {:.1} s (ingest and index {:.1} s, queries {:.2} s)",
                    report.seconds, report.ingest_seconds, report.search_seconds
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
