//! Converting a sentence-transformers folder (BERT: `config.json`, `model.safetensors`,
//! `tokenizer.json`, `modules.json` and the pooling config) into a GGUF file llama.cpp loads as an
//! embedding model, with the metadata, vocabulary and tensor names llama.cpp's own converter writes.
//! Architectures it cannot convert are refused with a message saying what was found.

mod bert;
mod safetensors;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::GgufError;

pub use bert::convert_sentence_transformers;

/// How weight matrices are stored; norms, biases and the position table stay F32 either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputType {
    F32,
    F16,
}

impl std::str::FromStr for OutputType {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "f32" => Ok(OutputType::F32),
            "f16" => Ok(OutputType::F16),
            other => Err(format!("unknown output type `{other}` (expected f32 or f16)")),
        }
    }
}

/// What a conversion wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConvertSummary {
    pub output: PathBuf,
    pub bytes: u64,
    pub architecture: String,
    pub output_type: OutputType,
    pub parameters: u64,
    pub tensors: usize,
    pub vocabulary: usize,
    pub dimensions: u32,
    pub layers: u32,
    pub pooling: String,
    /// The longest input in tokens (sentence-transformers' `max_seq_length`).
    pub context_length: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Unsupported { path: PathBuf, message: String },
    #[error(transparent)]
    Write(#[from] GgufError),
}

pub(crate) fn read_json(path: &Path) -> Result<serde_json::Value, ConvertError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConvertError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|error| ConvertError::Invalid {
        path: path.to_owned(),
        message: format!("line {}: {error}", error.line()),
    })
}
