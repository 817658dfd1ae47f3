use std::fmt;
use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// An API key. It is only ever written into the `Authorization` header: `Debug` and `Display` print
/// `***`, and error messages never contain it (a server that echoes it back is redacted too).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The key itself, for the one place that needs it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

/// How a request with a schema asks the server for JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StructuredMode {
    /// `json_schema` first; if the server refuses it, `json_object` with the schema from then on.
    #[default]
    Auto,
    /// `response_format: {type: "json_schema", json_schema: {name, schema, strict}}` (OpenAI, vLLM,
    /// llama-server, Ollama).
    JsonSchema,
    /// `response_format: {type: "json_object", schema}`, the schema also described in the prompt
    /// (llama-cpp-python; servers that ignore `schema` still return JSON).
    JsonObject,
}

/// Where and how to reach an OpenAI-compatible server.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiConfig {
    /// Up to and including the API version, e.g. `http://127.0.0.1:8080/v1`; `/chat/completions` is added.
    pub base_url: String,
    pub model: String,
    /// Sent as `Authorization: Bearer`; local servers usually need none.
    pub api_key: Option<Secret>,
    /// Establishing the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// From sending the request to the response headers (a non-streaming answer is generated within it).
    pub request_timeout: Duration,
    /// The longest silence while reading a response body or stream.
    pub idle_timeout: Duration,
    /// Further tries after the first for rate limits, overloaded servers, network faults and timeouts.
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub structured: StructuredMode,
}

impl OpenAiConfig {
    /// The defaults for `model` on OpenAI's API; set `base_url` for any other server.
    pub fn new(model: impl Into<String>) -> Self {
        OpenAiConfig {
            base_url: DEFAULT_BASE_URL.to_string(),
            model: model.into(),
            api_key: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(60),
            max_retries: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            structured: StructuredMode::Auto,
        }
    }

    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    pub fn with_api_key(mut self, api_key: impl Into<Secret>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// `{base_url}/chat/completions`, whether or not `base_url` ends with a slash.
    pub fn chat_url(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }
}

/// An endpoint as it may be shown: no `user:password@`, no query string (where some servers take keys).
pub fn without_credentials(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            if path.is_empty() {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_shows_in_debug_or_display() {
        let config = OpenAiConfig::new("gpt-4o-mini").with_api_key("sk-very-secret-key");
        let debug = format!("{config:?} {config:#?}");
        assert!(!debug.contains("sk-very-secret-key"), "{debug}");
        assert!(debug.contains("***"), "{debug}");
        let secret = Secret::new("sk-very-secret-key");
        assert_eq!(format!("{secret} {secret:?}"), "*** ***");
    }

    #[test]
    fn chat_url_tolerates_a_trailing_slash() {
        let config = OpenAiConfig::new("m").with_base_url("http://127.0.0.1:8080/v1/");
        assert_eq!(config.chat_url(), "http://127.0.0.1:8080/v1/chat/completions");
        assert_eq!(
            OpenAiConfig::new("m").chat_url(),
            "https://api.openai.com/v1/chat/completions"
        );
    }
}
