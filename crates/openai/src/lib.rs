//! The OpenAI-compatible chat and embedding backends: OpenAI, vLLM, llama.cpp's `llama-server`, Ollama and
//! llama-cpp-python, over HTTP.
//!
//! [`OpenAiBackend`] implements [`hypatia_llm::ChatBackend`]: it posts to `{base_url}/chat/completions`,
//! streams with server-sent events when the caller asks for it, retries rate limits, overloaded servers,
//! network faults and timeouts with back-off (honouring `Retry-After`), and turns every other failure
//! into an [`hypatia_llm::LlmError`] that names the URL and the server's message but never the API key.
//! It returns the raw answer: `hypatia_llm::Llm` strips reasoning and validates JSON. Reasoning a server
//! sends apart (`reasoning_content`) is dropped here.
//!
//! Optional request parts a server refuses (`json_schema`, `stream_options`, `max_tokens`, non-default
//! sampling on OpenAI's reasoning models) are left out and the request is sent again; the backend
//! remembers that for its lifetime. Times in [`hypatia_llm::Usage`] are measured from sending the try that
//! succeeded: the first token is the first content delta of a stream, or the first byte of a whole answer.

mod backend;
mod config;
mod embeddings;
mod errors;
mod sse;
mod wire;

pub use backend::OpenAiBackend;
pub use config::{DEFAULT_BASE_URL, OpenAiConfig, Secret, StructuredMode, without_credentials};
pub use embeddings::OpenAiEmbedder;
