use std::sync::Arc;

use hypatia_prompts::Prompts;
use serde_json::Value;

use crate::bounds::bounded_for_budget;
use crate::structured::CompiledSchema;
use crate::think::strip_reasoning;
use crate::{CallControl, ChatBackend, ChatMessage, ChatRequest, FinishReason, LlmError, Role, Usage};

/// How many times a schema-violating answer is sent back with the reason before giving up.
pub const DEFAULT_MAX_REASKS: u32 = 2;

/// How much of an invalid answer is quoted back to the model when re-asking.
const QUOTED_ANSWER_CHARS: usize = 2000;

/// A plain-text answer, reasoning removed.
#[derive(Debug, Clone, PartialEq)]
pub struct TextAnswer {
    pub text: String,
    pub finish: FinishReason,
    pub usage: Usage,
    pub model: String,
}

/// A JSON answer that parsed and satisfied the request's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonAnswer {
    pub value: Value,
    /// Figures summed over every attempt, re-asks included.
    pub usage: Usage,
    /// 1 when the first answer was valid.
    pub attempts: u32,
    pub model: String,
}

/// The handle agents hold: any backend, plus reasoning stripping and validated structured output.
#[derive(Clone)]
pub struct Llm {
    backend: Arc<dyn ChatBackend>,
    prompts: Arc<Prompts>,
    max_reasks: u32,
}

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field("backend", &self.backend.describe())
            .finish()
    }
}

impl Llm {
    pub fn new(backend: Arc<dyn ChatBackend>, prompts: Arc<Prompts>) -> Self {
        Llm {
            backend,
            prompts,
            max_reasks: DEFAULT_MAX_REASKS,
        }
    }

    pub fn with_max_reasks(mut self, max_reasks: u32) -> Self {
        self.max_reasks = max_reasks;
        self
    }

    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// A free-text answer. Requests with a schema must use [`Llm::complete_json`].
    pub async fn complete(&self, request: ChatRequest, control: CallControl) -> Result<TextAnswer, LlmError> {
        if request.schema.is_some() {
            return Err(LlmError::Permanent(
                "a request with a schema must be answered with complete_json".into(),
            ));
        }
        let completion = self.backend.chat(request, control).await?;
        Ok(TextAnswer {
            text: strip_reasoning(&completion.text),
            finish: completion.finish,
            usage: completion.usage,
            model: completion.model,
        })
    }

    /// A JSON answer that satisfies `request.schema`. An invalid answer is sent back to the model with
    /// what is wrong, at most `max_reasks` times; after that the error is [`LlmError::InvalidOutput`].
    pub async fn complete_json(&self, request: ChatRequest, control: CallControl) -> Result<JsonAnswer, LlmError> {
        self.complete_json_checked(request, control, &|_| Ok(())).await
    }

    /// Like [`Llm::complete_json`], and the answer must also pass `check`: what a schema cannot say
    /// (a statement that is a bare id, a copied passage). A refusal is re-asked with its reason, like
    /// invalid JSON; an answer that never passes is an [`LlmError::InvalidOutput`], never a result.
    pub async fn complete_json_checked(
        &self,
        request: ChatRequest,
        control: CallControl,
        check: &(dyn Fn(&Value) -> Result<(), String> + Send + Sync),
    ) -> Result<JsonAnswer, LlmError> {
        let Some(schema) = request.schema.as_ref() else {
            return Err(LlmError::Permanent(
                "complete_json needs a request with a schema".into(),
            ));
        };
        let schema = CompiledSchema::new(schema)?;
        let mut conversation = request.clone();
        // The model is held to a schema whose strings and arrays end within the token budget, so an
        // answer closes instead of being cut off; it is validated against the caller's own schema.
        conversation.schema = Some(bounded_for_budget(schema.schema(), request.sampling.max_tokens));
        // The grammar or response_format constrains the syntax; the model still needs to read the schema
        // to fill it with the right content.
        let instruction = self
            .prompts
            .render(
                "json_answer",
                &serde_json::json!({ "schema": schema.schema().to_string() }),
            )
            .map_err(|error| LlmError::Permanent(error.to_string()))?;
        match conversation
            .messages
            .iter_mut()
            .find(|message| message.role == Role::System)
        {
            Some(system) => {
                system.content.push_str("\n\n");
                system.content.push_str(&instruction);
            }
            None => conversation.messages.insert(0, ChatMessage::system(instruction)),
        }
        let mut usage = Usage::default();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            // Only the first attempt streams: a re-ask's tokens would read as a second answer.
            let call_control = if attempt == 1 {
                control.clone()
            } else {
                control.without_stream()
            };
            let completion = self.backend.chat(conversation.clone(), call_control).await?;
            if attempt == 1 {
                usage = completion.usage.clone();
            } else {
                usage.accumulate(&completion.usage);
            }
            let model = completion.model.clone();
            let checked = schema
                .parse_answer(&completion.text)
                .and_then(|value| check(&value).map(|()| value));
            let problem = match checked {
                Ok(value) => {
                    return Ok(JsonAnswer {
                        value,
                        usage,
                        attempts: attempt,
                        model,
                    });
                }
                Err(problem) if completion.finish == FinishReason::Length => format!(
                    "{problem}; the answer was cut off at the limit of {} tokens",
                    conversation.sampling.max_tokens
                ),
                Err(problem) => problem,
            };
            tracing::debug!(model = %model, attempt, problem = %problem,
                answer = %completion.text.chars().take(300).collect::<String>(), "invalid structured answer");
            if attempt > self.max_reasks {
                return Err(LlmError::InvalidOutput(format!("after {attempt} attempts: {problem}")));
            }
            let reask = self
                .prompts
                .render(
                    "reask_invalid_json",
                    &serde_json::json!({ "problem": problem, "schema": schema.schema().to_string() }),
                )
                .map_err(|error| LlmError::Permanent(error.to_string()))?;
            let quoted: String = strip_reasoning(&completion.text)
                .chars()
                .take(QUOTED_ANSWER_CHARS)
                .collect();
            conversation.messages.push(ChatMessage::assistant(quoted));
            conversation.messages.push(ChatMessage::user(reask));
            // Each attempt draws with its own seed (still reproducible): a small model re-asked with the
            // same seed tends to give the same answer again, reason or not.
            if let Some(seed) = request.sampling.seed {
                conversation.sampling.seed = Some(seed.wrapping_add(attempt.wrapping_mul(0x9E37_79B9)));
            }
        }
    }
}
