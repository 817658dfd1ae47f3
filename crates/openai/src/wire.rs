//! The JSON on the wire. Requests are built with async-openai's types. Responses are read into the
//! minimal, lenient structs below: async-openai's response types require fields that compatible servers
//! may leave out (`id`, `created`, `object`, `usage.total_tokens`, `message.role`) and use closed enums
//! (`finish_reason`, `service_tier`) that reject values real servers send (vLLM's finish reasons include
//! `abort`, `error` and `repetition`), which would turn a good answer into a parse error. Only what a [`Completion`] needs is read; everything else (`timings`,
//! `kv_transfer_params`, `tool_calls`, and above all `reasoning_content`) is ignored.

use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage, ChatCompletionStreamOptions, CreateChatCompletionRequest, ResponseFormat,
    ResponseFormatJsonSchema, StopConfiguration,
};
use hypatia_llm::{ChatMessage, ChatRequest, FinishReason, LlmError, Role};
use hypatia_prompts::Prompts;
use serde::Deserialize;
use serde_json::{Value, json};

/// How a request with a schema asks for JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonMode {
    JsonSchema,
    JsonObject,
}

/// The parts of a request body that depend on what the server accepts.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BodyOptions {
    pub stream: bool,
    /// `stream_options: {include_usage: true}` (streaming only).
    pub include_usage: bool,
    pub json: Option<JsonMode>,
    /// Send the limit as `max_completion_tokens` (OpenAI's reasoning models refuse `max_tokens`).
    pub max_completion_tokens: bool,
    /// Leave `temperature` and `top_p` out (OpenAI's reasoning models accept only their defaults).
    pub default_sampling: bool,
}

/// The request body for `POST /chat/completions`.
pub(crate) fn request_body(
    model: &str,
    request: &ChatRequest,
    options: BodyOptions,
    prompts: &Prompts,
) -> Result<Value, LlmError> {
    let schema = request.schema.as_ref().filter(|_| options.json.is_some());
    let mut messages = request.messages.clone();
    if let (Some(schema), Some(JsonMode::JsonObject)) = (schema, options.json) {
        describe_schema(&mut messages, schema, prompts)?;
    }
    let sampling = &request.sampling;
    let response_format = match (schema, options.json) {
        (Some(schema), Some(JsonMode::JsonSchema)) => Some(ResponseFormat::JsonSchema {
            json_schema: ResponseFormatJsonSchema {
                description: None,
                name: schema_name(schema),
                schema: schema.clone(),
                strict: strict_compatible(schema).then_some(true),
            },
        }),
        (Some(_), Some(JsonMode::JsonObject)) => Some(ResponseFormat::JsonObject),
        _ => None,
    };
    // `max_tokens` and `seed` are deprecated by OpenAI in favour of `max_completion_tokens`, but every
    // compatible server reads them and OpenAI still accepts them for chat completions.
    #[allow(deprecated)]
    let body = CreateChatCompletionRequest {
        model: model.to_string(),
        messages: messages.iter().map(wire_message).collect(),
        temperature: (!options.default_sampling).then_some(sampling.temperature),
        top_p: (!options.default_sampling).then_some(sampling.top_p),
        seed: sampling.seed.map(i64::from),
        max_tokens: (!options.max_completion_tokens).then_some(sampling.max_tokens),
        max_completion_tokens: options.max_completion_tokens.then_some(sampling.max_tokens),
        // OpenAI takes at most four; other servers take more, so all are sent.
        stop: (!sampling.stop.is_empty()).then(|| StopConfiguration::StringArray(sampling.stop.clone())),
        stream: options.stream.then_some(true),
        stream_options: (options.stream && options.include_usage).then_some(ChatCompletionStreamOptions {
            include_usage: Some(true),
            include_obfuscation: None,
        }),
        response_format,
        ..Default::default()
    };
    let mut body = serde_json::to_value(&body)
        .map_err(|error| LlmError::Permanent(format!("cannot encode the chat request: {error}")))?;
    // async-openai's `json_object` has no `schema`; llama-cpp-python and llama-server constrain the
    // output with one, and servers that do not know the field ignore it.
    if let (Some(schema), Some(JsonMode::JsonObject)) = (schema, options.json) {
        body["response_format"] = json!({ "type": "json_object", "schema": schema });
    }
    Ok(body)
}

fn wire_message(message: &ChatMessage) -> ChatCompletionRequestMessage {
    let content = message.content.clone();
    match message.role {
        Role::System => ChatCompletionRequestMessage::System(ChatCompletionRequestSystemMessage::from(content)),
        Role::User => ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage::from(content)),
        Role::Assistant => {
            ChatCompletionRequestMessage::Assistant(ChatCompletionRequestAssistantMessage::from(content))
        }
    }
}

