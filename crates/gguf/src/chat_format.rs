//! Which chat format a model speaks when its GGUF carries no `tokenizer.chat_template`.
//!
//! Families announce themselves by their turn-delimiting control tokens (Gemma's `<start_of_turn>`,
//! Llama 3's `<|start_header_id|>`, Mistral's `[INST]`, Phi's `<|user|>` / `<|im_sep|>`, ChatML's
//! `<|im_start|>`), so the tokenizer settles it; the architecture breaks ties. The answer is the name
//! of one of llama.cpp's built-in templates, which render each family's documented format.

use std::collections::BTreeSet;

use serde::Serialize;

/// The control tokens that tell families apart. Only these are looked for in the vocabulary.
pub(crate) const MARKER_TOKENS: &[&str] = &[
    "<start_of_turn>",
    "<end_of_turn>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "[INST]",
    "[/INST]",
    "[SYSTEM_PROMPT]",
    "<|im_start|>",
    "<|im_end|>",
    "<|im_sep|>",
    "<|user|>",
    "<|assistant|>",
    "<|end|>",
];

/// The longest marker, in bytes: longer vocabulary entries are skipped without being read.
pub(crate) const LONGEST_MARKER: u64 = 19;

/// How a conversation is turned into the prompt text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ChatFormat {
    /// The template stored in the file (`tokenizer.chat_template`), applied by llama.cpp.
    Embedded,
    /// One of llama.cpp's built-in templates, chosen from the file's tokenizer and architecture.
    Family {
        /// llama.cpp's name for the template: `gemma`, `llama3`, `mistral-v7`, `phi3`, `chatml`…
        template: &'static str,
        /// Why, in words: "the vocabulary has <start_of_turn> and <end_of_turn>".
        reason: String,
    },
}

impl ChatFormat {
    /// The llama.cpp template name when the file has no template of its own.
    pub fn builtin_template(&self) -> Option<&'static str> {
        match self {
            ChatFormat::Embedded => None,
            ChatFormat::Family { template, .. } => Some(template),
        }
    }

    /// One line for `models info` and logs.
    pub fn describe(&self) -> String {
        match self {
            ChatFormat::Embedded => "the file's own chat template".to_owned(),
            ChatFormat::Family { template, reason } => {
                format!("{template} (no template in the file; {reason})")
            }
        }
    }
}

/// What the header says that decides the format.
pub(crate) struct Evidence<'a> {
    pub architecture: Option<&'a str>,
    /// `tokenizer.ggml.model`: `llama` (SentencePiece), `gpt2` (BPE, as Mistral's Tekken)…
    pub tokenizer: Option<&'a str>,
    /// The [`MARKER_TOKENS`] the vocabulary holds.
    pub markers: &'a BTreeSet<String>,
    pub has_template: bool,
}

