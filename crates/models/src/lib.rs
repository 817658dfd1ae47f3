//! Models as the user manages them: the GGUF files in the models folder, downloads with resume and
//! checksum, and turning the effective configuration into a ready [`hypatia_llm::Llm`].

mod factory;
mod library;
mod pull;

pub use factory::{BuiltModel, FactoryError, build_llm, default_sampling};
pub use library::{ModelEntry, list_models};
pub use pull::{PullError, PullOutcome, PullProgress, PullSource, fingerprint, pull};
