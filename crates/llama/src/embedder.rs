//! Embeddings in process: a handle ([`LlamaEmbedder`]) and one thread that owns an embedding
//! context (embeddings on, the model's pooling) and serves every caller.
//!
//! Texts are tokenized with the model's special tokens (`[CLS] … [SEP]` for BERT), cut to the
//! model's training context, and packed into batches of whole sequences, one sequence id each: an
//! encoder attends over the whole sequence at once, so a sequence never spans two batches. Each
//! pooled vector is L2-normalised here (llama.cpp leaves that to the caller).

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::mpsc;

use hypatia_llm::{BoxFuture, EmbedRole, EmbedderIdentity, EmbeddingBackend, LlmError, normalized};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::{LlamaContextParams, LlamaPoolingType};
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::token::LlamaToken;
use serde::Serialize;

/// How to load and run a GGUF embedding model.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedderSettings {
    pub model_path: PathBuf,
    /// A fingerprint of the file (its hash), recorded with every vector it makes.
    pub fingerprint: String,
    pub threads: Option<u32>,
    pub gpu_layers: Option<u32>,
    /// Tokens packed into one forward pass. An encoder attends across the whole pass (masked per
    /// text), so its cost grows with the square of this: small packs are faster (measured on
    /// MiniLM: 256 tokens 126 passages/s, 2,048 tokens 91). A longer text still goes whole, alone.
    pub batch_tokens: u32,
    /// Most texts in one forward pass.
    pub max_sequences: u32,
    /// Put before every query (e5: `query: `, nomic: `search_query: `).
    pub query_prefix: String,
    /// Put before every document passage (e5: `passage: `, nomic: `search_document: `).
    pub document_prefix: String,
}

impl EmbedderSettings {
    pub fn new(model_path: impl Into<PathBuf>) -> Self {
        EmbedderSettings {
            model_path: model_path.into(),
            fingerprint: String::new(),
            threads: None,
            gpu_layers: None,
            batch_tokens: 256,
            max_sequences: 64,
            query_prefix: String::new(),
            document_prefix: String::new(),
        }
    }
}

/// What was loaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbedderSummary {
    pub path: PathBuf,
    pub architecture: String,
    pub dimensions: usize,
    pub pooling: String,
    /// The longest text, in tokens, embedded whole (the model's context, at most
    /// [`MAX_TEXT_TOKENS`]); longer ones are cut.
    pub max_tokens: usize,
    pub threads: i32,
}

struct Request {
    texts: Vec<String>,
    reply: tokio::sync::oneshot::Sender<Result<Vec<Vec<f32>>, LlmError>>,
}

/// A loaded GGUF embedding model. Every call goes to one thread, which stops when the last handle
/// is dropped.
pub struct LlamaEmbedder {
    requests: mpsc::Sender<Request>,
    identity: EmbedderIdentity,
    summary: EmbedderSummary,
    query_prefix: String,
    document_prefix: String,
}

impl std::fmt::Debug for LlamaEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlamaEmbedder").field("summary", &self.summary).finish()
    }
}

impl LlamaEmbedder {
    /// Loads the model and starts its thread; blocks until it is ready (call it from
    /// `spawn_blocking` in async code). A file that is not an embedding model llama.cpp can pool is
    /// a [`LlmError::Permanent`] naming the file.
    pub fn load(settings: EmbedderSettings) -> Result<Self, LlmError> {
        let info =
            hypatia_gguf::read_info(&settings.model_path).map_err(|error| LlmError::Permanent(error.to_string()))?;
        let architecture = info.architecture.clone().unwrap_or_default();
        let pooling = info
            .get(&format!("{architecture}.pooling_type"))
            .and_then(hypatia_gguf::MetadataValue::as_u64);
        let backend = crate::engine::backend()?;
        let (requests, queue) = mpsc::channel::<Request>();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread_settings = settings.clone();
        std::thread::Builder::new()
            .name("hypatia-embed".into())
            .spawn(move || serve(backend, &thread_settings, architecture, pooling, &ready_tx, &queue))
            .map_err(|error| LlmError::Permanent(format!("cannot start the embedding thread: {error}")))?;
        let summary = ready_rx
            .recv()
            .map_err(|_| LlmError::Permanent("the embedding thread stopped while loading the model".into()))??;
        let name = settings
            .model_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let identity = EmbedderIdentity {
            // Prefixes change every vector: they are part of what made them.
            name: format!(
                "llama:{name}{}",
                hypatia_llm::prefixes_label(&settings.query_prefix, &settings.document_prefix)
            ),
            fingerprint: settings.fingerprint.clone(),
            dimensions: summary.dimensions,
        };
        tracing::info!(model = %summary.path.display(), dimensions = summary.dimensions, pooling = %summary.pooling,
            max_tokens = summary.max_tokens, "embedding model loaded");
        Ok(LlamaEmbedder {
            requests,
            identity,
            summary,
            query_prefix: settings.query_prefix,
            document_prefix: settings.document_prefix,
        })
    }

