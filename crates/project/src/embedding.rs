//! Passage vectors in step with the store, and the searches that use them.
//!
//! Vectors are derived data, like the tantivy index: the vector file records the store's change
//! counter it reflects, and catching up re-embeds the passages of papers stamped after it. A passage
//! whose text (with its paper's title) is unchanged keeps its vector, so an interrupted embedding
//! resumes where it stopped. The vectors belong to one model identity; attaching another model
//! starts them again (`hypatia_vectors`).

use std::sync::{Arc, Mutex, MutexGuard};

use hypatia_core::{PaperId, PassageId};
use hypatia_llm::{EmbedRole, EmbeddingBackend};
use hypatia_store::Store;
use hypatia_vectors::{ModelIdentity, PassageVector, VectorIndex, text_hash};
use serde::Serialize;

use crate::ProjectError;

/// Papers read from the store at a time while catching up.
const PAPERS_PER_READ: u32 = 500;
/// Passages sent to the model at a time; also how often progress is reported and saved.
const PASSAGES_PER_CALL: usize = 128;

/// The embedding model and the project's vectors for it.
pub(crate) struct Dense {
    pub embedder: Arc<dyn EmbeddingBackend>,
    vectors: Mutex<VectorIndex>,
}

impl Dense {
    pub(crate) fn open(dir: &std::path::Path, embedder: Arc<dyn EmbeddingBackend>) -> Result<Dense, ProjectError> {
        let identity = embedder.identity();
        let vectors = VectorIndex::open(
            dir,
            ModelIdentity {
                model: identity.key(),
                dimensions: identity.dimensions,
            },
        )?;
        if let Some(previous) = vectors.replaced() {
            tracing::info!(previous = %previous.model, now = %identity.key(), "another embedding model: embedding every passage again");
        }
        Ok(Dense {
            embedder,
            vectors: Mutex::new(vectors),
        })
    }

    pub(crate) fn vectors(&self) -> MutexGuard<'_, VectorIndex> {
        // A panic while holding the lock leaves the index as consistent as its last whole record.
        self.vectors.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) async fn embed_query(&self, query: &str) -> Result<Vec<f32>, ProjectError> {
        let sentence = crate::retrieval::query_sentence(query);
        let mut vectors = self.embedder.embed(vec![sentence], EmbedRole::Query).await?;
        vectors
            .pop()
            .ok_or_else(|| ProjectError::Embedding(hypatia_llm::LlmError::InvalidOutput("no query vector".into())))
    }
}

/// Where embedding the library stands, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EmbedProgress {
    /// Passages embedded by this call so far.
    pub embedded: u64,
    /// Passages with a vector now.
    pub vectors: u64,
    /// Passages in the store (current versions).
    pub passages: u64,
}

/// What catching the vectors up did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbedSummary {
    pub model: String,
    pub dimensions: usize,
    pub embedded: u64,
    pub removed: u64,
    pub vectors: u64,
    /// True when cancelled before the end: what was embedded is kept, and the next call resumes.
    pub interrupted: bool,
    pub seconds: f64,
}

/// The text a passage is embedded as: its paper's title, then the passage, so a sentence that says
/// "this protein" is found by what the paper is about.
pub fn embedding_text(title: &str, passage: &str) -> String {
    if title.trim().is_empty() {
        passage.to_owned()
    } else {
        format!("{title}\n{passage}")
    }
}

struct Pending {
    key: PassageVector,
    text: String,
}

