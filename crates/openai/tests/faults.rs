//! Injected faults: rate limits, overloaded and silent servers, broken streams, refusals, cancellation.

use std::time::{Duration, Instant};

use hypatia_llm::{CallControl, ChatBackend, ErrorKind, LlmError};
use hypatia_openai::{OpenAiBackend, StructuredMode};
use serde_json::json;
use tokio::sync::mpsc;

use crate::support::{MockServer, Reply, answer, delta, finish, hello, within};

/// Generous: guards against hangs, never measures speed.
const LIMIT: Duration = Duration::from_secs(30);

async fn chat(backend: &OpenAiBackend) -> Result<hypatia_llm::Completion, LlmError> {
    within(LIMIT, backend.chat(hello(), CallControl::default())).await
}

fn transient_message(error: LlmError) -> String {
    match error {
        LlmError::Transient { message, .. } => message,
        other => panic!("expected a transient error, got {other:?}"),
    }
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after_then_succeeds() {
    let server = MockServer::start(vec![
        Reply::json(429, r#"{"error":{"message":"Rate limit reached"}}"#).with_header("retry-after", "1"),
        answer("after the wait"),
    ])
    .await;
    let mut config = server.config();
    config.max_backoff = Duration::from_secs(5);
    let started = Instant::now();
    let completion = chat(&OpenAiBackend::new(config).expect("backend"))
        .await
        .expect("the retry succeeds");
    assert_eq!(completion.text, "after the wait");
    assert_eq!(server.requests().len(), 2);
    // The configured back-off is 10 ms: only Retry-After explains a wait of a second. (A lower bound
    // cannot flake: sleeps never end early.)
    assert!(
        started.elapsed() >= Duration::from_millis(990),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn server_errors_beyond_the_retries_are_transient_with_the_status() {
    let boom = || Reply::json(500, r#"{"error":{"message":"boom: out of memory"}}"#);
    let server = MockServer::start(vec![boom(), boom(), boom(), answer("too late")]).await;
    let mut config = server.config();
    config.max_retries = 2;
    let error = chat(&OpenAiBackend::new(config).expect("backend"))
        .await
        .expect_err("fails");
    let message = transient_message(error);
    assert!(message.contains("HTTP 500"), "{message}");
    assert!(message.contains("boom: out of memory"), "{message}");
    assert!(message.contains(&server.base_url()), "{message}");
    assert!(message.contains("after 3 tries"), "{message}");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn overloaded_server_then_success() {
    let server = MockServer::start(vec![Reply::json(503, "Service Unavailable"), answer("fine now")]).await;
    assert_eq!(chat(&server.backend()).await.expect("retried").text, "fine now");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_stalled_stream_is_a_transient_error_not_a_hang() {
    let role = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}]}".to_string();
    let server = MockServer::start(vec![Reply::sse(&[role]).stalling()]).await;
    let mut config = server.config();
    config.idle_timeout = Duration::from_millis(300);
    config.max_retries = 0;
    let (sender, _receiver) = mpsc::unbounded_channel();
    let backend = OpenAiBackend::new(config).expect("backend");
    let error = within(LIMIT, backend.chat(hello(), CallControl::streaming(sender)))
        .await
        .expect_err("stalls");
    let message = transient_message(error);
    assert!(
        message.contains("stalled") && message.contains("idle_timeout"),
        "{message}"
    );
}

#[tokio::test]
async fn a_stream_that_stalls_after_sending_text_is_not_retried() {
    let server = MockServer::start(vec![
        Reply::sse(&[delta("Hel")]).stalling(),
        answer("must not be asked"),
    ])
    .await;
    let mut config = server.config();
    config.idle_timeout = Duration::from_millis(300);
    config.max_retries = 3;
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let backend = OpenAiBackend::new(config).expect("backend");
    let error = within(LIMIT, backend.chat(hello(), CallControl::streaming(sender)))
        .await
        .expect_err("stalls");
    assert_eq!(error.kind(), ErrorKind::Transient);
    // A retry would stream the answer a second time; the caller decides.
    assert_eq!(server.requests().len(), 1);
    assert_eq!(receiver.try_recv().ok().as_deref(), Some("Hel"));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = MockServer::start(vec![Reply::Silent, Reply::Silent]).await;
    let mut config = server.config();
    config.request_timeout = Duration::from_millis(300);
    config.max_retries = 1;
    let error = chat(&OpenAiBackend::new(config).expect("backend"))
        .await
        .expect_err("times out");
    let message = transient_message(error);
    assert!(message.contains("sent no response within 0.3 s"), "{message}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn connection_refused_is_transient_after_the_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    let mut config = hypatia_openai::OpenAiConfig::new("m").with_base_url(format!("http://{addr}/v1"));
    config.initial_backoff = Duration::from_millis(5);
    config.max_retries = 2;
    let error = chat(&OpenAiBackend::new(config).expect("backend"))
        .await
        .expect_err("refused");
    let message = transient_message(error);
    assert!(
        message.starts_with(&format!(
            "cannot reach http://{addr}/v1/chat/completions (after 3 tries)"
        )),
        "{message}"
    );
}

/// A 200 whose body is not JSON is the server's fault, not the model's, and repeating the same request
/// to the same server will most likely get the same page (a proxy, a wrong base_url): `InvalidOutput`
/// ("answered, but not with what was asked"), not retried, with an excerpt of what came instead.
#[tokio::test]
async fn a_body_that_is_not_json_is_invalid_output_not_a_panic() {
    let server = MockServer::start(vec![
        Reply::json(200, "<html>Welcome to nginx</html>"),
        answer("unused"),
    ])
    .await;
    let error = chat(&server.backend()).await.expect_err("not JSON");
    assert_eq!(error.kind(), ErrorKind::InvalidOutput);
    assert!(error.to_string().contains("Welcome to nginx"), "{error}");
    assert_eq!(server.requests().len(), 1);
    let server = MockServer::start(vec![Reply::sse(&["data: {not json".to_string()])]).await;
    let (sender, _receiver) = mpsc::unbounded_channel();
    let error = within(LIMIT, server.backend().chat(hello(), CallControl::streaming(sender)))
        .await
        .expect_err("bad");
    assert_eq!(error.kind(), ErrorKind::InvalidOutput);
}

#[tokio::test]
async fn unauthorised_is_permanent_and_not_retried() {
    let server = MockServer::start(vec![
        Reply::json(
            401,
            r#"{"error":{"message":"Invalid API key","type":"invalid_request_error"}}"#,
        ),
        answer("unused"),
    ])
    .await;
    let backend = OpenAiBackend::new(server.config().with_api_key("sk-test-key-0001")).expect("backend");
    let error = chat(&backend).await.expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Permanent);
    assert!(error.to_string().contains("the server refused the API key"), "{error}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn not_found_names_the_model() {
    let server = MockServer::start(vec![Reply::json(404, r#"{"error":"model \"test-model\" not found"}"#)]).await;
    let error = chat(&server.backend()).await.expect_err("missing");
    assert_eq!(error.kind(), ErrorKind::Permanent);
    assert!(
        error.to_string().contains("`test-model`") && error.to_string().contains("HTTP 404"),
        "{error}"
    );
}

fn schema() -> serde_json::Value {
    json!({"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]})
}

#[tokio::test]
async fn a_refused_json_schema_falls_back_to_json_object_and_is_remembered() {
    let refusal = r#"{"error":{"code":400,"message":"response_format type 'json_schema' is not supported","type":"invalid_request_error"}}"#;
    let server = MockServer::start(vec![
        Reply::json(400, refusal),
        answer(r#"{"answer":"a"}"#),
        answer(r#"{"answer":"b"}"#),
    ])
    .await;
    let backend = server.backend();
    let request = hello().with_schema(schema());
    let first = within(LIMIT, backend.chat(request.clone(), CallControl::default()))
        .await
        .expect("fallback");
    assert_eq!(first.text, r#"{"answer":"a"}"#);
    assert!(backend.json_schema_refused());
    let second = within(LIMIT, backend.chat(request, CallControl::default()))
        .await
        .expect("remembered");
    assert_eq!(second.text, r#"{"answer":"b"}"#);

    let bodies: Vec<_> = server.requests().iter().map(|request| request.json()).collect();
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[0]["response_format"]["type"], "json_schema");
    assert_eq!(bodies[0]["response_format"]["json_schema"]["schema"], schema());
    for body in &bodies[1..] {
        assert_eq!(
            body["response_format"],
            json!({"type": "json_object", "schema": schema()})
        );
        let system = body["messages"][0]["content"].as_str().expect("system message");
        assert!(
            system.starts_with("Be brief.") && system.contains(&schema().to_string()),
            "{system}"
        );
    }
}

#[tokio::test]
async fn json_schema_mode_does_not_fall_back() {
    let refusal = r#"{"error":{"message":"json_schema is not supported"}}"#;
    let server = MockServer::start(vec![Reply::json(400, refusal), answer("unused")]).await;
    let mut config = server.config();
    config.structured = StructuredMode::JsonSchema;
    let backend = OpenAiBackend::new(config).expect("backend");
    let error = within(
        LIMIT,
        backend.chat(hello().with_schema(schema()), CallControl::default()),
    )
    .await;
    assert_eq!(error.expect_err("refused").kind(), ErrorKind::Permanent);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn context_too_long() {
    let body = r#"{"error":{"message":"This model's maximum context length is 2048 tokens. However, you requested 4000 tokens (3936 in the messages, 64 in the completion). Please reduce the length of the messages or completion.","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
    let server = MockServer::start(vec![Reply::json(400, body)]).await;
    let error = chat(&server.backend()).await.expect_err("too long");
    assert!(
        matches!(
            error,
            LlmError::ContextTooLong {
                prompt_tokens: 3936,
                context_tokens: 2048
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn cancelling_mid_stream_ends_the_call_promptly() {
    let server = MockServer::start(vec![Reply::sse(&[delta("first words")]).stalling()]).await;
    let backend = server.backend();
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let control = CallControl::streaming(sender);
    let cancel = control.cancel.clone();
    let call = tokio::spawn(async move { backend.chat(hello(), control).await });
    let first = within(LIMIT, receiver.recv()).await;
    assert_eq!(first.as_deref(), Some("first words"));
    cancel.cancel();
    let result = within(LIMIT, call).await.expect("the call task");
    assert!(matches!(result, Err(LlmError::Cancelled)), "{result:?}");
}

#[tokio::test]
async fn cancelling_during_a_back_off_ends_the_wait() {
    let server = MockServer::start(vec![Reply::json(429, "slow down").with_header("retry-after", "3600")]).await;
    let mut config = server.config();
    config.max_backoff = Duration::from_secs(3600);
    let backend = OpenAiBackend::new(config).expect("backend");
    let control = CallControl::default();
    let cancel = control.cancel.clone();
    let call = tokio::spawn(async move { backend.chat(hello(), control).await });
    while server.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cancel.cancel();
    let result = within(LIMIT, call).await.expect("the call task");
    assert!(matches!(result, Err(LlmError::Cancelled)), "{result:?}");
}

#[tokio::test]
async fn refused_stream_options_are_dropped_and_the_request_repeated() {
    let refusal = r#"{"detail":[{"loc":["body","stream_options"],"msg":"Extra inputs are not permitted"}]}"#;
    let server = MockServer::start(vec![
        Reply::json(422, refusal),
        Reply::sse(&[delta("ok"), finish("stop"), "data: [DONE]".into()]),
    ])
    .await;
    let (sender, _receiver) = mpsc::unbounded_channel();
    let completion = within(LIMIT, server.backend().chat(hello(), CallControl::streaming(sender)))
        .await
        .expect("second try");
    assert_eq!(completion.text, "ok");
    let bodies: Vec<_> = server.requests().iter().map(|request| request.json()).collect();
    assert!(bodies[0].get("stream_options").is_some());
    assert!(bodies[1].get("stream_options").is_none());
    assert_eq!(bodies[1]["stream"], true);
}

#[tokio::test]
async fn a_stream_that_ends_without_finishing_is_transient() {
    let server = MockServer::start(vec![Reply::sse(&[delta("half an ans")])]).await;
    let (sender, _receiver) = mpsc::unbounded_channel();
    let error = within(LIMIT, server.backend().chat(hello(), CallControl::streaming(sender)))
        .await
        .expect_err("cut");
    let message = transient_message(error);
    assert!(message.contains("ended before the answer was finished"), "{message}");
}

#[tokio::test]
async fn an_error_event_inside_a_stream() {
    let error_event = r#"data: {"error":{"code":500,"message":"the model crashed","type":"server_error"}}"#.to_string();
    let server = MockServer::start(vec![Reply::sse(&[delta("partial"), error_event])]).await;
    let (sender, _receiver) = mpsc::unbounded_channel();
    let error = within(LIMIT, server.backend().chat(hello(), CallControl::streaming(sender)))
        .await
        .expect_err("error");
    assert!(transient_message(error).contains("the model crashed"));
}

#[tokio::test]
async fn streamed_reasoning_is_dropped_and_length_is_reported() {
    let reasoning = r#"data: {"choices":[{"index":0,"delta":{"reasoning_content":"Let me think.","content":null}}]}"#;
    let usage = r#"data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#;
    let server = MockServer::start(vec![Reply::sse(&[
        reasoning.to_string(),
        delta("Tokyo"),
        finish("length"),
        usage.to_string(),
        "data: [DONE]".to_string(),
    ])])
    .await;
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let completion = within(LIMIT, server.backend().chat(hello(), CallControl::streaming(sender)))
        .await
        .expect("completion");
    assert_eq!(completion.text, "Tokyo");
    assert_eq!(completion.finish, hypatia_llm::FinishReason::Length);
    assert_eq!(
        (completion.usage.prompt_tokens, completion.usage.completion_tokens),
        (12, 3)
    );
    assert_eq!(receiver.try_recv().ok().as_deref(), Some("Tokyo"));
    assert!(receiver.try_recv().is_err());
}

#[tokio::test]
async fn reasoning_model_refusals_are_adjusted_and_remembered() {
    let max_tokens = r#"{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}"#;
    let temperature = r#"{"error":{"message":"Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}"#;
    let server = MockServer::start(vec![
        Reply::json(400, max_tokens),
        Reply::json(400, temperature),
        answer("a"),
        answer("b"),
    ])
    .await;
    let backend = server.backend();
    assert_eq!(chat(&backend).await.expect("adjusted").text, "a");
    assert_eq!(chat(&backend).await.expect("remembered").text, "b");
    let bodies: Vec<_> = server.requests().iter().map(|request| request.json()).collect();
    assert_eq!(bodies.len(), 4);
    assert_eq!(bodies[0]["max_tokens"], 64);
    assert!(bodies[0].get("temperature").is_some());
    assert_eq!(bodies[1]["max_completion_tokens"], 64);
    assert!(bodies[1].get("max_tokens").is_none() && bodies[1].get("temperature").is_some());
    for body in &bodies[2..] {
        assert_eq!(body["max_completion_tokens"], 64);
        assert!(
            body.get("temperature").is_none() && body.get("top_p").is_none(),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_server_that_gives_up_on_the_answer_is_retried() {
    let gave_up = r#"{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"partial"},"finish_reason":"error","stop_reason":null}]}"#;
    let server = MockServer::start(vec![Reply::json(200, gave_up), answer("whole")]).await;
    assert_eq!(chat(&server.backend()).await.expect("retried").text, "whole");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_server_that_does_not_stream_still_answers_a_streaming_call() {
    let server = MockServer::start(vec![answer("all at once")]).await;
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let completion = within(LIMIT, server.backend().chat(hello(), CallControl::streaming(sender)))
        .await
        .expect("completion");
    assert_eq!(completion.text, "all at once");
    assert_eq!(receiver.try_recv().ok().as_deref(), Some("all at once"));
}
