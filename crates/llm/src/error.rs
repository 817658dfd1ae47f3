use std::time::Duration;

/// Whether trying again can help: the first question every caller of a model has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Rate limits, overloaded or unreachable servers, timeouts: the same call may succeed later.
    Transient,
    /// Bad configuration, a missing or corrupt model file, a rejected request: retrying won't help.
    Permanent,
    /// The prompt does not fit the model's context: shorten it.
    ContextTooLong,
    /// The model answered, but not with what was asked (unparseable or schema-violating JSON).
    InvalidOutput,
    /// The caller cancelled the call.
    Cancelled,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("{0}")]
    Permanent(String),
    #[error("the prompt is {prompt_tokens} tokens but the model's context holds {context_tokens}")]
    ContextTooLong { prompt_tokens: u32, context_tokens: u32 },
    #[error("the model's answer is not valid: {0}")]
    InvalidOutput(String),
    #[error("the call was cancelled")]
    Cancelled,
}

impl LlmError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            LlmError::Transient { .. } => ErrorKind::Transient,
            LlmError::Permanent(_) => ErrorKind::Permanent,
            LlmError::ContextTooLong { .. } => ErrorKind::ContextTooLong,
            LlmError::InvalidOutput(_) => ErrorKind::InvalidOutput,
            LlmError::Cancelled => ErrorKind::Cancelled,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.kind() == ErrorKind::Transient
    }

    pub fn transient(message: impl Into<String>) -> Self {
        LlmError::Transient {
            message: message.into(),
            retry_after: None,
        }
    }
}
