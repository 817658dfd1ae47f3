use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use hypatia_llm::{BoxFuture, CallControl, ChatBackend, ChatRequest, Completion, LlmError, Usage};
use hypatia_prompts::Prompts;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::config::{OpenAiConfig, StructuredMode};
use crate::errors::{
    Failure, Target, refuses_json_schema, refuses_max_tokens, refuses_sampling, refuses_stream_options,
};
use crate::sse::{SseEvent, SseParser};
use crate::wire::{self, BodyOptions, ChatResponse, JsonMode, StreamChunk, WireUsage};
use hypatia_retry::{Backoff, parse_retry_after};

/// The most of a response body that is read: far more than any chat answer.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// The most of an error body that is read.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// A chat backend that talks to an OpenAI-compatible server over HTTP.
pub struct OpenAiBackend {
    config: OpenAiConfig,
    url: String,
    client: reqwest::Client,
    prompts: Arc<Prompts>,
    /// What the server refused once and is not sent again.
    refused: Refused,
}

/// Optional request parts a server refused, remembered for the life of the backend.
#[derive(Debug, Default)]
struct Refused {
    /// `json_schema` ([`StructuredMode::Auto`] only): `json_object` with the schema from now on.
    json_schema: AtomicBool,
    /// `stream_options`: streams go without usage figures.
    stream_options: AtomicBool,
    /// `max_tokens`: the limit goes as `max_completion_tokens`.
    max_tokens: AtomicBool,
    /// A non-default `temperature` or `top_p`: the server's defaults are used.
    sampling: AtomicBool,
}

