//! The vocabulary of the tiny test model: a SentencePiece-style (`llama`) tokenizer that llama.cpp loads,
//! can tokenize ChatML with, and can constrain to JSON with a grammar.

use std::collections::HashSet;

/// `tokenizer.ggml.token_type` values.
const NORMAL: i32 = 1;
const UNKNOWN: i32 = 2;
const CONTROL: i32 = 3;
const BYTE: i32 = 6;

/// SentencePiece's word-boundary marker: a space in the text is `▁` in the vocabulary.
const SPACE: char = '\u{2581}';

pub(crate) const UNK_ID: u32 = 0;
pub(crate) const BOS_ID: u32 = 1;
pub(crate) const IM_START: &str = "<|im_start|>";
pub(crate) const IM_END: &str = "<|im_end|>";

/// Multi-character pieces for JSON: the grammar sampler can emit structure in few tokens.
const JSON_PIECES: &[&str] = &[
    "{\"", "\":", "\",", "\"}", "\": ", "\":\"", "\", \"", ", \"", "{ \"", "\" }", "[]", "{}", "[{", "}]", "},", "],",
    "\\n", "\\\"", "null", "true", "false", " {", " [", " \"", " }", " ]", "10", "20", "42", "100", "2024", "0.",
];

/// Chat roles follow `<|im_start|>` without a space.
const ROLES: &[&str] = &["system", "user", "assistant"];

/// Common words, written with a leading space (`▁the`).
const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "was",
    "on",
    "be",
    "by",
    "this",
    "are",
    "from",
    "or",
    "we",
    "an",
    "which",
    "not",
    "at",
    "have",
    "has",
    "can",
    "more",
    "than",
    "these",
    "paper",
    "study",
    "results",
    "data",
    "model",
    "method",
    "research",
    "evidence",
    "hypothesis",
    "cell",
    "cells",
    "protein",
    "gene",
    "effect",
    "increase",
    "decrease",
    "patients",
    "analysis",
    "show",
    "shows",
    "found",
    "significant",
    "between",
    "using",
    "based",
    "claim",
    "support",
    "supports",
    "answer",
    "question",
    "yes",
    "no",
    "true",
    "false",
    "I",
    "you",
    "The",
    "This",
    "We",
    "In",
    "It",
    "score",
    "reason",
    "because",
    "however",
];

pub(crate) struct Vocab {
    pub(crate) tokens: Vec<String>,
    pub(crate) scores: Vec<f32>,
    pub(crate) types: Vec<i32>,
    pub(crate) im_end_id: u32,
}

impl Vocab {
    /// Whether token `id` is a whole word of [`WORDS`] with its leading space (`▁the`, not `▁th`).
    pub(crate) fn is_whole_word(&self, id: usize) -> bool {
        self.tokens
            .get(id)
            .and_then(|piece| piece.strip_prefix(SPACE))
            .is_some_and(|word| WORDS.contains(&word))
    }
}

impl Vocab {
    fn push(&mut self, seen: &mut HashSet<String>, piece: String, token_type: i32) {
        if seen.insert(piece.clone()) {
            // Longer pieces score higher, so the tokenizer prefers them over their parts.
            self.scores.push(if token_type == NORMAL {
                piece.chars().count() as f32
            } else {
                0.0
            });
            self.tokens.push(piece);
            self.types.push(token_type);
        }
    }

    /// Adds `piece` and every prefix of it: SentencePiece merges adjacent pieces pairwise and only into
    /// pieces in the vocabulary, so a piece is reachable only if a chain of merges leads to it.
    fn push_with_prefixes(&mut self, seen: &mut HashSet<String>, piece: &str) {
        let piece = piece.replace(' ', &SPACE.to_string());
        for (end, c) in piece.char_indices() {
            self.push(seen, piece[..end + c.len_utf8()].to_owned(), NORMAL);
        }
    }
}

pub(crate) fn tiny_vocab() -> Vocab {
    let mut vocab = Vocab {
        tokens: Vec::new(),
        scores: Vec::new(),
        types: Vec::new(),
        im_end_id: 0,
    };
    let mut seen = HashSet::new();
    vocab.push(&mut seen, "<unk>".to_owned(), UNKNOWN);
    vocab.push(&mut seen, "<s>".to_owned(), CONTROL);
    vocab.push(&mut seen, "</s>".to_owned(), CONTROL);
    vocab.push(&mut seen, IM_START.to_owned(), CONTROL);
    vocab.im_end_id = vocab.tokens.len() as u32;
    vocab.push(&mut seen, IM_END.to_owned(), CONTROL);
    for byte in 0..=255u8 {
        vocab.push(&mut seen, format!("<0x{byte:02X}>"), BYTE);
    }
    vocab.push(&mut seen, SPACE.to_string(), NORMAL);
    for c in (0x21..=0x7Eu8).map(char::from) {
        vocab.push(&mut seen, c.to_string(), NORMAL);
    }
    for piece in JSON_PIECES.iter().chain(ROLES) {
        vocab.push_with_prefixes(&mut seen, piece);
    }
    for word in WORDS {
        vocab.push_with_prefixes(&mut seen, &format!(" {word}"));
    }
    vocab
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_shape() {
        let vocab = tiny_vocab();
        let n = vocab.tokens.len();
        assert!((512..=1000).contains(&n), "{n} tokens");
        assert_eq!(vocab.scores.len(), n);
        assert_eq!(vocab.types.len(), n);
        assert_eq!(vocab.tokens[UNK_ID as usize], "<unk>");
        assert_eq!(vocab.tokens[BOS_ID as usize], "<s>");
        assert_eq!(vocab.tokens[vocab.im_end_id as usize], IM_END);
        assert_eq!(vocab.tokens.iter().filter(|t| t.starts_with("<0x")).count(), 256);
        assert!(vocab.tokens.contains(&"<0x0A>".to_owned()));
        assert!(vocab.tokens.contains(&"\u{2581}the".to_owned()));
        assert!(vocab.tokens.contains(&"{\"".to_owned()));
        let whole: Vec<&str> = (0..n)
            .filter(|&id| vocab.is_whole_word(id))
            .map(|id| vocab.tokens[id].as_str())
            .collect();
        assert_eq!(whole.len(), WORDS.len(), "{whole:?}");
        assert!(whole.contains(&"\u{2581}the") && !whole.contains(&"\u{2581}th"));
    }
}
