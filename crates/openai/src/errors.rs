//! What can go wrong talking to a server, whether trying again can help, and the [`LlmError`] a caller
//! finally sees. Messages name the URL, the status and the server's own words, never the API key.

use std::time::Duration;

use hypatia_llm::LlmError;
use serde_json::Value;

use crate::config::Secret;

/// How much of a server's error message is quoted.
const QUOTED_CHARS: usize = 400;

/// One failed try.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// The server answered with an error status.
    Status {
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    /// Connecting or sending the request failed.
    Connect(String),
    /// No response headers within `request_timeout`.
    NoResponse(Duration),
    /// The response body broke off, stalled or ended early. `forwarded` says whether some of the answer
    /// was already streamed to the caller, in which case a retry would stream it a second time.
    Body {
        problem: String,
        forwarded: bool,
    },
    /// The server reported an error inside a successful response (an SSE error event, or `{"error":…}`).
    Reported {
        body: String,
        forwarded: bool,
    },
    /// The server answered, but not with a chat completion.
    NotACompletion(String),
    Cancelled,
}

impl Failure {
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Failure::Status { status, body, .. } => {
                matches!(status, 429 | 500 | 502 | 503 | 504) && !out_of_quota(*status, body)
            }
            Failure::Connect(_) | Failure::NoResponse(_) => true,
            Failure::Body { forwarded, .. } | Failure::Reported { forwarded, .. } => !forwarded,
            Failure::NotACompletion(_) | Failure::Cancelled => false,
        }
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Describes a `reqwest` error with its causes ("connection refused" is two levels down).
    pub(crate) fn connect(error: &reqwest::Error) -> Failure {
        Failure::Connect(error_chain(error))
    }

    /// The error the caller sees after `tries` tries.
    pub(crate) fn into_error(self, target: &Target<'_>, tries: u32) -> LlmError {
        let url = target.url;
        let after = if tries > 1 {
            format!(" (after {tries} tries)")
        } else {
            String::new()
        };
        let error = match self {
            Failure::Cancelled => LlmError::Cancelled,
            Failure::Connect(problem) => LlmError::transient(format!("cannot reach {url}{after}: {problem}")),
            Failure::NoResponse(limit) => LlmError::transient(format!(
                "{url} sent no response within {}{after}; a slow model may need a longer request_timeout",
                seconds(limit)
            )),
            Failure::Body { problem, .. } => LlmError::transient(format!("the response from {url} {problem}{after}")),
            Failure::Reported { body, .. } => {
                let message = server_message(&body);
                match context_overflow(&body) {
                    Some((prompt_tokens, context_tokens)) => LlmError::ContextTooLong {
                        prompt_tokens,
                        context_tokens,
                    },
                    None => LlmError::transient(format!("{url} reported an error while answering{after}: {message}")),
                }
            }
            Failure::NotACompletion(problem) => {
                LlmError::InvalidOutput(format!("{url} did not answer with a chat completion: {problem}"))
            }
            Failure::Status {
                status,
                body,
                retry_after,
            } => status_error(target, status, &body, retry_after, &after),
        };
        redact(error, target.api_key)
    }
}

/// What a request was sent to, for error messages.
pub(crate) struct Target<'a> {
    pub url: &'a str,
    pub model: &'a str,
    pub api_key: Option<&'a Secret>,
}

fn status_error(target: &Target<'_>, status: u16, body: &str, retry_after: Option<Duration>, after: &str) -> LlmError {
    let url = target.url;
    let message = server_message(body);
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|code| code.canonical_reason())
        .unwrap_or("");
    let status_text = format!("HTTP {status} {reason}").trim_end().to_string();
    if matches!(status, 400 | 413 | 422)
        && let Some((prompt_tokens, context_tokens)) = context_overflow(body)
    {
        return LlmError::ContextTooLong {
            prompt_tokens,
            context_tokens,
        };
    }
    match status {
        429 if out_of_quota(status, body) => LlmError::Permanent(format!(
            "the account behind the API key has no quota left ({status_text} from {url}): {message}"
        )),
        429 | 500 | 502 | 503 | 504 => LlmError::Transient {
            message: format!("{url} answered {status_text}{after}: {message}"),
            retry_after,
        },
        401 | 403 if target.api_key.is_some() => LlmError::Permanent(format!(
            "the server refused the API key ({status_text} from {url}): {message}; check the key and its permissions"
        )),
        401 | 403 => LlmError::Permanent(format!(
            "the server at {url} wants an API key ({status_text}): {message}; set api_key"
        )),
        404 => LlmError::Permanent(format!(
            "{url} answered {status_text} for model `{}`: {message}; check the model name and base_url \
             (it usually ends in /v1)",
            target.model
        )),
        _ => LlmError::Permanent(format!("{url} refused the request ({status_text}): {message}")),
    }
}

