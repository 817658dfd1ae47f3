use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How to load and run a GGUF model in process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlamaSettings {
    pub model_path: PathBuf,
    /// KV cache size in tokens, shared by all concurrent requests (unified cache). Default: the model's
    /// training context, capped at 8192.
    pub context_tokens: Option<u32>,
    /// CPU threads for decoding. Default: all available cores.
    pub threads: Option<u32>,
    /// Layers to offload to a GPU. Default: all of them when the build has a GPU backend and a device
    /// is present, none otherwise.
    pub gpu_layers: Option<u32>,
    /// Most requests decoded together, and most sequences kept for prefix reuse, in all.
    pub max_sequences: u32,
    /// Tokens per decode call (prompt processing chunk).
    pub batch_tokens: u32,
    /// Keep finished requests' KV cache for reuse by later requests with the same prefix.
    pub prefix_cache: bool,
    /// Flash attention: `None` lets llama.cpp decide (on where the backend supports it).
    pub flash_attention: Option<bool>,
}

pub(crate) const DEFAULT_MAX_CONTEXT: u32 = 8192;

impl LlamaSettings {
    pub fn new(model_path: impl Into<PathBuf>) -> Self {
        LlamaSettings {
            model_path: model_path.into(),
            context_tokens: None,
            threads: None,
            gpu_layers: None,
            max_sequences: 16,
            batch_tokens: 512,
            prefix_cache: true,
            flash_attention: None,
        }
    }

    pub(crate) fn thread_count(&self) -> i32 {
        thread_count(self.threads)
    }
}

/// The threads asked for, else all available cores.
pub(crate) fn thread_count(threads: Option<u32>) -> i32 {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32))
        .max(1);
    i32::try_from(threads).unwrap_or(i32::MAX)
}
