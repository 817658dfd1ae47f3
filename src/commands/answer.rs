use std::io::Write;
use std::process::ExitCode;

use hypatia_project::Project;
use hypatia_session::{AnswerOptions, CitedAnswer, DEFAULT_CALL_TIMEOUT, compose_answer, gather_evidence};

use crate::cli::AnswerArgs;

pub async fn run(
    mut project: Project,
    args: AnswerArgs,
    explicit: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    // As `search`: meaning as well as words when an embedding model is configured.
    super::attach_for_search(&mut project, explicit, args.model.embedding_model.clone(), args.mode).await?;
    let options = AnswerOptions {
        passages: args.passages as usize,
        mode: args.mode,
        seed: args.seed,
    };
    let gathered = gather_evidence(&project, &args.question, &options).await?;
    // Nothing to answer from: no model is loaded, and none is asked.
    let answer = if gathered.relevant.is_empty() {
        CitedAnswer::nothing_found(&gathered)
    } else {
        let config = super::model_config(explicit.or(Some(project.root())), &super::model_flags(&args.model))?;
        let built = hypatia_models::build_llm(&config).await?;
        let thinker = hypatia_session::thinker(built, &config, DEFAULT_CALL_TIMEOUT);
        let cancel = super::cancel_on_ctrl_c();
        compose_answer(&project, &thinker, &gathered, &options, &cancel).await?
    };
    print(&answer, args.json)?;
    Ok(ExitCode::SUCCESS)
}

fn print(answer: &CitedAnswer, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, answer)?;
        writeln!(out)?;
        return Ok(out.flush()?);
    }
    if answer.abstained {
        writeln!(out, "No answer from this library.")?;
        if let Some(reason) = &answer.abstain_reason {
            writeln!(out, "Why: {reason}.")?;
        }
        if answer.model.is_some() {
            writeln!(out, "The model wrote: {}", answer.answer)?;
        }
    } else {
        writeln!(out, "{}", answer.answer)?;
    }
    for (number, citation) in answer.citations.iter().enumerate() {
        let year = citation.year.map_or(String::new(), |y| format!(" ({y})"));
        let place = match (&citation.section, citation.page, citation.page_end) {
            (Some(section), Some(page), Some(end)) if end != page => format!(", {section}, pp. {page}–{end}"),
            (Some(section), Some(page), _) => format!(", {section}, p. {page}"),
            _ => String::new(),
        };
        writeln!(
            out,
            "\n[{}] {}{year}{place} — {}\n    \"{}\"\n    {}: {}",
            number + 1,
            citation.title,
            citation.passage_id,
            citation.text,
            citation.support,
            citation.support_reason
        )?;
    }
    if let Some(model) = &answer.model {
        writeln!(
            out,
            "\n{} of {} passages found bore on the question; {} model calls ({model})",
            answer.passages_given, answer.passages_searched, answer.model_calls
        )?;
    }
    Ok(out.flush()?)
}