    pub fn summary(&self) -> &EmbedderSummary {
        &self.summary
    }
}

impl EmbeddingBackend for LlamaEmbedder {
    fn identity(&self) -> &EmbedderIdentity {
        &self.identity
    }

    fn embed<'a>(&'a self, texts: Vec<String>, role: EmbedRole) -> BoxFuture<'a, Result<Vec<Vec<f32>>, LlmError>> {
        let prefix = match role {
            EmbedRole::Query => &self.query_prefix,
            EmbedRole::Document => &self.document_prefix,
        };
        let texts = if prefix.is_empty() {
            texts
        } else {
            texts.into_iter().map(|text| format!("{prefix}{text}")).collect()
        };
        Box::pin(async move {
            let (reply, answer) = tokio::sync::oneshot::channel();
            self.requests
                .send(Request { texts, reply })
                .map_err(|_| LlmError::Permanent("the embedding thread has stopped".into()))?;
            answer
                .await
                .unwrap_or_else(|_| Err(LlmError::Permanent("the embedding thread stopped mid-request".into())))
        })
    }
}

struct Limits {
    max_tokens: usize,
    /// Tokens packed into one pass; one longer text goes alone.
    pack_tokens: usize,
    max_sequences: usize,
}

/// The longest text embedded whole, whatever the model's context: the attention of a pass this long
/// already takes hundreds of megabytes, and passages are far shorter.
pub const MAX_TEXT_TOKENS: u32 = 2048;

type Ready = mpsc::SyncSender<Result<EmbedderSummary, LlmError>>;

/// The embedding thread: loads the model, says it is ready (or why not), then serves requests
/// until every handle is gone.
fn serve(
    backend: &llama_cpp_2::llama_backend::LlamaBackend,
    settings: &EmbedderSettings,
    architecture: String,
    pooling: Option<u64>,
    ready: &Ready,
    queue: &mpsc::Receiver<Request>,
) {
    let path = &settings.model_path;
    let fail = |message: String| {
        let _ = ready.send(Err(LlmError::Permanent(message)));
    };
    // The file's pooling; a model without one (a generative model) is pooled by its mean.
    let (pooling_type, pooling_name) = match pooling {
        Some(1) => (LlamaPoolingType::Mean, "mean"),
        Some(2) => (LlamaPoolingType::Cls, "cls"),
        Some(3) => (LlamaPoolingType::Last, "last"),
        Some(4) => {
            return fail(format!(
                "{} is a reranker (rank pooling), not an embedding model",
                path.display()
            ));
        }
        _ => {
            tracing::warn!(model = %path.display(), "the model names no pooling: its token vectors are averaged");
            (LlamaPoolingType::Mean, "mean (the file names none)")
        }
    };
    let gpu_layers = settings
        .gpu_layers
        .unwrap_or(if backend.supports_gpu_offload() { u32::MAX } else { 0 });
    let model = match LlamaModel::load_from_file(
        backend,
        path,
        &LlamaModelParams::default().with_n_gpu_layers(gpu_layers),
    ) {
        Ok(model) => model,
        Err(error) => return fail(format!("llama.cpp could not load {}: {error}", path.display())),
    };
    let max_sequences = settings.max_sequences.clamp(1, 256);
    // llama.cpp reserves its worst-case graph as n_seq_max equal sequences filling the micro-batch;
    // a batch that does not divide evenly aborts the process (GGML_ASSERT in mul_mat).
    let pack_tokens = settings.batch_tokens.clamp(16, MAX_TEXT_TOKENS);
    // The forward pass must hold the longest text whole: the model's context (at most
    // MAX_TEXT_TOKENS), or the pack if larger.
    let max_tokens = model.n_ctx_train().clamp(2, MAX_TEXT_TOKENS);
    let batch_tokens = max_tokens.max(pack_tokens).next_multiple_of(max_sequences);
    let max_tokens = max_tokens as usize;
    let threads = crate::settings::thread_count(settings.threads);
    let params = LlamaContextParams::default()
        .with_embeddings(true)
        .with_pooling_type(pooling_type)
        .with_n_ctx(NonZeroU32::new(batch_tokens))
        // An encoder sees a whole batch at once: the micro-batch is the batch.
        .with_n_batch(batch_tokens)
        .with_n_ubatch(batch_tokens)
        .with_n_seq_max(max_sequences)
        // A decoder's sequences share one cache, so any one of them may be as long as the batch.
        .with_kv_unified(true)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut ctx = match model.new_context(backend, params) {
        Ok(ctx) => ctx,
        Err(error) => return fail(format!("llama.cpp could not create an embedding context: {error}")),
    };
    let dimensions = usize::try_from(model.n_embd_out()).unwrap_or(0);
    if dimensions == 0 {
        return fail(format!("{} has no embedding width", path.display()));
    }
    let summary = EmbedderSummary {
        path: path.clone(),
        architecture,
        dimensions,
        pooling: pooling_name.to_owned(),
        max_tokens,
        threads,
    };
    if ready.send(Ok(summary)).is_err() {
        return;
    }
    let limits = Limits {
        max_tokens,
        pack_tokens: pack_tokens as usize,
        max_sequences: max_sequences as usize,
    };
    let mut batch = LlamaBatch::new(batch_tokens as usize, 1);
    while let Ok(request) = queue.recv() {
        let result = embed_all(&model, &mut ctx, &mut batch, &limits, &request.texts);
        let _ = request.reply.send(result);
    }
}

