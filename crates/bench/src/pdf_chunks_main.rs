//! Choosing the passage size of PDFs by measurement: for each passage size and overlap, the real
//! papers of `../shared/eval-data/pdfs/` are ingested into a fresh project and twelve questions
//! answered only in a paper's body are searched with `search --passages`; a hit is a passage of the
//! right paper whose pages include the answer's page. Prints hit@1, hit@5 and MRR@10 per setting.
//!
//! `cargo run --release -p hypatia-bench --bin hypatia-pdf-chunks -- ../shared/eval-data/pdfs`

use std::path::PathBuf;

use anyhow::Context;
use hypatia_project::{IngestOptions, Project, SearchRequest};

/// (question, file stem, page): paraphrases of a sentence in the body of the paper, not its abstract.
const QUESTIONS: [(&str, &str, u32); 12] = [
    (
        "do fine-grained annotations give narrower confidence intervals and more statistical power",
        "2023.eacl-main.121",
        6,
    ),
    (
        "did annotators use Ctrl+F keyword searches with the hints to judge faithfulness",
        "2023.eacl-main.121",
        8,
    ),
    (
        "participants double checked the generated gists against the original paper text",
        "2203.00130v1",
        12,
    ),
    (
        "which autoimmune disease was the scenario patient diagnosed with",
        "2203.00130v1",
        12,
    ),
    (
        "does a longer input length improve LED Rouge-2 across the tasks",
        "2206.10883v3",
        8,
    ),
    (
        "how long on average are the books BookSum uses as summary inputs",
        "2206.10883v3",
        4,
    ),
    (
        "who curated the summaries and case metadata: legal scholars, attorneys, law students",
        "2206.10883v3",
        5,
    ),
    (
        "crowdsourced labeling without label guidelines at a higher monetary cost",
        "papermage",
        4,
    ),
    (
        "a non-inferiority test of the reading tool's impact on comprehension",
        "2203.00130v1",
        20,
    ),
    (
        "plain language may oversimplify scientific findings and mislead readers",
        "2203.00130v1",
        20,
    ),
    (
        "writing objectives guide reading and synthesis and change with new insights",
        "2304.02623v1",
        2,
    ),
    (
        "each model generation is short, a sentence or two, and authors call it over several turns",
        "2304.02623v1",
        3,
    ),
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let folder: PathBuf = std::env::args()
        .nth(1)
        .context("usage: hypatia-pdf-chunks PDF_FOLDER")?
        .into();
    let files = Project::expand_paths(std::slice::from_ref(&folder))?;
    println!("| passage size (chars) | overlap (sentences) | passages | hit@1 | hit@5 | MRR@10 |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for target_chars in [300, 500, 800, 1200] {
        for overlap_sentences in [0, 1] {
            let dir = tempfile::tempdir()?;
            let project = Project::init(dir.path(), Some("chunks")).await?;
            let mut options = IngestOptions::default();
            options.pdf.chunk = hypatia_ingest::ChunkSize {
                target_chars,
                overlap_sentences,
            };
            let mut papers = std::collections::BTreeMap::new();
            for file in &files {
                let summary = project.ingest_file(file, options, &|_| {}).await?;
                let stem = file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                for document in summary.documents {
                    papers.insert(document.paper_id, stem.clone());
                }
            }
            let passages = project.status().await?.passages;
            let (mut hit1, mut hit5, mut reciprocal) = (0, 0, 0.0);
            for (question, stem, page) in QUESTIONS {
                let hits = project.search_passages(&SearchRequest::new(question, 10))?;
                let rank = hits.iter().position(|hit| {
                    papers.get(hit.paper_id.as_str()).is_some_and(|s| s == stem)
                        && hit
                            .location
                            .as_ref()
                            .is_some_and(|at| at.page <= page && page <= at.page_end)
                });
                if let Some(rank) = rank {
                    hit1 += usize::from(rank == 0);
                    hit5 += usize::from(rank < 5);
                    reciprocal += 1.0 / (rank as f64 + 1.0);
                }
            }
            let n = QUESTIONS.len() as f64;
            println!(
                "| {target_chars} | {overlap_sentences} | {passages} | {:.2} | {:.2} | {:.3} |",
                hit1 as f64 / n,
                hit5 as f64 / n,
                reciprocal / n
            );
            project.close().await;
        }
    }
    Ok(())
}
