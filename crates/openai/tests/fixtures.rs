//! Real recorded responses (llama-server, vLLM, OpenAI's own examples) replayed through the backend.

use std::time::Duration;

use hypatia_llm::{CallControl, ChatBackend, Completion, FinishReason};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::support::{MockServer, Reply, fixtures_dir, hello, read_fixture, within};

const LIMIT: Duration = Duration::from_secs(30);

async fn replay(reply: Reply) -> (Completion, MockServer) {
    let server = MockServer::start(vec![reply]).await;
    let completion = within(LIMIT, server.backend().chat(hello(), CallControl::default()))
        .await
        .expect("completion");
    (completion, server)
}

/// Streams `reply`; returns the completion and the pieces the caller was sent.
async fn replay_streaming(reply: Reply) -> (Completion, Vec<String>, MockServer) {
    let server = MockServer::start(vec![reply]).await;
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let completion = within(LIMIT, server.backend().chat(hello(), CallControl::streaming(sender)))
        .await
        .expect("completion");
    let mut pieces = Vec::new();
    while let Ok(piece) = receiver.try_recv() {
        pieces.push(piece);
    }
    (completion, pieces, server)
}

/// The answer text a capture's SSE events carry, computed independently of the backend.
fn streamed_text(body: &str) -> (String, usize) {
    let mut text = String::new();
    let mut pieces = 0;
    for line in body.lines() {
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let Ok(chunk) = serde_json::from_str::<Value>(data) else {
            continue;
        };
        if let Some(content) = chunk["choices"][0]["delta"]["content"]
            .as_str()
            .filter(|c| !c.is_empty())
        {
            text.push_str(content);
            pieces += 1;
        }
    }
    (text, pieces)
}

/// OpenAI's documented stream examples: one JSON chunk per paragraph with a `....` line standing for the
/// elided middle. The elision is dropped and each chunk becomes a `data:` event, then `[DONE]`.
fn documented_stream(text: &str) -> Reply {
    let mut events: Vec<String> = text
        .split("\n\n")
        .map(str::trim)
        .filter(|piece| !piece.is_empty() && *piece != "....")
        .map(|piece| format!("data: {piece}"))
        .collect();
    events.push("data: [DONE]".to_string());
    Reply::sse(&events)
}

#[tokio::test]
async fn llama_server_plain_answer() {
    let Some(dir) = fixtures_dir() else { return };
    let (completion, server) = replay(Reply::from_http_capture(&read_fixture(
        &dir,
        "llama-server/chat_nonstream_b6224.http",
    )))
    .await;
    assert_eq!(
        completion.text,
        "Hello! My name is QGIS Copilot, a tool designed to assist with geospatial data processing tasks. How can I help you today?"
    );
    assert_eq!(completion.finish, FinishReason::Stop);
    assert_eq!(
        (completion.usage.prompt_tokens, completion.usage.completion_tokens),
        (127, 31)
    );
    assert_eq!(completion.model, "qwen2.5-1.5b-instruct-q8_0");
    // A whole body's first byte is not its first token: no decode span, so the rate is over the call
    // (it once read "65774804.9 tokens/s" from a first byte taken for a first token).
    assert_eq!(completion.usage.time_to_first_token, None);
    let rate = completion.usage.tokens_per_second();
    let expected = 31.0 / completion.usage.total_time.as_secs_f64();
    assert!((rate - expected).abs() < 1e-6 * expected, "{rate} vs {expected}");
    let request = &server.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert!(request.json().get("stream").is_none());
}

#[tokio::test]
async fn llama_server_reasoning_is_not_part_of_the_answer() {
    let Some(dir) = fixtures_dir() else { return };
    let capture = read_fixture(&dir, "llama-server/chat_reasoning_nonstream_b6224.http");
    let (completion, _server) = replay(Reply::from_http_capture(&capture)).await;
    assert!(
        completion.text.starts_with("Hello! I’m your QGIS Copilot"),
        "{}",
        completion.text
    );
    assert!(
        !completion.text.contains("The user just says hello"),
        "{}",
        completion.text
    );
    assert_eq!(
        (completion.usage.prompt_tokens, completion.usage.completion_tokens),
        (183, 63)
    );
}