impl std::fmt::Debug for OpenAiBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiBackend")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OpenAiBackend {
    /// A backend for `config`. No request is made until the first call.
    pub fn new(config: OpenAiConfig) -> Result<Self, LlmError> {
        let url = config.chat_url();
        let client = client_for(&config, &url)?;
        Ok(OpenAiBackend {
            config,
            url,
            client,
            prompts: Arc::new(Prompts::embedded()),
            refused: Refused::default(),
        })
    }

    /// Uses these prompts (the user's overrides) to describe a schema when falling back to `json_object`.
    pub fn with_prompts(mut self, prompts: Arc<Prompts>) -> Self {
        self.prompts = prompts;
        self
    }

    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// Whether the server refused `json_schema` and this backend now asks for `json_object` instead.
    pub fn json_schema_refused(&self) -> bool {
        self.refused.json_schema.load(Ordering::Relaxed)
    }

    fn target(&self) -> Target<'_> {
        Target {
            url: &self.url,
            model: &self.config.model,
            api_key: self.config.api_key.as_ref(),
        }
    }

    fn json_mode(&self, has_schema: bool) -> Option<JsonMode> {
        if !has_schema {
            return None;
        }
        Some(match self.config.structured {
            StructuredMode::JsonSchema => JsonMode::JsonSchema,
            StructuredMode::JsonObject => JsonMode::JsonObject,
            StructuredMode::Auto if self.json_schema_refused() => JsonMode::JsonObject,
            StructuredMode::Auto => JsonMode::JsonSchema,
        })
    }

    async fn run(&self, request: ChatRequest, control: CallControl) -> Result<Completion, LlmError> {
        let stream = control.stream.is_some();
        let mut options = BodyOptions {
            stream,
            include_usage: stream && !self.refused.stream_options.load(Ordering::Relaxed),
            json: self.json_mode(request.schema.is_some()),
            max_completion_tokens: self.refused.max_tokens.load(Ordering::Relaxed),
            default_sampling: self.refused.sampling.load(Ordering::Relaxed),
        };
        loop {
            let body = wire::request_body(&self.config.model, &request, options, &self.prompts)?;
            match self.send_with_retries(&body, &control, options).await {
                Ok(completion) => return Ok(completion),
                Err(Outcome::Adjust(adjusted)) => options = adjusted,
                Err(Outcome::Failed(failure, tries)) => return Err(failure.into_error(&self.target(), tries)),
            }
        }
    }

    /// Sends `body` until it succeeds, fails for good, the tries run out, or the server refuses an
    /// optional part of the request that can be left out.
    async fn send_with_retries(
        &self,
        body: &Value,
        control: &CallControl,
        options: BodyOptions,
    ) -> Result<Completion, Outcome> {
        let backoff = Backoff {
            initial: self.config.initial_backoff,
            max: self.config.max_backoff,
        };
        let mut tries = 0u32;
        loop {
            tries += 1;
            let failure = match cancellable(&control.cancel, self.attempt(body, control)).await {
                Ok(completion) => return Ok(completion),
                Err(failure) => failure,
            };
            if let Some(adjusted) = self.adjust(&failure, options) {
                return Err(Outcome::Adjust(adjusted));
            }
            if !failure.is_retryable() || tries > self.config.max_retries {
                return Err(Outcome::Failed(failure, tries));
            }
            let delay = backoff.delay(tries - 1, failure.retry_after());
            tracing::warn!(
                url = %self.url,
                try_number = tries,
                retry_in_ms = delay.as_millis() as u64,
                problem = %failure.clone().into_error(&self.target(), 1),
                "chat request failed; retrying"
            );
            let slept = cancellable(&control.cancel, async {
                tokio::time::sleep(delay).await;
                Ok(())
            })
            .await;
            if let Err(cancelled) = slept {
                return Err(Outcome::Failed(cancelled, tries));
            }
        }
    }

    /// The request without the part the server just refused, remembered for later calls.
    fn adjust(&self, failure: &Failure, options: BodyOptions) -> Option<BodyOptions> {
        let Failure::Status { status, body, .. } = failure else {
            return None;
        };
        let (status, body) = (*status, body.as_str());
        let (flag, adjusted, what) = if options.include_usage && refuses_stream_options(status, body) {
            let adjusted = BodyOptions {
                include_usage: false,
                ..options
            };
            (
                &self.refused.stream_options,
                adjusted,
                "stream_options; streaming without usage figures",
            )
        } else if !options.max_completion_tokens && refuses_max_tokens(status, body) {
            let adjusted = BodyOptions {
                max_completion_tokens: true,
                ..options
            };
            (
                &self.refused.max_tokens,
                adjusted,
                "max_tokens; sending max_completion_tokens",
            )
        } else if !options.default_sampling && refuses_sampling(status, body) {
            let adjusted = BodyOptions {
                default_sampling: true,
                ..options
            };
            (
                &self.refused.sampling,
                adjusted,
                "the sampling settings; using the model's defaults",
            )
        } else if options.json == Some(JsonMode::JsonSchema)
            && self.config.structured == StructuredMode::Auto
            && refuses_json_schema(status, body)
        {
            let adjusted = BodyOptions {
                json: Some(JsonMode::JsonObject),
                ..options
            };
            (
                &self.refused.json_schema,
                adjusted,
                "json_schema; using json_object with the schema",
            )
        } else {
            return None;
        };
        tracing::info!(url = %self.url, "the server refused {what}");
        flag.store(true, Ordering::Relaxed);
        Some(adjusted)
    }

    async fn attempt(&self, body: &Value, control: &CallControl) -> Result<Completion, Failure> {
        let started = Instant::now();
        let response = post_json(&self.client, &self.url, &self.config, body).await?;
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("json"));
        let reader = BodyReader::new(response, self.config.idle_timeout);
        let mut completion = match &control.stream {
            Some(sink) if !is_json => read_stream(reader, sink, started).await?,
            // A server that does not stream answers with the whole completion: it arrives as one piece.
            Some(sink) => {
                let completion = read_whole(reader, started).await?;
                if !completion.text.is_empty() {
                    let _ = sink.send(completion.text.clone());
                }
                completion
            }
            None => read_whole(reader, started).await?,
        };
        if completion.model.is_empty() {
            completion.model = self.config.model.clone();
        }
        Ok(completion)
    }
}

impl ChatBackend for OpenAiBackend {
    fn describe(&self) -> String {
        // Shown in runs, reports and the project's kept judgements: never a credential in the URL.
        format!(
            "openai:{}@{}",
            self.config.model,
            crate::config::without_credentials(&self.config.base_url)
        )
    }

    fn chat<'a>(&'a self, request: ChatRequest, control: CallControl) -> BoxFuture<'a, Result<Completion, LlmError>> {
        Box::pin(self.run(request, control))
    }
}

/// How a series of tries ended, short of an answer.
enum Outcome {
    /// Send again with these options.
    Adjust(BodyOptions),
    /// The last failure, and how many tries were made.
    Failed(Failure, u32),
}

/// Runs `work` unless `cancel` fires first; dropping `work` closes its connection, which tells the
/// server to stop generating.
async fn cancellable<T>(
    cancel: &CancellationToken,
    work: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(Failure::Cancelled),
        result = work => result,
    }
}

/// The HTTP client for requests to `url` (the endpoint `config` names), checked to be HTTP(S).
pub(crate) fn client_for(config: &OpenAiConfig, url: &str) -> Result<reqwest::Client, LlmError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|error| LlmError::Permanent(format!("base_url `{}` is not a URL: {error}", config.base_url)))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(LlmError::Permanent(format!(
            "base_url `{}` must start with http:// or https://",
            config.base_url
        )));
    }
    let mut builder = reqwest::Client::builder().connect_timeout(config.connect_timeout);
    // A local server is never reached through the proxy configured for the internet.
    if is_loopback(&parsed) {
        builder = builder.no_proxy();
    }
    builder
        .build()
        .map_err(|error| LlmError::Permanent(format!("cannot set up the HTTP client: {error}")))
}