/// With `json_object` only the prompt tells a model which JSON to write: the `json_answer` prompt is
/// appended to the system message (or becomes one), unless a message already carries the schema.
fn describe_schema(messages: &mut Vec<ChatMessage>, schema: &Value, prompts: &Prompts) -> Result<(), LlmError> {
    let schema_text = schema.to_string();
    if messages.iter().any(|message| message.content.contains(&schema_text)) {
        return Ok(());
    }
    let instruction = prompts
        .render("json_answer", &json!({ "schema": schema_text }))
        .map_err(|error| LlmError::Permanent(error.to_string()))?;
    match messages.first_mut() {
        Some(first) if first.role == Role::System => {
            first.content = format!("{}\n\n{instruction}", first.content.trim_end());
        }
        _ => messages.insert(0, ChatMessage::system(instruction)),
    }
    Ok(())
}

/// `json_schema.name` must match `[a-zA-Z0-9_-]{1,64}`: the schema's `title` made to fit, or `answer`.
fn schema_name(schema: &Value) -> String {
    let title = schema.get("title").and_then(Value::as_str).unwrap_or_default();
    let name: String = title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .take(64)
        .collect();
    if name.trim_matches('_').is_empty() {
        "answer".to_string()
    } else {
        name
    }
}

/// OpenAI's strict mode refuses a schema unless every object lists all its properties as required and
/// forbids others. Strict is asked for only then; otherwise the schema is still sent, non-strict.
fn strict_compatible(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                let required: Vec<&str> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if map.get("additionalProperties") != Some(&Value::Bool(false))
                    || properties.keys().any(|key| !required.contains(&key.as_str()))
                {
                    return false;
                }
            } else if map.get("type").and_then(Value::as_str) == Some("object") {
                return false;
            }
            map.values().all(strict_compatible)
        }
        Value::Array(items) => items.iter().all(strict_compatible),
        _ => true,
    }
}

