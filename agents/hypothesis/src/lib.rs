//! The hypothesis agent. It composes a hypothesis around a pair of
//! "inspiration" passages from different papers, or revises one in answer
//! to critiques. It can cite only the passages it was given: the answer's
//! schema enumerates their ids (so a grammar-constrained model cannot write
//! another), and the parsed answer is checked against them again.

mod schema;

use std::collections::BTreeSet;
use std::sync::Arc;

use hypatia_agentkit::{ProseCheck, Thinker, escape_data, evidence_items};
use hypatia_bus::Agent;
use hypatia_core::PassageId;
use hypatia_research::{AgentFailure, AgentName, Envelope, Payload};
use hypatia_research::{EvidencePassage, Gap, Hypothesis};
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub use schema::{MAX_CITATIONS, NO_GAP, hypothesis_schema};

/// Room for the four fields at their longest, in any tokenizer we ship with.
const MAX_ANSWER_TOKENS: u32 = 1500;

pub struct HypothesisAgent {
    thinker: Thinker,
}

/// The hypothesis to write: its id and round, what it revises, and the gaps it may address.
struct Target<'a> {
    id: &'a str,
    round: u32,
    parent: Option<&'a Hypothesis>,
    gaps: &'a [Gap],
}

#[derive(Debug, Deserialize)]
struct Draft {
    statement: String,
    rationale: String,
    prediction: String,
    experiment: String,
    citations: Vec<String>,
    /// Present when the request gave gaps: one of their ids, or [`NO_GAP`].
    #[serde(default)]
    gap: Option<String>,
}

impl HypothesisAgent {
    pub fn new(thinker: Thinker) -> HypothesisAgent {
        HypothesisAgent { thinker }
    }

    async fn compose(
        &self,
        target: Target<'_>,
        user_prompt: &str,
        context: serde_json::Value,
        evidence: &[EvidencePassage],
        seed: u64,
        cancel: &CancellationToken,
    ) -> Result<Payload, AgentFailure> {
        let Target {
            id,
            round,
            parent,
            gaps,
        } = target;
        if evidence.is_empty() {
            return Err(AgentFailure::task("no evidence to compose a hypothesis from"));
        }
        let allowed: Vec<String> = evidence.iter().map(|p| p.passage_id.to_string()).collect();
        // A hypothesis is the model's own claim: not a passage id, a number, or an abstract copied out.
        let prose = ProseCheck::new()
            .own_words("statement", 3)
            .own_words("prediction", 3)
            .field("rationale", 3)
            .field("experiment", 3)
            .sources(
                allowed
                    .iter()
                    .map(String::as_str)
                    .zip(evidence.iter().map(|p| p.text.as_str())),
            );
        let answer = self
            .thinker
            .ask(
                ("hypothesis_system", user_prompt),
                &context,
                hypothesis_schema(&allowed, &gaps.iter().map(|g| g.id.as_str()).collect::<Vec<_>>()),
                &prose,
                seed,
                MAX_ANSWER_TOKENS,
                cancel,
            )
            .await?;
        let draft: Draft = serde_json::from_value(answer.value)
            .map_err(|error| AgentFailure::task(format!("the model's hypothesis has the wrong shape: {error}")))?;
        let citations = checked_citations(&draft.citations, &allowed)?;
        // A revision answers critiques of its parent: it addresses the gap its parent did.
        let gap = match parent {
            Some(parent) => parent.gap.clone(),
            None => checked_gap(draft.gap.as_deref(), gaps)?,
        };
        let hypothesis = Hypothesis {
            id: id.to_owned(),
            round,
            parent: parent.map(|p| p.id.clone()),
            statement: draft.statement.trim().to_owned(),
            rationale: draft.rationale.trim().to_owned(),
            prediction: draft.prediction.trim().to_owned(),
            experiment: draft.experiment.trim().to_owned(),
            citations,
            gap,
        };
        Ok(Payload::HypothesisReady {
            hypothesis,
            usage: answer.usage,
        })
    }
}

/// The gap the model named, one of `gaps` (the schema enumerates them; checked again); none when it
/// was given none or answered [`NO_GAP`].
fn checked_gap(named: Option<&str>, gaps: &[Gap]) -> Result<Option<Gap>, AgentFailure> {
    match named {
        None if gaps.is_empty() => Ok(None),
        None => Err(AgentFailure::task("the model's hypothesis names no gap")),
        Some(NO_GAP) => Ok(None),
        Some(id) => gaps.iter().find(|g| g.id == id).cloned().map(Some).ok_or_else(|| {
            AgentFailure::task(format!(
                "the model's hypothesis addresses gap `{id}`, which it was not given"
            ))
        }),
    }
}

