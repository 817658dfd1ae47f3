//! The HTML report: one self-contained file. Styles are inline, charts are inline SVG, and the
//! Content-Security-Policy forbids every fetch and every script, so opening it makes no request and
//! nothing in a paper's text can run.

use std::fmt::Write;

use crate::charts;
use crate::document::{ExportDocument, HypothesisEntry};
use crate::escape::{self, html as h};
use crate::reproducibility;
use hypatia_research::{Relation, Support};

const STYLE: &str = include_str!("report.css");

pub fn render(doc: &ExportDocument) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
         img-src data:; base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"{}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        h(&doc.generator),
        h(&format!("{} — Hypatia report", escape::one_line(&doc.question)))
    );
    navigation(&mut out, doc);
    out.push_str("<main>\n");
    header(&mut out, doc);
    synthesis(&mut out, doc);
    ranking(&mut out, doc);
    charts_section(&mut out, doc);
    plan(&mut out, doc);
    steering(&mut out, doc);
    out.push_str("<section id=\"hypotheses\">\n<h2>Hypotheses</h2>\n");
    if doc.hypotheses.is_empty() {
        out.push_str("<p class=\"empty\">No hypotheses were composed.</p>\n");
    }
    for hypothesis in &doc.hypotheses {
        hypothesis_article(&mut out, hypothesis);
    }
    out.push_str("</section>\n");
    evidence(&mut out, doc);
    references(&mut out, doc);
    failures(&mut out, doc);
    out.push_str("<section id=\"reproducibility\">\n<h2>Reproducibility</h2>\n<table class=\"facts\">\n");
    for (name, value) in reproducibility::rows(doc) {
        let _ = writeln!(out, "<tr><th scope=\"row\">{}</th><td>{}</td></tr>", h(name), h(&value));
    }
    out.push_str("</table>\n</section>\n</main>\n</body>\n</html>\n");
    out
}

fn navigation(out: &mut String, doc: &ExportDocument) {
    out.push_str("<nav aria-label=\"Contents\">\n<p class=\"brand\">Hypatia report</p>\n<ol>\n");
    if !doc.synthesis.is_empty() {
        out.push_str("<li><a href=\"#synthesis\">What the literature shows</a></li>\n");
    }
    for (id, label) in [("ranking", "Ranking"), ("charts", "Charts"), ("plan", "Plan")] {
        let _ = writeln!(out, "<li><a href=\"#{id}\">{label}</a></li>");
    }
    if !doc.steering.is_empty() {
        out.push_str("<li><a href=\"#steering\">Steering</a></li>\n");
    }
    out.push_str("<li><a href=\"#hypotheses\">Hypotheses</a>");
    if !doc.hypotheses.is_empty() {
        out.push_str("<ol class=\"sub\">\n");
        for hypothesis in &doc.hypotheses {
            let _ = writeln!(
                out,
                "<li><a href=\"#hyp-{}\">{}. {}</a></li>",
                h(&hypothesis.id),
                hypothesis.rank,
                h(&hypothesis.id)
            );
        }
        out.push_str("</ol>");
    }
    out.push_str("</li>\n");
    for (id, label) in [
        ("evidence", "Evidence"),
        ("references", "References"),
        ("reproducibility", "Reproducibility"),
    ] {
        let _ = writeln!(out, "<li><a href=\"#{id}\">{label}</a></li>");
    }
    out.push_str("</ol>\n</nav>\n");
}

