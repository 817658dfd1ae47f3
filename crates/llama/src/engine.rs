use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Instant;

use hypatia_llm::{BoxFuture, CallControl, ChatBackend, ChatRequest, Completion, LlmError};
use llama_cpp_2::llama_backend::LlamaBackend;
use serde::Serialize;

use crate::settings::LlamaSettings;
use crate::worker;

/// What was loaded, for `hypatia ask` and logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSummary {
    pub path: PathBuf,
    pub parameters: u64,
    /// The KV cache size in use, shared by all concurrent requests.
    pub context_tokens: u32,
    pub train_context_tokens: u32,
    pub threads: i32,
    pub gpu_layers: u32,
    pub max_sequences: u32,
    /// False when the GGUF has no chat template and its family's built-in format is used instead.
    pub has_chat_template: bool,
    /// The chat format prompts are rendered in.
    pub chat_format: hypatia_gguf::ChatFormat,
}

/// Running totals, readable while the engine works (tests use them to see batching and reuse happen).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EngineStats {
    pub requests: u64,
    pub decode_calls: u64,
    /// The most sequences that shared one decode call.
    pub max_sequences_in_a_batch: u64,
    pub prompt_tokens: u64,
    pub cached_prompt_tokens: u64,
    pub generated_tokens: u64,
}

/// A prompt as the model receives it: the rendered text and its tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedPrompt {
    pub text: String,
    pub tokens: Vec<PromptToken>,
}

/// One token of a rendered prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptToken {
    pub id: i32,
    /// The token's text (control tokens spelled out, e.g. `<start_of_turn>`).
    pub piece: String,
    /// A control token of the vocabulary (turn delimiters, BOS), not text.
    pub control: bool,
}

/// What the inference thread is asked to do.
pub(crate) enum Work {
    Chat(Job),
    /// Render and tokenize a conversation, as a chat request would, without generating.
    Render {
        messages: Vec<hypatia_llm::ChatMessage>,
        reply: tokio::sync::oneshot::Sender<Result<RenderedPrompt, LlmError>>,
    },
}

/// One request on its way to the inference thread.
pub(crate) struct Job {
    pub request: ChatRequest,
    pub control: CallControl,
    pub received: Instant,
    pub reply: tokio::sync::oneshot::Sender<Result<Completion, LlmError>>,
}

/// A loaded GGUF model. Cheap to share behind an `Arc`; every call goes to one inference thread, which
/// stops when the last handle is dropped and its requests have finished.
pub struct LlamaEngine {
    jobs: mpsc::Sender<Work>,
    summary: ModelSummary,
    stats: Arc<Mutex<EngineStats>>,
}

impl std::fmt::Debug for LlamaEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlamaEngine").field("summary", &self.summary).finish()
    }
}

impl LlamaEngine {
    /// Loads the model and starts the inference thread; blocks until the model is ready (seconds for a
    /// large model: call it from `spawn_blocking` in async code). A missing, truncated or non-GGUF file is
    /// a [`LlmError::Permanent`] naming the file.
    pub fn load(settings: LlamaSettings) -> Result<Self, LlmError> {
        // Our own reader checks the file first: its errors say what is wrong, where llama.cpp only logs.
        let info =
            hypatia_gguf::read_info(&settings.model_path).map_err(|error| LlmError::Permanent(error.to_string()))?;
        let formats = worker::Formats {
            file: info.chat_format.clone(),
            family: info.family_chat_format(),
        };
        let backend = backend()?;
        let (jobs, queue) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let stats = Arc::new(Mutex::new(EngineStats::default()));
        let worker_stats = Arc::clone(&stats);
        std::thread::Builder::new()
            .name("hypatia-llama".into())
            .spawn(move || worker::run(backend, settings, formats, queue, ready_tx, worker_stats))
            .map_err(|error| LlmError::Permanent(format!("cannot start the inference thread: {error}")))?;
        let summary = ready_rx
            .recv()
            .map_err(|_| LlmError::Permanent("the inference thread stopped while loading the model".into()))??;
        tracing::info!(model = %summary.path.display(), parameters = summary.parameters,
            context = summary.context_tokens, threads = summary.threads, gpu_layers = summary.gpu_layers, "model loaded");
        Ok(LlamaEngine { jobs, summary, stats })
    }

    pub fn summary(&self) -> &ModelSummary {
        &self.summary
    }

    /// The prompt a conversation becomes in this model's chat format, token by token.
    pub async fn render_prompt(&self, messages: Vec<hypatia_llm::ChatMessage>) -> Result<RenderedPrompt, LlmError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Work::Render { messages, reply })
            .map_err(|_| LlmError::Permanent("the inference thread has stopped".into()))?;
        answer
            .await
            .unwrap_or_else(|_| Err(LlmError::Permanent("the inference thread stopped mid-request".into())))
    }

    pub fn stats(&self) -> EngineStats {
        self.stats.lock().map(|stats| stats.clone()).unwrap_or_default()
    }
}

impl ChatBackend for LlamaEngine {
    fn describe(&self) -> String {
        let name = self
            .summary
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("llama:{name}")
    }

    fn chat<'a>(&'a self, request: ChatRequest, control: CallControl) -> BoxFuture<'a, Result<Completion, LlmError>> {
        Box::pin(async move {
            let (reply, answer) = tokio::sync::oneshot::channel();
            let cancel = control.cancel.clone();
            let job = Job {
                request,
                control,
                received: Instant::now(),
                reply,
            };
            self.jobs
                .send(Work::Chat(job))
                .map_err(|_| LlmError::Permanent("the inference thread has stopped".into()))?;
            tokio::select! {
                answer = answer => answer.unwrap_or_else(|_| Err(LlmError::Permanent("the inference thread stopped mid-request".into()))),
                // The worker sees the token too and frees the sequence; the caller need not wait for that.
                () = cancel.cancelled() => Err(LlmError::Cancelled),
            }
        })
    }
}

/// llama.cpp's backend is process-wide and may be initialised once.
pub(crate) fn backend() -> Result<&'static LlamaBackend, LlmError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|error| LlmError::Permanent(format!("cannot initialise llama.cpp: {error}")))
}
