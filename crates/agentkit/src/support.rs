//! Citation checks: does each cited passage support, contradict or not address its statement?
//!
//! The reviewer asks this inside its review (one call per hypothesis); [`judge_support`] asks it on
//! its own, for a quick answer's citations and for the SciFact evaluation of the judge. Either way
//! the answer is an object with one required property per cited passage (its id), each a label and
//! a reason: a grammar-constrained model cannot leave one out or judge one twice.

use std::collections::BTreeMap;

use hypatia_core::PassageId;
use hypatia_research::{AgentFailure, CallUsage, EvidencePassage, Support, SupportJudgement, SynthesisStatement};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::{ProseCheck, Thinker, escape_data, evidence_items_cut};

/// Where the reasons are in an answer, as a [`ProseCheck`] path.
pub const SUPPORT_REASON_PATH: &str = "support/*/reason";

#[derive(Debug, Deserialize)]
struct ModelJudgement {
    label: String,
    reason: String,
}

/// The `support` property of an answer's schema: one required property per key in `keys` (a passage
/// id, or a statement's citation key), each a label and a reason.
pub fn support_schema(keys: &[String]) -> Value {
    let labels: Vec<&str> = Support::ALL.iter().map(|label| label.as_str()).collect();
    let judgement = json!({
        "type": "object",
        "properties": {
            "label": { "type": "string", "enum": labels },
            "reason": { "type": "string", "minLength": 5, "maxLength": 120 },
        },
        "required": ["label", "reason"],
        "additionalProperties": false,
    });
    let properties: serde_json::Map<String, Value> = keys.iter().map(|key| (key.clone(), judgement.clone())).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": keys,
        "additionalProperties": false,
    })
}

/// Adds what a schema cannot state: every reason in words.
pub fn check_support(prose: ProseCheck) -> ProseCheck {
    // One word of prose at least: small models give terse reasons, and a label needs no essay.
    prose.field(SUPPORT_REASON_PATH, 1)
}

/// The judgements in `answer["support"]`, in the order of `cited`; an id the answer does not judge
/// (which [`check_support`] has already refused) is an error, never a guess.
pub fn read_support(answer: &Value, cited: &[EvidencePassage]) -> Result<Vec<SupportJudgement>, AgentFailure> {
    let judged = read_keyed(answer)?;
    cited
        .iter()
        .map(|passage| judgement(&judged, passage.passage_id.as_str(), &passage.passage_id))
        .collect()
}

/// (key, label, reason) of every judgement in `answer["support"]`.
fn read_keyed(answer: &Value) -> Result<Vec<(String, Support, String)>, AgentFailure> {
    let judged: BTreeMap<String, ModelJudgement> =
        serde_json::from_value(answer.get("support").cloned().unwrap_or(Value::Null)).map_err(|error| {
            AgentFailure::task(format!("the model's citation judgements have the wrong shape: {error}"))
        })?;
    judged
        .into_iter()
        .map(|(key, j)| {
            let label = Support::parse(&j.label)
                .ok_or_else(|| AgentFailure::task(format!("`{}` is not a support label", j.label)))?;
            Ok((key, label, j.reason.trim().to_owned()))
        })
        .collect()
}

/// The judgement under `key`, of the passage `id`.
fn judgement(
    judged: &[(String, Support, String)],
    key: &str,
    id: &PassageId,
) -> Result<SupportJudgement, AgentFailure> {
    let (_, label, reason) = judged
        .iter()
        .find(|(k, _, _)| k == key)
        .ok_or_else(|| AgentFailure::task(format!("the model did not judge the citation {key}")))?;
    Ok(SupportJudgement {
        passage_id: id.clone(),
        label: *label,
        reason: reason.clone(),
    })
}

/// One model call judging each of `cited` (its text cut at `passage_chars`) against `statement`.
pub async fn judge_support(
    thinker: &Thinker,
    statement: &str,
    cited: &[EvidencePassage],
    passage_chars: usize,
    seed: u64,
    cancel: &CancellationToken,
) -> Result<(Vec<SupportJudgement>, CallUsage), AgentFailure> {
    if cited.is_empty() {
        return Ok((Vec::new(), CallUsage::default()));
    }
    let ids: Vec<String> = cited.iter().map(|p| p.passage_id.as_str().to_owned()).collect();
    let context = json!({ "statement": escape_data(statement), "cited": evidence_items_cut(cited, passage_chars) });
    let answer = ask_support(thinker, "support_user", &context, &ids, seed, cancel).await?;
    Ok((read_support(&answer.value, cited)?, answer.usage))
}