/// The server's own explanation: OpenAI's `{"error":{"message":…}}`, Ollama's `{"error":"…"}`, FastAPI's
/// `{"detail":…}` (llama-cpp-python), a bare `{"message":…}`, or the body text itself.
pub(crate) fn server_message(body: &str) -> String {
    let text = match serde_json::from_str::<Value>(body) {
        Ok(json) => json_message(&json).unwrap_or_else(|| json.to_string()),
        Err(_) => body.split_whitespace().collect::<Vec<_>>().join(" "),
    };
    if text.is_empty() {
        return "(no message)".to_string();
    }
    quote(&text)
}

fn json_message(json: &Value) -> Option<String> {
    let error = json.get("error").unwrap_or(json);
    if let Some(text) = error.as_str() {
        return Some(text.to_string());
    }
    if let Some(text) = error.get("message").and_then(Value::as_str) {
        return Some(text.to_string());
    }
    match json.get("detail")? {
        Value::String(text) => Some(text.clone()),
        // FastAPI validation errors: [{"loc": ["body", "response_format", "type"], "msg": "…"}, …]
        Value::Array(items) => Some(
            items
                .iter()
                .map(|item| {
                    let place: Vec<String> = item
                        .get("loc")
                        .and_then(Value::as_array)
                        .map(|loc| {
                            loc.iter()
                                .map(|part| part.to_string().trim_matches('"').to_string())
                                .collect()
                        })
                        .unwrap_or_default();
                    let what = item.get("msg").and_then(Value::as_str).unwrap_or("invalid");
                    if place.is_empty() {
                        what.to_string()
                    } else {
                        format!("{}: {what}", place.join("."))
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => Some(other.to_string()),
    }
}

fn quote(text: &str) -> String {
    let mut quoted: String = text.chars().take(QUOTED_CHARS).collect();
    if quoted.len() < text.len() {
        quoted.push('…');
    }
    quoted
}

/// Whether the server refuses `response_format: json_schema` (so `json_object` may work instead): a
/// 400/422 that mentions it or says "not supported". llama-cpp-python (0.3.36) answers its own request
/// validation errors with a 500 whose body names the field, so a 500 naming both counts too.
pub(crate) fn refuses_json_schema(status: u16, body: &str) -> bool {
    let body = body.to_lowercase();
    let names_it = body.contains("response_format") || body.contains("json_schema");
    let refused = match status {
        400 | 422 => names_it || body.contains("not supported"),
        500 => body.contains("response_format") && body.contains("json_schema"),
        _ => false,
    };
    refused && context_overflow(&body).is_none()
}

/// OpenAI answers an exhausted account with 429 too, but waiting does not help.
fn out_of_quota(status: u16, body: &str) -> bool {
    status == 429 && body.contains("insufficient_quota")
}

/// Whether a 400 says to use `max_completion_tokens` instead of `max_tokens` (OpenAI's reasoning models).
pub(crate) fn refuses_max_tokens(status: u16, body: &str) -> bool {
    status == 400 && body.contains("max_tokens") && body.contains("max_completion_tokens")
}

/// Whether a 400 refuses a non-default `temperature` or `top_p` (OpenAI's reasoning models).
pub(crate) fn refuses_sampling(status: u16, body: &str) -> bool {
    let body = body.to_lowercase();
    status == 400
        && (body.contains("'temperature'") || body.contains("'top_p'"))
        && (body.contains("unsupported") || body.contains("not supported") || body.contains("does not support"))
}

/// Whether the server refuses `stream_options` (a 400/422 naming it, or llama-cpp-python's 500).
pub(crate) fn refuses_stream_options(status: u16, body: &str) -> bool {
    matches!(status, 400 | 422 | 500) && body.to_lowercase().contains("stream_options")
}

/// `(prompt tokens, context tokens)` when the error says the prompt does not fit; 0 for a number the
/// message does not give. Recognises OpenAI, vLLM, llama-server and llama-cpp-python wording.
pub(crate) fn context_overflow(body: &str) -> Option<(u32, u32)> {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let text = json
        .as_ref()
        .and_then(json_message)
        .unwrap_or_else(|| body.to_string())
        .to_lowercase();
    let raw = body.to_lowercase();
    const SIGNS: [&str; 8] = [
        "context length",
        "context_length",
        "maximum context",
        "context window",
        "context size",
        "exceed_context",
        "too many tokens",
        "prompt is too long",
    ];
    if !SIGNS.iter().any(|sign| text.contains(sign) || raw.contains(sign)) {
        return None;
    }
    // llama-server: {"error":{…,"n_prompt_tokens":5000,"n_ctx":4096}}
    let field = |name: &str| {
        let error = json.as_ref()?.get("error")?;
        error.get(name)?.as_u64().and_then(|n| u32::try_from(n).ok())
    };
    let context = field("n_ctx")
        .or_else(|| number_after(&text, "maximum context length is "))
        .or_else(|| number_after(&text, "context window of "))
        .or_else(|| number_after(&text, "context length of "))
        .unwrap_or(0);
    let prompt = field("n_prompt_tokens")
        .or_else(|| number_before(&text, " in the messages"))
        .or_else(|| number_after(&text, "your messages resulted in "))
        .or_else(|| number_after(&text, "your request has "))
        .or_else(|| number_after(&text, "requested tokens ("))
        .or_else(|| number_after(&text, "you requested "))
        .unwrap_or(0);
    Some((prompt, context))
}

fn number_after(text: &str, phrase: &str) -> Option<u32> {
    let start = text.find(phrase)? + phrase.len();
    let digits: String = text[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn number_before(text: &str, phrase: &str) -> Option<u32> {
    let end = text.find(phrase)?;
    let head = &text[..end];
    let digits_start = head.rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
    head[digits_start..].parse().ok()
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs >= 1.0 && secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// Replaces the key wherever it appears: servers quote rejected keys back, and proxies echo headers.
pub(crate) fn redact(error: LlmError, api_key: Option<&Secret>) -> LlmError {
    let Some(key) = api_key.map(Secret::expose).filter(|key| key.len() >= 4) else {
        return error;
    };
    let clean = |text: String| text.replace(key, "***");
    match error {
        LlmError::Transient { message, retry_after } => LlmError::Transient {
            message: clean(message),
            retry_after,
        },
        LlmError::Permanent(message) => LlmError::Permanent(clean(message)),
        LlmError::InvalidOutput(message) => LlmError::InvalidOutput(clean(message)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use hypatia_llm::ErrorKind;

    use super::*;

    fn target(key: Option<&Secret>) -> Target<'_> {
        Target {
            url: "http://127.0.0.1:1/v1/chat/completions",
            model: "tiny",
            api_key: key,
        }
    }

    fn status(status: u16, body: &str) -> LlmError {
        Failure::Status {
            status,
            body: body.to_string(),
            retry_after: None,
        }
        .into_error(&target(None), 1)
    }

    #[test]
    fn server_messages_in_the_shapes_servers_send() {
        assert_eq!(
            server_message(r#"{"error":{"message":"Bad model","type":"x"}}"#),
            "Bad model"
        );
        assert_eq!(
            server_message(r#"{"error":"model 'x' not found"}"#),
            "model 'x' not found"
        );
        assert_eq!(
            server_message(r#"{"detail":[{"loc":["body","response_format","type"],"msg":"Input should be 'text'"}]}"#),
            "body.response_format.type: Input should be 'text'"
        );
        assert_eq!(server_message("Internal   Server\nError"), "Internal Server Error");
        assert_eq!(server_message(""), "(no message)");
        assert!(server_message(&"x".repeat(5000)).chars().count() <= QUOTED_CHARS + 1);
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(status(503, "busy").kind(), ErrorKind::Transient);
        assert_eq!(status(429, "slow down").kind(), ErrorKind::Transient);
        assert_eq!(status(401, "no").kind(), ErrorKind::Permanent);
        assert_eq!(status(418, "teapot").kind(), ErrorKind::Permanent);
        let not_found = status(404, r#"{"error":{"message":"The model `gpt-9` does not exist"}}"#).to_string();
        assert!(
            not_found.contains("`tiny`") && not_found.contains("does not exist"),
            "{not_found}"
        );
        let bad = status(400, r#"{"error":{"message":"temperature must be <= 2"}}"#).to_string();
        assert!(
            bad.contains("HTTP 400 Bad Request") && bad.contains("temperature must be <= 2"),
            "{bad}"
        );
    }

    #[test]
    fn context_overflow_in_each_servers_words() {
        let openai = r#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9010 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
        assert_eq!(context_overflow(openai), Some((9010, 8192)));
        let vllm = r#"{"object":"error","message":"This model's maximum context length is 2048 tokens. However, you requested 3000 tokens (2500 in the messages, 500 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}"#;
        assert_eq!(context_overflow(vllm), Some((2500, 2048)));
        let llama_server = r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}}"#;
        assert_eq!(context_overflow(llama_server), Some((5000, 4096)));
        let llama_cpp_python = r#"{"error":{"message":"Requested tokens (3000) exceed context window of 2048","type":"internal_server_error"}}"#;
        assert_eq!(context_overflow(llama_cpp_python), Some((3000, 2048)));
        assert_eq!(context_overflow(r#"{"error":"too many tokens"}"#), Some((0, 0)));
        assert_eq!(
            context_overflow(r#"{"error":{"message":"temperature must be <= 2"}}"#),
            None
        );
        assert!(matches!(
            status(400, openai),
            LlmError::ContextTooLong {
                prompt_tokens: 9010,
                context_tokens: 8192
            }
        ));
    }

    #[test]
    fn structured_output_refusals() {
        let fastapi =
            r#"{"detail":[{"loc":["body","response_format","type"],"msg":"Input should be 'text' or 'json_object'"}]}"#;
        assert!(refuses_json_schema(422, fastapi));
        assert!(refuses_json_schema(
            400,
            r#"{"error":{"message":"json_schema is not supported"}}"#
        ));
        assert!(!refuses_json_schema(503, fastapi));
        let llama_cpp_python = "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), \
            'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}";
        assert!(refuses_json_schema(500, llama_cpp_python));
        assert!(!refuses_json_schema(
            500,
            r#"{"error":{"message":"json_schema grammar failed to compile"}}"#
        ));
        assert!(!refuses_json_schema(
            400,
            r#"{"error":{"message":"temperature must be <= 2"}}"#
        ));
        assert!(refuses_stream_options(
            400,
            r#"{"error":"unknown field stream_options"}"#
        ));
    }

    #[test]
    fn reasoning_model_refusals_and_exhausted_quota() {
        let max_tokens = r#"{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}"#;
        assert!(refuses_max_tokens(400, max_tokens) && !refuses_sampling(400, max_tokens));
        let temperature = r#"{"error":{"message":"Unsupported value: 'temperature' does not support 0.7 with this model. Only the default (1) value is supported.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}"#;
        assert!(refuses_sampling(400, temperature) && !refuses_max_tokens(400, temperature));
        let quota = r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        let failure = Failure::Status {
            status: 429,
            body: quota.into(),
            retry_after: None,
        };
        assert!(!failure.is_retryable());
        assert_eq!(failure.into_error(&target(None), 1).kind(), ErrorKind::Permanent);
    }

    #[test]
    fn the_key_is_redacted_from_server_messages() {
        let key = Secret::new("sk-live-1234567890");
        let body = r#"{"error":{"message":"Incorrect API key provided: sk-live-1234567890."}}"#;
        let error = Failure::Status {
            status: 401,
            body: body.into(),
            retry_after: None,
        }
        .into_error(&target(Some(&key)), 1);
        let text = format!("{error} {error:?}");
        assert!(
            !text.contains("sk-live-1234567890") && text.contains("refused the API key"),
            "{text}"
        );
    }
}
