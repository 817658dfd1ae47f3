use std::sync::Arc;
use std::time::{Duration, Instant};

use hypatia_llm::{CallControl, ChatMessage, ChatRequest, ErrorKind, Llm, LlmError, Sampling};
use hypatia_prompts::Prompts;
use hypatia_research::CallUsage;
use hypatia_research::{AgentFailure, FailureKind};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::ProseCheck;

/// How the agents call the model.
#[derive(Debug, Clone)]
pub struct ThinkerSettings {
    /// Temperature, top-p and max tokens for every call; the seed is set per task.
    pub sampling: Sampling,
    /// Model calls in flight at once, across all agents: the in-process
    /// engine batches them, and a server gets no more than this.
    pub parallel_calls: usize,
    /// A call that takes longer is abandoned and counts as a transient failure.
    pub call_timeout: Duration,
}

/// The model, the prompts and the call policy, shared (cheaply cloned) by every agent.
#[derive(Clone)]
pub struct Thinker {
    llm: Llm,
    prompts: Arc<Prompts>,
    settings: ThinkerSettings,
    slots: Arc<Semaphore>,
    /// The model's identity ([`hypatia_research::ModelIdentity::key`]), when the caller knows it.
    identity: Option<String>,
}

/// A validated answer and what it cost.
#[derive(Debug, Clone)]
pub struct Answer {
    pub value: Value,
    pub usage: CallUsage,
}

impl Thinker {
    pub fn new(llm: Llm, prompts: Arc<Prompts>, settings: ThinkerSettings) -> Thinker {
        let slots = Arc::new(Semaphore::new(settings.parallel_calls.max(1)));
        Thinker {
            llm,
            prompts,
            settings,
            slots,
            identity: None,
        }
    }

    /// The same thinker, knowing its model's identity (what kept judgements are keyed by).
    pub fn with_identity(self, identity: String) -> Thinker {
        Thinker {
            identity: Some(identity),
            ..self
        }
    }

    pub fn describe(&self) -> String {
        self.llm.describe()
    }

    /// What tells its model from any other: the identity it was given, else the backend's description.
    pub fn identity(&self) -> String {
        self.identity.clone().unwrap_or_else(|| self.describe())
    }

    pub fn render(&self, prompt: &str, context: &impl Serialize) -> Result<String, AgentFailure> {
        self.prompts
            .render(prompt, context)
            .map_err(|error| AgentFailure::fatal(format!("prompt `{prompt}`: {error}")))
    }

    /// [`Thinker::ask`] with room for the longest answer `schema` allows
    /// ([`hypatia_llm::answer_token_ceiling`]): a model that rambles is stopped by the schema's own
    /// bounds, never cut by the token limit into an answer that is no JSON. For answers whose every
    /// string is bounded (judgements, syntheses, answers).
    pub async fn ask_uncut(
        &self,
        prompts: (&str, &str),
        context: &impl Serialize,
        schema: Value,
        prose: &ProseCheck,
        seed: u64,
        cancel: &CancellationToken,
    ) -> Result<Answer, AgentFailure> {
        let max_tokens = hypatia_llm::answer_token_ceiling(&schema);
        self.ask(prompts, context, schema, prose, seed, max_tokens, cancel)
            .await
    }

    /// One model call whose answer must satisfy `schema` and `prose`: the prompts named
    /// (system, user), both rendered with `context`.
    #[allow(clippy::too_many_arguments)]
    pub async fn ask(
        &self,
        (system, user): (&str, &str),
        context: &impl Serialize,
        schema: Value,
        prose: &ProseCheck,
        seed: u64,
        max_tokens: u32,
        cancel: &CancellationToken,
    ) -> Result<Answer, AgentFailure> {
        let messages = vec![
            ChatMessage::system(self.render(system, context)?),
            ChatMessage::user(self.render(user, context)?),
        ];
        let sampling = Sampling {
            // Backends take 32-bit seeds; the low half of the task's seed.
            seed: Some(seed as u32),
            // Each task knows how long its answer can be; a lower configured limit would cut it.
            max_tokens,
            ..self.settings.sampling.clone()
        };
        let request = ChatRequest::new(messages).with_sampling(sampling).with_schema(schema);
        let _slot = tokio::select! {
            slot = self.slots.acquire() => slot.map_err(|_| AgentFailure::fatal("the model is shut down"))?,
            _ = cancel.cancelled() => return Err(cancelled()),
        };
        let started = Instant::now();
        let control = CallControl {
            cancel: cancel.child_token(),
            stream: None,
        };
        let stop = control.cancel.clone();
        let check = |answer: &Value| prose.check(answer);
        let call = self.llm.complete_json_checked(request, control, &check);
        let answer = match tokio::time::timeout(self.settings.call_timeout, call).await {
            Ok(answer) => answer.map_err(failure_of)?,
            Err(_) => {
                stop.cancel();
                return Err(AgentFailure::new(
                    FailureKind::Transient,
                    format!(
                        "the model call took longer than {} s",
                        self.settings.call_timeout.as_secs()
                    ),
                ));
            }
        };
        Ok(Answer {
            value: answer.value,
            usage: CallUsage {
                prompt_tokens: u64::from(answer.usage.prompt_tokens),
                cached_prompt_tokens: u64::from(answer.usage.cached_prompt_tokens),
                completion_tokens: u64::from(answer.usage.completion_tokens),
                ms: started.elapsed().as_millis() as u64,
                attempts: answer.attempts,
            },
        })
    }
}

fn cancelled() -> AgentFailure {
    AgentFailure::new(FailureKind::Cancelled, "cancelled")
}

/// Model errors as agent failures: what the run does next depends on the kind.
fn failure_of(error: LlmError) -> AgentFailure {
    let kind = match error.kind() {
        ErrorKind::Transient => FailureKind::Transient,
        // This call cannot succeed, but the next one may: skip the task.
        ErrorKind::InvalidOutput | ErrorKind::ContextTooLong => FailureKind::Task,
        // The model or the server refuses everything (a missing model, a bad key): stop the run.
        ErrorKind::Permanent => FailureKind::Fatal,
        ErrorKind::Cancelled => FailureKind::Cancelled,
    };
    AgentFailure::new(kind, format!("model call failed: {error}"))
}
