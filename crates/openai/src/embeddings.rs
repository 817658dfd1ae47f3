//! Embeddings from an OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, vLLM, llama-server,
//! Ollama, llama-cpp-python), with the chat backend's retries, timeouts and key handling. Vectors are
//! normalised here: not every server does (llama-cpp-python does not).

use hypatia_llm::{BoxFuture, EmbedRole, EmbedderIdentity, EmbeddingBackend, LlmError, normalized};
use hypatia_retry::Backoff;
use serde_json::json;

use crate::backend::{BodyReader, client_for, post_json};
use crate::config::{OpenAiConfig, without_credentials};
use crate::errors::{Failure, Target};

/// Texts per request: servers cap a request's inputs (OpenAI at 2,048; llama-server by its batch).
const TEXTS_PER_REQUEST: usize = 64;
/// The most of an embeddings response that is read (64 texts × 4,096 dimensions as JSON fit).
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// An embedding model served over HTTP.
pub struct OpenAiEmbedder {
    config: OpenAiConfig,
    url: String,
    client: reqwest::Client,
    identity: EmbedderIdentity,
    query_prefix: String,
    document_prefix: String,
}

impl std::fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("config", &self.config)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(serde::Deserialize)]
struct Item {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

impl OpenAiEmbedder {
    /// Connects to the endpoint and embeds one probe sentence, to learn the vectors' length (and that
    /// the server embeds at all). `prefixes` are the query and document prefixes.
    pub async fn connect(config: OpenAiConfig, prefixes: (String, String)) -> Result<Self, LlmError> {
        let url = format!("{}/embeddings", config.base_url.trim_end_matches('/'));
        let client = client_for(&config, &url)?;
        let mut embedder = OpenAiEmbedder {
            identity: EmbedderIdentity {
                name: format!(
                    "openai:{} {}{}",
                    without_credentials(config.base_url.trim_end_matches('/')),
                    config.model,
                    hypatia_llm::prefixes_label(&prefixes.0, &prefixes.1)
                ),
                fingerprint: String::new(),
                dimensions: 0,
            },
            config,
            url,
            client,
            query_prefix: prefixes.0,
            document_prefix: prefixes.1,
        };
        let probe = embedder.request(&["dimension probe".to_owned()]).await?;
        embedder.identity.dimensions = probe.first().map_or(0, Vec::len);
        if embedder.identity.dimensions == 0 {
            return Err(LlmError::InvalidOutput(format!(
                "{} returned an empty embedding",
                embedder.url
            )));
        }
        Ok(embedder)
    }

    fn target(&self) -> Target<'_> {
        Target {
            url: &self.url,
            model: &self.config.model,
            api_key: self.config.api_key.as_ref(),
        }
    }

    /// One request, retried on transient failures; one unit vector per text, in order.
    async fn request(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
        let body = json!({ "model": self.config.model, "input": texts, "encoding_format": "float" });
        let backoff = Backoff {
            initial: self.config.initial_backoff,
            max: self.config.max_backoff,
        };
        let mut tries = 0u32;
        loop {
            tries += 1;
            // Dropping this future (the caller gave up) closes the connection.
            let failure = match self.attempt(&body, texts.len()).await {
                Ok(vectors) => return vectors.into_iter().map(normalized).collect(),
                Err(failure) => failure,
            };
            if !failure.is_retryable() || tries > self.config.max_retries {
                return Err(failure.into_error(&self.target(), tries));
            }
            let delay = backoff.delay(tries - 1, failure.retry_after());
            tracing::warn!(url = %self.url, try_number = tries, retry_in_ms = delay.as_millis() as u64,
                "embedding request failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, body: &serde_json::Value, expected: usize) -> Result<Vec<Vec<f32>>, Failure> {
        let response = post_json(&self.client, &self.url, &self.config, body).await?;
        let mut reader = BodyReader::new(response, self.config.idle_timeout);
        let bytes = reader.read_all(MAX_BODY_BYTES).await?;
        let parsed: Response = serde_json::from_slice(&bytes)
            .map_err(|error| Failure::NotACompletion(format!("not an embeddings response: {error}")))?;
        if parsed.data.len() != expected {
            return Err(Failure::NotACompletion(format!(
                "{} embeddings for {expected} inputs",
                parsed.data.len()
            )));
        }
        let mut slots: Vec<Option<Vec<f32>>> = vec![None; expected];
        for (position, item) in parsed.data.into_iter().enumerate() {
            let index = item.index.unwrap_or(position);
            match slots.get_mut(index) {
                Some(slot @ None) => *slot = Some(item.embedding),
                _ => {
                    return Err(Failure::NotACompletion(format!(
                        "embedding index {index} is out of place"
                    )));
                }
            }
        }
        let vectors: Vec<Vec<f32>> = slots.into_iter().flatten().collect();
        let width = vectors.first().map_or(0, Vec::len);
        if vectors.iter().any(|v| v.len() != width || v.is_empty()) {
            return Err(Failure::NotACompletion("embeddings of different lengths".into()));
        }
        Ok(vectors)
    }
}

impl EmbeddingBackend for OpenAiEmbedder {
    fn identity(&self) -> &EmbedderIdentity {
        &self.identity
    }

    fn embed<'a>(&'a self, texts: Vec<String>, role: EmbedRole) -> BoxFuture<'a, Result<Vec<Vec<f32>>, LlmError>> {
        Box::pin(async move {
            let prefix = match role {
                EmbedRole::Query => &self.query_prefix,
                EmbedRole::Document => &self.document_prefix,
            };
            let texts: Vec<String> = texts.into_iter().map(|text| format!("{prefix}{text}")).collect();
            let mut vectors = Vec::with_capacity(texts.len());
            for chunk in texts.chunks(TEXTS_PER_REQUEST) {
                let batch = self.request(chunk).await?;
                if batch.iter().any(|v| v.len() != self.identity.dimensions) {
                    return Err(LlmError::InvalidOutput(format!(
                        "{} changed the length of its vectors from {}",
                        self.url, self.identity.dimensions
                    )));
                }
                vectors.extend(batch);
            }
            Ok(vectors)
        })
    }
}