/// One call judging each of `keys`, its user prompt rendered from `context`.
async fn ask_support(
    thinker: &Thinker,
    user: &str,
    context: &Value,
    keys: &[String],
    seed: u64,
    cancel: &CancellationToken,
) -> Result<crate::Answer, AgentFailure> {
    let schema = json!({
        "type": "object",
        "properties": { "support": support_schema(keys) },
        "required": ["support"],
        "additionalProperties": false,
    });
    thinker
        .ask_uncut(
            ("support_system", user),
            context,
            schema,
            &check_support(ProseCheck::new()),
            seed,
            cancel,
        )
        .await
}

/// The key a citation of statement `number` (1-based) of `passage` is judged under.
pub fn statement_key(number: usize, passage: &PassageId) -> String {
    format!("{number}:{passage}")
}

/// One model call judging every citation of every statement against its own statement: the answer
/// names each key ([`statement_key`]) exactly once. The judgements per statement, in citation order;
/// no call is made when no statement cites anything.
pub async fn judge_statements(
    thinker: &Thinker,
    statements: &[SynthesisStatement],
    evidence: &[EvidencePassage],
    seed: u64,
    cancel: &CancellationToken,
) -> Result<(Vec<Vec<SupportJudgement>>, CallUsage), AgentFailure> {
    let keys: Vec<String> = statements
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.citations.iter().map(move |id| statement_key(i + 1, id)))
        .collect();
    if keys.is_empty() {
        return Ok((vec![Vec::new(); statements.len()], CallUsage::default()));
    }
    let cited: Vec<EvidencePassage> = evidence
        .iter()
        .filter(|p| statements.iter().any(|s| s.citations.contains(&p.passage_id)))
        .cloned()
        .collect();
    let context = json!({
        "cited": evidence_items_cut(&cited, crate::PROMPT_PASSAGE_CHARS),
        "statements": statements.iter().enumerate().map(|(i, s)| json!({
            "number": i + 1,
            "text": escape_data(&s.text),
            "keys": s.citations.iter().map(|id| statement_key(i + 1, id)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let answer = ask_support(thinker, "support_statements_user", &context, &keys, seed, cancel).await?;
    let judged = read_keyed(&answer.value)?;
    let per_statement = statements
        .iter()
        .enumerate()
        .map(|(i, statement)| {
            statement
                .citations
                .iter()
                .map(|id| judgement(&judged, &statement_key(i + 1, id), id))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((per_statement, answer.usage))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(id: &str) -> EvidencePassage {
        let passage_id = id.parse::<PassageId>().expect("a passage id");
        EvidencePassage {
            paper_id: passage_id.paper_id(),
            passage_id,
            title: "T".into(),
            year: None,
            text: "x".into(),
            score: 0.0,
            location: None,
        }
    }

    #[test]
    fn judgements_are_read_in_citation_order_and_a_missing_one_is_refused() {
        let cited = [passage("p0a1b2c3d4e5f#0"), passage("p99aa88bb77cc#2")];
        let answer = json!({"support": {
            "p99aa88bb77cc#2": {"label": "contradicts", "reason": "It reports the opposite."},
            "p0a1b2c3d4e5f#0": {"label": "supports", "reason": "It shows the effect."},
        }});
        let judged = read_support(&answer, &cited).expect("read");
        assert_eq!(judged[0].label, Support::Supports);
        assert_eq!(judged[1].label, Support::Contradicts);
        assert_eq!(judged[1].reason, "It reports the opposite.");
        let partial = json!({"support": {"p0a1b2c3d4e5f#0": {"label": "supports", "reason": "Yes it does."}}});
        let error = read_support(&partial, &cited).expect_err("one left out");
        assert!(error.message.contains("p99aa88bb77cc#2"), "{}", error.message);
    }

    #[test]
    fn the_schema_requires_every_cited_id_once_with_a_label() {
        let ids = vec!["p0a1b2c3d4e5f#0".to_owned(), "p99aa88bb77cc#2".to_owned()];
        let schema = support_schema(&ids);
        assert_eq!(schema["required"], json!(ids), "every cited passage is judged");
        assert_eq!(schema["additionalProperties"], json!(false), "and nothing else");
        let labels = &schema["properties"]["p0a1b2c3d4e5f#0"]["properties"]["label"]["enum"];
        assert_eq!(labels, &json!(["supports", "contradicts", "unrelated"]));
    }
}
