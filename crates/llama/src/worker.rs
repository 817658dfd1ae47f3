//! The inference thread: owns the model and context, admits requests as sequences, and decodes every
//! active sequence together, one batch per step.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use hypatia_llm::{Completion, FinishReason, LlmError, Usage};
use llama_cpp_2::DecodeError;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;

use crate::engine::{EngineStats, Job, ModelSummary, PromptToken, RenderedPrompt, Work};
use crate::output::AnswerText;
use crate::prefix::{CachedSequence, common_prefix};
use crate::sampler::RequestSampler;
use crate::settings::{DEFAULT_MAX_CONTEXT, LlamaSettings};
use crate::{grammar, template};

/// A request waits for a running one that shares at least this many more prompt tokens than are
/// computed yet, then copies them instead of computing them a second time.
const WAIT_FOR_SHARED_PREFIX: usize = 32;

type Ready = mpsc::SyncSender<Result<ModelSummary, LlmError>>;

/// The chat format the file asks for, and its family's, should llama.cpp not apply the file's own.
pub(crate) struct Formats {
    pub file: hypatia_gguf::ChatFormat,
    pub family: hypatia_gguf::ChatFormat,
}

pub(crate) fn run(
    backend: &'static LlamaBackend,
    settings: LlamaSettings,
    formats: Formats,
    queue: mpsc::Receiver<Work>,
    ready: Ready,
    stats: Arc<Mutex<EngineStats>>,
) {
    let gpu_layers = settings
        .gpu_layers
        .unwrap_or(if backend.supports_gpu_offload() { u32::MAX } else { 0 });
    let model_params = LlamaModelParams::default().with_n_gpu_layers(gpu_layers);
    let model = match LlamaModel::load_from_file(backend, &settings.model_path, &model_params) {
        Ok(model) => model,
        Err(error) => {
            let message = format!("llama.cpp could not load {}: {error}", settings.model_path.display());
            let _ = ready.send(Err(LlmError::Permanent(message)));
            return;
        }
    };
    let train_context = model.n_ctx_train();
    let context_tokens = settings
        .context_tokens
        .unwrap_or(train_context.min(DEFAULT_MAX_CONTEXT))
        .max(64);
    let threads = settings.thread_count();
    let batch_tokens = settings.batch_tokens.max(16);
    // Every generating sequence puts one token in each batch, so there can be no more than it holds.
    let max_sequences = settings.max_sequences.clamp(1, 256).min(batch_tokens);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(context_tokens))
        .with_n_batch(batch_tokens)
        .with_n_ubatch(batch_tokens)
        .with_n_seq_max(max_sequences)
        .with_n_threads(threads)
        .with_n_threads_batch(threads)
        // One cache shared by all sequences: without it each sequence gets n_ctx / n_seq_max cells and
        // copying a prefix between sequences is not possible.
        .with_kv_unified(true)
        .with_flash_attention_policy(match settings.flash_attention {
            None => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_AUTO,
            Some(true) => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED,
            Some(false) => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED,
        });
    let ctx = match model.new_context(backend, params) {
        Ok(ctx) => ctx,
        Err(error) => {
            let _ = ready.send(Err(LlmError::Permanent(format!(
                "llama.cpp could not create a context: {error}"
            ))));
            return;
        }
    };
    let (chat_template, chat_format) = match template::for_model(&model, &formats.file, &formats.family) {
        Ok(found) => found,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    let summary = ModelSummary {
        path: settings.model_path.clone(),
        parameters: model.n_params(),
        context_tokens: ctx.n_ctx(),
        train_context_tokens: train_context,
        threads,
        gpu_layers: gpu_layers.min(model.n_layer() + 1),
        max_sequences,
        has_chat_template: chat_format == hypatia_gguf::ChatFormat::Embedded,
        chat_format,
    };
    if ready.send(Ok(summary)).is_err() {
        return;
    }
    let mut worker = Worker {
        model: &model,
        n_ctx: ctx.n_ctx() as usize,
        // Named once: every answer carries it.
        model_name: model
            .meta_val_str("general.name")
            .unwrap_or_else(|_| "gguf".to_string()),
        ctx,
        chat_template,
        batch: LlamaBatch::new(batch_tokens as usize, 1),
        batch_capacity: batch_tokens as usize,
        // A recurrent state cannot be cut back to a prefix or copied in part: no reuse for those models.
        reuse_prefixes: settings.prefix_cache && !model.is_recurrent() && !model.is_hybrid(),
        active: Vec::new(),
        cached: Vec::new(),
        free: (0..max_sequences as i32).rev().collect(),
        waiting: VecDeque::new(),
        tick: 0,
        stats,
    };
    worker.serve(&queue);
}

