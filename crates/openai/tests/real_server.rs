//! Against a real OpenAI-compatible server: llama-cpp-python's, serving the tiny random-weight model.
//! Skipped (with the reason printed) when `llama_cpp` cannot be imported, unless
//! `HYPATIA_REQUIRE_OPENAI_SERVER=1` (CI), where that is a failure.

use std::sync::Arc;
use std::time::Duration;

use hypatia_llm::{CallControl, ChatBackend, ChatMessage, ChatRequest, CompiledSchema, Llm, LlmError, Sampling};
use hypatia_openai::{OpenAiBackend, OpenAiConfig};
use hypatia_prompts::Prompts;
use hypatia_testkit::OpenAiServer;
use serde_json::json;
use tokio::sync::mpsc;

use crate::support::within;

/// Guards against hangs only: the tiny model answers in well under a second.
const LIMIT: Duration = Duration::from_secs(120);

fn request(max_tokens: u32) -> ChatRequest {
    ChatRequest::new(vec![
        ChatMessage::system("You are terse."),
        ChatMessage::user("Say something."),
    ])
    .with_sampling(Sampling {
        temperature: 0.0,
        top_p: 1.0,
        seed: Some(42),
        max_tokens,
        stop: Vec::new(),
    })
}

#[tokio::test]
async fn llama_cpp_python_server() {
    let _lock = hypatia_testkit::model_lock().await;
    let Some(server) = OpenAiServer::llama_cpp_python(&hypatia_testkit::tiny_model(), 2048) else {
        return;
    };
    let model = server.model_id().to_string();
    let base_url = server.base_url().to_string();

    let mut config = OpenAiConfig::new(model).with_base_url(&base_url);
    config.request_timeout = Duration::from_secs(60);
    config.idle_timeout = Duration::from_secs(30);
    let backend = Arc::new(OpenAiBackend::new(config).expect("backend"));

    // A plain answer, with the server's token counts.
    let plain = within(LIMIT, backend.chat(request(24), CallControl::default())).await;
    let plain = plain.unwrap_or_else(|error| panic!("plain chat: {error}\n{}", server.stderr_tail()));
    assert!(!plain.text.is_empty(), "{plain:?}");
    assert!(
        plain.usage.prompt_tokens > 0 && plain.usage.completion_tokens > 0,
        "{plain:?}"
    );

    // A streamed answer: several pieces, which together are the answer.
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let streamed = within(LIMIT, backend.chat(request(24), CallControl::streaming(sender))).await;
    let streamed = streamed.unwrap_or_else(|error| panic!("streaming chat: {error}\n{}", server.stderr_tail()));
    let mut pieces = Vec::new();
    while let Ok(piece) = receiver.try_recv() {
        pieces.push(piece);
    }
    assert!(pieces.len() >= 2, "{pieces:?}");
    assert_eq!(pieces.concat(), streamed.text);

    // A structured answer through `Llm`: llama-cpp-python refuses `json_schema`, so the backend must fall
    // back to `json_object` with the schema, which the server turns into a grammar.
    let schema = json!({
        "type": "object",
        "properties": {
            "answer": {"type": "string", "maxLength": 40},
            "confidence": {"type": "integer", "minimum": 0, "maximum": 100}
        },
        "required": ["answer", "confidence"]
    });
    // The random-weight model's first answer can break JSON (a raw control character inside a string,
    // which the server's grammar lets through); the re-asks are what `Llm` is for. Extra ones keep the test
    // about the backend, not about this model's luck.
    let llm = Llm::new(backend.clone(), Arc::new(Prompts::embedded())).with_max_reasks(4);
    let answer = within(
        LIMIT,
        llm.complete_json(request(200).with_schema(schema.clone()), CallControl::default()),
    )
    .await;
    let answer = answer.unwrap_or_else(|error| panic!("structured chat: {error}\n{}", server.stderr_tail()));
    CompiledSchema::new(&schema)
        .expect("schema")
        .validate(&answer.value)
        .expect("the answer satisfies the schema");
    assert!(
        backend.json_schema_refused(),
        "the server accepted json_schema: the fallback was not exercised"
    );
    eprintln!(
        "llama-cpp-python answered {} in {} attempt(s)",
        answer.value, answer.attempts
    );

    // A prompt longer than the context (2048 tokens) is refused with the figures.
    let long = ChatRequest::new(vec![ChatMessage::user("lorem ipsum dolor sit amet ".repeat(1500))]);
    let error = within(LIMIT, backend.chat(long, CallControl::default()))
        .await
        .expect_err("too long");
    match error {
        LlmError::ContextTooLong {
            prompt_tokens,
            context_tokens,
        } => {
            assert_eq!(context_tokens, 2048);
            assert!(prompt_tokens > 2048, "{prompt_tokens}");
        }
        other => panic!("expected ContextTooLong, got {other:?}\n{}", server.stderr_tail()),
    }
}