/// Posts `body` to `url` with the key, within the request timeout; a response with an error status
/// is a [`Failure`].
pub(crate) async fn post_json(
    client: &reqwest::Client,
    url: &str,
    config: &OpenAiConfig,
    body: &Value,
) -> Result<reqwest::Response, Failure> {
    let mut request = client.post(url).json(body);
    if let Some(key) = &config.api_key {
        request = request.bearer_auth(key.expose());
    }
    let response = match tokio::time::timeout(config.request_timeout, request.send()).await {
        Err(_) => return Err(Failure::NoResponse(config.request_timeout)),
        Ok(Err(error)) => return Err(Failure::connect(&error)),
        Ok(Ok(response)) => response,
    };
    if !response.status().is_success() {
        return Err(failed_status(response, config.idle_timeout).await);
    }
    Ok(response)
}

/// The failure an error status is: the server's message (read up to a limit) and its `Retry-After`.
async fn failed_status(response: reqwest::Response, idle: Duration) -> Failure {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, SystemTime::now()));
    let mut reader = BodyReader::new(response, idle);
    let body = reader.read_all(MAX_ERROR_BODY_BYTES).await.unwrap_or_default();
    Failure::Status {
        status: status.as_u16(),
        body: String::from_utf8_lossy(&body).into_owned(),
        retry_after,
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Reads a response body chunk by chunk, failing when the server goes silent for `idle`.
pub(crate) struct BodyReader {
    response: reqwest::Response,
    idle: Duration,
}

enum Read {
    Bytes(Vec<u8>),
    End,
}

impl BodyReader {
    pub(crate) fn new(response: reqwest::Response, idle: Duration) -> Self {
        BodyReader { response, idle }
    }

    async fn next(&mut self, forwarded: bool) -> Result<Read, Failure> {
        match tokio::time::timeout(self.idle, self.response.chunk()).await {
            Err(_) => Err(Failure::Body {
                problem: format!(
                    "stalled: nothing arrived for {:.1} s (idle_timeout)",
                    self.idle.as_secs_f64()
                ),
                forwarded,
            }),
            Ok(Err(error)) => Err(Failure::Body {
                problem: format!("broke off: {error}"),
                forwarded,
            }),
            Ok(Ok(Some(bytes))) => Ok(Read::Bytes(bytes.to_vec())),
            Ok(Ok(None)) => Ok(Read::End),
        }
    }

    pub(crate) async fn read_all(&mut self, limit: usize) -> Result<Vec<u8>, Failure> {
        let mut body = Vec::new();
        while let Read::Bytes(bytes) = self.next(false).await? {
            body.extend_from_slice(&bytes);
            if body.len() > limit {
                body.truncate(limit);
                break;
            }
        }
        Ok(body)
    }
}

async fn read_whole(mut reader: BodyReader, started: Instant) -> Result<Completion, Failure> {
    let mut body = Vec::new();
    while let Read::Bytes(bytes) = reader.next(false).await? {
        body.extend_from_slice(&bytes);
        if body.len() > MAX_BODY_BYTES {
            return Err(Failure::NotACompletion(format!(
                "the body is larger than {MAX_BODY_BYTES} bytes"
            )));
        }
    }
    let total_time = started.elapsed();
    let text = String::from_utf8_lossy(&body);
    let json: Value = serde_json::from_str(&text)
        .map_err(|error| Failure::NotACompletion(format!("the body is not JSON ({error}): {}", excerpt(&text))))?;
    if json.get("error").is_some_and(|error| !error.is_null()) && json.get("choices").is_none() {
        return Err(Failure::Reported {
            body: text.into_owned(),
            forwarded: false,
        });
    }
    let response: ChatResponse = serde_json::from_value(json)
        .map_err(|error| Failure::NotACompletion(format!("{error}: {}", excerpt(&text))))?;
    let Some(choice) = response.choices.into_iter().next() else {
        return Err(Failure::NotACompletion(format!(
            "it has no choices: {}",
            excerpt(&text)
        )));
    };
    let reason = choice.finish_reason.as_deref().unwrap_or("stop");
    let Some(finish) = wire::finish_reason(reason, choice.stop_reason.as_ref()) else {
        return Err(gave_up(reason, false));
    };
    let text = choice.message.and_then(|message| message.content).unwrap_or_default();
    // The answer came whole: its first byte is not its first token, so that moment is unknown.
    Ok(Completion {
        text,
        finish,
        usage: usage(response.usage, None, total_time),
        model: response.model.unwrap_or_default(),
    })
}

/// What a stream has delivered so far.
#[derive(Default)]
struct StreamState {
    text: String,
    model: Option<String>,
    finish: Option<hypatia_llm::FinishReason>,
    usage: Option<WireUsage>,
    first_token: Option<Duration>,
    content_chunks: u32,
    done: bool,
}

async fn read_stream(
    mut reader: BodyReader,
    sink: &tokio::sync::mpsc::UnboundedSender<String>,
    started: Instant,
) -> Result<Completion, Failure> {
    let mut parser = SseParser::new();
    let mut state = StreamState::default();
    while !state.done {
        let forwarded = state.first_token.is_some();
        let bytes = match reader.next(forwarded).await {
            Ok(Read::Bytes(bytes)) => bytes,
            Ok(Read::End) => break,
            // A server that sent its finish reason and then neither `[DONE]` nor closed: the answer is whole.
            Err(_) if state.finish.is_some() => break,
            Err(failure) => return Err(failure),
        };
        for event in parser.push(&bytes) {
            on_event(event, &mut state, sink, started)?;
            if state.done {
                break;
            }
        }
    }
    if !state.done
        && let Some(event) = parser.finish()
    {
        on_event(event, &mut state, sink, started)?;
    }
    let Some(finish) = state.finish.or(state.done.then_some(hypatia_llm::FinishReason::Stop)) else {
        return Err(Failure::Body {
            problem: "ended before the answer was finished (no finish_reason and no [DONE])".to_string(),
            forwarded: state.first_token.is_some(),
        });
    };
    let total_time = started.elapsed();
    Ok(Completion {
        text: state.text,
        finish,
        // One content chunk carries no decode span: the first token's moment says nothing then.
        usage: usage(
            state.usage,
            state.first_token.filter(|_| state.content_chunks > 1),
            total_time,
        ),
        model: state.model.unwrap_or_default(),
    })
}

fn on_event(
    event: SseEvent,
    state: &mut StreamState,
    sink: &tokio::sync::mpsc::UnboundedSender<String>,
    started: Instant,
) -> Result<(), Failure> {
    let forwarded = state.first_token.is_some();
    if event.is_done() {
        state.done = true;
        return Ok(());
    }
    if event.data.trim().is_empty() {
        return Ok(());
    }
    let chunk: StreamChunk = serde_json::from_str(&event.data).map_err(|error| {
        if event.event.as_deref() == Some("error") {
            Failure::Reported {
                body: event.data.clone(),
                forwarded,
            }
        } else {
            Failure::NotACompletion(format!(
                "a stream event is not a chunk ({error}): {}",
                excerpt(&event.data)
            ))
        }
    })?;
    if chunk.error.as_ref().is_some_and(|error| !error.is_null()) || event.event.as_deref() == Some("error") {
        return Err(Failure::Reported {
            body: event.data,
            forwarded,
        });
    }
    if chunk.model.is_some() {
        state.model = chunk.model;
    }
    if chunk.usage.is_some() {
        state.usage = chunk.usage;
    }
    if let Some(choice) = chunk.choices.into_iter().next() {
        if let Some(content) = choice
            .delta
            .and_then(|delta| delta.content)
            .filter(|content| !content.is_empty())
        {
            state.first_token.get_or_insert_with(|| started.elapsed());
            state.content_chunks += 1;
            state.text.push_str(&content);
            // A caller that stopped listening still gets the whole answer as the result.
            let _ = sink.send(content);
        }
        if let Some(reason) = choice.finish_reason {
            let finish = wire::finish_reason(&reason, choice.stop_reason.as_ref());
            state.finish = Some(finish.ok_or_else(|| gave_up(&reason, state.first_token.is_some()))?);
        }
    }
    Ok(())
}

/// The server ended the answer itself with `finish_reason` `error` or `abort`.
fn gave_up(reason: &str, forwarded: bool) -> Failure {
    Failure::Body {
        problem: format!("ended with finish_reason \"{reason}\": the server gave up on the answer"),
        forwarded,
    }
}

fn usage(wire: Option<WireUsage>, time_to_first_token: Option<Duration>, total_time: Duration) -> Usage {
    let wire = wire.unwrap_or_default();
    Usage {
        prompt_tokens: wire.prompt_tokens.unwrap_or(0),
        cached_prompt_tokens: wire
            .prompt_tokens_details
            .and_then(|details| details.cached_tokens)
            .unwrap_or(0),
        completion_tokens: wire.completion_tokens.unwrap_or(0),
        time_to_first_token,
        total_time,
    }
}

fn excerpt(text: &str) -> String {
    const SHOWN: usize = 200;
    let mut shown: String = text.chars().take(SHOWN).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}