/// The cited ids, deduplicated in order; any id outside `allowed` is refused.
fn checked_citations(cited: &[String], allowed: &[String]) -> Result<Vec<PassageId>, AgentFailure> {
    let mut seen = BTreeSet::new();
    let mut citations = Vec::new();
    for id in cited {
        if !allowed.contains(id) {
            return Err(AgentFailure::task(format!(
                "the model cited `{id}`, which is not among the passages it was given"
            )));
        }
        if seen.insert(id.clone()) {
            let passage = id
                .parse()
                .map_err(|error| AgentFailure::task(format!("cited id `{id}`: {error}")))?;
            citations.push(passage);
        }
    }
    if citations.is_empty() {
        return Err(AgentFailure::task("the model's hypothesis cites no passage"));
    }
    Ok(citations)
}

impl Agent for HypothesisAgent {
    fn name(&self) -> AgentName {
        AgentName::Hypothesis
    }

    async fn handle(self: Arc<Self>, request: Envelope, cancel: CancellationToken) -> Result<Payload, AgentFailure> {
        match &request.payload {
            Payload::GenerateRequest {
                question,
                hypothesis_id,
                evidence,
                inspiration,
                gaps,
                seed,
            } => {
                let items = evidence_items(evidence);
                let inspiration: Vec<_> = items
                    .iter()
                    .filter(|item| inspiration.iter().any(|id| escape_data(id.as_str()) == item.id))
                    .cloned()
                    .collect();
                let context = json!({
                    "question": escape_data(question), "evidence": items, "inspiration": inspiration,
                    "gaps": gaps.iter().map(|g| json!({
                        "id": g.id, "sub_question": escape_data(&g.sub_question), "text": escape_data(&g.text),
                    })).collect::<Vec<_>>(),
                });
                self.compose(
                    Target {
                        id: hypothesis_id,
                        round: 1,
                        parent: None,
                        gaps,
                    },
                    "generate_user",
                    context,
                    evidence,
                    *seed,
                    &cancel,
                )
                .await
            }
            Payload::ReviseRequest {
                question,
                hypothesis_id,
                round,
                parent,
                critiques,
                evidence,
                seed,
            } => {
                let context = json!({
                    "question": escape_data(question),
                    "evidence": evidence_items(evidence),
                    "parent": {
                        "statement": escape_data(&parent.statement),
                        "rationale": escape_data(&parent.rationale),
                        "prediction": escape_data(&parent.prediction),
                        "experiment": escape_data(&parent.experiment),
                        "citations": parent.citations.iter().map(|c| escape_data(c.as_str())).collect::<Vec<_>>(),
                    },
                    "critiques": critiques.iter().map(|c| escape_data(c)).collect::<Vec<_>>(),
                });
                self.compose(
                    Target {
                        id: hypothesis_id,
                        round: *round,
                        parent: Some(parent),
                        gaps: &[],
                    },
                    "revise_user",
                    context,
                    evidence,
                    *seed,
                    &cancel,
                )
                .await
            }
            other => Err(AgentFailure::fatal(format!(
                "the hypothesis agent cannot handle `{}`",
                other.kind()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_outside_the_evidence_are_refused_and_repeats_dropped() {
        let allowed = vec!["p000000000001#0".to_owned(), "p000000000002#3".to_owned()];
        let ok = checked_citations(&[allowed[1].clone(), allowed[1].clone(), allowed[0].clone()], &allowed);
        let ok: Vec<String> = ok.expect("valid").iter().map(|p| p.to_string()).collect();
        assert_eq!(ok, [allowed[1].clone(), allowed[0].clone()]);
        let invented = checked_citations(&["p0000000000ff#0".to_owned()], &allowed);
        assert!(invented.is_err_and(|e| e.message.contains("p0000000000ff#0")));
        assert!(checked_citations(&[], &allowed).is_err());
    }

    #[test]
    fn a_named_gap_must_be_one_given() {
        let gaps = vec![Gap {
            id: "1.2".into(),
            sub_question: "What is known?".into(),
            text: "No trial compares the two.".into(),
        }];
        assert_eq!(checked_gap(Some("1.2"), &gaps).expect("given"), Some(gaps[0].clone()));
        assert_eq!(checked_gap(Some(NO_GAP), &gaps).expect("none"), None);
        assert_eq!(checked_gap(None, &[]).expect("none given"), None);
        assert!(checked_gap(Some("3.1"), &gaps).is_err_and(|e| e.message.contains("3.1")));
        assert!(checked_gap(None, &gaps).is_err());
    }
}
