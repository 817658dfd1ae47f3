use hypatia_llm::{ChatMessage, LlmError};
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};

/// The prompt text for a conversation, in the chat template stored in the GGUF (ChatML when the file
/// has none), ending with the opening of the assistant's turn.
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

/// The model's own template, or ChatML; the flag says whether the model had one.
pub(crate) fn for_model(model: &LlamaModel) -> Result<(LlamaChatTemplate, bool), LlmError> {
    if let Ok(template) = model.chat_template(None) {
        return Ok((template, true));
    }
    LlamaChatTemplate::new("chatml")
        .map(|template| (template, false))
        .map_err(|error| LlmError::Permanent(format!("cannot build the ChatML template: {error}")))
}
