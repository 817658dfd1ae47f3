//! The reproducibility appendix, shared by the Markdown and HTML reports: what ran, with what, and
//! what it cost.

use hypatia_core::time::utc_rfc3339;
use hypatia_research::ModelIdentity;

use crate::document::{ExportDocument, human_bytes};

/// (name, value) rows, in reading order.
pub fn rows(doc: &ExportDocument) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    let provenance = doc.provenance();
    let not_recorded = || "not recorded (the run predates provenance recording)".to_owned();
    match provenance.map(|p| &p.model) {
        Some(ModelIdentity::Local {
            file_name,
            size_bytes,
            sha256,
            parameters,
            context_tokens,
        }) => {
            rows.push(("Model file", file_name.clone()));
            rows.push((
                "Model size",
                format!("{} ({size_bytes} bytes)", human_bytes(*size_bytes)),
            ));
            rows.push(("Model SHA-256", sha256.clone()));
            rows.push(("Model parameters", parameters.to_string()));
            rows.push(("Context (tokens)", context_tokens.to_string()));
        }
        Some(ModelIdentity::Openai { base_url, model }) => {
            rows.push(("Endpoint", base_url.clone()));
            rows.push(("Model", model.clone()));
        }
        None => rows.push((
            "Model",
            doc.settings.as_ref().map_or_else(not_recorded, |s| s.model.clone()),
        )),
    }
    match provenance {
        Some(p) => {
            rows.push((
                "Sampler",
                format!(
                    "temperature {}, top-p {}, grammar-constrained JSON, max tokens set per task",
                    p.temperature, p.top_p
                ),
            ));
            rows.push(("Parallel model calls", p.parallel_calls.to_string()));
            if let Some(retrieval) = &p.retrieval {
                rows.push(("Retrieval", retrieval.clone()));
            }
        }
        None => rows.push(("Sampler", not_recorded())),
    }
    if let Some(settings) = &doc.settings {
        rows.push((
            "Seed",
            format!(
                "{} (each task's seed is derived from it and the task's id)",
                settings.seed
            ),
        ));
        rows.push((
            "Run settings",
            format!(
                "{} hypotheses, {} rounds, {} leaders revised per round, evidence limit {}",
                settings.hypotheses, settings.rounds, settings.leaders, settings.evidence_limit
            ),
        ));
        let budget = &settings.budget;
        let limits: Vec<String> = [
            budget.model_calls.map(|n| format!("{n} model calls")),
            budget.tokens.map(|n| format!("{n} tokens")),
            budget.minutes.map(|m| format!("{m} minutes")),
        ]
        .into_iter()
        .flatten()
        .collect();
        rows.push((
            "Budgets",
            if limits.is_empty() {
                "none".to_owned()
            } else {
                limits.join(", ")
            },
        ));
    }
    match provenance {
        Some(p) => {
            let overrides = if p.prompt_overrides.is_empty() {
                "built-in prompts".to_owned()
            } else {
                format!("overridden: {}", p.prompt_overrides.join(", "))
            };
            rows.push(("Prompts SHA-256", format!("{} ({overrides})", p.prompts_sha256)));
            rows.push(("Hypatia version (run)", p.hypatia_version.clone()));
        }
        None => rows.push(("Prompts SHA-256", not_recorded())),
    }
    rows.push(("Exported by", doc.generator.clone()));
    let t = &doc.timings;
    if t.started_ms > 0 {
        rows.push(("Started", utc_rfc3339(t.started_ms)));
        rows.push(("Last message", utc_rfc3339(t.last_message_ms)));
    }
    rows.push((
        "Working time",
        format!(
            "{:.1} s over {} session{} ({:.1} s in model calls, concurrent calls added up)",
            t.working_ms as f64 / 1000.0,
            t.sessions,
            if t.sessions == 1 { "" } else { "s" },
            t.model_ms as f64 / 1000.0
        ),
    ));
    let u = &doc.usage;
    rows.push((
        "Token usage",
        format!(
            "{} model calls; {} prompt tokens ({} from the prefix cache), {} completion tokens",
            u.model_calls, u.prompt_tokens, u.cached_prompt_tokens, u.completion_tokens
        ),
    ));
    rows.push(("Journal", format!("{} messages", t.messages)));
    rows.push(("Citations supported", support_figure(&doc.support)));
    rows
}

/// "7 of 9 (78 %); 1 contradicts, 1 does not address its hypothesis".
pub fn support_figure(tally: &hypatia_research::SupportTally) -> String {
    match tally.supported_share() {
        None => "no citation judged".to_owned(),
        Some(share) => format!(
            "{} of {} ({:.0} %) support what they are cited for; {} contradict{}, {} do{} not address it",
            tally.supports,
            tally.judged,
            share * 100.0,
            tally.contradicts,
            if tally.contradicts == 1 { "s" } else { "" },
            tally.unrelated,
            if tally.unrelated == 1 { "es" } else { "" },
        ),
    }
}
