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
    /// `None` when the backend could not see the first token arrive: a server that sent the answer
    /// whole (no stream), or a stream that delivered it in one piece.
    #[serde(serialize_with = "as_optional_millis")]
    pub time_to_first_token: Option<Duration>,
    #[serde(serialize_with = "as_millis")]
    pub total_time: Duration,
}

impl Usage {
    /// Completion tokens per second after the first token arrived; when that moment is unknown, over
    /// the whole call (prompt processing included, so a lower bound).
    pub fn tokens_per_second(&self) -> f64 {
        let (tokens, seconds) = match self.time_to_first_token {
            Some(first) => (
                self.completion_tokens.saturating_sub(1),
                self.total_time.saturating_sub(first).as_secs_f64(),
            ),
            None => (self.completion_tokens, self.total_time.as_secs_f64()),
        };
        if tokens == 0 || seconds <= 0.0 {
            return 0.0;
        }
        f64::from(tokens) / seconds
    }

    /// Whether [`Usage::tokens_per_second`] counts decoding alone (the first token's time is known).
    pub fn decode_rate_measured(&self) -> bool {
        self.time_to_first_token.is_some()
    }

    /// Adds another call's figures (re-asks count towards the caller's cost).
    pub fn accumulate(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.cached_prompt_tokens += other.cached_prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.total_time += other.total_time;
        // Time to the first token is the first call's: a re-ask is not what the caller waited for first.
    }
}

fn as_millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64() * 1000.0)
}

fn as_optional_millis<S: serde::Serializer>(duration: &Option<Duration>, serializer: S) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => as_millis(duration, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(completion_tokens: u32, first: Option<u64>, total: u64) -> Usage {
        Usage {
            completion_tokens,
            time_to_first_token: first.map(Duration::from_millis),
            total_time: Duration::from_millis(total),
            ..Usage::default()
        }
    }

    #[test]
    fn decode_rate_counts_tokens_after_the_first() {
        assert!((usage(11, Some(500), 1500).tokens_per_second() - 10.0).abs() < 1e-9);
    }

    #[test]
    fn an_answer_received_whole_is_rated_over_the_whole_call() {
        // A server's non-streamed answer: its first byte is its last, so no decode span is known.
        let whole = usage(100, None, 4000);
        assert!((whole.tokens_per_second() - 25.0).abs() < 1e-9);
        assert!(!whole.decode_rate_measured());
        assert_eq!(usage(0, None, 10).tokens_per_second(), 0.0);
        assert_eq!(usage(5, Some(10), 10).tokens_per_second(), 0.0);
    }
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