/// The format for a file, from what its header says.
pub(crate) fn detect(evidence: &Evidence<'_>) -> ChatFormat {
    let Evidence {
        architecture,
        tokenizer,
        markers,
        has_template,
    } = *evidence;
    if has_template {
        return ChatFormat::Embedded;
    }
    let has = |token: &str| markers.contains(token);
    let arch = architecture.unwrap_or("");
    let family = |template: &'static str, reason: String| ChatFormat::Family { template, reason };
    if has("<start_of_turn>") && has("<end_of_turn>") {
        return family("gemma", "the vocabulary has <start_of_turn> and <end_of_turn>".into());
    }
    if has("<|start_header_id|>") && has("<|eot_id|>") {
        return family("llama3", "the vocabulary has <|start_header_id|> and <|eot_id|>".into());
    }
    // Mistral's SentencePiece and Tekken (BPE) tokenizers space their prompts differently.
    let tekken = tokenizer.is_some_and(|t| t != "llama");
    if has("[SYSTEM_PROMPT]") && has("[INST]") {
        let template = if tekken { "mistral-v7-tekken" } else { "mistral-v7" };
        return family(template, "the vocabulary has [SYSTEM_PROMPT] and [INST]".into());
    }
    if has("[INST]") && has("[/INST]") {
        let template = if tekken { "mistral-v3-tekken" } else { "mistral-v3" };
        return family(template, "the vocabulary has [INST] and [/INST]".into());
    }
    if has("<|im_start|>") && has("<|im_sep|>") {
        return family("phi4", "the vocabulary has <|im_start|> and <|im_sep|>".into());
    }
    if has("<|user|>") && has("<|assistant|>") && has("<|end|>") {
        return family("phi3", "the vocabulary has <|user|>, <|assistant|> and <|end|>".into());
    }
    if has("<|im_start|>") && has("<|im_end|>") {
        return family("chatml", "the vocabulary has <|im_start|> and <|im_end|>".into());
    }
    // No turn tokens: fall back on the architecture's family, whose format is plain text then.
    match arch {
        "gemma" | "gemma2" | "gemma3" | "gemma3n" => family("gemma", format!("the architecture is {arch}")),
        "phi3" => family("phi3", format!("the architecture is {arch}")),
        _ => family(
            "chatml",
            if arch.is_empty() {
                "no family's control tokens were found; ChatML is the common default".into()
            } else {
                format!("no family's control tokens were found for architecture {arch}; ChatML is the common default")
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markers(tokens: &[&str]) -> BTreeSet<String> {
        tokens.iter().map(|t| (*t).to_owned()).collect()
    }

    fn template_of(arch: &str, tokens: &[&str]) -> Option<&'static str> {
        template_with(arch, "llama", tokens)
    }

    fn template_with(arch: &str, tokenizer: &str, tokens: &[&str]) -> Option<&'static str> {
        let markers = markers(tokens);
        detect(&Evidence {
            architecture: Some(arch),
            tokenizer: Some(tokenizer),
            markers: &markers,
            has_template: false,
        })
        .builtin_template()
    }

    #[test]
    fn each_family_is_told_by_its_control_tokens() {
        assert_eq!(
            template_of("gemma3", &["<start_of_turn>", "<end_of_turn>"]),
            Some("gemma")
        );
        assert_eq!(
            template_of("llama", &["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]),
            Some("llama3")
        );
        assert_eq!(
            template_of("llama", &["[INST]", "[/INST]", "[SYSTEM_PROMPT]"]),
            Some("mistral-v7")
        );
        assert_eq!(template_of("llama", &["[INST]", "[/INST]"]), Some("mistral-v3"));
        assert_eq!(
            template_with("llama", "gpt2", &["[INST]", "[/INST]", "[SYSTEM_PROMPT]"]),
            Some("mistral-v7-tekken")
        );
        assert_eq!(
            template_with("llama", "gpt2", &["[INST]", "[/INST]"]),
            Some("mistral-v3-tekken")
        );
        assert_eq!(
            template_of("phi3", &["<|user|>", "<|assistant|>", "<|end|>"]),
            Some("phi3")
        );
        assert_eq!(
            template_of("phi3", &["<|im_start|>", "<|im_end|>", "<|im_sep|>"]),
            Some("phi4")
        );
        assert_eq!(template_of("qwen2", &["<|im_start|>", "<|im_end|>"]), Some("chatml"));
    }

    #[test]
    fn the_architecture_decides_when_the_vocabulary_says_nothing() {
        assert_eq!(template_of("gemma2", &[]), Some("gemma"));
        assert_eq!(template_of("phi3", &[]), Some("phi3"));
        let none = BTreeSet::new();
        let unknown = detect(&Evidence {
            architecture: Some("rwkv7"),
            tokenizer: None,
            markers: &none,
            has_template: false,
        });
        assert_eq!(unknown.builtin_template(), Some("chatml"));
        assert!(unknown.describe().contains("rwkv7"), "{}", unknown.describe());
    }

    #[test]
    fn an_embedded_template_always_wins() {
        let markers = markers(&["<start_of_turn>", "<end_of_turn>"]);
        let format = detect(&Evidence {
            architecture: Some("gemma3"),
            tokenizer: Some("llama"),
            markers: &markers,
            has_template: true,
        });
        assert_eq!(format, ChatFormat::Embedded);
        assert_eq!(format.builtin_template(), None);
    }

    #[test]
    fn the_longest_marker_bound_covers_every_marker() {
        let longest = MARKER_TOKENS.iter().map(|m| m.len() as u64).max();
        assert_eq!(longest, Some(LONGEST_MARKER));
    }
}