/// What the literature shows, per sub-question: the report opens with it.
fn synthesis(out: &mut String, doc: &ExportDocument) {
    if doc.synthesis.is_empty() {
        return;
    }
    out.push_str("<section id=\"synthesis\">\n<h2>What the literature shows</h2>\n");
    for section in &doc.synthesis {
        let _ = writeln!(
            out,
            "<section class=\"synthesis status-{}\">\n<h3>{}. {}</h3>",
            h(&section.status),
            section.number,
            h(&section.sub_question)
        );
        if let Some(note) = &section.note {
            let _ = writeln!(out, "<p class=\"empty\">{}</p>", h(note));
        }
        if !section.statements.is_empty() {
            out.push_str("<ul class=\"statements\">\n");
        }
        for statement in &section.statements {
            let cites: Vec<String> = statement
                .citations
                .iter()
                .map(|c| {
                    let label = c.support.map_or("unjudged", |s| s.as_str());
                    format!(
                        "<a class=\"cite support-{label}\" href=\"#passage-{}\" title=\"{}\">{}</a>",
                        h(&charts::anchor_id(c.passage_id.as_str())),
                        h(&c.support_summary()),
                        h(&c.key)
                    )
                })
                .collect();
            let _ = write!(out, "<li>{} [{}]", h(&statement.text), cites.join("; "));
            let doubtful: Vec<String> = statement
                .citations
                .iter()
                .filter(|c| c.support != Some(Support::Supports))
                .map(|c| {
                    format!(
                        "<li><code>{}</code>: {}</li>",
                        h(c.passage_id.as_str()),
                        h(&c.support_summary())
                    )
                })
                .collect();
            if !doubtful.is_empty() {
                let _ = write!(out, "<ul class=\"doubtful\">{}</ul>", doubtful.join(""));
            }
            out.push_str("</li>\n");
        }
        if !section.statements.is_empty() {
            out.push_str("</ul>\n");
        }
        if let Some(agreement) = &section.agreement {
            let _ = writeln!(out, "<p><strong>Where the papers agree.</strong> {}</p>", h(agreement));
        }
        if let Some(disagreement) = &section.disagreement {
            let _ = writeln!(out, "<p><strong>Where they disagree.</strong> {}</p>", h(disagreement));
        }
        if !section.gaps.is_empty() {
            out.push_str("<p><strong>What is missing.</strong></p>\n<ul class=\"gaps\">\n");
            for gap in &section.gaps {
                let _ = writeln!(out, "<li>{}</li>", h(gap));
            }
            out.push_str("</ul>\n");
        }
        if !section.relations.is_empty() {
            out.push_str("<p><strong>Findings compared across papers.</strong></p>\n<ul class=\"relations\">\n");
            for relation in &section.relations {
                let verdict = match relation.relation {
                    Relation::Contradict => "<strong class=\"contradict\">contradict</strong>",
                    Relation::Agree => "agree",
                    Relation::Unrelated => "do not bear on each other",
                };
                let reused = if relation.reused {
                    " <em>(judged in an earlier run)</em>"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "<li class=\"relation-{}\"><a href=\"#passage-{}\"><code>{}</code></a> and <a href=\"#passage-{}\"><code>{}</code></a> {verdict}: {}{reused}</li>",
                    relation.relation.as_str(),
                    h(&charts::anchor_id(relation.first.as_str())),
                    h(relation.first.as_str()),
                    h(&charts::anchor_id(relation.second.as_str())),
                    h(relation.second.as_str()),
                    h(&relation.reason)
                );
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str("</section>\n");
}

fn header(out: &mut String, doc: &ExportDocument) {
    out.push_str("<header>\n");
    if let Some(notice) = &doc.notice {
        let _ = writeln!(
            out,
            "<p class=\"notice status-{}\" role=\"status\"><strong>{}</strong> {}</p>",
            h(&doc.status),
            h(&doc.status.replace('_', " ")),
            h(notice)
        );
    }
    let _ = writeln!(out, "<h1>{}</h1>", h(&escape::one_line(&doc.question)));
    let _ = writeln!(
        out,
        "<p class=\"meta\">Run <code>{}</code> · <span class=\"status\">{}</span> · {} hypotheses · {} papers cited · \
         model {}</p>",
        h(&doc.run_id),
        h(&doc.status),
        doc.hypotheses.len(),
        doc.papers.iter().filter(|p| p.cited).count(),
        h(&doc.model_summary())
    );
    if let Some(detail) = &doc.detail {
        let _ = writeln!(out, "<p class=\"meta\">{}</p>", h(detail));
    }
    out.push_str("</header>\n");
}

fn ranking(out: &mut String, doc: &ExportDocument) {
    out.push_str("<section id=\"ranking\">\n<h2>Ranking</h2>\n");
    if doc.hypotheses.is_empty() {
        out.push_str("<p class=\"empty\">No hypotheses yet.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table class=\"ranking\">\n<thead><tr><th>Rank</th><th>Hypothesis</th><th>Rating</th><th>Won–lost</th>\
         <th title=\"grounding\">G</th><th title=\"novelty\">N</th><th title=\"testability\">T</th>\
         <th title=\"significance\">S</th></tr></thead>\n<tbody>\n",
    );
    for hypothesis in &doc.hypotheses {
        let scores = hypothesis.review.as_ref().map(|r| r.scores);
        let cell = |value: Option<u8>| {
            value.map_or("<td>–</td>".to_owned(), |v| {
                format!("<td class=\"score s{v}\">{v}</td>")
            })
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><a href=\"#hyp-{}\"><code>{}</code></a> {}</td><td>{:.0}</td><td>{}–{}</td>{}{}{}{}</tr>",
            hypothesis.rank,
            h(&hypothesis.id),
            h(&hypothesis.id),
            h(&escape::truncate(&hypothesis.statement, 140)),
            hypothesis.rating,
            hypothesis.matches_won,
            hypothesis.matches_lost,
            cell(scores.map(|s| s.grounding)),
            cell(scores.map(|s| s.novelty)),
            cell(scores.map(|s| s.testability)),
            cell(scores.map(|s| s.significance)),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn charts_section(out: &mut String, doc: &ExportDocument) {
    out.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
    for (title, svg) in [
        ("Rating across rounds", charts::ratings(doc)),
        ("Review scores", charts::scores(doc)),
        ("Publication years of the evidence", charts::years(doc)),
        ("Evidence graph", charts::evidence_graph(doc)),
    ] {
        let _ = writeln!(out, "<figure>\n<figcaption>{title}</figcaption>\n{svg}\n</figure>");
    }
    out.push_str("</section>\n");
}

fn plan(out: &mut String, doc: &ExportDocument) {
    out.push_str("<section id=\"plan\">\n<h2>Plan</h2>\n");
    let Some(plan) = &doc.plan else {
        out.push_str("<p class=\"empty\">The run has no plan yet.</p>\n</section>\n");
        return;
    };
    if let Some(reason) = &plan.fallback {
        let _ = writeln!(
            out,
            "<p class=\"notice\">The model's plan could not be used ({}); the question alone was searched.</p>",
            h(reason)
        );
    }
    if !plan.sub_questions.is_empty() {
        out.push_str("<h3>Sub-questions</h3>\n<ol>\n");
        for sub in &plan.sub_questions {
            let queries: Vec<String> = sub.queries.iter().map(|q| format!("<q>{}</q>", h(q))).collect();
            let _ = writeln!(
                out,
                "<li>{}<br><span class=\"queries\">queries: {}</span></li>",
                h(&sub.question),
                queries.join(", ")
            );
        }
        out.push_str("</ol>\n");
    }
    out.push_str("<h3>Searched</h3>\n<ul>\n");
    for query in &plan.queries {
        let _ = writeln!(out, "<li><q>{}</q></li>", h(query));
    }
    for skipped in &doc.skipped_queries {
        let _ = writeln!(
            out,
            "<li><q>{}</q> — no results: {}</li>",
            h(&skipped.query),
            h(&skipped.reason)
        );
    }
    out.push_str("</ul>\n</section>\n");
}

fn hypothesis_article(out: &mut String, hyp: &HypothesisEntry) {
    let lineage = hyp.parent.as_ref().map_or(String::new(), |p| {
        format!(", revises <a href=\"#hyp-{}\"><code>{}</code></a>", h(p), h(p))
    });
    let _ = writeln!(
        out,
        "<article class=\"hypothesis\" id=\"hyp-{}\">\n<h3><span class=\"rank\">{}</span> <code>{}</code> \
         <span class=\"rating\">rating {:.0}</span></h3>\n<p class=\"meta\">Round {}{lineage} · won {}, lost {}</p>",
        h(&hyp.id),
        hyp.rank,
        h(&hyp.id),
        hyp.rating,
        hyp.round,
        hyp.matches_won,
        hyp.matches_lost
    );
    let _ = writeln!(out, "<p class=\"statement\">{}</p>\n<dl>", h(&hyp.statement));
    for (term, text) in [
        ("Rationale", &hyp.rationale),
        ("Prediction", &hyp.prediction),
        ("Proposed experiment", &hyp.experiment),
    ] {
        let _ = writeln!(out, "<dt>{term}</dt><dd>{}</dd>", h(text));
    }
    if !hyp.rating_history.is_empty() {
        let history: Vec<String> = hyp
            .rating_history
            .iter()
            .map(|p| format!("round {}: {:.0}", p.round, p.rating))
            .collect();
        let _ = writeln!(out, "<dt>Rating across rounds</dt><dd>{}</dd>", h(&history.join(" → ")));
    }
    match &hyp.review {
        None => out.push_str("<dt>Review</dt><dd class=\"empty\">Not reviewed yet.</dd>\n"),
        Some(review) => {
            let s = review.scores;
            let _ = writeln!(
                out,
                "<dt>Review scores (1–5)</dt><dd>grounding {} · novelty {} · testability {} · significance {}</dd>",
                s.grounding, s.novelty, s.testability, s.significance
            );
            let _ = writeln!(out, "<dt>Critique</dt><dd>{}</dd>", h(&review.critique));
            out.push_str("<dt>Novelty</dt><dd>");
            match &review.restates {
                Some(paper) => {
                    let _ = write!(
                        out,
                        "<strong class=\"warn\">Nearly restates</strong> <a href=\"#ref-{}\">{}</a> (similarity {:.2}).",
                        h(&paper.key),
                        h(&paper.title),
                        paper.similarity
                    );
                }
                None if review.closest_papers.is_empty() => out.push_str("No close paper was found in the project."),
                None => out.push_str("No paper in the project restates it."),
            }
            if !review.closest_papers.is_empty() {
                out.push_str(" Closest prior papers:<ul>");
                for paper in &review.closest_papers {
                    let year = paper.year.map_or(String::new(), |y| format!(" ({y})"));
                    let _ = write!(
                        out,
                        "<li><a href=\"#ref-{}\">{}</a>{year}, similarity {:.2}</li>",
                        h(&paper.key),
                        h(&paper.title),
                        paper.similarity
                    );
                }
                out.push_str("</ul>");
            }
            out.push_str("</dd>\n");
        }
    }
    if !hyp.researcher_critiques.is_empty() {
        out.push_str("<dt>The researcher's critiques</dt><dd><ul>");
        for critique in &hyp.researcher_critiques {
            let _ = write!(out, "<li>{}</li>", h(critique));
        }
        out.push_str("</ul></dd>\n");
    }
    out.push_str("</dl>\n");
    if let Some(gap) = &hyp.gap {
        let _ = writeln!(
            out,
            "<p class=\"gap\"><strong>Addresses gap {}</strong> (on <em>{}</em>): {}</p>",
            h(&gap.id),
            h(&gap.sub_question),
            h(&gap.text)
        );
    }
    if !hyp.contested.is_empty() {
        let ids: Vec<String> = hyp
            .contested
            .iter()
            .map(|id| format!("<code>{}</code>", h(id.as_str())))
            .collect();
        let _ = writeln!(
            out,
            "<p class=\"notice contested\"><strong>Contested evidence.</strong> This hypothesis rests on {}, which \
             another paper's passage was judged to contradict (see <a href=\"#synthesis\">What the literature \
             shows</a>).</p>",
            ids.join(", ")
        );
    }
    out.push_str("<h4>Evidence</h4>\n");
    if hyp.citations.is_empty() {
        out.push_str("<p class=\"empty\">No passage cited.</p>\n");
    }
    for citation in &hyp.citations {
        let year = citation.year.map_or(String::new(), |y| format!(" ({y})"));
        let place = place_html(&citation.place);
        let _ = writeln!(
            out,
            "<blockquote class=\"support-{}\" cite=\"#ref-{}\">{}<footer>— <a href=\"#ref-{}\">{}</a>{year}{place}, passage <a \
             href=\"#passage-{}\"><code>{}</code></a><p class=\"support\">{}</p></footer></blockquote>",
            citation.support.map_or("unjudged", |label| label.as_str()),
            h(&citation.key),
            h(&citation.text),
            h(&citation.key),
            h(&citation.title),
            h(&charts::anchor_id(citation.passage_id.as_str())),
            h(citation.passage_id.as_str()),
            h(&citation.support_summary())
        );
    }
    out.push_str("</article>\n");
}

fn steering(out: &mut String, doc: &ExportDocument) {
    if doc.steering.is_empty() {
        return;
    }
    out.push_str(
        "<section id=\"steering\">\n<h2>Steering</h2>\n<p>The researcher steered this run; each step took effect on \
         the tasks sent after it.</p>\n<ol>",
    );
    for entry in &doc.steering {
        let _ = write!(
            out,
            "<li><code>{}</code> {}</li>",
            h(&entry.message_id),
            h(&entry.describe())
        );
    }
    out.push_str("</ol>\n</section>\n");
}

fn evidence(out: &mut String, doc: &ExportDocument) {
    let cited: Vec<_> = doc.evidence.iter().filter(|e| e.cited).collect();
    let _ = writeln!(
        out,
        "<section id=\"evidence\">\n<h2>Evidence</h2>\n<p>The evidence set holds {} passages retrieved for the plan's \
         queries{}; the {} cited by a hypothesis follow.</p>",
        doc.evidence.iter().filter(|e| !e.pinned).count(),
        match doc.evidence.iter().filter(|e| e.pinned).count() {
            0 => String::new(),
            n => format!(" and {n} pinned by the researcher"),
        },
        cited.len()
    );
    for passage in cited {
        let key = doc
            .paper_by_id(&passage.paper_id)
            .map_or(String::new(), |p| p.key.clone());
        let _ = writeln!(
            out,
            "<div class=\"passage\" id=\"passage-{}\"><p><code>{}</code> from <a href=\"#ref-{}\">{}</a>{}</p><p>{}</p></div>",
            h(&charts::anchor_id(passage.passage_id.as_str())),
            h(passage.passage_id.as_str()),
            h(&key),
            h(&passage.title),
            place_html(&passage.place),
            h(&passage.text)
        );
    }
    out.push_str("</section>\n");
}

/// ", Results, <span class="page">p. 4</span>" for a full-text passage; nothing for an abstract.
fn place_html(place: &crate::document::Place) -> String {
    let section = place.section.as_ref().map_or(String::new(), |s| format!(", {}", h(s)));
    let pages = place
        .pages()
        .map_or(String::new(), |p| format!(", <span class=\"page\">{}</span>", h(&p)));
    format!("{section}{pages}")
}

fn references(out: &mut String, doc: &ExportDocument) {
    out.push_str("<section id=\"references\">\n<h2>References</h2>\n");
    if doc.papers.is_empty() {
        out.push_str("<p class=\"empty\">No papers are cited.</p>\n</section>\n");
        return;
    }
    out.push_str("<ol class=\"references\">\n");
    for paper in &doc.papers {
        let parts = crate::bibliography::reference_parts(paper);
        let authors = parts.authors.map_or(String::new(), |a| format!("{}. ", h(&a)));
        let year = parts.year;
        let venue = paper
            .venue
            .as_ref()
            .map_or(String::new(), |v| format!(" <i>{}</i>.", h(v)));
        let links: Vec<String> = parts
            .links
            .iter()
            .map(|(label, url)| {
                let label = label.as_deref().unwrap_or("link");
                format!("<a href=\"{}\" rel=\"noreferrer\">{}</a>", h(url), h(label))
            })
            .collect();
        let role = if paper.cited {
            ""
        } else {
            " <span class=\"role\">close prior work</span>"
        };
        let _ = writeln!(
            out,
            "<li id=\"ref-{}\"><code>{}</code>{role} {authors}({year}). <b>{}</b>.{venue} {}</li>",
            h(&paper.key),
            h(&paper.key),
            h(&paper.title),
            links.join(" ")
        );
    }
    out.push_str("</ol>\n</section>\n");
}

fn failures(out: &mut String, doc: &ExportDocument) {
    if doc.failures.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section id=\"failures\">\n<h2>Skipped tasks</h2>\n<p>{} tasks failed and the run went on without them.</p>\n<ul>",
        doc.failures.len()
    );
    for failure in &doc.failures {
        let _ = writeln!(
            out,
            "<li><code>{}</code> ({}): {}</li>",
            h(&failure.task),
            h(&failure.agent),
            h(&failure.message)
        );
    }
    out.push_str("</ul>\n</section>\n");
}
