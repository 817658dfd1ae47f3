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
use hypatia_research::{EvidencePassage, Hypothesis};
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub use schema::{MAX_CITATIONS, hypothesis_schema};

/// Room for the four fields at their longest, in any tokenizer we ship with.
const MAX_ANSWER_TOKENS: u32 = 1500;

pub struct HypothesisAgent {
    thinker: Thinker,
}

/// The hypothesis to write: its id and round, and what it revises.
struct Target<'a> {
    id: &'a str,
    round: u32,
    parent: Option<&'a Hypothesis>,
}

#[derive(Debug, Deserialize)]
struct Draft {
    statement: String,
    rationale: String,
    prediction: String,
    experiment: String,
    citations: Vec<String>,
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
        let Target { id, round, parent } = target;
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
                hypothesis_schema(&allowed),
                &prose,
                seed,
                MAX_ANSWER_TOKENS,
                cancel,
            )
            .await?;
        let draft: Draft = serde_json::from_value(answer.value)
            .map_err(|error| AgentFailure::task(format!("the model's hypothesis has the wrong shape: {error}")))?;
        let citations = checked_citations(&draft.citations, &allowed)?;
        let hypothesis = Hypothesis {
            id: id.to_owned(),
            round,
            parent: parent.map(|p| p.id.clone()),
            statement: draft.statement.trim().to_owned(),
            rationale: draft.rationale.trim().to_owned(),
            prediction: draft.prediction.trim().to_owned(),
            experiment: draft.experiment.trim().to_owned(),
            citations,
        };
        Ok(Payload::HypothesisReady {
            hypothesis,
            usage: answer.usage,
        })
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
                });
                self.compose(
                    Target {
                        id: hypothesis_id,
                        round: 1,
                        parent: None,
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
}
