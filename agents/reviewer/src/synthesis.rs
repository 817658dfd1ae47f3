//! The reviewer's synthesis role: what the evidence shows on one sub-question, every statement
//! citing the passages it rests on, then each citation judged against its statement in a second
//! call (a writer does not judge its own citations in the same breath).

use hypatia_agentkit::{ProseCheck, Thinker, escape_data, evidence_items, judge_statements};
use hypatia_core::PassageId;
use hypatia_research::{AgentFailure, EvidencePassage, Payload, SynthesisSection, SynthesisStatement};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const MAX_STATEMENTS: usize = 3;
const MAX_CITATIONS: usize = 3;

#[derive(Debug, Deserialize)]
struct ModelSection {
    statements: Vec<ModelStatement>,
    agreement: String,
    disagreement: String,
    gaps: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ModelStatement {
    text: String,
    citations: Vec<String>,
}

pub async fn synthesise(
    thinker: &Thinker,
    question: &str,
    index: u32,
    sub_question: &str,
    evidence: &[EvidencePassage],
    seed: u64,
    cancel: &CancellationToken,
) -> Result<Payload, AgentFailure> {
    if evidence.is_empty() {
        return Err(AgentFailure::task(format!(
            "no evidence bears on sub-question {}",
            index + 1
        )));
    }
    let ids: Vec<String> = evidence.iter().map(|p| p.passage_id.to_string()).collect();
    let context = json!({
        "question": escape_data(question),
        "sub_question": escape_data(sub_question),
        "evidence": evidence_items(evidence),
    });
    let prose = ProseCheck::new()
        .own_words("statements/*/text", 6)
        .field("agreement", 3)
        .field("disagreement", 3)
        .field("gaps/*", 4)
        .sources(evidence.iter().map(|p| (p.passage_id.as_str(), p.text.as_str())));
    let written = thinker
        .ask_uncut(
            ("synthesis_system", "synthesis_user"),
            &context,
            section_schema(&ids),
            &prose,
            seed,
            cancel,
        )
        .await?;
    let model: ModelSection = serde_json::from_value(written.value)
        .map_err(|error| AgentFailure::task(format!("the model's synthesis has the wrong shape: {error}")))?;
    let mut statements = Vec::new();
    for statement in model.statements {
        let mut citations: Vec<PassageId> = Vec::new();
        for id in statement.citations {
            // The schema enumerates the given ids; checked again.
            let passage = evidence
                .iter()
                .find(|p| p.passage_id.as_str() == id)
                .ok_or_else(|| AgentFailure::task(format!("the synthesis cites `{id}`, which it was not given")))?;
            if !citations.contains(&passage.passage_id) {
                citations.push(passage.passage_id.clone());
            }
        }
        statements.push(SynthesisStatement {
            text: statement.text.trim().to_owned(),
            citations,
            support: Vec::new(),
        });
    }
    let (judged, judge_usage) = judge_statements(thinker, &statements, evidence, seed.wrapping_add(1), cancel).await?;
    for (statement, judgements) in statements.iter_mut().zip(judged) {
        statement.support = judgements;
    }
    Ok(Payload::SynthesisReady {
        section: SynthesisSection {
            index,
            sub_question: sub_question.to_owned(),
            statements,
            agreement: model.agreement.trim().to_owned(),
            disagreement: model.disagreement.trim().to_owned(),
            gaps: model.gaps.iter().map(|g| g.trim().to_owned()).collect(),
        },
        usage: written.usage.plus(&judge_usage),
    })
}

fn section_schema(ids: &[String]) -> Value {
    let prose = |min: usize, max: usize| json!({ "type": "string", "minLength": min, "maxLength": max });
    json!({
        "type": "object",
        "properties": {
            "statements": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_STATEMENTS,
                "items": {
                    "type": "object",
                    "properties": {
                        "text": prose(20, 200),
                        "citations": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_CITATIONS,
                            "items": { "type": "string", "enum": ids },
                        },
                    },
                    "required": ["text", "citations"],
                    "additionalProperties": false,
                },
            },
            "agreement": prose(10, 160),
            "disagreement": prose(10, 160),
            "gaps": { "type": "array", "minItems": 1, "maxItems": 2, "items": prose(10, 140) },
        },
        "required": ["statements", "agreement", "disagreement", "gaps"],
        "additionalProperties": false,
    })
}
