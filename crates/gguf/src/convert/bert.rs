//! BERT-family sentence-transformers models (MiniLM, bge, e5, gte ...) as llama.cpp's `bert`
//! architecture.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::safetensors::{self, Tensor};
use super::{ConvertError, ConvertSummary, OutputType, read_json};
use crate::atomic::write_atomically;
use crate::write::{GgufWriter, WriteValue};

/// llama.cpp's token types.
const NORMAL: i32 = 1;
const CONTROL: i32 = 3;
const UNUSED: i32 = 5;

/// Pooling as llama.cpp numbers it.
const POOLING_MEAN: u32 = 1;
const POOLING_CLS: u32 = 2;
const POOLING_LAST: u32 = 3;

struct Config {
    hidden: u32,
    layers: u32,
    heads: u32,
    feed_forward: u32,
    positions: u32,
    type_vocab: u32,
    layer_norm_eps: f32,
}

fn unsupported(path: &Path, message: impl Into<String>) -> ConvertError {
    ConvertError::Unsupported {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn invalid(path: &Path, message: impl Into<String>) -> ConvertError {
    ConvertError::Invalid {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn read_config(dir: &Path) -> Result<Config, ConvertError> {
    let path = dir.join("config.json");
    let config = read_json(&path)?;
    let model_type = config["model_type"].as_str().unwrap_or("");
    let architectures: Vec<&str> = config["architectures"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if model_type != "bert" {
        return Err(unsupported(
            &path,
            format!(
                "model_type `{model_type}` ({}) is not supported: the converter handles BERT models (MiniLM, bge, e5, \
                 gte); for other architectures use llama.cpp's convert_hf_to_gguf.py",
                architectures.join(", ")
            ),
        ));
    }
    let act = config["hidden_act"].as_str().unwrap_or("gelu");
    if act != "gelu" {
        return Err(unsupported(
            &path,
            format!("hidden_act `{act}`: llama.cpp's BERT uses GELU"),
        ));
    }
    let position = config["position_embedding_type"].as_str().unwrap_or("absolute");
    if position != "absolute" {
        return Err(unsupported(
            &path,
            format!("position_embedding_type `{position}`: only absolute is supported"),
        ));
    }
    let number = |key: &str| -> Result<u32, ConvertError> {
        config[key]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| invalid(&path, format!("`{key}` is missing or not a positive whole number")))
    };
    let hidden = number("hidden_size")?;
    let heads = number("num_attention_heads")?;
    if hidden % heads != 0 {
        return Err(invalid(
            &path,
            format!("hidden_size {hidden} is not a multiple of num_attention_heads {heads}"),
        ));
    }
    Ok(Config {
        hidden,
        layers: number("num_hidden_layers")?,
        heads,
        feed_forward: number("intermediate_size")?,
        positions: number("max_position_embeddings")?,
        type_vocab: config["type_vocab_size"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(2)
            .max(1),
        layer_norm_eps: config["layer_norm_eps"].as_f64().unwrap_or(1e-12) as f32,
    })
}

/// The pooling of the folder's sentence-transformers pipeline (`modules.json` → its Pooling module).
fn read_pooling(dir: &Path) -> Result<(u32, &'static str), ConvertError> {
    let modules_path = dir.join("modules.json");
    if !modules_path.is_file() {
        return Err(unsupported(
            &modules_path,
            "missing: without a sentence-transformers pipeline the model's pooling is unknown",
        ));
    }
    let modules = read_json(&modules_path)?;
    let pooling_dir = modules
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["type"].as_str().is_some_and(|t| t.ends_with(".Pooling")))
        .and_then(|m| m["path"].as_str())
        .ok_or_else(|| unsupported(&modules_path, "no Pooling module: the model's pooling is unknown"))?;
    let path = dir.join(pooling_dir).join("config.json");
    let pooling = read_json(&path)?;
    let on = |key: &str| pooling[key].as_bool().unwrap_or(false);
    for refused in [
        "pooling_mode_max_tokens",
        "pooling_mode_mean_sqrt_len_tokens",
        "pooling_mode_weightedmean_tokens",
    ] {
        if on(refused) {
            return Err(unsupported(
                &path,
                format!("`{refused}`: llama.cpp pools by mean, CLS or last token only"),
            ));
        }
    }
    match (
        on("pooling_mode_mean_tokens"),
        on("pooling_mode_cls_token"),
        on("pooling_mode_lasttoken"),
    ) {
        (true, false, false) => Ok((POOLING_MEAN, "mean")),
        (false, true, false) => Ok((POOLING_CLS, "cls")),
        (false, false, true) => Ok((POOLING_LAST, "last")),
        _ => Err(unsupported(
            &path,
            "exactly one of mean, CLS or last-token pooling must be on",
        )),
    }
}

/// sentence-transformers' `max_seq_length`, when the folder names one.
fn read_max_seq_length(dir: &Path) -> Result<Option<u32>, ConvertError> {
    let path = dir.join("sentence_bert_config.json");
    if !path.is_file() {
        return Ok(None);
    }
    Ok(read_json(&path)?["max_seq_length"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok()))
}

struct Vocabulary {
    tokens: Vec<String>,
    types: Vec<i32>,
    lowercase: bool,
    strip_accents: bool,
    special: BTreeMap<&'static str, u32>,
}

/// The WordPiece vocabulary in llama.cpp's spelling: a word-initial piece gets the phantom space
/// `▁`, a continuation loses its `##`, control tokens stay as they are.
fn read_vocabulary(dir: &Path, vocab_size: usize) -> Result<Vocabulary, ConvertError> {
    let path = dir.join("tokenizer.json");
    let tokenizer = read_json(&path)?;
    let model = &tokenizer["model"];
    let kind = model["type"].as_str().unwrap_or("");
    if kind != "WordPiece" {
        return Err(unsupported(
            &path,
            format!("tokenizer model `{kind}`: BERT's WordPiece is expected"),
        ));
    }
    if model["continuing_subword_prefix"].as_str().is_some_and(|p| p != "##") {
        return Err(unsupported(&path, "a continuing-subword prefix other than `##`"));
    }
    let normalizer = &tokenizer["normalizer"];
    if !normalizer.is_null() && normalizer["type"].as_str() != Some("BertNormalizer") {
        return Err(unsupported(
            &path,
            format!(
                "normalizer `{}`: llama.cpp's WordPiece normalises as BERT does",
                normalizer["type"]
            ),
        ));
    }
    // No normalizer at all means none: a cased model keeps its case.
    let lowercase = !normalizer.is_null() && normalizer["lowercase"].as_bool().unwrap_or(true);
    let strip_accents = normalizer["strip_accents"].as_bool().unwrap_or(lowercase);
    let vocab = model["vocab"]
        .as_object()
        .ok_or_else(|| invalid(&path, "model.vocab is not a map of tokens to ids"))?;
    let mut by_id: Vec<Option<String>> = vec![None; vocab_size.max(vocab.len())];
    for (token, id) in vocab {
        let id = id
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| i < by_id.len())
            .ok_or_else(|| invalid(&path, format!("token {token:?} has id {id}, outside the vocabulary")))?;
        by_id[id] = Some(token.clone());
    }
    let control: std::collections::BTreeSet<String> = tokenizer["added_tokens"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["special"].as_bool().unwrap_or(false))
        .filter_map(|t| t["content"].as_str().map(str::to_owned))
        .collect();
    let mut tokens = Vec::with_capacity(by_id.len());
    let mut types = Vec::with_capacity(by_id.len());
    let mut seen = std::collections::HashSet::new();
    for (id, token) in by_id.into_iter().enumerate() {
        let (text, kind) = match token {
            None => (format!("[PAD{id}]"), UNUSED),
            Some(token) if control.contains(&token) => (token, CONTROL),
            Some(token) => match token.strip_prefix("##") {
                Some(rest) if !rest.is_empty() => (rest.to_owned(), NORMAL),
                _ => (format!("\u{2581}{token}"), NORMAL),
            },
        };
        if !seen.insert(text.clone()) {
            return Err(unsupported(
                &path,
                format!("two tokens become {text:?} in llama.cpp's spelling"),
            ));
        }
        tokens.push(text);
        types.push(kind);
    }
    let id_of = |name: &str| {
        vocab
            .get(name)
            .and_then(Value::as_u64)
            .and_then(|i| u32::try_from(i).ok())
    };
    let mut special = BTreeMap::new();
    for (key, name, required) in [
        ("bos", "[CLS]", true),
        ("eos", "[SEP]", true),
        ("seperator", "[SEP]", true),
        ("unknown", "[UNK]", true),
        ("padding", "[PAD]", false),
        ("mask", "[MASK]", false),
    ] {
        match id_of(name) {
            Some(id) => {
                special.insert(key, id);
            }
            None if required => return Err(unsupported(&path, format!("the vocabulary has no {name} token"))),
            None => {}
        }
    }
    Ok(Vocabulary {
        tokens,
        types,
        lowercase,
        strip_accents,
        special,
    })
}

/// The GGUF name of a BERT tensor, `None` for tensors llama.cpp does not load.
fn gguf_name(name: &str) -> Option<String> {
    let name = name.strip_prefix("bert.").unwrap_or(name);
    let fixed = match name {
        "embeddings.word_embeddings.weight" => Some("token_embd.weight"),
        "embeddings.position_embeddings.weight" => Some("position_embd.weight"),
        "embeddings.token_type_embeddings.weight" => Some("token_types.weight"),
        "embeddings.LayerNorm.weight" => Some("token_embd_norm.weight"),
        "embeddings.LayerNorm.bias" => Some("token_embd_norm.bias"),
        _ => None,
    };
    if let Some(fixed) = fixed {
        return Some(fixed.to_owned());
    }
    let rest = name.strip_prefix("encoder.layer.")?;
    let (layer, part) = rest.split_once('.')?;
    let layer: u32 = layer.parse().ok()?;
    let (module, kind) = part.rsplit_once('.')?;
    let target = match module {
        "attention.self.query" => "attn_q",
        "attention.self.key" => "attn_k",
        "attention.self.value" => "attn_v",
        "attention.output.dense" => "attn_output",
        "attention.output.LayerNorm" => "attn_output_norm",
        "intermediate.dense" => "ffn_up",
        "output.dense" => "ffn_down",
        "output.LayerNorm" => "layer_output_norm",
        _ => return None,
    };
    Some(format!("blk.{layer}.{target}.{kind}"))
}

/// Tensors the converter drops on purpose: llama.cpp's BERT has no use for them.
fn is_ignored(name: &str) -> bool {
    let name = name.strip_prefix("bert.").unwrap_or(name);
    name.starts_with("pooler.") || name.starts_with("cls.") || name == "embeddings.position_ids"
}

/// Converts the sentence-transformers folder `dir` into `out` (written whole or not at all).
pub fn convert_sentence_transformers(
    dir: &Path,
    out: &Path,
    output_type: OutputType,
) -> Result<ConvertSummary, ConvertError> {
    let config = read_config(dir)?;
    let (pooling, pooling_name) = read_pooling(dir)?;
    let weights_path = dir.join("model.safetensors");
    if !weights_path.is_file() {
        let hint = if dir.join("pytorch_model.bin").is_file() {
            "only pytorch_model.bin (a pickle, which is not read) is here; save the model as safetensors"
        } else {
            "missing"
        };
        return Err(unsupported(&weights_path, hint));
    }
    let tensors = safetensors::read(&weights_path)?;
    let vocab_size = tensors
        .iter()
        .find(|(name, _)| gguf_name(name).as_deref() == Some("token_embd.weight"))
        .map(|(_, t)| t.shape.first().copied().unwrap_or(0) as usize)
        .ok_or_else(|| invalid(&weights_path, "no word embeddings (embeddings.word_embeddings.weight)"))?;
    let vocabulary = read_vocabulary(dir, vocab_size)?;
    if vocabulary.tokens.len() != vocab_size {
        return Err(invalid(
            &dir.join("tokenizer.json"),
            format!(
                "{} tokens, but the word embeddings have {vocab_size} rows",
                vocabulary.tokens.len()
            ),
        ));
    }
    // llama.cpp cuts inputs at the context length: use sentence-transformers' limit so long inputs
    // are cut where the model's own library cuts them.
    let context = read_max_seq_length(dir)?
        .map_or(config.positions, |max| max.min(config.positions))
        .max(2);

    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "bert".to_owned());
    let mut writer = GgufWriter::new();
    let file_type = match output_type {
        OutputType::F32 => 0,
        OutputType::F16 => 1,
    };
    writer
        .add_metadata("general.architecture", WriteValue::String("bert".into()))
        .add_metadata("general.type", WriteValue::String("model".into()))
        .add_metadata("general.name", WriteValue::String(name))
        .add_metadata("general.file_type", WriteValue::U32(file_type))
        .add_metadata("bert.block_count", WriteValue::U32(config.layers))
        .add_metadata("bert.context_length", WriteValue::U32(context))
        .add_metadata("bert.embedding_length", WriteValue::U32(config.hidden))
        .add_metadata("bert.feed_forward_length", WriteValue::U32(config.feed_forward))
        .add_metadata("bert.attention.head_count", WriteValue::U32(config.heads))
        .add_metadata(
            "bert.attention.layer_norm_epsilon",
            WriteValue::F32(config.layer_norm_eps),
        )
        .add_metadata("bert.attention.causal", WriteValue::Bool(false))
        .add_metadata("bert.pooling_type", WriteValue::U32(pooling))
        .add_metadata("tokenizer.ggml.token_type_count", WriteValue::U32(config.type_vocab))
        .add_metadata("tokenizer.ggml.model", WriteValue::String("bert".into()))
        .add_metadata(
            "tokenizer.ggml.tokens",
            WriteValue::StringArray(vocabulary.tokens.clone()),
        )
        .add_metadata(
            "tokenizer.ggml.token_type",
            WriteValue::I32Array(vocabulary.types.clone()),
        )
        .add_metadata(
            "tokenizer.ggml.normalizer.lowercase",
            WriteValue::Bool(vocabulary.lowercase),
        )
        .add_metadata(
            "tokenizer.ggml.normalizer.strip_accents",
            WriteValue::Bool(vocabulary.strip_accents),
        );
    for (key, id) in &vocabulary.special {
        writer.add_metadata(format!("tokenizer.ggml.{key}_token_id"), WriteValue::U32(*id));
    }
    writer
        .add_metadata("tokenizer.ggml.add_bos_token", WriteValue::Bool(true))
        .add_metadata("tokenizer.ggml.add_eos_token", WriteValue::Bool(true));

    let mut parameters = 0u64;
    let mut written = 0usize;
    let mut expected: Vec<String> = [
        "token_embd.weight",
        "position_embd.weight",
        "token_embd_norm.weight",
        "token_embd_norm.bias",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for layer in 0..config.layers {
        for part in [
            "attn_q.weight",
            "attn_k.weight",
            "attn_v.weight",
            "attn_output.weight",
            "attn_output_norm.weight",
            "attn_output_norm.bias",
            "ffn_up.weight",
            "ffn_down.weight",
            "layer_output_norm.weight",
            "layer_output_norm.bias",
        ] {
            expected.push(format!("blk.{layer}.{part}"));
        }
    }
    let mut seen = Vec::new();
    for (source, tensor) in tensors {
        if is_ignored(&source) {
            continue;
        }
        let target = gguf_name(&source).ok_or_else(|| {
            unsupported(
                &weights_path,
                format!("tensor `{source}` has no place in llama.cpp's BERT"),
            )
        })?;
        let Tensor { shape, mut values } = tensor;
        let mut shape = shape;
        if target == "position_embd.weight" {
            // Only the positions the context reaches.
            let rows = shape.first().copied().unwrap_or(0);
            let width = shape.get(1).copied().unwrap_or(0);
            if rows < u64::from(context) {
                return Err(invalid(
                    &weights_path,
                    format!("{rows} position embeddings for a context of {context}"),
                ));
            }
            values.truncate((u64::from(context) * width) as usize);
            shape = vec![u64::from(context), width];
        }
        // GGUF lists dimensions innermost first: the reverse of the row-major shape.
        let dims: Vec<u64> = shape.iter().rev().copied().collect();
        parameters += values.len() as u64;
        let half = output_type == OutputType::F16
            && shape.len() == 2
            && target.ends_with(".weight")
            && !target.ends_with("_norm.weight")
            && target != "position_embd.weight"
            && target != "token_types.weight";
        if half {
            writer.add_f16_tensor(target.clone(), &dims, &values);
        } else {
            writer.add_f32_tensor(target.clone(), &dims, values);
        }
        seen.push(target);
        written += 1;
    }
    if let Some(missing) = expected.iter().find(|name| !seen.contains(name)) {
        return Err(invalid(
            &weights_path,
            format!("tensor {missing} (in llama.cpp's naming) is missing"),
        ));
    }
    let bytes = writer.to_bytes();
    write_atomically(out, &bytes)?;
    Ok(ConvertSummary {
        output: out.to_owned(),
        bytes: bytes.len() as u64,
        architecture: "bert".into(),
        output_type,
        parameters,
        tensors: written,
        vocabulary: vocabulary.tokens.len(),
        dimensions: config.hidden,
        layers: config.layers,
        pooling: pooling_name.into(),
        context_length: context,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_names_follow_llama_cpp() {
        assert_eq!(
            gguf_name("embeddings.word_embeddings.weight").as_deref(),
            Some("token_embd.weight")
        );
        assert_eq!(
            gguf_name("bert.encoder.layer.3.attention.output.LayerNorm.bias").as_deref(),
            Some("blk.3.attn_output_norm.bias")
        );
        assert_eq!(
            gguf_name("encoder.layer.0.output.dense.weight").as_deref(),
            Some("blk.0.ffn_down.weight")
        );
        assert_eq!(
            gguf_name("encoder.layer.0.intermediate.dense.bias").as_deref(),
            Some("blk.0.ffn_up.bias")
        );
        assert!(gguf_name("pooler.dense.weight").is_none());
        assert!(is_ignored("bert.pooler.dense.weight") && is_ignored("embeddings.position_ids"));
    }
}
