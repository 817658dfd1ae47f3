use std::sync::Arc;

use hypatia_agentkit::{ProseCheck, Thinker, escape_data};
use hypatia_bus::Agent;
use hypatia_research::{AgentFailure, AgentName, Envelope, Payload};
use hypatia_research::{Plan, SubQuestion};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const MAX_SUB_QUESTIONS: usize = 4;
const MAX_QUERIES_PER_SUB_QUESTION: usize = 3;
const PLAN_TOKENS: u32 = 800;

/// Answers plan requests with the model.
pub struct PlannerAgent {
    thinker: Thinker,
}

#[derive(Debug, Deserialize)]
struct ModelPlan {
    sub_questions: Vec<ModelSubQuestion>,
}

#[derive(Debug, Deserialize)]
struct ModelSubQuestion {
    question: String,
    queries: Vec<String>,
}

impl PlannerAgent {
    pub fn new(thinker: Thinker) -> PlannerAgent {
        PlannerAgent { thinker }
    }

    async fn plan(&self, question: &str, seed: u64, cancel: &CancellationToken) -> Result<Payload, AgentFailure> {
        let context = json!({ "question": escape_data(question) });
        let answer = self
            .thinker
            .ask(
                ("plan_system", "plan_user"),
                &context,
                plan_schema(),
                // Junk queries are dropped in `plan_from`; a sub-question must be a question.
                &ProseCheck::new().field("sub_questions/*/question", 2),
                seed,
                PLAN_TOKENS,
                cancel,
            )
            .await?;
        let model: ModelPlan = serde_json::from_value(answer.value)
            .map_err(|error| AgentFailure::task(format!("the model's plan has the wrong shape: {error}")))?;
        Ok(Payload::PlanReady {
            plan: plan_from(question, model),
            usage: answer.usage,
        })
    }
}

/// The plan: the question is always the first query, so a plan of poor
/// queries still searches for what was asked.
fn plan_from(question: &str, model: ModelPlan) -> Plan {
    let clean = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let sub_questions: Vec<SubQuestion> = model
        .sub_questions
        .into_iter()
        .take(MAX_SUB_QUESTIONS)
        .map(|sub| SubQuestion {
            question: clean(&sub.question),
            queries: sub
                .queries
                .iter()
                .map(|q| clean(q))
                // A query with no word in it (", ") searches for nothing.
                .filter(|q| q.chars().filter(|c| c.is_alphanumeric()).count() >= 2)
                .take(MAX_QUERIES_PER_SUB_QUESTION)
                .collect(),
        })
        .filter(|sub| !sub.question.is_empty() || !sub.queries.is_empty())
        .collect();
    let mut queries = vec![clean(question)];
    for query in sub_questions.iter().flat_map(|sub| &sub.queries) {
        if !queries.iter().any(|q| q.eq_ignore_ascii_case(query)) {
            queries.push(query.clone());
        }
    }
    Plan {
        sub_questions,
        queries,
        fallback: None,
    }
}

fn plan_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "sub_questions": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_SUB_QUESTIONS,
                "items": {
                    "type": "object",
                    "properties": {
                        "question": { "type": "string", "minLength": 5, "maxLength": 200 },
                        "queries": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_QUERIES_PER_SUB_QUESTION,
                            "items": { "type": "string", "minLength": 2, "maxLength": 80 },
                        },
                    },
                    "required": ["question", "queries"],
                    "additionalProperties": false,
                },
            },
        },
        "required": ["sub_questions"],
        "additionalProperties": false,
    })
}

impl Agent for PlannerAgent {
    fn name(&self) -> AgentName {
        AgentName::Planner
    }

    async fn handle(self: Arc<Self>, request: Envelope, cancel: CancellationToken) -> Result<Payload, AgentFailure> {
        match &request.payload {
            Payload::PlanRequest { question, seed } => self.plan(question, *seed, &cancel).await,
            other => Err(AgentFailure::fatal(format!(
                "the planner cannot handle `{}`",
                other.kind()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_leads_and_queries_are_cleaned_and_deduplicated() {
        let model = ModelPlan {
            sub_questions: vec![
                ModelSubQuestion {
                    question: " What  helps? ".into(),
                    queries: vec!["retrieval  augmentation".into(), "  ".into(), "LLM agents".into()],
                },
                ModelSubQuestion {
                    question: "More".into(),
                    queries: vec!["llm AGENTS".into()],
                },
            ],
        };
        let plan = plan_from("Do LLM agents help science?", model);
        assert_eq!(
            plan.queries,
            ["Do LLM agents help science?", "retrieval augmentation", "LLM agents"]
        );
        assert_eq!(plan.sub_questions[0].question, "What helps?");
        assert_eq!(plan.sub_questions[0].queries.len(), 2);
    }
}
