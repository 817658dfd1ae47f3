//! A tiny llama-architecture model with random weights, for tests that need a real model file that
//! llama.cpp loads and runs quickly. Same spec, same bytes.

use std::fs;
use std::path::{Path, PathBuf};

use crate::GgufError;
use crate::atomic::write_atomically;
use crate::tiny_vocab::{BOS_ID, UNK_ID, Vocab, tiny_vocab};
use crate::write::{GgufWriter, WriteValue};
use hypatia_core::SplitMix64;

/// The standard ChatML template.
pub const CHATML_TEMPLATE: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/// `general.name` of the tiny model.
pub const TINY_MODEL_NAME: &str = "hypatia-tiny-test";

/// The shape and seed of a tiny model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TinyModelSpec {
    pub seed: u64,
    pub n_embd: u32,
    pub n_layer: u32,
    pub n_head: u32,
    pub n_head_kv: u32,
    pub n_ff: u32,
    pub context_length: u32,
}

impl Default for TinyModelSpec {
    /// About 3.6M parameters (a 14 MB file).
    fn default() -> Self {
        TinyModelSpec {
            seed: 42,
            n_embd: 256,
            n_layer: 4,
            n_head: 4,
            n_head_kv: 4,
            n_ff: 704,
            context_length: 8192,
        }
    }
}

impl TinyModelSpec {
    /// Tokens in the vocabulary (the same for every spec).
    pub fn vocab_size(&self) -> u64 {
        tiny_vocab().tokens.len() as u64
    }

    /// The number of weights the model has.
    pub fn parameter_count(&self) -> u64 {
        let (embd, ff, vocab) = (u64::from(self.n_embd), u64::from(self.n_ff), self.vocab_size());
        let embd_kv = u64::from(self.head_dim() * self.n_head_kv);
        let per_layer = 2 * embd + 2 * embd * embd + 2 * embd * embd_kv + 3 * embd * ff;
        2 * embd * vocab + embd + u64::from(self.n_layer) * per_layer
    }

    fn head_dim(&self) -> u32 {
        self.n_embd.checked_div(self.n_head).unwrap_or(0)
    }

    fn check(&self, path: &Path) -> Result<(), GgufError> {
        let reason = if [
            self.n_embd,
            self.n_layer,
            self.n_head,
            self.n_head_kv,
            self.n_ff,
            self.context_length,
        ]
        .contains(&0)
        {
            "every size must be at least 1"
        } else if !self.n_embd.is_multiple_of(self.n_head) {
            "n_embd must be a multiple of n_head"
        } else if !self.n_head.is_multiple_of(self.n_head_kv) {
            "n_head must be a multiple of n_head_kv"
        } else if !self.head_dim().is_multiple_of(2) {
            "the head dimension n_embd / n_head must be even for RoPE"
        } else {
            return Ok(());
        };
        Err(GgufError::InvalidSpec {
            path: path.to_path_buf(),
            reason: format!("{reason} (spec {self:?})"),
        })
    }
}

/// Writes the tiny model described by `spec` to `path`, atomically.
pub fn write_tiny_model(path: &Path, spec: &TinyModelSpec) -> Result<(), GgufError> {
    spec.check(path)?;
    write_atomically(path, &tiny_model(spec).to_bytes())
}

/// Writes the tiny model to `path` unless a file with exactly its bytes is already there, and returns `path`.
/// Safe when several test processes call it at once: each writes its own temporary file and renames it.
pub fn ensure_tiny_model(path: &Path, spec: &TinyModelSpec) -> Result<PathBuf, GgufError> {
    spec.check(path)?;
    let bytes = tiny_model(spec).to_bytes();
    let same = fs::metadata(path).is_ok_and(|m| m.len() == bytes.len() as u64)
        && fs::read(path).is_ok_and(|existing| existing == bytes);
    if !same {
        write_atomically(path, &bytes)?;
    }
    Ok(path.to_path_buf())
}

fn tiny_model(spec: &TinyModelSpec) -> GgufWriter {
    let vocab = tiny_vocab();
    let mut w = GgufWriter::new();
    add_metadata(&mut w, spec, &vocab);
    add_tensors(&mut w, spec, &vocab);
    w
}

