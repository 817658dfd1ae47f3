//! Embedding models: texts in, unit vectors out. Two backends implement [`EmbeddingBackend`]: the
//! in-process llama.cpp engine (`hypatia-llama`) and an OpenAI-compatible `/v1/embeddings` endpoint
//! (`hypatia-openai`).

use crate::{BoxFuture, LlmError};

/// Whether a text is a query or a document: some models (e5, nomic, bge's query instruction) are
/// trained with a different prefix for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedRole {
    Query,
    Document,
}

/// Which model makes the vectors, exactly: vectors of two identities are never compared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EmbedderIdentity {
    /// e.g. `llama:all-minilm-l6-v2.gguf` or `openai:http://host/v1 nomic-embed-text`.
    pub name: String,
    /// Of the weights when the backend can see them (a hash of the GGUF file), else empty.
    pub fingerprint: String,
    pub dimensions: usize,
}

impl EmbedderIdentity {
    /// Name and fingerprint in one string, the key vectors are stored under.
    pub fn key(&self) -> String {
        if self.fingerprint.is_empty() {
            self.name.clone()
        } else {
            format!("{} {}", self.name, self.fingerprint)
        }
    }
}

/// How the query and document prefixes show in an identity's name (nothing when there are none):
/// vectors made with other prefixes are other vectors.
pub fn prefixes_label(query_prefix: &str, document_prefix: &str) -> String {
    if query_prefix.is_empty() && document_prefix.is_empty() {
        String::new()
    } else {
        format!(" (query prefix {query_prefix:?}, document prefix {document_prefix:?})")
    }
}

/// A model that turns texts into vectors. Every vector is L2-normalised, so the inner product is
/// the cosine. Implementations batch as they see fit and are cheap to share (`Arc`).
pub trait EmbeddingBackend: Send + Sync {
    fn identity(&self) -> &EmbedderIdentity;

    /// One vector per text, in order. A text longer than the model's context is cut to fit.
    fn embed<'a>(&'a self, texts: Vec<String>, role: EmbedRole) -> BoxFuture<'a, Result<Vec<Vec<f32>>, LlmError>>;
}

/// Scales `v` to unit length in place; a zero or non-finite vector is an error, not a silent zero.
pub fn normalized(mut v: Vec<f32>) -> Result<Vec<f32>, LlmError> {
    let norm = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return Err(LlmError::InvalidOutput(format!(
            "the embedding model returned a vector of norm {norm}"
        )));
    }
    for x in &mut v {
        *x = (f64::from(*x) / norm) as f32;
    }
    Ok(v)
}
