//! What [`crate::read_info`] learns about a model file without loading its weights.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use crate::{ChatFormat, MetadataValue};

/// A GGUF file's header: what the model is, how big, how quantized, and its metadata.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GgufInfo {
    #[serde(serialize_with = "serialize_path")]
    pub path: PathBuf,
    pub file_size: u64,
    /// GGUF format version: 2 or 3.
    pub version: u32,
    /// `general.architecture`: `llama`, `qwen2`, `gemma3`…
    pub architecture: Option<String>,
    /// `general.name`.
    pub name: Option<String>,
    /// The sum of every tensor's element count.
    pub parameter_count: u64,
    /// `Q4_K_M`, `F16`…: from `general.file_type`, else the tensor type holding the most elements.
    pub quantization: Option<String>,
    /// `{architecture}.context_length`: the context the model was trained for.
    pub context_length: Option<u64>,
    /// Whether `tokenizer.chat_template` is present and not empty.
    pub has_chat_template: bool,
    /// How conversations are rendered: the file's template, or a family's built-in one.
    pub chat_format: ChatFormat,
    /// The turn-delimiting control tokens found in the vocabulary (only those that tell families apart).
    pub control_tokens: BTreeSet<String>,
    pub tensor_count: u64,
    /// Every metadata key and its value (arrays by element type and length only).
    #[serde(skip)]
    pub(crate) metadata: BTreeMap<String, MetadataValue>,
}

impl GgufInfo {
    /// The metadata value under `key`, e.g. `llama.embedding_length` or `tokenizer.ggml.model`.
    pub fn get(&self, key: &str) -> Option<&MetadataValue> {
        self.metadata.get(key)
    }

    /// The format of the family the tokenizer and architecture name, ignoring any embedded template:
    /// what to use when llama.cpp cannot apply the file's own template.
    pub fn family_chat_format(&self) -> ChatFormat {
        crate::chat_format::detect(&crate::chat_format::Evidence {
            architecture: self.architecture.as_deref(),
            tokenizer: self.get("tokenizer.ggml.model").and_then(MetadataValue::as_str),
            markers: &self.control_tokens,
            has_template: false,
        })
    }

    /// Every metadata key with its value, in key order.
    pub fn metadata(&self) -> impl Iterator<Item = (&str, &MetadataValue)> {
        self.metadata.iter().map(|(key, value)| (key.as_str(), value))
    }
}

/// Paths need not be UTF-8; JSON strings must be.
fn serialize_path<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}