fn add_metadata(w: &mut GgufWriter, spec: &TinyModelSpec, vocab: &Vocab) {
    use WriteValue::*;
    w.add_metadata("general.architecture", String("llama".into()))
        .add_metadata("general.name", String(TINY_MODEL_NAME.into()))
        .add_metadata("general.file_type", U32(0))
        .add_metadata("general.alignment", U32(crate::write::ALIGNMENT as u32))
        .add_metadata("llama.vocab_size", U32(vocab.tokens.len() as u32))
        .add_metadata("llama.context_length", U32(spec.context_length))
        .add_metadata("llama.embedding_length", U32(spec.n_embd))
        .add_metadata("llama.block_count", U32(spec.n_layer))
        .add_metadata("llama.feed_forward_length", U32(spec.n_ff))
        .add_metadata("llama.attention.head_count", U32(spec.n_head))
        .add_metadata("llama.attention.head_count_kv", U32(spec.n_head_kv))
        .add_metadata("llama.attention.layer_norm_rms_epsilon", F32(1e-5))
        .add_metadata("llama.rope.dimension_count", U32(spec.head_dim()))
        .add_metadata("llama.rope.freq_base", F32(10000.0))
        .add_metadata("tokenizer.ggml.model", String("llama".into()))
        .add_metadata("tokenizer.ggml.tokens", StringArray(vocab.tokens.clone()))
        .add_metadata("tokenizer.ggml.scores", F32Array(vocab.scores.clone()))
        .add_metadata("tokenizer.ggml.token_type", I32Array(vocab.types.clone()))
        .add_metadata("tokenizer.ggml.bos_token_id", U32(BOS_ID))
        .add_metadata("tokenizer.ggml.eos_token_id", U32(vocab.im_end_id))
        .add_metadata("tokenizer.ggml.unknown_token_id", U32(UNK_ID))
        .add_metadata("tokenizer.ggml.add_bos_token", Bool(false))
        // With a space prefix, llama-server's grammar sampler fails on the chat template.
        .add_metadata("tokenizer.ggml.add_space_prefix", Bool(false))
        .add_metadata("tokenizer.chat_template", String(CHATML_TEMPLATE.into()));
}

/// The weights are random but for one embedding dimension, a constant in every token's embedding
/// that no layer reads or writes: it passes the residual stream unchanged to the output layer, where
/// whole words read it as a bias. Free text comes out as words (`▁results ▁cells ▁the`) more than as
/// stray bytes, so a prose check passes as often as the mechanics tests need, while every other
/// token's logit stays as random as before.
const BIAS_DIMENSION: usize = 0;
const BIAS_EMBEDDING: f32 = 1.0;
const WHOLE_WORD_BIAS: f32 = 0.3;

fn add_tensors(w: &mut GgufWriter, spec: &TinyModelSpec, vocab: &Vocab) {
    const WEIGHT: f32 = 0.05;
    // Larger embedding and output weights, so the logits are not flat.
    const EMBEDDING: f32 = 0.1;
    const OUTPUT: f32 = 0.15;
    let n_vocab = vocab.tokens.len() as u64;
    let embd = u64::from(spec.n_embd);
    let embd_kv = u64::from(spec.head_dim() * spec.n_head_kv);
    let ff = u64::from(spec.n_ff);
    let mut rng = SplitMix64::new(spec.seed);
    let mut values = |dims: &[u64], scale: f32| -> Vec<f32> {
        let n: u64 = dims.iter().product();
        (0..n).map(|_| rng.uniform(scale)).collect()
    };
    let ones = |w: &mut GgufWriter, name: &str, n: u64| {
        w.add_f32_tensor(name, &[n], vec![1.0; n as usize]);
    };
    // ggml's first dimension varies fastest: a token's row is `embd` values in a row.
    let mut embedding = values(&[embd, n_vocab], EMBEDDING);
    for row in embedding.chunks_mut(embd as usize) {
        row[BIAS_DIMENSION] = BIAS_EMBEDDING;
    }
    let mut output = values(&[embd, n_vocab], OUTPUT);
    for (token, row) in output.chunks_mut(embd as usize).enumerate() {
        row[BIAS_DIMENSION] = if vocab.is_whole_word(token) {
            WHOLE_WORD_BIAS
        } else {
            0.0
        };
    }
    w.add_f32_tensor("token_embd.weight", &[embd, n_vocab], embedding);
    ones(w, "output_norm.weight", embd);
    w.add_f32_tensor("output.weight", &[embd, n_vocab], output);
    for i in 0..spec.n_layer {
        let mut random = |w: &mut GgufWriter, name: &str, dims: &[u64], side: Side| {
            let mut data = values(dims, WEIGHT);
            let (inputs, outputs) = (dims[0] as usize, dims[1] as usize);
            match side {
                Side::Reads => data
                    .iter_mut()
                    .skip(BIAS_DIMENSION)
                    .step_by(inputs)
                    .for_each(|x| *x = 0.0),
                Side::Writes => data[BIAS_DIMENSION * inputs..(BIAS_DIMENSION + 1) * inputs]
                    .iter_mut()
                    .for_each(|x| *x = 0.0),
            }
            debug_assert_eq!(data.len(), inputs * outputs);
            w.add_f32_tensor(format!("blk.{i}.{name}"), dims, data);
        };
        ones(w, &format!("blk.{i}.attn_norm.weight"), embd);
        random(w, "attn_q.weight", &[embd, embd], Side::Reads);
        random(w, "attn_k.weight", &[embd, embd_kv], Side::Reads);
        random(w, "attn_v.weight", &[embd, embd_kv], Side::Reads);
        random(w, "attn_output.weight", &[embd, embd], Side::Writes);
        ones(w, &format!("blk.{i}.ffn_norm.weight"), embd);
        random(w, "ffn_gate.weight", &[embd, ff], Side::Reads);
        random(w, "ffn_up.weight", &[embd, ff], Side::Reads);
        random(w, "ffn_down.weight", &[ff, embd], Side::Writes);
    }
}

