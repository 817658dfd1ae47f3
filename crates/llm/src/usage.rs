use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its answer (end-of-generation token, or the JSON grammar completed).
    Stop,
    /// A stop string was generated.
    StopString,
    /// `max_tokens` was reached.
    Length,
}

/// Figures for one call. Token counts come from the backend (llama.cpp's tokenizer, or the server's
/// `usage` object); times are measured by the backend from the moment the request was accepted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    /// Prompt tokens whose KV cache was reused rather than computed (in-process backend only).
    pub cached_prompt_tokens: u32,
    pub completion_tokens: u32,
    #[serde(serialize_with = "as_millis")]
    pub time_to_first_token: Duration,
    #[serde(serialize_with = "as_millis")]
    pub total_time: Duration,
}

impl Usage {
    /// Completion tokens per second after the first token arrived.
    pub fn tokens_per_second(&self) -> f64 {
        let decode = self.total_time.saturating_sub(self.time_to_first_token).as_secs_f64();
        if self.completion_tokens <= 1 || decode <= 0.0 {
            return 0.0;
        }
        f64::from(self.completion_tokens - 1) / decode
    }

    /// Adds another call's figures (re-asks count towards the caller's cost).
    pub fn accumulate(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.cached_prompt_tokens += other.cached_prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.total_time += other.total_time;
    }
}

fn as_millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64() * 1000.0)
}

/// What a backend returns: the raw text of the answer, before reasoning is stripped or JSON parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub text: String,
    pub finish: FinishReason,
    pub usage: Usage,
    /// The model that answered, as the backend names it.
    pub model: String,
}
