//! The Markdown report: plain text a person can read, GitHub and Obsidian render, and pandoc turns
//! into a paper with `--citeproc` (front matter names the BibTeX export written beside it).

use std::fmt::Write;

use crate::document::{ExportDocument, HypothesisEntry};
use crate::escape::{self, markdown as md};
use crate::reproducibility;
use hypatia_research::{Relation, Support};

pub fn render(doc: &ExportDocument) -> String {
    let mut out = String::new();
    front_matter(&mut out, doc);
    let _ = writeln!(out, "# {}\n", md(&doc.question));
    if let Some(notice) = &doc.notice {
        let _ = writeln!(out, "> **{}:** {}\n", status_label(&doc.status), md(notice));
    }
    let _ = writeln!(
        out,
        "Run `{}` · status **{}** · {} hypotheses · {} papers cited · model {}\n",
        doc.run_id,
        doc.status,
        doc.hypotheses.len(),
        doc.papers.iter().filter(|p| p.cited).count(),
        md(&doc.model_summary())
    );
    if let Some(detail) = &doc.detail {
        let _ = writeln!(out, "{}\n", md(detail));
    }

    synthesis(&mut out, doc);
    leaderboard(&mut out, doc);
    plan(&mut out, doc);
    steering(&mut out, doc);
    out.push_str("## Hypotheses\n\n");
    if doc.hypotheses.is_empty() {
        out.push_str("No hypotheses were composed.\n\n");
    }
    for hypothesis in &doc.hypotheses {
        hypothesis_section(&mut out, hypothesis);
    }
    bibliography(&mut out, doc);
    failures(&mut out, doc);
    out.push_str("## Reproducibility\n\n");
    for (name, value) in reproducibility::rows(doc) {
        let _ = writeln!(out, "- **{name}:** {}", md(&value));
    }
    out
}

fn front_matter(out: &mut String, doc: &ExportDocument) {
    // JSON strings are valid YAML double-quoted scalars.
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned());
    let _ = writeln!(
        out,
        "---\ntitle: {}\nsubtitle: {}\nbibliography: {}\nhypatia-run: {}\nstatus: {}\n---\n",
        quoted(&escape::one_line(&doc.question)),
        quoted(&format!("Hypatia review {}", doc.run_id)),
        quoted(&format!("{}.bib", doc.run_id)),
        quoted(&doc.run_id),
        quoted(&doc.status)
    );
}

fn status_label(status: &str) -> &'static str {
    match status {
        "running" => "Still running",
        "interrupted" => "Interrupted",
        "failed" => "Failed",
        "cancelled" => "Cancelled",
        "budget_exhausted" => "Stopped early",
        _ => "Note",
    }
}

fn leaderboard(out: &mut String, doc: &ExportDocument) {
    if doc.hypotheses.is_empty() {
        return;
    }
    out.push_str(
        "## Ranking\n\n| Rank | Hypothesis | Rating | Won–lost | Grounding | Novelty | Testability | Significance |\n",
    );
    out.push_str("|---:|---|---:|:---:|:---:|:---:|:---:|:---:|\n");
    for h in &doc.hypotheses {
        let score = |f: fn(&hypatia_research::Scores) -> u8| {
            h.review.as_ref().map_or("–".to_owned(), |r| f(&r.scores).to_string())
        };
        let _ = writeln!(
            out,
            "| {} | [{}](#{}) {} | {:.0} | {}–{} | {} | {} | {} | {} |",
            h.rank,
            h.id,
            anchor(&h.id),
            md(&escape::truncate(&h.statement, 90)),
            h.rating,
            h.matches_won,
            h.matches_lost,
            score(|s| s.grounding),
            score(|s| s.novelty),
            score(|s| s.testability),
            score(|s| s.significance),
        );
    }
    out.push('\n');
}

/// The anchor GitHub and Obsidian give the heading `### 1. h3 …`: written out so links resolve.
fn anchor(id: &str) -> String {
    format!("hypothesis-{}", id.replace('.', "-"))
}