/// Which side of a layer's weight is the residual stream: a weight that reads it leaves the bias
/// dimension out, one that writes it writes nothing there.
#[derive(Clone, Copy)]
enum Side {
    Reads,
    Writes,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MetadataValue, read_info};

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = TinyModelSpec::default();
        let (a, b, c) = (
            dir.path().join("a.gguf"),
            dir.path().join("b.gguf"),
            dir.path().join("c.gguf"),
        );
        write_tiny_model(&a, &spec).expect("write a");
        write_tiny_model(&b, &spec).expect("write b");
        write_tiny_model(&c, &TinyModelSpec { seed: 43, ..spec }).expect("write c");
        let (a, b, c) = (
            fs::read(a).expect("a"),
            fs::read(b).expect("b"),
            fs::read(c).expect("c"),
        );
        assert!(a == b, "same spec, different bytes");
        assert_eq!(a.len(), c.len());
        assert!(a != c, "different seeds, same bytes");
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .expect("read dir")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 3, "temporary files left behind: {leftovers:?}");
    }

    #[test]
    fn read_info_describes_the_tiny_model() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tiny.gguf");
        let spec = TinyModelSpec::default();
        write_tiny_model(&path, &spec).expect("write");
        let info = read_info(&path).expect("read_info");
        assert_eq!(info.architecture.as_deref(), Some("llama"));
        assert_eq!(info.name.as_deref(), Some(TINY_MODEL_NAME));
        assert_eq!(info.version, 3);
        assert_eq!(info.parameter_count, spec.parameter_count());
        assert_eq!(info.quantization.as_deref(), Some("F32"));
        assert_eq!(info.context_length, Some(8192));
        assert!(info.has_chat_template);
        assert_eq!(info.tensor_count, 3 + 9 * 4);
        assert_eq!(info.file_size, fs::metadata(&path).expect("metadata").len());
        assert_eq!(
            info.get("tokenizer.chat_template").and_then(MetadataValue::as_str),
            Some(CHATML_TEMPLATE)
        );
        assert_eq!(
            info.get("llama.rope.dimension_count").and_then(MetadataValue::as_u64),
            Some(64)
        );
        assert_eq!(
            info.get("tokenizer.ggml.add_space_prefix")
                .and_then(MetadataValue::as_bool),
            Some(false)
        );
        assert_eq!(
            info.get("tokenizer.ggml.tokens"),
            Some(&MetadataValue::Array {
                element_type: crate::ValueType::String,
                len: spec.vocab_size()
            })
        );
        let params = spec.parameter_count();
        assert!((3_000_000..5_000_000).contains(&params), "{params} parameters");
    }

    #[test]
    fn ensure_writes_once_and_repairs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/tiny.gguf");
        let spec = TinyModelSpec {
            n_layer: 1,
            ..TinyModelSpec::default()
        };
        assert_eq!(ensure_tiny_model(&path, &spec).expect("first"), path);
        let written = fs::metadata(&path).and_then(|m| m.modified()).expect("mtime");
        ensure_tiny_model(&path, &spec).expect("second");
        assert_eq!(
            fs::metadata(&path).and_then(|m| m.modified()).expect("mtime"),
            written,
            "rewrote an intact file"
        );
        fs::write(&path, b"GGUF").expect("damage");
        ensure_tiny_model(&path, &spec).expect("repair");
        assert_eq!(read_info(&path).expect("read").parameter_count, spec.parameter_count());
    }

    #[test]
    fn ensure_races_safely() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tiny.gguf");
        let spec = TinyModelSpec {
            n_layer: 1,
            ..TinyModelSpec::default()
        };
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| ensure_tiny_model(&path, &spec).expect("ensure"));
            }
        });
        assert_eq!(read_info(&path).expect("read").parameter_count, spec.parameter_count());
        assert_eq!(
            fs::read_dir(dir.path()).expect("read dir").count(),
            1,
            "temporary files left behind"
        );
    }

    #[test]
    fn invalid_spec_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = TinyModelSpec {
            n_head: 3,
            ..TinyModelSpec::default()
        };
        let err = write_tiny_model(&dir.path().join("x.gguf"), &spec).expect_err("n_embd 256 / 3 heads");
        assert!(matches!(err, GgufError::InvalidSpec { .. }), "{err}");
    }
}
