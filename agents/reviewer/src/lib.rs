//! The reviewer. A review checks what can be checked without the model
//! (every cited passage exists in the store and shares words with the claim;
//! the closest papers in the index, and whether the hypothesis nearly
//! restates one), then asks the model for scores and a critique with those
//! findings in hand. A judgement compares two hypotheses; the planner asks
//! for each pair in both orders to cancel position bias. A synthesis section says what the evidence
//! shows on one sub-question of the plan, each citation judged (`synthesis.rs`); pairs of its passages
//! are judged agree / contradict / unrelated, once per model per project (`relations.rs`).

mod relations;
mod synthesis;

use std::sync::Arc;

use hypatia_agentkit::{ProseCheck, Thinker, check_support, escape_data, evidence_items, read_support, support_schema};
use hypatia_bus::Agent;
use hypatia_project::Project;
use hypatia_project::SearchRequest;
use hypatia_research::{AgentFailure, AgentName, Envelope, Payload};
use hypatia_research::{
    CitationCheck, ClosePaper, EvidencePassage, Hypothesis, NoveltyFinding, Review, Scores, Side, SupportTally,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub use hypatia_agentkit::{content_words, coverage};

/// A hypothesis covered this much by one paper's title and abstract restates it.
pub const RESTATEMENT_COVERAGE: f64 = 0.8;
/// A cited passage sharing less than this with the claim does not bear on it.
pub const BEARING_COVERAGE: f64 = 0.1;
/// Papers compared for novelty.
const CLOSEST_PAPERS: usize = 3;

pub struct Reviewer {
    project: Arc<Project>,
    thinker: Thinker,
}

#[derive(Debug, Deserialize)]
struct ModelReview {
    critique: String,
    scores: ModelScores,
}

#[derive(Debug, Deserialize)]
struct ModelScores {
    grounding: u8,
    novelty: u8,
    testability: u8,
    significance: u8,
}

#[derive(Debug, Deserialize)]
struct ModelJudgement {
    reason: String,
    better: String,
}

impl Reviewer {
    pub fn new(project: Arc<Project>, thinker: Thinker) -> Reviewer {
        Reviewer { project, thinker }
    }

    async fn check_citations(&self, hypothesis: &Hypothesis) -> Result<Vec<CitationCheck>, AgentFailure> {
        let claim = content_words(&format!("{} {}", hypothesis.statement, hypothesis.rationale));
        let mut checks = Vec::new();
        for passage_id in &hypothesis.citations {
            let stored = self
                .project
                .paper(&passage_id.paper_id())
                .await
                .map_err(|error| AgentFailure::fatal(format!("reading the store: {error}")))?
                .and_then(|(_, passages)| passages.into_iter().find(|p| &p.id == passage_id));
            checks.push(CitationCheck {
                passage_id: passage_id.clone(),
                exists: stored.is_some(),
                overlap: stored.map_or(0.0, |p| round3(coverage(&claim, &p.text))),
                support: None,
            });
        }
        Ok(checks)
    }

    async fn novelty(&self, hypothesis: &Hypothesis) -> Result<NoveltyFinding, AgentFailure> {
        let claim = content_words(&hypothesis.statement);
        // Quotes would make the statement's words a phrase query; it is searched as words.
        let query = hypothesis.statement.replace('"', " ");
        // Hybrid when the project has an embedding model: prior work phrased differently counts too.
        let hits = self
            .project
            .find_papers(
                &SearchRequest::new(&query, CLOSEST_PAPERS * 3),
                self.project.default_mode(),
            )
            .await
            .map_err(|error| {
                // A busy embedding server may answer a retry; a broken index will not.
                let kind = if error.is_transient() {
                    hypatia_research::FailureKind::Transient
                } else {
                    hypatia_research::FailureKind::Fatal
                };
                AgentFailure::new(kind, format!("searching the literature: {error}"))
            })?;
        let mut closest = Vec::new();
        for hit in hits {
            let paper = self
                .project
                .paper(&hit.paper_id)
                .await
                .map_err(|error| AgentFailure::fatal(format!("reading the store: {error}")))?;
            let Some((paper, _)) = paper else { continue };
            let text = format!("{} {}", paper.title, paper.abstract_text.unwrap_or_default());
            closest.push(ClosePaper {
                paper_id: paper.id,
                title: paper.title,
                year: paper.year,
                similarity: round3(coverage(&claim, &text)),
            });
        }
        // Most similar first; the search order breaks ties.
        closest.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        closest.truncate(CLOSEST_PAPERS);
        let restates = closest
            .first()
            .filter(|paper| claim.len() >= 5 && paper.similarity >= RESTATEMENT_COVERAGE)
            .cloned();
        Ok(NoveltyFinding { closest, restates })
    }

    async fn review(
        &self,
        question: &str,
        hypothesis: &Hypothesis,
        evidence: &[EvidencePassage],
        researcher: &[String],
        seed: u64,
        cancel: &CancellationToken,
    ) -> Result<Payload, AgentFailure> {
        let mut citations = self.check_citations(hypothesis).await?;
        let novelty = self.novelty(hypothesis).await?;
        let missing: Vec<String> = citations
            .iter()
            .filter(|c| !c.exists)
            .map(|c| c.passage_id.to_string())
            .collect();
        let unrelated: Vec<String> = citations
            .iter()
            .filter(|c| c.exists && c.overlap < BEARING_COVERAGE)
            .map(|c| c.passage_id.to_string())
            .collect();
        let cited: Vec<EvidencePassage> = evidence
            .iter()
            .filter(|p| hypothesis.citations.contains(&p.passage_id))
            .cloned()
            .collect();
        let cited_ids: Vec<String> = cited.iter().map(|p| p.passage_id.as_str().to_owned()).collect();
        let context = json!({
            "question": escape_data(question),
            "hypothesis": hypothesis_context(hypothesis),
            "cited": evidence_items(&cited),
            "missing": missing,
            "unrelated": unrelated,
            "closest": novelty.closest.iter().map(|p| json!({
                "title": escape_data(&p.title), "year": p.year, "similarity": p.similarity,
            })).collect::<Vec<_>>(),
            "restates": novelty.restates.as_ref().map(|p| escape_data(&p.title)),
            "researcher": researcher.iter().map(|c| escape_data(c)).collect::<Vec<_>>(),
        });
        let answer = self
            .thinker
            .ask_uncut(
                ("review_system", "review_user"),
                &context,
                review_schema(&cited_ids),
                &check_support(ProseCheck::new().field("critique", 4)),
                seed,
                cancel,
            )
            .await?;
        let judged = read_support(&answer.value, &cited)?;
        for judgement in judged {
            if let Some(check) = citations.iter_mut().find(|c| c.passage_id == judgement.passage_id) {
                check.support = Some(judgement);
            }
        }
        let tally = SupportTally::of(citations.iter().filter_map(|c| c.support.as_ref().map(|s| &s.label)));
        let model: ModelReview = serde_json::from_value(answer.value)
            .map_err(|error| AgentFailure::task(format!("the model's review has the wrong shape: {error}")))?;
        let mut scores = Scores {
            grounding: model.scores.grounding.clamp(1, 5),
            novelty: model.scores.novelty.clamp(1, 5),
            testability: model.scores.testability.clamp(1, 5),
            significance: model.scores.significance.clamp(1, 5),
        };
        // What was checked outranks what the model thinks of it.
        if !missing.is_empty() {
            scores.grounding = 1;
        } else if !unrelated.is_empty() {
            scores.grounding = scores.grounding.min(2);
        }
        // A citation that does not say what it is cited for counts against grounding.
        scores.grounding = scores.grounding.min(tally.grounding_cap());
        if novelty.restates.is_some() {
            scores.novelty = 1;
        }
        Ok(Payload::ReviewReady {
            review: Review {
                hypothesis_id: hypothesis.id.clone(),
                scores,
                critique: model.critique.trim().to_owned(),
                citations,
                novelty,
            },
            usage: answer.usage,
        })
    }

    async fn judge(
        &self,
        question: &str,
        first: &Hypothesis,
        second: &Hypothesis,
        seed: u64,
        cancel: &CancellationToken,
    ) -> Result<Payload, AgentFailure> {
        let context = json!({
            "question": escape_data(question),
            "a": hypothesis_context(first),
            "b": hypothesis_context(second),
        });
        let answer = self
            .thinker
            .ask_uncut(
                ("judge_system", "judge_user"),
                &context,
                judge_schema(),
                &ProseCheck::new().field("reason", 3),
                seed,
                cancel,
            )
            .await?;
        let judgement: ModelJudgement = serde_json::from_value(answer.value)
            .map_err(|error| AgentFailure::task(format!("the model's judgement has the wrong shape: {error}")))?;
        let winner = match judgement.better.as_str() {
            "A" => Side::First,
            "B" => Side::Second,
            other => return Err(AgentFailure::task(format!("the judgement names `{other}`, not A or B"))),
        };
        Ok(Payload::JudgeReady {
            winner,
            reason: judgement.reason.trim().to_owned(),
            usage: answer.usage,
        })
    }
}

fn hypothesis_context(hypothesis: &Hypothesis) -> Value {
    json!({
        "statement": escape_data(&hypothesis.statement),
        "rationale": escape_data(&hypothesis.rationale),
        "prediction": escape_data(&hypothesis.prediction),
        "experiment": escape_data(&hypothesis.experiment),
        "citations": hypothesis.citations.iter().map(|c| escape_data(c.as_str())).collect::<Vec<_>>(),
    })
}

/// Scores, a critique and one support judgement per cited passage (`cited_ids`).
fn review_schema(cited_ids: &[String]) -> Value {
    let score = json!({ "type": "integer", "enum": [1, 2, 3, 4, 5] });
    json!({
        "type": "object",
        "properties": {
            "support": support_schema(cited_ids),
            "critique": { "type": "string", "minLength": 10, "maxLength": 400 },
            "scores": {
                "type": "object",
                "properties": {
                    "grounding": score, "novelty": score, "testability": score, "significance": score,
                },
                "required": ["grounding", "novelty", "testability", "significance"],
                "additionalProperties": false,
            },
        },
        "required": ["support", "critique", "scores"],
        "additionalProperties": false,
    })
}

fn judge_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "reason": { "type": "string", "minLength": 10, "maxLength": 400 },
            "better": { "type": "string", "enum": ["A", "B"] },
        },
        "required": ["reason", "better"],
        "additionalProperties": false,
    })
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

impl Agent for Reviewer {
    fn name(&self) -> AgentName {
        AgentName::Reviewer
    }

    async fn handle(self: Arc<Self>, request: Envelope, cancel: CancellationToken) -> Result<Payload, AgentFailure> {
        match &request.payload {
            Payload::ReviewRequest {
                question,
                hypothesis,
                evidence,
                seed,
                user_critiques,
            } => {
                self.review(question, hypothesis, evidence, user_critiques, *seed, &cancel)
                    .await
            }
            Payload::JudgeRequest {
                question,
                first,
                second,
                seed,
                ..
            } => self.judge(question, first, second, *seed, &cancel).await,
            Payload::RelateRequest { index, pairs, seed } => {
                relations::relate(
                    &self.project,
                    &self.thinker,
                    &request.run_id,
                    *index,
                    pairs,
                    *seed,
                    &cancel,
                )
                .await
            }
            Payload::SynthesisRequest {
                question,
                index,
                sub_question,
                evidence,
                seed,
            } => synthesis::synthesise(&self.thinker, question, *index, sub_question, evidence, *seed, &cancel).await,
            other => Err(AgentFailure::fatal(format!(
                "the reviewer cannot handle `{}`",
                other.kind()
            ))),
        }
    }
}