/// The tokens of a text with the model's special tokens, cut to `max` keeping the last token (the
/// `[SEP]` or end-of-text token that pooling may rely on).
fn tokens_of(model: &LlamaModel, text: &str, max: usize) -> Vec<LlamaToken> {
    // Special-token text typed by a user ("[SEP]") is text, not a control token.
    let mut tokens = model.vocab().tokenize(text.as_bytes(), true, false);
    if tokens.len() > max {
        let last = tokens[tokens.len() - 1];
        tokens.truncate(max - 1);
        tokens.push(last);
    }
    tokens
}

/// Embeds every text, packing whole sequences into batches.
fn embed_all(
    model: &LlamaModel,
    ctx: &mut LlamaContext<'_>,
    batch: &mut LlamaBatch<'_>,
    limits: &Limits,
    texts: &[String],
) -> Result<Vec<Vec<f32>>, LlmError> {
    let tokenized: Vec<Vec<LlamaToken>> = texts
        .iter()
        .map(|text| tokens_of(model, text, limits.max_tokens))
        .collect();
    let mut vectors = Vec::with_capacity(texts.len());
    let mut start = 0;
    while start < tokenized.len() {
        let mut end = start;
        let mut used = 0;
        while end < tokenized.len()
            && end - start < limits.max_sequences
            && (end == start || used + tokenized[end].len().max(1) <= limits.pack_tokens)
        {
            used += tokenized[end].len().max(1);
            end += 1;
        }
        batch.clear();
        for (seq, tokens) in tokenized[start..end].iter().enumerate() {
            // An empty text (a tokenizer that adds nothing) still needs one token to pool.
            let tokens: &[LlamaToken] = if tokens.is_empty() { &[LlamaToken(0)] } else { tokens };
            batch
                .add_sequence(tokens, seq as i32, true)
                .map_err(|error| LlmError::Permanent(format!("cannot fill an embedding batch: {error}")))?;
        }
        ctx.clear_kv_cache();
        ctx.decode(batch)
            .map_err(|error| LlmError::Permanent(format!("llama.cpp could not embed a batch: {error}")))?;
        for seq in 0..end - start {
            let pooled = ctx
                .embeddings_seq_ith(seq as i32)
                .map_err(|_| LlmError::Permanent("llama.cpp returned no pooled embedding".into()))?;
            vectors.push(normalized(pooled.to_vec())?);
        }
        start = end;
    }
    Ok(vectors)
}
