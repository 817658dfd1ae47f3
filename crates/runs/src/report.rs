use hypatia_bus::payload::{NoveltyFinding, Plan, Scores};
use hypatia_core::{PaperId, PassageId};
use serde::Serialize;

use crate::{FailureRecord, RunRecord, UsageTotals};

/// The object `hypatia review --json` and `hypatia runs show --json` print.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: String,
    pub question: String,
    /// running, completed, budget_exhausted, failed or cancelled.
    pub status: String,
    /// Why the run ended as it did.
    pub detail: Option<String>,
    pub hypotheses: Vec<HypothesisReport>,
    pub plan: Option<Plan>,
    pub evidence_passages: usize,
    pub failures: Vec<FailureRecord>,
    pub usage: UsageReport,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct CitationReport {
    pub passage_id: PassageId,
    pub paper_id: PaperId,
    pub title: String,
    pub year: Option<i32>,
    pub text: String,
}

impl RunReport {
    pub fn new(record: &RunRecord, question: &str, status: &str, detail: Option<&str>) -> RunReport {
        let ratings = record.ratings();
        let hypotheses = record
            .ranking()
            .iter()
            .enumerate()
            .filter_map(|(index, id)| {
                let hypothesis = record.hypotheses.get(id)?;
                let review = record.reviews.get(id);
                let citations = hypothesis
                    .citations
                    .iter()
                    .filter_map(|passage| record.evidence_passage(passage))
                    .map(|passage| CitationReport {
                        passage_id: passage.passage_id.clone(),
                        paper_id: passage.paper_id.clone(),
                        title: passage.title.clone(),
                        year: passage.year,
                        text: passage.text.clone(),
                    })
                    .collect();
                let rating_history = record
                    .rounds_finished
                    .iter()
                    .filter_map(|(round, list)| {
                        list.iter()
                            .find(|(h, _)| h == id)
                            .map(|(_, rating)| (*round, round_to_tenth(*rating)))
                    })
                    .collect();
                Some(HypothesisReport {
                    rank: index + 1,
                    id: id.clone(),
                    round: hypothesis.round,
                    parent: hypothesis.parent.clone(),
                    statement: hypothesis.statement.clone(),
                    rationale: hypothesis.rationale.clone(),
                    prediction: hypothesis.prediction.clone(),
                    experiment: hypothesis.experiment.clone(),
                    rating: round_to_tenth(ratings.get(id).copied().unwrap_or(crate::elo::INITIAL_RATING)),
                    rating_history,
                    scores: review.map(|r| r.scores),
                    critique: review.map(|r| r.critique.clone()),
                    novelty: review.map(|r| r.novelty.clone()),
                    matches_won: record.matches.iter().filter(|m| m.winner_id() == id).count() as u32,
                    matches_lost: record.matches.iter().filter(|m| m.loser_id() == id).count() as u32,
                    citations,
                })
            })
            .collect();
        RunReport {
            run_id: record.run_id.clone(),
            question: question.to_owned(),
            status: status.to_owned(),
            detail: detail.map(str::to_owned),
            hypotheses,
            plan: record.plan.clone(),
            evidence_passages: record.evidence.as_ref().map_or(0, Vec::len),
            failures: record.failures.clone(),
            usage: UsageReport {
                totals: record.usage.clone(),
                tokens: record.usage.tokens(),
                elapsed_ms: record.elapsed_ms(),
                messages: record.messages,
            },
        }
    }
}

fn round_to_tenth(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}