struct Slot {
    seq: i32,
    job: Job,
    prompt: Vec<LlamaToken>,
    /// Tokens whose keys and values are in the cache for `seq`, in position order.
    kv: Vec<LlamaToken>,
    cached_prompt: usize,
    sampler: RequestSampler,
    answer: AnswerText,
    generated: u32,
    max_tokens: u32,
    /// KV cells this request may need at most, beyond a prefix shared with a request already running.
    kv_need: usize,
    /// Sampled but not yet decoded.
    next_token: Option<LlamaToken>,
    /// Tokens this slot put in the current batch, and where its logits are.
    in_batch: usize,
    logits_at: Option<i32>,
    first_token_at: Option<Instant>,
}

impl Slot {
    fn in_prompt(&self) -> bool {
        self.kv.len() < self.prompt.len()
    }
}

struct Worker<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    n_ctx: usize,
    model_name: String,
    chat_template: LlamaChatTemplate,
    batch: LlamaBatch<'static>,
    batch_capacity: usize,
    reuse_prefixes: bool,
    active: Vec<Slot>,
    cached: Vec<CachedSequence>,
    free: Vec<i32>,
    waiting: VecDeque<Waiting>,
    tick: u64,
    stats: Arc<Mutex<EngineStats>>,
}

enum Outcome {
    Continue,
    Done(FinishReason),
    Failed(LlmError),
}

