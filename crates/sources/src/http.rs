//! One polite HTTP client for every source: a `User-Agent` naming Hypatia, one request per host per
//! interval, retries on 429, 5xx and timeouts (honouring `Retry-After`) within a bounded total wait,
//! a size limit on every body, and the response cache.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hypatia_retry::{Backoff, parse_retry_after};
use tokio::time::Instant;

use crate::cache::ResponseCache;
use crate::limiter::RateLimiter;
use crate::{SourceError, SourceKind};

/// How patient and how trusting the client is.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    /// One request's limit, from sending to the last byte.
    pub request_timeout: Duration,
    /// All attempts of one request together, waits included: after this the request fails clearly.
    pub max_wait: Duration,
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// The largest response body read.
    pub max_body_bytes: usize,
    pub user_agent: String,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            request_timeout: Duration::from_secs(30),
            max_wait: Duration::from_secs(120),
            max_attempts: 6,
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(60),
            },
            max_body_bytes: 32 * 1024 * 1024,
            user_agent: format!(
                "Hypatia/{} (local-first research assistant; https://github.com/hypatia-research/hypatia)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

/// A request to one source.
#[derive(Debug, Clone)]
pub struct Request {
    pub source: SourceKind,
    pub url: reqwest::Url,
    /// A JSON body makes it a POST.
    pub body: Option<serde_json::Value>,
    /// Sent, never cached, logged or shown (an API key).
    pub secret_header: Option<(&'static str, String)>,
}

impl Request {
    pub fn get(source: SourceKind, url: reqwest::Url) -> Request {
        Request {
            source,
            url,
            body: None,
            secret_header: None,
        }
    }

    /// What the cache is keyed by: method, URL and body, not the secret.
    fn cache_key(&self) -> String {
        match &self.body {
            Some(body) => format!("POST {} {body}", self.url),
            None => format!("GET {}", self.url),
        }
    }
}

/// A response worth reading: 2xx with its body, or 404 (the source has no such thing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Found(Vec<u8>),
    NotFound(String),
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    policy: HttpPolicy,
    limiter: Arc<RateLimiter>,
    cache: Option<ResponseCache>,
    /// Read the cache (writing it happens either way).
    use_cache: bool,
}

impl Http {
    pub fn new(policy: HttpPolicy, cache: Option<ResponseCache>) -> Http {
        // Building a client with only these options fails only without a TLS backend, which is compiled in.
        let client = reqwest::Client::builder()
            .user_agent(policy.user_agent.clone())
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Http {
            client,
            policy,
            limiter: Arc::new(RateLimiter::default()),
            cache,
            use_cache: true,
        }
    }

    /// Fetch again even what the cache holds (and keep the fresh answer).
    pub fn refreshing(mut self) -> Http {
        self.use_cache = false;
        self
    }

    pub fn policy(&self) -> &HttpPolicy {
        &self.policy
    }

    /// Sends `request`, waiting `interval` between requests to its host.
    pub async fn send(&self, request: &Request, interval: Duration) -> Result<Reply, SourceError> {
        let source = request.source;
        let url = request.url.to_string();
        let key = request.cache_key();
        if self.use_cache
            && let Some(cache) = &self.cache
            && let Some(body) = cache.get(source.as_str(), &key)
        {
            tracing::debug!(%source, %url, "from the response cache");
            return Ok(Reply::Found(body));
        }
        let host = request.url.host_str().unwrap_or_default().to_owned();
        let started = Instant::now();
        let deadline = started + self.policy.max_wait;
        let mut attempts = 0;
        loop {
            if Instant::now() + self.limiter.delay(&host) > deadline {
                return Err(self.gave_up(request, attempts, started, "the rate limit leaves no time".into()));
            }
            self.limiter.wait(&host, interval).await;
            attempts += 1;
            let (reason, retry_after) = match self.attempt(request).await? {
                Attempt::Done(reply) => {
                    if let (Reply::Found(body), Some(cache)) = (&reply, &self.cache) {
                        cache.put(source.as_str(), &key, body)?;
                    }
                    return Ok(reply);
                }
                Attempt::Retry { reason, retry_after } => (reason, retry_after),
            };
            if attempts >= self.policy.max_attempts {
                return Err(self.gave_up(request, attempts, started, reason));
            }
            let delay = match retry_after {
                // A server asking for more than the whole budget is not waited for at all.
                Some(wait) if Instant::now() + wait > deadline => {
                    return Err(self.gave_up(
                        request,
                        attempts,
                        started,
                        format!("{reason}; it asked to wait {:.0} s", wait.as_secs_f64()),
                    ));
                }
                Some(wait) => wait,
                None => self.policy.backoff.delay(attempts - 1, None),
            };
            if Instant::now() + delay > deadline {
                return Err(self.gave_up(request, attempts, started, reason));
            }
            tracing::info!(%source, %url, %reason, delay_ms = delay.as_millis() as u64, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    fn gave_up(&self, request: &Request, attempts: u32, started: Instant, last: String) -> SourceError {
        SourceError::GaveUp {
            source_name: request.source,
            url: request.url.to_string(),
            attempts,
            waited: started.elapsed(),
            limit: self.policy.max_wait,
            last,
        }
    }

    async fn attempt(&self, request: &Request) -> Result<Attempt, SourceError> {
        let mut builder = match &request.body {
            Some(body) => self.client.post(request.url.clone()).json(body),
            None => self.client.get(request.url.clone()),
        };
        if let Some((name, value)) = &request.secret_header {
            builder = builder.header(*name, value);
        }
        let exchange = async {
            let response = builder.send().await?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| parse_retry_after(value, SystemTime::now()));
            let body = read_limited(response, self.policy.max_body_bytes).await?;
            Ok::<_, reqwest::Error>((status, retry_after, body))
        };
        let (status, retry_after, body) = match tokio::time::timeout(self.policy.request_timeout, exchange).await {
            Err(_) => {
                return Ok(Attempt::Retry {
                    reason: format!(
                        "no complete response within {:.0} s",
                        self.policy.request_timeout.as_secs_f64()
                    ),
                    retry_after: None,
                });
            }
            Ok(Err(error)) if error.is_timeout() || error.is_connect() || error.is_request() || error.is_body() => {
                return Ok(Attempt::Retry {
                    reason: describe(&error),
                    retry_after: None,
                });
            }
            Ok(Err(error)) => {
                return Err(SourceError::Network {
                    source_name: request.source,
                    url: request.url.to_string(),
                    detail: describe(&error),
                });
            }
            Ok(Ok(exchange)) => exchange,
        };
        let Some(body) = body else {
            return Err(SourceError::TooLarge {
                source_name: request.source,
                url: request.url.to_string(),
                limit: self.policy.max_body_bytes,
            });
        };
        let code = status.as_u16();
        if status.is_success() {
            return Ok(Attempt::Done(Reply::Found(body)));
        }
        let text = snippet(&body);
        match code {
            404 => Ok(Attempt::Done(Reply::NotFound(text))),
            429 | 500..=599 => Ok(Attempt::Retry {
                reason: format!(
                    "HTTP {code}{}",
                    if text.is_empty() {
                        String::new()
                    } else {
                        format!(": {text}")
                    }
                ),
                retry_after,
            }),
            _ => Err(SourceError::Refused {
                source_name: request.source,
                url: request.url.to_string(),
                status: code,
                body: text,
            }),
        }
    }
}

enum Attempt {
    Done(Reply),
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
}

/// The body, or `None` once it passes `limit` bytes (reading stops there).
async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The start of an error body, on one line: enough to say what the server said.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// reqwest's error with its causes, without the URL (the caller names it).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else if error.is_body() || error.is_decode() {
        "the response broke off".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
