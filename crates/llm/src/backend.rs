use std::future::Future;
use std::pin::Pin;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{ChatRequest, Completion, LlmError};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Per-call controls that are not part of the request itself.
#[derive(Debug, Clone, Default)]
pub struct CallControl {
    /// Cancelling ends the call promptly with [`LlmError::Cancelled`] and frees the backend's resources.
    pub cancel: CancellationToken,
    /// When set, each piece of answer text is sent here as soon as it is generated.
    pub stream: Option<mpsc::UnboundedSender<String>>,
}

impl CallControl {
    pub fn streaming(stream: mpsc::UnboundedSender<String>) -> Self {
        CallControl {
            cancel: CancellationToken::new(),
            stream: Some(stream),
        }
    }

    pub(crate) fn without_stream(&self) -> Self {
        CallControl {
            cancel: self.cancel.clone(),
            stream: None,
        }
    }
}

/// A model that answers chat requests. Implementations must be cheap to share (`Arc`) and safe to call
/// from many tasks at once; each decides how to serve concurrent calls (batching, connection pooling).
pub trait ChatBackend: Send + Sync {
    /// A short description for logs and usage reports, e.g. `llama:qwen2.5-7b-q4_k_m.gguf`.
    fn describe(&self) -> String;

    /// Answers one request. The text is raw: it may contain reasoning (`<think>…</think>`); with a
    /// schema it should be JSON but is not yet validated.
    fn chat<'a>(&'a self, request: ChatRequest, control: CallControl) -> BoxFuture<'a, Result<Completion, LlmError>>;
}
