//! `hypatia runs list|show`, and the report printed at the end of a review.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use hypatia_project::Project;
use hypatia_report::{RunReport, support_figure};
use hypatia_research::Support;

use hypatia_runstore::SteerAction;

use crate::cli::{RunsCommand, SteerCommand};

pub async fn run(project: Project, command: RunsCommand) -> anyhow::Result<ExitCode> {
    match command {
        RunsCommand::List { json } => {
            let runs = project.store().list_runs().await?;
            let mut out = std::io::stdout().lock();
            if json {
                let rows: Vec<serde_json::Value> = runs
                    .iter()
                    .map(|run| {
                        let mut row = serde_json::to_value(run).unwrap_or_default();
                        row["status"] = hypatia_runstore::shown_status(&project, &run.id, &run.status).into();
                        row
                    })
                    .collect();
                serde_json::to_writer_pretty(&mut out, &rows)?;
                writeln!(out)?;
            } else if runs.is_empty() {
                writeln!(out, "No runs yet: start one with `hypatia review \"QUESTION\"`.")?;
            } else {
                for run in &runs {
                    writeln!(
                        out,
                        "{}  {}  {:<16}  {}",
                        run.id,
                        hypatia_core::time::utc_minutes(run.created_ms),
                        hypatia_runstore::shown_status(&project, &run.id, &run.status),
                        run.question
                    )?;
                }
            }
        }
        RunsCommand::Show { run, json } => {
            if project.store().run(&run).await?.is_none() {
                bail!("there is no run `{run}` in this project (`hypatia runs list` shows them)");
            }
            print_report(&load_report(&project, &run).await?, json)?;
        }
        RunsCommand::Steer { run, action } => steer(&project, &run, action).await?,
        RunsCommand::Cancel { run, reason } => {
            // Held while the run is ended, so no process resumes it meanwhile.
            let _lock = project.lock_run(&run).map_err(|error| match error {
                hypatia_project::ProjectError::RunBusy { .. } => {
                    anyhow::anyhow!("{error}: stop that process first (Ctrl-C, or p in the terminal UI)")
                }
                other => other.into(),
            })?;
            let journal = hypatia_bus::RunJournal::new(project.store());
            hypatia_planner::cancel_run(&journal, &run, &reason).await?;
            eprintln!("run {run} cancelled: {reason}");
        }
    }
    project.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn steer(project: &Project, run: &str, action: SteerCommand) -> anyhow::Result<()> {
    let paper = |text: &str| -> anyhow::Result<hypatia_core::PaperId> { Ok(text.trim().parse()?) };
    let (action, done) = match action {
        SteerCommand::Pin { paper: p } => (SteerAction::Pin(paper(&p)?), format!("paper {p} pinned")),
        SteerCommand::Exclude { paper: p } => (SteerAction::Exclude(paper(&p)?), format!("paper {p} excluded")),
        SteerCommand::Release { paper: p } => (SteerAction::Release(paper(&p)?), format!("paper {p} released")),
        SteerCommand::Critique { hypothesis, critique } => (
            SteerAction::Critique {
                hypothesis: hypothesis.clone(),
                critique,
            },
            format!("critique of {hypothesis} added"),
        ),
        SteerCommand::Round { reason } => (SteerAction::AnotherRound { reason }, "another round asked for".into()),
    };
    let steered = hypatia_runstore::steer(project, run, action).await?;
    let next = if steered.reopened {
        format!("; the run had completed and goes on: `hypatia resume {run}` carries it out")
    } else if steered.needs_round {
        format!(
            "; the run has completed, so this counts once you ask for another round (`hypatia runs steer {run} round`)"
        )
    } else if project.run_is_active(run) {
        "; the process driving the run takes it up now".to_owned()
    } else {
        format!("; it takes effect when the run goes on (`hypatia resume {run}`)")
    };
    eprintln!("run {run}: {done} (message {}){next}", steered.message_id);
    Ok(())
}

/// The run as `review --json` and `runs show` print it: a view of its export document.
pub async fn load_report(project: &Project, run_id: &str) -> anyhow::Result<RunReport> {
    Ok(hypatia_runstore::load_report(project, run_id).await?)
}

pub fn print_report(report: &RunReport, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
        return Ok(out.flush()?);
    }
    writeln!(out, "Run {}: {}", report.run_id, report.status)?;
    if let Some(detail) = &report.detail {
        writeln!(out, "  {detail}")?;
    }
    writeln!(out, "Question: {}", report.question)?;
    if !report.synthesis.is_empty() {
        writeln!(out, "\nWhat the literature shows:")?;
    }
    for section in &report.synthesis {
        writeln!(
            out,
            "{}. {} [{}]",
            section.number,
            section.sub_question,
            section.status.replace('_', " ")
        )?;
        if let Some(note) = &section.note {
            writeln!(out, "   {note}")?;
        }
        for statement in &section.statements {
            let cites: Vec<String> = statement
                .citations
                .iter()
                .map(|c| format!("{} {}", c.passage_id, c.support.map_or("not judged", |s| s.as_str())))
                .collect();
            writeln!(out, "   - {} [{}]", statement.text, cites.join("; "))?;
        }
        for gap in &section.gaps {
            writeln!(out, "   open: {gap}")?;
        }
        for relation in &section.relations {
            let reused = if relation.reused { ", judged before" } else { "" };
            writeln!(
                out,
                "   {} and {}: {}{reused}",
                relation.first,
                relation.second,
                relation.relation.as_str()
            )?;
        }
    }
    if report.hypotheses.is_empty() {
        writeln!(out, "\nNo hypotheses.")?;
    }
    for hypothesis in &report.hypotheses {
        writeln!(out)?;
        let scores = hypothesis.scores.map_or("not reviewed".to_owned(), |s| {
            format!(
                "grounding {} · novelty {} · testability {} · significance {}",
                s.grounding, s.novelty, s.testability, s.significance
            )
        });
        let lineage = hypothesis
            .parent
            .as_ref()
            .map_or(String::new(), |parent| format!(", revises {parent}"));
        writeln!(
            out,
            "{}. [{}] rating {:.0} ({} won, {} lost{lineage})",
            hypothesis.rank, hypothesis.id, hypothesis.rating, hypothesis.matches_won, hypothesis.matches_lost
        )?;
        writeln!(out, "   {}", hypothesis.statement)?;
        writeln!(out, "   prediction: {}", hypothesis.prediction)?;
        writeln!(out, "   experiment: {}", hypothesis.experiment)?;
        writeln!(out, "   scores: {scores}")?;
        if let Some(gap) = &hypothesis.gap {
            writeln!(out, "   addresses gap {}: {}", gap.id, gap.text)?;
        }
        if let Some(restated) = hypothesis.novelty.as_ref().and_then(|n| n.restates.as_ref()) {
            writeln!(
                out,
                "   novelty: nearly restates \"{}\" ({})",
                restated.title, restated.paper_id
            )?;
        }
        if !hypothesis.contested.is_empty() {
            let ids: Vec<&str> = hypothesis.contested.iter().map(|id| id.as_str()).collect();
            writeln!(
                out,
                "   contested: {} (another paper's passage contradicts it)",
                ids.join(", ")
            )?;
        }
        for citation in &hypothesis.citations {
            let year = citation.year.map_or(String::new(), |y| format!(" ({y})"));
            let support = citation
                .support
                .map_or("not judged".to_owned(), |label| label.to_string());
            writeln!(
                out,
                "   cites {} [{support}]: {}{year}",
                citation.passage_id, citation.title
            )?;
            if let Some(reason) = citation
                .support_reason
                .as_deref()
                .filter(|_| citation.support != Some(Support::Supports))
            {
                writeln!(out, "     {reason}")?;
            }
        }
    }
    let usage = &report.usage;
    writeln!(
        out,
        "\n{} model calls, {} tokens ({} prompt, {} cached, {} completion), {:.1} s of work, {} messages",
        usage.totals.model_calls,
        usage.tokens,
        usage.totals.prompt_tokens,
        usage.totals.cached_prompt_tokens,
        usage.totals.completion_tokens,
        usage.elapsed_ms as f64 / 1000.0,
        usage.messages
    )?;
    writeln!(out, "Citations: {}", support_figure(&report.support))?;
    if !report.failures.is_empty() {
        writeln!(out, "{} tasks skipped:", report.failures.len())?;
        for failure in &report.failures {
            writeln!(out, "  {} ({}): {}", failure.task, failure.agent, failure.message)?;
        }
    }
    Ok(out.flush()?)
}
