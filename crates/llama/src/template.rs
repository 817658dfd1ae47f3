use hypatia_gguf::ChatFormat;
use hypatia_llm::{ChatMessage, LlmError};
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};

/// The prompt text for a conversation, in the model's chat format, ending with the opening of the
/// assistant's turn.
pub(crate) fn render(
    model: &LlamaModel,
    template: &LlamaChatTemplate,
    messages: &[ChatMessage],
) -> Result<String, LlmError> {
    let chat = messages
        .iter()
        .map(|message| LlamaChatMessage::new(message.role.as_str().to_string(), message.content.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| LlmError::Permanent(format!("a message cannot be sent to llama.cpp: {error}")))?;
    model.apply_chat_template(template, &chat, true).map_err(|error| {
        LlmError::Permanent(format!(
            "llama.cpp cannot apply this model's chat template ({error}); it recognises the common template families"
        ))
    })
}

/// The template to render with: the file's own, else the built-in template of the family its tokenizer
/// and architecture name (`hypatia_gguf::ChatFormat`). Also says which was chosen, for the summary.
pub(crate) fn for_model(
    model: &LlamaModel,
    format: &ChatFormat,
    family_fallback: &ChatFormat,
) -> Result<(LlamaChatTemplate, ChatFormat), LlmError> {
    if format.builtin_template().is_none()
        && let Ok(template) = model.chat_template(None)
    {
        return Ok((template, format.clone()));
    }
    // Either the file has no template, or llama.cpp could not read the one it has.
    let name = family_fallback.builtin_template().unwrap_or("chatml");
    LlamaChatTemplate::new(name)
        .map(|template| (template, family_fallback.clone()))
        .map_err(|error| LlmError::Permanent(format!("cannot build the {name} chat template: {error}")))
}

#[cfg(test)]
mod tests {
    use hypatia_llm::ChatMessage;
    use llama_cpp_2::model::params::LlamaModelParams;

    use super::*;

    /// Each family's built-in template, as llama.cpp renders a system and a user message, against the
    /// family's documented prompt format (the model file only supplies the tokenizer, which adds BOS).
    #[test]
    fn family_templates_render_each_familys_documented_format() {
        let backend = crate::engine::backend().expect("llama.cpp");
        let model = LlamaModel::load_from_file(backend, hypatia_testkit::tiny_model(), &LlamaModelParams::default())
            .expect("the tiny model loads");
        let messages = [ChatMessage::system("S"), ChatMessage::user("U")];
        let rendered = |name: &str| {
            let template = LlamaChatTemplate::new(name).expect("template name");
            render(&model, &template, &messages).expect("render")
        };
        // https://ai.google.dev/gemma/docs/core/prompt-structure: no system role; it leads the user turn.
        assert_eq!(
            rendered("gemma"),
            "<start_of_turn>user\nS\n\nU<end_of_turn>\n<start_of_turn>model\n"
        );
        // Meta's Llama 3 model card.
        assert_eq!(
            rendered("llama3"),
            "<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
        );
        // Mistral's tokenizer v7 (mistral-common): a system prompt in its own control tokens; the
        // SentencePiece variant puts a space after each opening token, Tekken (BPE) does not.
        assert_eq!(
            rendered("mistral-v7"),
            "[SYSTEM_PROMPT] S[/SYSTEM_PROMPT][INST] U[/INST]"
        );
        assert_eq!(
            rendered("mistral-v7-tekken"),
            "[SYSTEM_PROMPT]S[/SYSTEM_PROMPT][INST]U[/INST]"
        );
        // Microsoft's Phi-3 model card.
        assert_eq!(
            rendered("phi3"),
            "<|system|>\nS<|end|>\n<|user|>\nU<|end|>\n<|assistant|>\n"
        );
        // Phi-4's model card: ChatML with <|im_sep|>.
        assert_eq!(
            rendered("phi4"),
            "<|im_start|>system<|im_sep|>S<|im_end|><|im_start|>user<|im_sep|>U<|im_end|><|im_start|>assistant<|im_sep|>"
        );
        assert_eq!(
            rendered("chatml"),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
        );
        // Mistral v3 has no system role: llama.cpp puts it before the first instruction.
        let mistral = rendered("mistral-v3");
        assert!(
            mistral.contains("[INST]") && mistral.ends_with("U[/INST]"),
            "{mistral:?}"
        );
    }
}