#[tokio::test]
async fn llama_server_tool_call_answer_has_no_text_and_does_not_fail() {
    let Some(dir) = fixtures_dir() else { return };
    let capture = read_fixture(&dir, "llama-server/chat_toolcall_nonstream_b6224.http");
    let (completion, _server) = replay(Reply::from_http_capture(&capture)).await;
    assert_eq!(completion.text, "");
    assert_eq!(completion.finish, FinishReason::Stop);
    assert_eq!(
        (completion.usage.prompt_tokens, completion.usage.completion_tokens),
        (292, 23)
    );
}

#[tokio::test]
async fn llama_server_stream() {
    let Some(dir) = fixtures_dir() else { return };
    let capture = read_fixture(&dir, "llama-server/chat_stream_b6224.http");
    let (expected, expected_pieces) = streamed_text(&capture);
    assert_eq!(expected_pieces, 35, "the capture's content deltas");
    let (completion, pieces, server) = replay_streaming(Reply::from_http_capture(&capture)).await;
    assert_eq!(completion.text, expected);
    assert!(
        completion.text.starts_with("Hello! It's nice to meet you"),
        "{}",
        completion.text
    );
    assert_eq!(pieces.len(), expected_pieces);
    assert_eq!(pieces.concat(), completion.text);
    assert_eq!(completion.finish, FinishReason::Stop);
    assert_eq!(
        (completion.usage.prompt_tokens, completion.usage.completion_tokens),
        (127, 36)
    );
    let first_token = completion
        .usage
        .time_to_first_token
        .expect("a stream in pieces shows its first token");
    assert!(first_token <= completion.usage.total_time);
    let body = server.requests()[0].json();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn llama_server_tool_call_stream_has_no_text_and_does_not_fail() {
    let Some(dir) = fixtures_dir() else { return };
    let capture = read_fixture(&dir, "llama-server/chat_toolcall_stream_b6224.http");
    let (completion, pieces, _server) = replay_streaming(Reply::from_http_capture(&capture)).await;
    assert_eq!(completion.text, "");
    assert!(pieces.is_empty());
    assert_eq!(completion.finish, FinishReason::Stop);
}

#[tokio::test]
async fn vllm_reasoning_is_dropped_and_extra_fields_ignored() {
    let Some(dir) = fixtures_dir() else { return };
    let body = read_fixture(&dir, "vllm/chat_nonstream_gpt-oss-120b.json");
    let (completion, _server) = replay(Reply::json(200, &body)).await;
    let json: Value = serde_json::from_str(&body).expect("fixture is JSON");
    assert_eq!(
        completion.text,
        json["choices"][0]["message"]["content"].as_str().expect("content")
    );
    assert!(!completion.text.contains("The user asks"), "{}", completion.text);
    assert_eq!(
        (completion.usage.prompt_tokens, completion.usage.completion_tokens),
        (77, 61)
    );
    assert_eq!(completion.model, "openai/gpt-oss-120b");
    assert_eq!(completion.finish, FinishReason::Stop);
}

#[tokio::test]
async fn openai_documented_answers() {
    let Some(dir) = fixtures_dir() else { return };
    let (completion, _server) = replay(Reply::json(
        200,
        &read_fixture(&dir, "openai-chat/spec_example_default_response.json"),
    ))
    .await;
    assert_eq!(completion.text, "Hello! How can I assist you today?");
    assert_eq!(
        (completion.usage.prompt_tokens, completion.usage.completion_tokens),
        (19, 10)
    );
    let (completion, _server) = replay(Reply::json(
        200,
        &read_fixture(&dir, "openai-chat/spec_object_chat_completion.json"),
    ))
    .await;
    assert!(
        completion.text.starts_with("The image shows a wooden boardwalk"),
        "{}",
        completion.text
    );
    assert_eq!(
        (completion.usage.prompt_tokens, completion.usage.completion_tokens),
        (1117, 46)
    );
    assert_eq!(completion.model, "gpt-4o-2024-08-06");
}

#[tokio::test]
async fn openai_documented_streams() {
    let Some(dir) = fixtures_dir() else { return };
    for name in [
        "openai-chat/spec_example_streaming_response.txt",
        "openai-chat/spec_object_chat_completion_chunk.txt",
    ] {
        let (completion, pieces, _server) = replay_streaming(documented_stream(&read_fixture(&dir, name))).await;
        assert_eq!(completion.text, "Hello", "{name}");
        assert_eq!(pieces, ["Hello"], "{name}");
        assert_eq!(completion.finish, FinishReason::Stop, "{name}");
        // The examples carry no usage: the counts stay 0 rather than failing.
        assert_eq!(completion.usage.prompt_tokens, 0, "{name}");
    }
}