impl Worker<'_> {
    fn serve(&mut self, queue: &mpsc::Receiver<Work>) {
        loop {
            if self.active.is_empty() && self.waiting.is_empty() {
                match queue.recv() {
                    Ok(work) => self.take(work),
                    Err(_) => return, // every handle dropped and nothing left to do
                }
            }
            while let Ok(work) = queue.try_recv() {
                self.take(work);
            }
            self.drop_cancelled();
            self.admit_waiting();
            self.step();
        }
    }

    fn take(&mut self, work: Work) {
        match work {
            Work::Chat(job) => self.waiting.push_back(Waiting { job, prepared: None }),
            Work::Render { messages, reply } => {
                let _ = reply.send(self.render(&messages));
            }
        }
    }

    fn render(&self, messages: &[hypatia_llm::ChatMessage]) -> Result<RenderedPrompt, LlmError> {
        let text = template::render(self.model, &self.chat_template, messages)?;
        let vocab = self.model.vocab();
        let tokens = vocab
            .tokenize(text.as_bytes(), true, true)
            .into_iter()
            .map(|token| PromptToken {
                id: token.0,
                piece: String::from_utf8_lossy(&vocab.token_to_piece(token, true, None)).into_owned(),
                control: vocab.is_control(token),
            })
            .collect();
        Ok(RenderedPrompt { text, tokens })
    }

    fn drop_cancelled(&mut self) {
        let mut index = 0;
        while index < self.active.len() {
            let job = &self.active[index].job;
            if job.control.cancel.is_cancelled() || job.reply.is_closed() {
                let slot = self.active.swap_remove(index);
                tracing::debug!(seq = slot.seq, "request cancelled");
                let Slot { seq, kv, job, .. } = slot;
                let _ = job.reply.send(Err(LlmError::Cancelled));
                self.recycle(seq, kv);
            } else {
                index += 1;
            }
        }
        self.waiting.retain(|waiting| {
            let job = &waiting.job;
            !(job.control.cancel.is_cancelled() || job.reply.is_closed())
        });
    }

    fn admit_waiting(&mut self) {
        let mut deferred = VecDeque::new();
        while let Some(Waiting { job, prepared }) = self.waiting.pop_front() {
            // Rendering, tokenizing and building the grammar happen once per request, not once per step.
            let prepared = match prepared.map_or_else(|| self.prepare(&job), Ok) {
                Ok(prepared) => prepared,
                Err(error) => {
                    let _ = job.reply.send(Err(error));
                    continue;
                }
            };
            if self.should_wait_for_shared_prefix(&prepared.prompt) {
                deferred.push_back(Waiting {
                    job,
                    prepared: Some(prepared),
                });
                continue;
            }
            // Admit only what the cache can hold to the end (prompt and longest answer), so a full cache
            // does not fail requests that could have waited. Alone, a request is always admitted.
            let max_tokens = job.request.sampling.max_tokens.max(1);
            let shared = self
                .active
                .iter()
                .map(|slot| common_prefix(&slot.prompt, &prepared.prompt))
                .max()
                .unwrap_or(0);
            let kv_need = prepared.prompt.len() - shared + max_tokens as usize;
            let reserved: usize = self.active.iter().map(|slot| slot.kv_need).sum();
            if !self.active.is_empty() && reserved + kv_need > self.n_ctx {
                deferred.push_back(Waiting {
                    job,
                    prepared: Some(prepared),
                });
                deferred.extend(self.waiting.drain(..));
                break;
            }
            let Some((seq, kv)) = self.claim_sequence(&prepared.prompt) else {
                deferred.push_back(Waiting {
                    job,
                    prepared: Some(prepared),
                });
                // No sequence free: everyone behind waits too, in order.
                deferred.extend(self.waiting.drain(..));
                break;
            };
            let answer = AnswerText::new(job.request.sampling.stop.clone());
            self.active.push(Slot {
                seq,
                cached_prompt: kv.len(),
                kv,
                prompt: prepared.prompt,
                sampler: prepared.sampler,
                answer,
                generated: 0,
                max_tokens,
                kv_need,
                next_token: None,
                in_batch: 0,
                logits_at: None,
                first_token_at: None,
                job,
            });
        }
        self.waiting = deferred;
    }

    fn prepare(&self, job: &Job) -> Result<Prepared, LlmError> {
        let text = template::render(self.model, &self.chat_template, &job.request.messages)?;
        let prompt = self.model.vocab().tokenize(text.as_bytes(), true, true);
        if prompt.is_empty() {
            return Err(LlmError::Permanent("the prompt is empty after tokenization".into()));
        }
        if prompt.len() >= self.n_ctx {
            return Err(LlmError::ContextTooLong {
                prompt_tokens: u32::try_from(prompt.len()).unwrap_or(u32::MAX),
                context_tokens: u32::try_from(self.n_ctx).unwrap_or(u32::MAX),
            });
        }
        let grammar = job
            .request
            .schema
            .as_ref()
            .map(grammar::schema_to_grammar)
            .transpose()?;
        let sampler = RequestSampler::build(self.model, &job.request.sampling, grammar.as_deref())?;
        Ok(Prepared { prompt, sampler })
    }

    /// True when a running request is still computing a prompt that this one shares a long stretch of.
    fn should_wait_for_shared_prefix(&self, prompt: &[LlamaToken]) -> bool {
        if !self.reuse_prefixes {
            return false;
        }
        self.active.iter().filter(|slot| slot.in_prompt()).any(|slot| {
            let shared = common_prefix(&slot.prompt, prompt).min(prompt.len() - 1);
            shared >= common_prefix(&slot.kv, prompt) + WAIT_FOR_SHARED_PREFIX
        })
    }

    /// A sequence id for a new request, with as much of its prompt already in the cache as possible,
    /// checked against what the cache really holds.
    fn claim_sequence(&mut self, prompt: &[LlamaToken]) -> Option<(i32, Vec<LlamaToken>)> {
        let (seq, kv) = self.claim_reusing(prompt)?;
        if kv.is_empty() {
            return Some((seq, kv));
        }
        // The cache must hold exactly positions 0..len for the sequence. A sliding-window model may have
        // dropped early positions; a failed partial removal leaves later ones. Then compute it all.
        let holds_exactly = self.ctx.kv_cache_seq_pos_min(seq) == 0
            && usize::try_from(self.ctx.kv_cache_seq_pos_max(seq)).is_ok_and(|max| max + 1 == kv.len());
        if holds_exactly {
            Some((seq, kv))
        } else {
            tracing::debug!(seq, reused = kv.len(), "cached prefix incomplete; recomputing it");
            self.forget_from(seq, 0);
            Some((seq, Vec::new()))
        }
    }

    fn claim_reusing(&mut self, prompt: &[LlamaToken]) -> Option<(i32, Vec<LlamaToken>)> {
        if !self.reuse_prefixes {
            let seq = match self.free.pop() {
                Some(seq) => seq,
                None => self.evict_least_recently_used()?,
            };
            return Some((seq, Vec::new()));
        }
        // The last prompt token is always decoded: its logits give the first answer token.
        let limit = prompt.len() - 1;
        let best_cached = self
            .cached
            .iter()
            .enumerate()
            .map(|(index, entry)| (index, common_prefix(&entry.tokens, prompt).min(limit)))
            .max_by_key(|(_, shared)| *shared);
        let best_active = self
            .active
            .iter()
            .map(|slot| (slot.seq, common_prefix(&slot.kv, prompt).min(limit)))
            .max_by_key(|(_, shared)| *shared);
        let active_shared = best_active.map_or(0, |(_, shared)| shared);
        if let Some((index, shared)) = best_cached
            && shared > 0
            && shared >= active_shared
        {
            // Take the cached sequence over and drop what follows the shared part.
            let entry = self.cached.swap_remove(index);
            self.forget_from(entry.seq, shared);
            return Some((entry.seq, prompt[..shared].to_vec()));
        }
        let seq = match self.free.pop() {
            Some(seq) => seq,
            None => self.evict_least_recently_used()?,
        };
        if let Some((source, shared)) = best_active
            && shared > 0
            && self
                .ctx
                .copy_kv_cache_seq(source, seq, Some(0), u32::try_from(shared).ok())
                .is_ok()
        {
            return Some((seq, prompt[..shared].to_vec()));
        }
        Some((seq, Vec::new()))
    }

    fn evict_least_recently_used(&mut self) -> Option<i32> {
        let (index, _) = self
            .cached
            .iter()
            .enumerate()
            .min_by_key(|(_, entry)| entry.last_used)?;
        let entry = self.cached.swap_remove(index);
        self.forget_from(entry.seq, 0);
        Some(entry.seq)
    }

    fn forget_from(&mut self, seq: i32, position: usize) {
        let seq = u32::try_from(seq).ok();
        let position = u32::try_from(position).ok();
        if let Err(error) = self.ctx.clear_kv_cache_seq(seq, position, None) {
            tracing::warn!(%error, "could not clear a KV cache sequence");
        }
    }

    /// Keeps a finished sequence's cache for reuse, or frees it.
    fn recycle(&mut self, seq: i32, kv: Vec<LlamaToken>) {
        if self.reuse_prefixes && !kv.is_empty() {
            self.tick += 1;
            self.cached.push(CachedSequence {
                seq,
                tokens: kv,
                last_used: self.tick,
            });
        } else {
            self.forget_from(seq, 0);
            self.free.push(seq);
        }
    }

    fn step(&mut self) {
        if self.active.is_empty() {
            return;
        }
        self.batch.clear();
        let mut used = 0usize;
        let mut add_failed = false;
        // Answers in progress first: one token each, so generation never stalls behind a long prompt.
        for slot in &mut self.active {
            slot.in_batch = 0;
            slot.logits_at = None;
            if let Some(token) = slot.next_token
                && used < self.batch_capacity
            {
                add_failed |= self
                    .batch
                    .add(token, position(slot.kv.len()), &[slot.seq], true)
                    .is_err();
                slot.logits_at = Some(position(used));
                slot.in_batch = 1;
                used += 1;
            }
        }
        for slot in &mut self.active {
            if !slot.in_prompt() || used >= self.batch_capacity {
                continue;
            }
            let start = slot.kv.len();
            let take = (slot.prompt.len() - start).min(self.batch_capacity - used);
            for offset in 0..take {
                let index = start + offset;
                let last = index + 1 == slot.prompt.len();
                add_failed |= self
                    .batch
                    .add(slot.prompt[index], position(index), &[slot.seq], last)
                    .is_err();
                if last {
                    slot.logits_at = Some(position(used));
                }
                used += 1;
            }
            slot.in_batch = take;
        }
        if add_failed {
            self.fail_batch(|| LlmError::Permanent("internal error: the decode batch overflowed".into()));
            return;
        }
        if used == 0 {
            return;
        }
        match self.ctx.decode(&mut self.batch) {
            Ok(()) => {}
            Err(DecodeError::NoKvCacheSlot) => {
                self.make_room();
                return;
            }
            Err(error) => {
                let message = format!("llama.cpp failed to decode: {error}");
                self.fail_batch(|| LlmError::Permanent(message.clone()));
                return;
            }
        }
        self.record_decode();
        for slot in &mut self.active {
            if slot.in_batch == 0 {
                continue;
            }
            match slot.next_token.take() {
                Some(token) => slot.kv.push(token),
                None => {
                    let start = slot.kv.len();
                    slot.kv.extend_from_slice(&slot.prompt[start..start + slot.in_batch]);
                }
            }
        }
        let mut index = 0;
        while index < self.active.len() {
            match self.sample(index) {
                Outcome::Continue => index += 1,
                Outcome::Done(finish) => {
                    let slot = self.active.swap_remove(index);
                    self.finish(slot, finish);
                }
                Outcome::Failed(error) => {
                    let Slot { seq, job, kv, .. } = self.active.swap_remove(index);
                    let _ = job.reply.send(Err(error));
                    self.recycle(seq, kv);
                }
            }
        }
    }

    fn sample(&mut self, index: usize) -> Outcome {
        let n_ctx = self.n_ctx;
        let vocab = self.model.vocab();
        let slot = &mut self.active[index];
        let Some(logits_at) = slot.logits_at else {
            return Outcome::Continue;
        };
        let answer = &slot.answer;
        let fits = |token| vocab.is_eog(token) || answer.accepts(&vocab.token_to_piece(token, false, None));
        let Some(token) = slot.sampler.sample(&self.ctx, logits_at, fits) else {
            return Outcome::Failed(LlmError::InvalidOutput(
                "no token the schema's grammar allows can continue the answer".into(),
            ));
        };
        if slot.first_token_at.is_none() {
            slot.first_token_at = Some(Instant::now());
        }
        if vocab.is_eog(token) {
            return Outcome::Done(FinishReason::Stop);
        }
        slot.generated += 1;
        let piece = vocab.token_to_piece(token, false, None);
        let stopped = slot.answer.push(&piece);
        if let Some(stream) = &slot.job.control.stream
            && let Some(text) = slot.answer.take_streamable()
        {
            let _ = stream.send(text);
        }
        if stopped {
            return Outcome::Done(FinishReason::StopString);
        }
        if slot.generated >= slot.max_tokens || slot.kv.len() + 1 >= n_ctx {
            return Outcome::Done(FinishReason::Length);
        }
        slot.next_token = Some(token);
        Outcome::Continue
    }

    fn finish(&mut self, slot: Slot, finish: FinishReason) {
        let Slot {
            seq,
            job,
            prompt,
            kv,
            cached_prompt,
            mut answer,
            generated,
            first_token_at,
            ..
        } = slot;
        if let (Some(stream), Some(rest)) = (&job.control.stream, answer.finish()) {
            let _ = stream.send(rest);
        }
        let now = Instant::now();
        let usage = Usage {
            prompt_tokens: count(prompt.len()),
            cached_prompt_tokens: count(cached_prompt),
            completion_tokens: generated,
            time_to_first_token: Some(first_token_at.unwrap_or(now).duration_since(job.received)),
            total_time: now.duration_since(job.received),
        };
        tracing::debug!(
            seq,
            prompt = usage.prompt_tokens,
            cached = usage.cached_prompt_tokens,
            generated,
            ttft_ms = usage.time_to_first_token.map_or(0, |ttft| ttft.as_millis() as u64),
            ?finish,
            "request finished"
        );
        if let Ok(mut stats) = self.stats.lock() {
            stats.requests += 1;
            stats.prompt_tokens += prompt.len() as u64;
            stats.cached_prompt_tokens += cached_prompt as u64;
            stats.generated_tokens += u64::from(generated);
        }
        let model = self.model_name.clone();
        let _ = job.reply.send(Ok(Completion {
            text: answer.into_text(),
            finish,
            usage,
            model,
        }));
        self.recycle(seq, kv);
    }

    /// The cache is full. Cached prefixes go first; if there are none, the newest request is refused
    /// so the others can finish.
    fn make_room(&mut self) {
        if !self.cached.is_empty() {
            tracing::debug!(sequences = self.cached.len(), "KV cache full: dropping cached prefixes");
            while self
                .evict_least_recently_used()
                .map(|seq| self.free.push(seq))
                .is_some()
            {}
            return;
        }
        if let Some(slot) = self.active.pop() {
            let Slot { seq, job, .. } = slot;
            let in_use: usize = self.active.iter().map(|slot| slot.kv.len()).sum();
            let _ = job.reply.send(Err(LlmError::Transient {
                message: format!(
                    "the model's context ({} tokens) is full with {} concurrent requests using {in_use} tokens; \
                     retry later or raise context_tokens",
                    self.n_ctx,
                    self.active.len()
                ),
                retry_after: None,
            }));
            self.forget_from(seq, 0);
            self.free.push(seq);
        }
    }

    fn fail_batch(&mut self, error: impl Fn() -> LlmError) {
        let failed: Vec<Slot> = self.active.drain(..).collect();
        for Slot { seq, job, .. } in failed {
            let _ = job.reply.send(Err(error()));
            self.forget_from(seq, 0);
            self.free.push(seq);
        }
    }

    fn record_decode(&self) {
        let sequences = self.active.iter().filter(|slot| slot.in_batch > 0).count() as u64;
        if let Ok(mut stats) = self.stats.lock() {
            stats.decode_calls += 1;
            stats.max_sequences_in_a_batch = stats.max_sequences_in_a_batch.max(sequences);
        }
    }
}

struct Waiting {
    job: Job,
    prepared: Option<Prepared>,
}

struct Prepared {
    prompt: Vec<LlamaToken>,
    sampler: RequestSampler,
}

fn position(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(i32::MAX)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