/// Embeds every current passage of the papers changed since the vectors' counter, drops vectors of
/// passages that are gone, and moves the counter to the store's. Stops early (keeping what it
/// embedded) when `cancel` fires.
pub(crate) async fn catch_up(
    store: &Store,
    dense: &Dense,
    progress: &(dyn Fn(EmbedProgress) + Sync),
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<EmbedSummary, ProjectError> {
    let started = std::time::Instant::now();
    let target = store.change_seq().await?;
    let passages_total = u64::try_from(store.counts().await?.passages).unwrap_or(0);
    let mut since = {
        let mut vectors = dense.vectors();
        if vectors.embedded_seq() > target {
            tracing::warn!(
                embedded = vectors.embedded_seq(),
                target,
                "vectors ahead of the database; embedding again"
            );
            vectors.clear()?;
        }
        vectors.embedded_seq()
    };
    if !dense.vectors().is_writable() {
        // Another process is embedding; search the vectors as they are.
        since = target;
    }
    let mut embedded = 0u64;
    let mut removed = 0u64;
    let mut pending: Vec<Pending> = Vec::new();
    let mut cursor: Option<(i64, PaperId)> = None;
    let mut interrupted = false;
    let report = |embedded: u64, dense: &Dense| {
        progress(EmbedProgress {
            embedded,
            vectors: dense.vectors().len() as u64,
            passages: passages_total,
        });
    };
    if since < target {
        'papers: loop {
            let batch = store
                .changed_since(since, cursor.as_ref().map(|(seq, id)| (*seq, id)), PAPERS_PER_READ)
                .await?;
            let Some(last) = batch.last() else { break };
            cursor = Some((last.change_seq, last.paper.id.clone()));
            for changed in &batch {
                let paper = changed.paper.id.as_str();
                let mut vectors = dense.vectors();
                let mut keep = std::collections::HashSet::new();
                for passage in &changed.passages {
                    let text = embedding_text(&changed.paper.title, &passage.text);
                    let hash = text_hash(&text);
                    let id = passage.id.to_string();
                    keep.insert(id.clone());
                    if vectors.text_hash_of(&id) != Some(hash) {
                        pending.push(Pending {
                            key: PassageVector {
                                paper: paper.to_owned(),
                                passage: id,
                                text_hash: hash,
                            },
                            text,
                        });
                    }
                }
                let stale: Vec<String> = vectors
                    .passages_of(paper)
                    .into_iter()
                    .filter(|v| !keep.contains(&v.passage))
                    .map(|v| v.passage.clone())
                    .collect();
                for passage in stale {
                    vectors.remove(paper, &passage)?;
                    removed += 1;
                }
            }
            while pending.len() >= PASSAGES_PER_CALL {
                if cancel.is_cancelled() {
                    interrupted = true;
                    break 'papers;
                }
                let chunk: Vec<Pending> = pending.drain(..PASSAGES_PER_CALL).collect();
                embedded += embed_chunk(dense, chunk).await?;
                report(embedded, dense);
            }
        }
    }
    while !interrupted && !pending.is_empty() {
        if cancel.is_cancelled() {
            interrupted = true;
            break;
        }
        let take = pending.len().min(PASSAGES_PER_CALL);
        let chunk: Vec<Pending> = pending.drain(..take).collect();
        embedded += embed_chunk(dense, chunk).await?;
        report(embedded, dense);
    }
    let mut vectors = dense.vectors();
    if interrupted {
        vectors.flush()?;
    } else if vectors.is_writable() {
        vectors.set_embedded_seq(target)?;
    }
    let identity = dense.embedder.identity();
    Ok(EmbedSummary {
        model: identity.key(),
        dimensions: identity.dimensions,
        embedded,
        removed,
        vectors: vectors.len() as u64,
        interrupted,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn embed_chunk(dense: &Dense, chunk: Vec<Pending>) -> Result<u64, ProjectError> {
    let texts: Vec<String> = chunk.iter().map(|p| p.text.clone()).collect();
    let made = dense.embedder.embed(texts, EmbedRole::Document).await?;
    if made.len() != chunk.len() {
        return Err(ProjectError::Embedding(hypatia_llm::LlmError::InvalidOutput(format!(
            "{} vectors for {} passages",
            made.len(),
            chunk.len()
        ))));
    }
    let count = chunk.len() as u64;
    let mut vectors = dense.vectors();
    for (pending, vector) in chunk.into_iter().zip(made) {
        vectors.put(pending.key, &vector)?;
    }
    // Durable before the next chunk: an interruption keeps every finished chunk.
    vectors.flush()?;
    Ok(count)
}

/// Dense candidates for papers: ids with their best passage's cosine, best first.
pub(crate) fn dense_papers(dense: &Dense, query: &[f32], limit: usize) -> Vec<(PaperId, f32)> {
    dense
        .vectors()
        .search_papers(query, limit)
        .into_iter()
        .filter_map(|(row, score)| row.paper.parse().ok().map(|id| (id, score)))
        .collect()
}

/// Dense candidates for passages, best first.
pub(crate) fn dense_passages(dense: &Dense, query: &[f32], limit: usize) -> Vec<(PassageId, f32)> {
    dense
        .vectors()
        .search_passages(query, limit)
        .into_iter()
        .filter_map(|(row, score)| row.passage.parse().ok().map(|id| (id, score)))
        .collect()
}
