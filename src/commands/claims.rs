use std::io::Write;
use std::process::ExitCode;

use hypatia_core::PassageId;
use hypatia_project::{Project, RelationRow};
use serde_json::{Value, json};

use crate::cli::ClaimsArgs;

pub async fn run(project: Project, args: ClaimsArgs) -> anyhow::Result<ExitCode> {
    let filter = (!args.all).then_some("contradict");
    let rows = project.passage_relations(filter, args.limit).await?;
    let mut shown = Vec::new();
    for row in &rows {
        shown.push(pair(&project, row).await?);
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &shown)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if shown.is_empty() {
        let what = if args.all {
            "pairs of passages"
        } else {
            "contradictions"
        };
        writeln!(
            out,
            "No {what} judged yet: reviews compare passages of different papers on each sub-question."
        )?;
    }
    for (number, item) in shown.iter().enumerate() {
        writeln!(
            out,
            "{}. {} — {} ({}, run {})",
            number + 1,
            item["relation"].as_str().unwrap_or_default().to_uppercase(),
            item["reason"].as_str().unwrap_or_default(),
            item["model"].as_str().unwrap_or_default(),
            item["run_id"].as_str().unwrap_or_default()
        )?;
        for side in ["first", "second"] {
            let passage = &item[side];
            writeln!(
                out,
                "   {} · {}\n     \"{}\"",
                passage["passage_id"].as_str().unwrap_or_default(),
                passage["title"].as_str().unwrap_or("(paper not in the project)"),
                passage["text"].as_str().unwrap_or_default()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The judged pair with both passages as stored.
async fn pair(project: &Project, row: &RelationRow) -> anyhow::Result<Value> {
    let mut sides = Vec::new();
    for id in [&row.first_id, &row.second_id] {
        let passage_id: Option<PassageId> = id.parse().ok();
        let stored = match &passage_id {
            Some(passage_id) => project.paper(&passage_id.paper_id()).await?,
            None => None,
        };
        let (title, text) = match stored {
            Some((paper, passages)) => (
                Some(paper.title),
                passages
                    .into_iter()
                    .find(|p| Some(&p.id) == passage_id.as_ref())
                    .map(|p| p.text),
            ),
            None => (None, None),
        };
        sides.push(json!({ "passage_id": id, "title": title, "text": text }));
    }
    let [first, second]: [Value; 2] = sides.try_into().unwrap_or([Value::Null, Value::Null]);
    Ok(json!({
        "relation": row.relation, "reason": row.reason, "model": row.model, "run_id": row.run_id,
        "judged_at": row.judged_at, "first": first, "second": second,
    }))
}
