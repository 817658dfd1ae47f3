use std::sync::Arc;
use std::time::Duration;

use crate::config::{BackendKind, GenerationSection, ModelConfig};
use hypatia_llama::{EmbedderSettings, EmbedderSummary, LlamaEmbedder, LlamaEngine, LlamaSettings, ModelSummary};
use hypatia_llm::{ChatBackend, EmbeddingBackend, Llm, LlmError, Sampling};
use hypatia_openai::{OpenAiBackend, OpenAiConfig, OpenAiEmbedder, StructuredMode};
use hypatia_prompts::Prompts;

#[derive(Debug, thiserror::Error)]
pub enum FactoryError {
    #[error(
        "no model is configured. Use a local GGUF file (--model PATH, HYPATIA_MODEL, or `path` under [model] in \
         hypatia.toml or the user config; `hypatia models list` shows downloaded ones), or an OpenAI-compatible \
         server (--openai-base-url URL --openai-model NAME, or [openai] base_url and model)"
    )]
    NoBackend,
    #[error("the llama backend needs a GGUF file: --model PATH, HYPATIA_MODEL, or `path` under [model]")]
    NoModelPath,
    #[error(
        "the openai backend needs a model name: --openai-model NAME, HYPATIA_OPENAI_MODEL, or `model` under [openai]"
    )]
    NoOpenAiModel,
    #[error(
        "the openai backend needs the server's address: --openai-base-url URL, OPENAI_BASE_URL, or `base_url` under \
         [openai] (https://api.openai.com/v1 for OpenAI itself)"
    )]
    NoOpenAiBaseUrl,
    #[error(
        "the embedding model is a GGUF file: --embedding-model PATH, HYPATIA_EMBEDDING_MODEL, or `path` under [embedding]"
    )]
    NoEmbeddingPath,
    #[error(
        "the openai embedding backend needs the served model's name: HYPATIA_EMBEDDING_OPENAI_MODEL or `model` under \
         [embedding]"
    )]
    NoEmbeddingOpenAiModel,
    #[error("[openai] structured_output must be auto, json_schema or json_object, not `{0}`")]
    StructuredMode(String),
    #[error(transparent)]
    Prompts(#[from] hypatia_prompts::PromptError),
    #[error(transparent)]
    Model(#[from] LlmError),
    #[error(transparent)]
    Probe(#[from] crate::probe::ProbeError),
}

/// A ready model and what it is.
#[derive(Debug)]
pub struct BuiltModel {
    pub llm: Llm,
    pub backend: BackendKind,
    /// The loaded GGUF, for the in-process backend.
    pub local: Option<ModelSummary>,
    pub prompts: Arc<Prompts>,
}

/// Builds the configured backend. Loading a GGUF runs on a blocking thread (it can take seconds).
pub async fn build_llm(config: &ModelConfig) -> Result<BuiltModel, FactoryError> {
    let prompts = Arc::new(Prompts::with_overrides(&config.prompts_dir)?);
    let settings = &config.settings;
    let backend = config.backend.ok_or(FactoryError::NoBackend)?;
    let (chat, local): (Arc<dyn ChatBackend>, Option<ModelSummary>) = match backend {
        BackendKind::Llama => {
            let path = settings.model.path.clone().ok_or(FactoryError::NoModelPath)?;
            let mut llama = LlamaSettings::new(path);
            llama.context_tokens = settings.model.context_tokens;
            llama.threads = settings.model.threads;
            llama.gpu_layers = settings.model.gpu_layers;
            if let Some(max) = settings.model.max_sequences {
                llama.max_sequences = max;
            }
            if let Some(reuse) = settings.model.prefix_cache {
                llama.prefix_cache = reuse;
            }
            let models_dir = config.models_dir.clone();
            let engine = tokio::task::spawn_blocking(move || {
                // A file that kills llama.cpp kills a trial process, not this one.
                crate::probe::ensure_runs(&llama.model_path, &models_dir, llama.threads)?;
                LlamaEngine::load(llama).map_err(FactoryError::Model)
            })
            .await
            .map_err(|error| LlmError::Permanent(format!("the model loader stopped: {error}")))??;
            let summary = engine.summary().clone();
            (Arc::new(engine), Some(summary))
        }
        BackendKind::Openai => {
            let model = settings.openai.model.clone().ok_or(FactoryError::NoOpenAiModel)?;
            // Never a default endpoint: a model name meant for a local server must not go to a cloud.
            let base_url = settings.openai.base_url.clone().ok_or(FactoryError::NoOpenAiBaseUrl)?;
            let mut openai = OpenAiConfig::new(model).with_base_url(base_url);
            if let Some(key) = &settings.openai.api_key {
                openai = openai.with_api_key(key.as_str());
            }
            if let Some(seconds) = settings.openai.timeout_seconds {
                openai.request_timeout = Duration::from_secs(seconds);
            }
            if let Some(retries) = settings.openai.max_retries {
                openai.max_retries = retries;
            }
            openai.structured = match settings.openai.structured_output.as_deref() {
                None | Some("auto") => StructuredMode::Auto,
                Some("json_schema") => StructuredMode::JsonSchema,
                Some("json_object") => StructuredMode::JsonObject,
                Some(other) => return Err(FactoryError::StructuredMode(other.to_string())),
            };
            (
                Arc::new(OpenAiBackend::new(openai)?.with_prompts(Arc::clone(&prompts))),
                None,
            )
        }
    };
    Ok(BuiltModel {
        llm: Llm::new(chat, Arc::clone(&prompts)),
        backend,
        local,
        prompts,
    })
}

/// Sampling from `[generation]`, over the library defaults.
pub fn default_sampling(generation: &GenerationSection) -> Sampling {
    let defaults = Sampling::default();
    Sampling {
        temperature: generation.temperature.unwrap_or(defaults.temperature),
        top_p: generation.top_p.unwrap_or(defaults.top_p),
        seed: generation.seed.or(defaults.seed),
        max_tokens: generation.max_tokens.unwrap_or(defaults.max_tokens),
        stop: defaults.stop,
    }
}

/// A ready embedding model and what it is.
pub struct BuiltEmbedder {
    pub embedder: Arc<dyn EmbeddingBackend>,
    pub backend: BackendKind,
    /// The loaded GGUF, for the in-process backend.
    pub local: Option<EmbedderSummary>,
}

impl std::fmt::Debug for BuiltEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltEmbedder")
            .field("identity", self.embedder.identity())
            .field("backend", &self.backend)
            .finish()
    }
}

