"""Independent reference for sentence-transformers BERT embedders, in pure numpy.

Used to check that the GGUF our Rust code converts, run by llama.cpp, embeds like the original model.
It shares no code with either side: the safetensors file, tokenizer.json and the sentence-transformers
configs are read directly, and everything is computed in float64.

    python3 bert_reference.py MODEL_DIR < sentences.json > out.json

stdin: a JSON array of strings. stdout: {"embeddings": [[...], ...], "token_ids": [[...], ...]}.
"""

import json
import math
import re
import struct
import sys
import unicodedata
from pathlib import Path

import numpy as np

# --- safetensors: 8-byte little-endian header length, JSON header, raw little-endian tensor data ---


def load_safetensors(path):
    """Returns {name: (dtype, shape, raw bytes)}; the mmap leaves unused tensors (position_ids, pooler) unread."""
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        tensors[name] = (info["dtype"], info["shape"], raw[start:end])
    return tensors


def as_array(entry):
    """The tensor in its stored precision (BF16 widened to F32, exactly); callers cast to float64."""
    dtype, shape, data = entry
    if dtype == "F32":
        values = data.view("<f4")
    elif dtype == "F16":
        values = data.view("<f2")
    elif dtype == "BF16":  # bfloat16 is the top half of a float32
        values = (data.view("<u2").astype(np.uint32) << 16).view("<f4")
    elif dtype == "F64":
        values = data.view("<f8")
    else:
        sys.exit(f"bert_reference: unsupported tensor dtype {dtype}")
    return values.reshape(shape)


# --- tokenizer: tokenizer.json's BertNormalizer, BertPreTokenizer, WordPiece, TemplateProcessing ---
# Matches the tokenizers library id for id, except on ~500 rare code points (scripts and marks added
# in Unicode 9-14, a few recategorised) where its older Unicode tables and Python's unicodedata differ.

# Unicode White_Space (what Rust's char::is_whitespace tests), as tokenizers' BERT pieces use it.
WHITESPACE = set("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {chr(c) for c in range(0x2000, 0x200B)}
CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def is_control(c):  # as the tokenizers library: Cc, Cf, Co, Cs but not \t \n \r, and not unassigned (Cn)
    return c not in "\t\n\r" and unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs")


def is_cjk(c):
    return any(lo <= ord(c) <= hi for lo, hi in CJK_RANGES)


def is_punctuation(c):  # BERT's rule: all ASCII non-alphanumeric printables, plus Unicode P*
    o = ord(c)
    return 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126 or unicodedata.category(c).startswith("P")


class Tokenizer:
    def __init__(self, model_dir, max_len):
        spec = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
        norm, pre, model, post = spec["normalizer"], spec["pre_tokenizer"], spec["model"], spec["post_processor"]
        if norm is None or norm["type"] != "BertNormalizer":
            sys.exit(f"bert_reference: unsupported normalizer {norm}")
        if pre is None or pre["type"] != "BertPreTokenizer":
            sys.exit(f"bert_reference: unsupported pre-tokenizer {pre}")
        if model["type"] != "WordPiece":
            sys.exit(f"bert_reference: unsupported tokenizer model {model['type']}")
        self.clean_text = norm.get("clean_text", True)
        self.chinese = norm.get("handle_chinese_chars", True)
        self.lowercase = norm.get("lowercase", True)
        strip = norm.get("strip_accents")
        self.strip_accents = self.lowercase if strip is None else strip  # null follows lowercase
        self.vocab = model["vocab"]
        self.unk = model["unk_token"]
        self.prefix = model.get("continuing_subword_prefix", "##")
        self.max_word_chars = model.get("max_input_chars_per_word", 100)
        # Added tokens marked normalized=false ([CLS], [MASK], ...) are matched in the raw text
        # before anything else, as the tokenizers library does; the others are not special-cased.
        added = sorted((t["content"] for t in spec.get("added_tokens", []) if not t.get("normalized", True)), key=len, reverse=True)
        self.added = re.compile("(" + "|".join(map(re.escape, added)) + ")") if added else None
        # [CLS] $A [SEP]: the template's special tokens around the single sequence.
        if post["type"] == "TemplateProcessing":
            self.template = []
            for piece in post["single"]:
                if "SpecialToken" in piece:
                    self.template += post["special_tokens"][piece["SpecialToken"]["id"]]["ids"]
                else:
                    self.template.append(None)  # where the sentence goes
        elif post["type"] == "BertProcessing":
            self.template = [post["cls"][1], None, post["sep"][1]]
        else:
            sys.exit(f"bert_reference: unsupported post-processor {post['type']}")
        self.max_words = max_len - (len(self.template) - 1)  # truncation keeps room for the specials

    def normalize(self, text):
        if self.clean_text:
            text = "".join(" " if c in WHITESPACE else c for c in text if c not in "\0\ufffd" and not is_control(c))
        if self.chinese:
            text = "".join(f" {c} " if is_cjk(c) else c for c in text)
        if self.strip_accents:
            text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
        if self.lowercase:  # per character, like Rust's char::to_lowercase (no final-sigma rule)
            text = "".join(c.lower() for c in text)
        return text

    def pre_tokenize(self, text):
        words, current = [], []
        for c in text:
            if c in WHITESPACE or is_punctuation(c):
                if current:
                    words.append("".join(current))
                    current = []
                if c not in WHITESPACE:
                    words.append(c)
            else:
                current.append(c)
        if current:
            words.append("".join(current))
        return words

    def wordpiece(self, word):
        if len(word) > self.max_word_chars:
            return [self.vocab[self.unk]]
        ids, start = [], 0
        while start < len(word):  # greedy longest match first
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    break
                end -= 1
            if end == start:
                return [self.vocab[self.unk]]
            start = end
        return ids

    def encode(self, text):
        ids = []
        for i, chunk in enumerate(self.added.split(text) if self.added else [text]):
            if i % 2:  # an added token matched verbatim
                ids.append(self.vocab[chunk])
            else:
                for word in self.pre_tokenize(self.normalize(chunk)):
                    ids += self.wordpiece(word)
        ids = ids[: self.max_words]
        return [t for piece in self.template for t in (ids if piece is None else [piece])]


# --- the encoder ---


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x):  # the exact (erf) GELU that "gelu" means in transformers, not the tanh approximation
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