/// A non-streamed answer.
#[derive(Debug, Deserialize)]
pub(crate) struct ChatResponse {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// vLLM: the stop string that ended generation (or a token id, or null).
    #[serde(default)]
    pub stop_reason: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Message {
    #[serde(default)]
    pub content: Option<String>,
}

/// One streamed chunk.
#[derive(Debug, Deserialize)]
pub(crate) struct StreamChunk {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Vec<StreamChoice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    /// vLLM and llama-server report failures inside the stream as `{"error": {…}}`.
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StreamChoice {
    #[serde(default)]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub stop_reason: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Delta {
    #[serde(default)]
    pub content: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u32>,
    #[serde(default)]
    pub completion_tokens: Option<u32>,
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct PromptTokensDetails {
    #[serde(default)]
    pub cached_tokens: Option<u32>,
}

/// `"length"` is the token limit; a vLLM `stop_reason` string is a stop string; `"error"` and `"abort"`
/// (vLLM) mean the server gave up on the answer: `None`. Everything else (`stop`, `eos`, `tool_calls`,
/// `content_filter`, vLLM's `repetition`) ended the answer.
pub(crate) fn finish_reason(reason: &str, stop_reason: Option<&Value>) -> Option<FinishReason> {
    match reason {
        "length" => Some(FinishReason::Length),
        "error" | "abort" => None,
        "stop" if matches!(stop_reason, Some(Value::String(_))) => Some(FinishReason::StopString),
        _ => Some(FinishReason::Stop),
    }
}

#[cfg(test)]
mod tests {
    use hypatia_llm::{ChatMessage, Sampling};

    use super::*;

    fn request() -> ChatRequest {
        ChatRequest::new(vec![ChatMessage::system("Be brief."), ChatMessage::user("Hi")]).with_sampling(Sampling {
            temperature: 0.2,
            top_p: 0.9,
            seed: Some(7),
            max_tokens: 64,
            stop: vec!["a".into(), "b".into(), "c".into(), "d".into(), "e".into()],
        })
    }

    fn options(json: Option<JsonMode>) -> BodyOptions {
        BodyOptions {
            json,
            ..BodyOptions::default()
        }
    }

    #[test]
    fn sampling_and_messages() {
        let body = request_body("m", &request(), options(None), &Prompts::embedded()).expect("body");
        assert_eq!(body["model"], "m");
        assert_eq!(
            body["messages"],
            json!([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}])
        );
        assert!((body["temperature"].as_f64().expect("temperature") - 0.2).abs() < 1e-6);
        assert_eq!(body["seed"], 7);
        assert_eq!(body["max_tokens"], 64);
        assert_eq!(body["stop"], json!(["a", "b", "c", "d", "e"]));
        assert!(body.get("stream").is_none() && body.get("response_format").is_none());
        let no_stop = request_body("m", &ChatRequest::new(vec![]), options(None), &Prompts::embedded()).expect("body");
        assert!(no_stop.get("stop").is_none() && no_stop.get("seed").is_none());
    }

    #[test]
    fn streaming_asks_for_usage() {
        let streamed = BodyOptions {
            stream: true,
            include_usage: true,
            ..BodyOptions::default()
        };
        let body = request_body("m", &request(), streamed, &Prompts::embedded()).expect("body");
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"], json!({"include_usage": true}));
        let without = BodyOptions {
            include_usage: false,
            ..streamed
        };
        assert!(
            request_body("m", &request(), without, &Prompts::embedded())
                .expect("body")
                .get("stream_options")
                .is_none()
        );
    }

    #[test]
    fn reasoning_model_variants() {
        let options = BodyOptions {
            max_completion_tokens: true,
            default_sampling: true,
            ..BodyOptions::default()
        };
        let body = request_body("o3", &request(), options, &Prompts::embedded()).expect("body");
        assert_eq!(body["max_completion_tokens"], 64);
        for absent in ["max_tokens", "temperature", "top_p"] {
            assert!(body.get(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn json_schema_format_is_strict_only_for_strict_schemas() {
        let loose = json!({"type":"object","properties":{"a":{"type":"string"}},"required":["a"]});
        let strict = json!({"title":"Score card","type":"object","properties":{"a":{"type":"string"}},
            "required":["a"],"additionalProperties":false});
        let body = request_body(
            "m",
            &request().with_schema(loose.clone()),
            options(Some(JsonMode::JsonSchema)),
            &Prompts::embedded(),
        )
        .expect("body");
        assert_eq!(
            body["response_format"],
            json!({"type":"json_schema","json_schema":{"name":"answer","schema":loose}})
        );
        assert_eq!(body["messages"][0]["content"], "Be brief.");
        let body = request_body(
            "m",
            &request().with_schema(strict.clone()),
            options(Some(JsonMode::JsonSchema)),
            &Prompts::embedded(),
        )
        .expect("body");
        assert_eq!(
            body["response_format"],
            json!({"type":"json_schema","json_schema":{"name":"Score_card","schema":strict,"strict":true}})
        );
    }

    #[test]
    fn json_object_format_carries_the_schema_and_describes_it_once() {
        let schema = json!({"type":"object","properties":{"a":{"type":"string"}},"required":["a"]});
        let request = request().with_schema(schema.clone());
        let body =
            request_body("m", &request, options(Some(JsonMode::JsonObject)), &Prompts::embedded()).expect("body");
        assert_eq!(body["response_format"], json!({"type":"json_object","schema":schema}));
        let system = body["messages"][0]["content"].as_str().expect("system message");
        assert!(
            system.starts_with("Be brief.\n\n") && system.contains(&schema.to_string()),
            "{system}"
        );
        assert_eq!(body["messages"].as_array().map(Vec::len), Some(2));

        let mut described = request.clone();
        described.messages[0].content = format!("Answer with {schema}");
        let body = request_body(
            "m",
            &described,
            options(Some(JsonMode::JsonObject)),
            &Prompts::embedded(),
        )
        .expect("body");
        assert_eq!(body["messages"][0]["content"], described.messages[0].content.as_str());

        let mut no_system = request.clone();
        no_system.messages.remove(0);
        let body = request_body(
            "m",
            &no_system,
            options(Some(JsonMode::JsonObject)),
            &Prompts::embedded(),
        )
        .expect("body");
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][1]["content"], "Hi");
    }

    #[test]
    fn finish_reasons() {
        assert_eq!(finish_reason("length", None), Some(FinishReason::Length));
        assert_eq!(finish_reason("stop", None), Some(FinishReason::Stop));
        assert_eq!(
            finish_reason("stop", Some(&json!("\n\n"))),
            Some(FinishReason::StopString)
        );
        assert_eq!(finish_reason("stop", Some(&json!(128001))), Some(FinishReason::Stop));
        assert_eq!(finish_reason("repetition", None), Some(FinishReason::Stop));
        assert_eq!(finish_reason("tool_calls", None), Some(FinishReason::Stop));
        assert_eq!(finish_reason("error", None), None);
        assert_eq!(finish_reason("abort", None), None);
    }

    #[test]
    fn lenient_about_missing_and_null_fields() {
        let response: ChatResponse =
            serde_json::from_str(r#"{"choices":[{"message":{"content":null,"tool_calls":[]},"finish_reason":"eos"}]}"#)
                .expect("parse");
        assert!(response.usage.is_none() && response.model.is_none());
        let chunk: StreamChunk = serde_json::from_str(r#"{"choices":[{"delta":{}}],"usage":null}"#).expect("parse");
        assert!(
            chunk.choices[0]
                .delta
                .as_ref()
                .is_some_and(|delta| delta.content.is_none())
        );
    }
}
