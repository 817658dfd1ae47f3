//! The run as `hypatia review --json` and `hypatia runs show` print it: a view of the
//! [`ExportDocument`], so the two never disagree about a run. Field names are as documented in the
//! README; the export's JSON carries more.

use hypatia_core::{PaperId, PassageId};
use hypatia_research::{ClosePaper, Gap, NoveltyFinding, Plan, Scores, Support, SupportTally};
use hypatia_runs::{FailureRecord, UsageTotals};
use serde::Serialize;

use crate::{ClosePaperEntry, ExportDocument, HypothesisEntry, SynthesisEntry};

/// The object `hypatia review --json` and `hypatia runs show --json` print.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: String,
    pub question: String,
    /// running, interrupted, completed, budget_exhausted, failed or cancelled.
    pub status: String,
    /// Why the run ended as it did.
    pub detail: Option<String>,
    /// What the literature shows, per sub-question (as in the export).
    pub synthesis: Vec<SynthesisEntry>,
    pub hypotheses: Vec<HypothesisReport>,
    pub plan: Option<Plan>,
    /// Passages the retriever gave (pinned ones not counted).
    pub evidence_passages: usize,
    pub failures: Vec<FailureRecord>,
    pub usage: UsageReport,
    /// The hypotheses' citations as the reviewer judged them.
    pub support: SupportTally,
}

#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    #[serde(flatten)]
    pub totals: UsageTotals,
    pub tokens: u64,
    pub elapsed_ms: i64,
    pub messages: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HypothesisReport {
    pub rank: usize,
    pub id: String,
    pub round: u32,
    pub parent: Option<String>,
    pub statement: String,
    pub rationale: String,
    pub prediction: String,
    pub experiment: String,
    pub rating: f64,
    /// Rating after each round it took part in.
    pub rating_history: Vec<(u32, f64)>,
    pub scores: Option<Scores>,
    pub critique: Option<String>,
    pub novelty: Option<NoveltyFinding>,
    pub matches_won: u32,
    pub matches_lost: u32,
    pub citations: Vec<CitationReport>,
    /// Its citations another paper's passage was judged to contradict.
    pub contested: Vec<PassageId>,
    /// The gap of the literature it addresses; null when it names none.
    pub gap: Option<Gap>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CitationReport {
    pub passage_id: PassageId,
    pub paper_id: PaperId,
    pub title: String,
    pub year: Option<i32>,
    pub text: String,
    /// supports, contradicts or unrelated; `None` until the hypothesis is reviewed.
    pub support: Option<Support>,
    pub support_reason: Option<String>,
}

impl RunReport {
    pub fn of(document: &ExportDocument) -> RunReport {
        RunReport {
            run_id: document.run_id.clone(),
            question: document.question.clone(),
            status: document.status.clone(),
            detail: document.detail.clone(),
            synthesis: document.synthesis.clone(),
            hypotheses: document.hypotheses.iter().map(hypothesis).collect(),
            plan: document.plan.clone(),
            evidence_passages: document.evidence.iter().filter(|entry| !entry.pinned).count(),
            failures: document.failures.clone(),
            usage: UsageReport {
                totals: document.usage.clone(),
                tokens: document.usage.tokens(),
                elapsed_ms: document.timings.working_ms,
                messages: document.timings.messages,
            },
            support: document.support,
        }
    }
}

fn hypothesis(entry: &HypothesisEntry) -> HypothesisReport {
    let review = entry.review.as_ref();
    HypothesisReport {
        rank: entry.rank,
        id: entry.id.clone(),
        round: entry.round,
        parent: entry.parent.clone(),
        statement: entry.statement.clone(),
        rationale: entry.rationale.clone(),
        prediction: entry.prediction.clone(),
        experiment: entry.experiment.clone(),
        rating: entry.rating,
        rating_history: entry
            .rating_history
            .iter()
            .map(|point| (point.round, point.rating))
            .collect(),
        scores: review.map(|r| r.scores),
        critique: review.map(|r| r.critique.clone()),
        novelty: review.map(|r| NoveltyFinding {
            closest: r.closest_papers.iter().map(close_paper).collect(),
            restates: r.restates.as_ref().map(close_paper),
        }),
        matches_won: entry.matches_won,
        matches_lost: entry.matches_lost,
        contested: entry.contested.clone(),
        gap: entry.gap.clone(),
        citations: entry
            .citations
            .iter()
            .map(|c| CitationReport {
                passage_id: c.passage_id.clone(),
                paper_id: c.paper_id.clone(),
                title: c.title.clone(),
                year: c.year,
                text: c.text.clone(),
                support: c.support,
                support_reason: c.support_reason.clone(),
            })
            .collect(),
    }
}

fn close_paper(entry: &ClosePaperEntry) -> ClosePaper {
    ClosePaper {
        paper_id: entry.paper_id.clone(),
        title: entry.title.clone(),
        year: entry.year,
        similarity: entry.similarity,
    }
}