fn plan(out: &mut String, doc: &ExportDocument) {
    out.push_str("## Plan\n\n");
    let Some(plan) = &doc.plan else {
        out.push_str("The run has no plan yet.\n\n");
        return;
    };
    if let Some(reason) = &plan.fallback {
        let _ = writeln!(
            out,
            "The model's plan could not be used ({}); the question alone was searched.\n",
            md(reason)
        );
    }
    if !plan.sub_questions.is_empty() {
        out.push_str("Sub-questions:\n\n");
        for (index, sub) in plan.sub_questions.iter().enumerate() {
            let queries: Vec<String> = sub.queries.iter().map(|q| format!("“{}”", md(q))).collect();
            let _ = writeln!(out, "{}. {}", index + 1, md(&sub.question));
            if !queries.is_empty() {
                let _ = writeln!(out, "   - queries: {}", queries.join(", "));
            }
        }
        out.push('\n');
    }
    out.push_str("Searched:\n\n");
    for query in &plan.queries {
        let _ = writeln!(out, "- “{}”", md(query));
    }
    for skipped in &doc.skipped_queries {
        let _ = writeln!(out, "- “{}” (no results: {})", md(&skipped.query), md(&skipped.reason));
    }
    let cited = doc.evidence.iter().filter(|e| e.cited).count();
    let _ = writeln!(
        out,
        "\nThe evidence set holds {} passages{}; {cited} of them are cited below.\n",
        doc.evidence.len(),
        match doc.evidence.iter().filter(|e| e.pinned).count() {
            0 => String::new(),
            n => format!(" ({n} pinned by the researcher)"),
        }
    );
}

fn hypothesis_section(out: &mut String, h: &HypothesisEntry) {
    let lineage = h.parent.as_ref().map_or(String::new(), |p| format!(", revises {p}"));
    let _ = writeln!(
        out,
        "<a id=\"{}\"></a>\n\n### {}. {} — rating {:.0}\n\n*Round {}{lineage} · won {}, lost {}*\n",
        anchor(&h.id),
        h.rank,
        h.id,
        h.rating,
        h.round,
        h.matches_won,
        h.matches_lost
    );
    let _ = writeln!(out, "**Statement.** {}\n", md(&h.statement));
    let _ = writeln!(out, "**Rationale.** {}\n", md(&h.rationale));
    let _ = writeln!(out, "**Prediction.** {}\n", md(&h.prediction));
    let _ = writeln!(out, "**Proposed experiment.** {}\n", md(&h.experiment));
    if !h.rating_history.is_empty() {
        let history: Vec<String> = h
            .rating_history
            .iter()
            .map(|p| format!("round {}: {:.0}", p.round, p.rating))
            .collect();
        let _ = writeln!(out, "**Rating across rounds.** {}\n", history.join(" → "));
    }
    match &h.review {
        None => out.push_str("**Review.** Not reviewed yet.\n\n"),
        Some(review) => {
            let s = review.scores;
            let _ = writeln!(
                out,
                "**Review scores** (1–5): grounding {} · novelty {} · testability {} · significance {}\n",
                s.grounding, s.novelty, s.testability, s.significance
            );
            let _ = writeln!(out, "**Critique.** {}\n", md(&review.critique));
            match &review.restates {
                Some(paper) => {
                    let _ = writeln!(
                        out,
                        "**Novelty.** Nearly restates *{}* [@{}] (similarity {:.2}).\n",
                        md(&paper.title),
                        paper.key,
                        paper.similarity
                    );
                }
                None if review.closest_papers.is_empty() => {
                    out.push_str("**Novelty.** No close paper was found in the project.\n\n");
                }
                None => out.push_str("**Novelty.** No paper in the project restates it.\n\n"),
            }
            if !review.closest_papers.is_empty() {
                out.push_str("Closest prior papers:\n\n");
                for paper in &review.closest_papers {
                    let year = paper.year.map_or(String::new(), |y| format!(" ({y})"));
                    let _ = writeln!(
                        out,
                        "- *{}*{year} [@{}], similarity {:.2}",
                        md(&paper.title),
                        paper.key,
                        paper.similarity
                    );
                }
                out.push('\n');
            }
        }
    }
    if !h.researcher_critiques.is_empty() {
        out.push_str("**The researcher's critiques.**\n\n");
        for critique in &h.researcher_critiques {
            let _ = writeln!(out, "- {}", md(critique));
        }
        out.push('\n');
    }
    if let Some(gap) = &h.gap {
        let _ = writeln!(
            out,
            "**Addresses gap {}** (on *{}*): {}\n",
            gap.id,
            md(&gap.sub_question),
            md(&gap.text)
        );
    }
    if !h.contested.is_empty() {
        let ids: Vec<String> = h.contested.iter().map(|id| format!("`{id}`")).collect();
        let _ = writeln!(
            out,
            "**Contested evidence.** This hypothesis rests on {}, which another paper's passage was judged \
             to contradict (see *What the literature shows*).\n",
            ids.join(", ")
        );
    }
    out.push_str("**Evidence.**\n\n");
    if h.citations.is_empty() {
        out.push_str("No passage cited.\n\n");
    }
    for citation in &h.citations {
        let year = citation.year.map_or(String::new(), |y| format!(" ({y})"));
        // A page goes in the citation as pandoc's locator: `[@key, p. 4]`.
        let locator = citation
            .place
            .pages()
            .map_or(String::new(), |pages| format!(", {pages}"));
        let section = citation
            .place
            .section
            .as_ref()
            .map_or(String::new(), |s| format!(", {}", md(s)));
        let _ = writeln!(
            out,
            "> {}\n>\n> — *{}*{year} [@{}{locator}]{section}, passage `{}`\n>\n> {}\n",
            md(&citation.text),
            md(&citation.title),
            citation.key,
            citation.passage_id,
            md(&citation.support_summary())
        );
    }
}

