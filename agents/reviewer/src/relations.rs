//! Contradictions, kept: pairs of passages from different papers on one sub-question judged agree,
//! contradict or unrelated. A pair the same model judged before (in any run of the project) is taken
//! from the project, not asked again; the rest are asked in one call and kept.

use hypatia_agentkit::{ProseCheck, Thinker, escape_data, evidence_items};
use hypatia_project::{Project, RelationRow};
use hypatia_research::{AgentFailure, CallUsage, EvidencePassage, PassageRelation, Payload, Relation};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Deserialize)]
struct ModelRelation {
    relation: String,
    reason: String,
}

fn pair_key(first: &EvidencePassage, second: &EvidencePassage) -> String {
    format!("{} ~ {}", first.passage_id, second.passage_id)
}

fn relation_of(row: &RelationRow, reused: bool) -> Result<PassageRelation, AgentFailure> {
    let parse = |id: &str| {
        id.parse()
            .map_err(|_| AgentFailure::fatal(format!("the project keeps a judgement of `{id}`, not a passage id")))
    };
    Ok(PassageRelation {
        first: parse(&row.first_id)?,
        second: parse(&row.second_id)?,
        relation: Relation::parse(&row.relation)
            .ok_or_else(|| AgentFailure::fatal(format!("the project keeps a relation `{}`", row.relation)))?,
        reason: row.reason.clone(),
        model: row.model.clone(),
        reused,
    })
}

fn store_failure(error: hypatia_project::ProjectError) -> AgentFailure {
    AgentFailure::fatal(format!("reading or writing the project's judgements: {error}"))
}

pub async fn relate(
    project: &Project,
    thinker: &Thinker,
    run_id: &str,
    index: u32,
    pairs: &[(EvidencePassage, EvidencePassage)],
    seed: u64,
    cancel: &CancellationToken,
) -> Result<Payload, AgentFailure> {
    let model = thinker.identity();
    let mut known: Vec<Option<PassageRelation>> = Vec::new();
    let mut ask: Vec<usize> = Vec::new();
    for (position, (first, second)) in pairs.iter().enumerate() {
        match project
            .passage_relation(&first.passage_id, &second.passage_id, &model)
            .await
            .map_err(store_failure)?
        {
            // Kept by this very run before it was interrupted: its own judgement, not a reuse.
            Some(row) => known.push(Some(relation_of(&row, row.run_id != run_id)?)),
            None => {
                known.push(None);
                ask.push(position);
            }
        }
    }
    let mut usage = CallUsage::default();
    if !ask.is_empty() {
        let keys: Vec<String> = ask.iter().map(|&i| pair_key(&pairs[i].0, &pairs[i].1)).collect();
        let context = json!({
            "pairs": ask.iter().zip(&keys).map(|(&i, key)| {
                let items = evidence_items(&[pairs[i].0.clone(), pairs[i].1.clone()]);
                json!({ "key": escape_data(key), "first": items[0], "second": items[1] })
            }).collect::<Vec<_>>(),
        });
        let prose = ProseCheck::new().field("relations/*/reason", 1);
        let answer = thinker
            .ask_uncut(
                ("relation_system", "relation_user"),
                &context,
                relations_schema(&keys),
                &prose,
                seed,
                cancel,
            )
            .await?;
        usage = answer.usage;
        let judged: std::collections::BTreeMap<String, ModelRelation> =
            serde_json::from_value(answer.value["relations"].clone())
                .map_err(|error| AgentFailure::task(format!("the model's relations have the wrong shape: {error}")))?;
        for (&position, key) in ask.iter().zip(&keys) {
            let answer = judged
                .get(key)
                .ok_or_else(|| AgentFailure::task(format!("the model did not judge the pair {key}")))?;
            let relation = Relation::parse(&answer.relation)
                .ok_or_else(|| AgentFailure::task(format!("`{}` is not a relation", answer.relation)))?;
            let (first, second) = &pairs[position];
            // Another task may have kept a judgement of the pair meanwhile: the project's is the one.
            let kept = project
                .keep_passage_relation(&RelationRow {
                    first_id: first.passage_id.to_string(),
                    second_id: second.passage_id.to_string(),
                    model: model.clone(),
                    relation: relation.as_str().to_owned(),
                    reason: answer.reason.trim().to_owned(),
                    run_id: run_id.to_owned(),
                    judged_at: String::new(),
                })
                .await
                .map_err(store_failure)?;
            known[position] = Some(relation_of(&kept, kept.run_id != run_id)?);
        }
    }
    Ok(Payload::RelationsReady {
        index,
        relations: known.into_iter().flatten().collect(),
        asked: u32::from(!ask.is_empty()),
        usage,
    })
}

/// One required property per pair key, each a relation and a reason: no pair left out or judged twice.
fn relations_schema(keys: &[String]) -> Value {
    let labels: Vec<&str> = Relation::ALL.iter().map(|r| r.as_str()).collect();
    let judgement = json!({
        "type": "object",
        "properties": {
            "relation": { "type": "string", "enum": labels },
            "reason": { "type": "string", "minLength": 5, "maxLength": 120 },
        },
        "required": ["relation", "reason"],
        "additionalProperties": false,
    });
    let properties: serde_json::Map<String, Value> = keys.iter().map(|key| (key.clone(), judgement.clone())).collect();
    json!({
        "type": "object",
        "properties": {
            "relations": {
                "type": "object",
                "properties": properties,
                "required": keys,
                "additionalProperties": false,
            },
        },
        "required": ["relations"],
        "additionalProperties": false,
    })
}
