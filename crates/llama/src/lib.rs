//! The in-process llama.cpp engine.
//!
//! [`LlamaEngine`] is a handle; a dedicated inference thread owns the model and its context and serves
//! every caller. Each request is one sequence in a unified KV cache, and all active sequences decode
//! together in one batch per step, so four agents asking at once share each forward pass. A finished
//! request's tokens stay in the cache, and a new request copies the longest prefix it shares with any
//! cached or running sequence (`llama_memory_seq_cp`) instead of recomputing it. Structured output is a
//! llama.cpp grammar generated from the request's JSON schema, with numbers bounded so every answer is
//! parseable JSON.

mod embedder;
mod engine;
mod grammar;
mod output;
mod prefix;
mod sampler;
mod settings;
mod system_info;
mod template;
mod worker;

pub use embedder::{EmbedderSettings, EmbedderSummary, LlamaEmbedder, MAX_TEXT_TOKENS};
pub use engine::{EngineStats, LlamaEngine, ModelSummary, PromptToken, RenderedPrompt};
pub use grammar::schema_to_grammar;
pub use settings::LlamaSettings;
pub use system_info::{system_info, uses_amx};
