//! Models as the user manages them: the GGUF files in the models folder, downloads with resume and
//! checksum, and turning the effective configuration into a ready [`hypatia_llm::Llm`].

mod factory;
mod library;
pub mod probe;
mod pull;

pub use factory::{BuiltModel, FactoryError, build_llm, default_sampling};
pub use hypatia_llama::{system_info as engine_system_info, uses_amx as engine_uses_amx};
pub use library::{ModelEntry, list_models};
pub use pull::{PullError, PullOutcome, PullProgress, PullSource, fingerprint, pull};