/// Builds the configured embedding model, or `None` when `[embedding]` names none. A GGUF file is
/// fingerprinted (SHA-256), tried in a child process on its first use, then loaded on a blocking thread.
pub async fn build_embedder(config: &ModelConfig) -> Result<Option<BuiltEmbedder>, FactoryError> {
    let section = &config.settings.embedding;
    let Some(backend) = section.backend else {
        return Ok(None);
    };
    match backend {
        BackendKind::Llama => {
            let path = section.path.clone().ok_or(FactoryError::NoEmbeddingPath)?;
            let (_, sha256) = crate::fingerprint(&path)
                .await
                .map_err(|error| LlmError::Permanent(error.to_string()))?;
            let mut settings = EmbedderSettings::new(path);
            settings.fingerprint = format!("sha256:{}", &sha256[..16.min(sha256.len())]);
            settings.threads = section.threads.or(config.settings.model.threads);
            settings.gpu_layers = section.gpu_layers;
            if let Some(tokens) = section.batch_tokens {
                settings.batch_tokens = tokens;
            }
            settings.query_prefix = section.query_prefix.clone().unwrap_or_default();
            settings.document_prefix = section.document_prefix.clone().unwrap_or_default();
            let models_dir = config.models_dir.clone();
            let embedder = tokio::task::spawn_blocking(move || {
                crate::probe::ensure_embeds(&settings.model_path, &models_dir, settings.threads)?;
                LlamaEmbedder::load(settings).map_err(FactoryError::Model)
            })
            .await
            .map_err(|error| LlmError::Permanent(format!("the model loader stopped: {error}")))??;
            let summary = embedder.summary().clone();
            Ok(Some(BuiltEmbedder {
                embedder: Arc::new(embedder),
                backend,
                local: Some(summary),
            }))
        }
        BackendKind::Openai => {
            let model = section.model.clone().ok_or(FactoryError::NoEmbeddingOpenAiModel)?;
            let base_url = section
                .base_url
                .clone()
                .or_else(|| config.settings.openai.base_url.clone())
                .ok_or(FactoryError::NoOpenAiBaseUrl)?;
            // The key belongs to the [openai] endpoint: it goes to no other server.
            let same_server = config
                .settings
                .openai
                .base_url
                .as_deref()
                .map(|u| u.trim_end_matches('/'))
                == Some(base_url.trim_end_matches('/'));
            let mut openai = OpenAiConfig::new(model).with_base_url(base_url);
            if same_server && let Some(key) = &config.settings.openai.api_key {
                openai = openai.with_api_key(key.as_str());
            }
            if let Some(seconds) = config.settings.openai.timeout_seconds {
                openai.request_timeout = Duration::from_secs(seconds);
            }
            if let Some(retries) = config.settings.openai.max_retries {
                openai.max_retries = retries;
            }
            let prefixes = (
                section.query_prefix.clone().unwrap_or_default(),
                section.document_prefix.clone().unwrap_or_default(),
            );
            let embedder = OpenAiEmbedder::connect(openai, prefixes).await?;
            Ok(Some(BuiltEmbedder {
                embedder: Arc::new(embedder),
                backend,
                local: None,
            }))
        }
    }
}
