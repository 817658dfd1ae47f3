//! The language-model interface every agent uses.
//!
//! A backend (`hypatia-llama` in process, `hypatia-openai` over HTTP) implements [`ChatBackend`]: chat
//! messages in, raw text out. [`Llm`] wraps any backend and adds what callers must be able to rely on:
//! reasoning stripped, JSON answers parsed and validated against their schema (with a bounded number of
//! re-asks), and typed errors that say whether a retry can help. An unparsed model answer never leaves
//! this crate as a result.

mod backend;
mod bounds;
mod client;
mod embed;
mod error;
mod message;
mod structured;
mod think;
mod usage;

pub use backend::{BoxFuture, CallControl, ChatBackend};
pub use bounds::{answer_token_ceiling, bounded_for_budget};
pub use client::{JsonAnswer, Llm, TextAnswer};
pub use embed::{EmbedRole, EmbedderIdentity, EmbeddingBackend, normalized, prefixes_label};
pub use error::{ErrorKind, LlmError};
pub use message::{ChatMessage, ChatRequest, Role, Sampling};
pub use structured::{CompiledSchema, extract_json};
pub use think::strip_reasoning;
pub use usage::{Completion, FinishReason, Usage};