/// What the literature shows, per sub-question: the report opens with it.
fn synthesis(out: &mut String, doc: &ExportDocument) {
    if doc.synthesis.is_empty() {
        return;
    }
    out.push_str("## What the literature shows\n\n");
    for section in &doc.synthesis {
        let _ = writeln!(out, "### {}. {}\n", section.number, md(&section.sub_question));
        if let Some(note) = &section.note {
            let _ = writeln!(out, "*{}*\n", md(note));
        }
        for statement in &section.statements {
            let cites: Vec<String> = statement
                .citations
                .iter()
                .map(|c| {
                    let locator = c.place.pages().map_or(String::new(), |pages| format!(", {pages}"));
                    format!("@{}{locator}", c.key)
                })
                .collect();
            let _ = writeln!(out, "- {} [{}]", md(&statement.text), cites.join("; "));
            for citation in statement
                .citations
                .iter()
                .filter(|c| c.support != Some(Support::Supports))
            {
                let _ = writeln!(
                    out,
                    "  - `{}`: {}",
                    citation.passage_id,
                    md(&citation.support_summary())
                );
            }
        }
        if !section.statements.is_empty() {
            out.push('\n');
        }
        if let Some(agreement) = &section.agreement {
            let _ = writeln!(out, "**Where the papers agree.** {}\n", md(agreement));
        }
        if let Some(disagreement) = &section.disagreement {
            let _ = writeln!(out, "**Where they disagree.** {}\n", md(disagreement));
        }
        if !section.gaps.is_empty() {
            out.push_str("**What is missing.**\n\n");
            for gap in &section.gaps {
                let _ = writeln!(out, "- {}", md(gap));
            }
            out.push('\n');
        }
        if !section.relations.is_empty() {
            out.push_str("**Findings compared across papers.**\n\n");
            for relation in &section.relations {
                let verdict = match relation.relation {
                    Relation::Contradict => "**contradict**",
                    Relation::Agree => "agree",
                    Relation::Unrelated => "do not bear on each other",
                };
                let reused = if relation.reused {
                    " (judged in an earlier run)"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "- `{}` [@{}] and `{}` [@{}] {verdict}: {}{reused}",
                    relation.first,
                    relation.first_key,
                    relation.second,
                    relation.second_key,
                    md(&relation.reason)
                );
            }
            out.push('\n');
        }
    }
}

/// What the researcher changed while the run went on: a reader must know the run was steered.
fn steering(out: &mut String, doc: &ExportDocument) {
    if doc.steering.is_empty() {
        return;
    }
    out.push_str(
        "## Steering\n\nThe researcher steered this run; each step took effect on the tasks sent after it.\n\n",
    );
    for entry in &doc.steering {
        let _ = writeln!(out, "- `{}` {}", entry.message_id, md(&entry.describe()));
    }
    out.push('\n');
}

fn bibliography(out: &mut String, doc: &ExportDocument) {
    out.push_str("## References\n\n");
    if doc.papers.is_empty() {
        out.push_str("No papers are cited.\n\n");
        return;
    }
    for paper in &doc.papers {
        let parts = crate::bibliography::reference_parts(paper);
        let authors = parts.authors.map_or(String::new(), |a| format!("{}. ", md(&a)));
        let year = parts.year;
        let venue = paper.venue.as_ref().map_or(String::new(), |v| format!(" {}.", md(v)));
        let links: Vec<String> = parts
            .links
            .iter()
            .map(|(label, url)| match label {
                Some(label) => format!("[{}]({url})", md(label)),
                None => format!("<{url}>"),
            })
            .collect();
        let role = if paper.cited { "" } else { " (close prior work)" };
        let _ = writeln!(
            out,
            "- `{}`{role}: {authors}({year}). *{}*.{venue} {}",
            paper.key,
            md(&paper.title),
            links.join(" ")
        );
    }
    out.push('\n');
}

fn failures(out: &mut String, doc: &ExportDocument) {
    if doc.failures.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "## Skipped tasks\n\n{} tasks failed and the run went on without them:\n",
        doc.failures.len()
    );
    for failure in &doc.failures {
        let _ = writeln!(
            out,
            "- `{}` ({}): {}",
            failure.task,
            failure.agent,
            md(&failure.message)
        );
    }
    out.push('\n');
}