class Bert:
    def __init__(self, model_dir):
        self.config = json.loads((model_dir / "config.json").read_text())
        if self.config.get("hidden_act", "gelu") != "gelu":
            sys.exit(f"bert_reference: hidden_act {self.config['hidden_act']!r} is not supported (only 'gelu')")
        if self.config.get("position_embedding_type", "absolute") != "absolute":
            sys.exit(f"bert_reference: position_embedding_type {self.config['position_embedding_type']!r} is not supported")
        self.tensors = load_safetensors(model_dir / "model.safetensors")
        # Some exports name tensors "bert.embeddings...", others "embeddings...".
        self.prefix = "bert." if "bert.embeddings.word_embeddings.weight" in self.tensors else ""
        self.eps = self.config.get("layer_norm_eps", 1e-12)
        self.heads = self.config["num_attention_heads"]
        # Only the rows a sentence uses are converted to float64, not the whole vocabulary.
        self.word = as_array(self.tensors[self.prefix + "embeddings.word_embeddings.weight"])
        self.cache = {}

    def w(self, name):
        if name not in self.cache:
            self.cache[name] = as_array(self.tensors[self.prefix + name]).astype(np.float64)
        return self.cache[name]

    def linear(self, x, name):  # torch Linear: weight is [out, in]
        return x @ self.w(name + ".weight").T + self.w(name + ".bias")

    def forward(self, ids):
        n = len(ids)
        x = self.word[ids].astype(np.float64) + self.w("embeddings.position_embeddings.weight")[:n] + self.w("embeddings.token_type_embeddings.weight")[0]
        x = layer_norm(x, self.w("embeddings.LayerNorm.weight"), self.w("embeddings.LayerNorm.bias"), self.eps)
        d = x.shape[1] // self.heads
        for i in range(self.config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            q, k, v = (self.linear(x, p + f"attention.self.{m}").reshape(n, self.heads, d).transpose(1, 0, 2) for m in ("query", "key", "value"))
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)  # one sentence, no padding: no mask
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            context = (scores / scores.sum(-1, keepdims=True)) @ v
            attn = self.linear(context.transpose(1, 0, 2).reshape(n, -1), p + "attention.output.dense")
            x = layer_norm(attn + x, self.w(p + "attention.output.LayerNorm.weight"), self.w(p + "attention.output.LayerNorm.bias"), self.eps)
            h = self.linear(gelu(self.linear(x, p + "intermediate.dense")), p + "output.dense")
            x = layer_norm(h + x, self.w(p + "output.LayerNorm.weight"), self.w(p + "output.LayerNorm.bias"), self.eps)
        return x


def pool(tokens, cfg):
    """sentence_transformers.models.Pooling, in its order: cls, max, mean, mean_sqrt_len (concatenated)."""
    for mode in ("weightedmean", "lasttoken"):
        if cfg.get(f"pooling_mode_{mode}_tokens") or cfg.get(f"pooling_mode_{mode}"):
            sys.exit(f"bert_reference: pooling mode {mode} is not supported")
    parts = []
    if cfg.get("pooling_mode_cls_token"):
        parts.append(tokens[0])
    if cfg.get("pooling_mode_max_tokens"):
        parts.append(tokens.max(0))
    if cfg.get("pooling_mode_mean_tokens"):
        parts.append(tokens.mean(0))
    if cfg.get("pooling_mode_mean_sqrt_len_tokens"):
        parts.append(tokens.sum(0) / math.sqrt(len(tokens)))
    if not parts:
        sys.exit("bert_reference: the pooling config enables no supported mode")
    return np.concatenate(parts)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bert_reference.py MODEL_DIR < sentences.json")
    model_dir = Path(sys.argv[1])
    modules = json.loads((model_dir / "modules.json").read_text())
    pooling = next((m for m in modules if m["type"] == "sentence_transformers.models.Pooling"), None)
    if pooling is None:
        sys.exit("bert_reference: modules.json lists no Pooling module")
    pool_cfg = json.loads((model_dir / pooling["path"] / "config.json").read_text())
    normalize = any(m["type"] == "sentence_transformers.models.Normalize" for m in modules)
    model = Bert(model_dir)
    # sentence-transformers truncates to max_seq_length (special tokens included), not to the
    # truncation block stored in tokenizer.json.
    st_path = model_dir / "sentence_bert_config.json"
    st_cfg = json.loads(st_path.read_text()) if st_path.exists() else {}
    max_len = min(st_cfg.get("max_seq_length") or 10**9, model.config["max_position_embeddings"])
    tokenizer = Tokenizer(model_dir, max_len)

    sentences = json.load(sys.stdin)
    if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
        sys.exit("bert_reference: stdin must be a JSON array of strings")
    embeddings, token_ids = [], []
    for text in sentences:
        ids = tokenizer.encode(text.lower() if st_cfg.get("do_lower_case") else text)
        vector = pool(model.forward(ids), pool_cfg)
        if normalize:
            vector = vector / max(np.linalg.norm(vector), 1e-12)  # torch F.normalize's eps
        embeddings.append(vector.tolist())
        token_ids.append(ids)
    json.dump({"embeddings": embeddings, "token_ids": token_ids}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
