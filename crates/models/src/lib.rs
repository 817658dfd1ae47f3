//! Models as the user manages them: the layered model configuration (`config.rs`: user file,
//! project file, environment, flags), the GGUF files in the models folder, downloads with resume and
//! checksum, and turning the effective configuration into a ready [`hypatia_llm::Llm`].

mod config;
mod factory;
mod library;
pub mod probe;
mod pull;

pub use config::{
    BackendKind, ConfigError, EmbeddingSection, GenerationSection, Layer, MASK, ModelConfig, ModelFlags, ModelSection,
    ModelSettings, OpenAiSection, PROJECT_FILE, project_settings, resolve_config, user_config_path,
};
pub use factory::{BuiltEmbedder, BuiltModel, FactoryError, build_embedder, build_llm, default_sampling};
pub use hypatia_llama::{system_info as engine_system_info, uses_amx as engine_uses_amx};
pub use hypatia_openai::without_credentials;
pub use library::{ModelEntry, list_models};
pub use pull::{PullError, PullOutcome, PullProgress, PullSource, fingerprint, pull};

/// What `--pull-model` fetches: a small instruct model that runs on a laptop CPU.
pub const DEFAULT_MODEL: &str = "Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf";
