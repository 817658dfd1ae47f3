//! Where each source is and how often it may be asked: defaults are the public APIs at their
//! published polite rates; the environment overrides them (tests point every source at loopback).

use std::path::PathBuf;
use std::time::Duration;

use crate::{HttpPolicy, SourceError, SourceKind};

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub base_url: reqwest::Url,
    /// The least time between two requests to this host.
    pub interval: Duration,
}

#[derive(Clone)]
pub struct SourcesConfig {
    pub arxiv: Endpoint,
    pub s2: Endpoint,
    pub openalex: Endpoint,
    pub crossref: Endpoint,
    /// Semantic Scholar's key, sent as `x-api-key`; never stored, logged or shown.
    pub s2_api_key: Option<String>,
    /// An address for OpenAlex's and Crossref's polite pools.
    pub mailto: Option<String>,
    pub policy: HttpPolicy,
    pub cache_dir: Option<PathBuf>,
}

impl std::fmt::Debug for SourcesConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourcesConfig")
            .field("arxiv", &self.arxiv)
            .field("s2", &self.s2)
            .field("openalex", &self.openalex)
            .field("crossref", &self.crossref)
            .field("s2_api_key", &self.s2_api_key.as_ref().map(|_| "<set>"))
            .field("mailto", &self.mailto)
            .field("cache_dir", &self.cache_dir)
            .finish()
    }
}

fn endpoint(url: &str, interval_ms: u64) -> Endpoint {
    Endpoint {
        // Only called with the literal public endpoints below.
        base_url: reqwest::Url::parse(url).expect("a valid built-in URL"),
        interval: Duration::from_millis(interval_ms),
    }
}

impl Default for SourcesConfig {
    fn default() -> Self {
        SourcesConfig {
            // arXiv asks for one request every three seconds.
            arxiv: endpoint("https://export.arxiv.org/api/", 3000),
            // Semantic Scholar without a key: one request a second.
            s2: endpoint("https://api.semanticscholar.org/graph/v1/", 1000),
            openalex: endpoint("https://api.openalex.org/", 100),
            crossref: endpoint("https://api.crossref.org/", 100),
            s2_api_key: None,
            mailto: None,
            policy: HttpPolicy::default(),
            cache_dir: None,
        }
    }
}

impl SourcesConfig {
    pub fn endpoint(&self, kind: SourceKind) -> &Endpoint {
        match kind {
            SourceKind::Arxiv => &self.arxiv,
            SourceKind::SemanticScholar => &self.s2,
            SourceKind::OpenAlex => &self.openalex,
            SourceKind::Crossref => &self.crossref,
        }
    }

    fn endpoint_mut(&mut self, kind: SourceKind) -> &mut Endpoint {
        match kind {
            SourceKind::Arxiv => &mut self.arxiv,
            SourceKind::SemanticScholar => &mut self.s2,
            SourceKind::OpenAlex => &mut self.openalex,
            SourceKind::Crossref => &mut self.crossref,
        }
    }

    /// Points `kind` at `url` (a trailing slash is added: paths are joined onto it).
    pub fn set_base_url(&mut self, kind: SourceKind, url: &str) -> Result<(), SourceError> {
        let with_slash = if url.ends_with('/') {
            url.to_owned()
        } else {
            format!("{url}/")
        };
        let parsed = reqwest::Url::parse(&with_slash).map_err(|error| SourceError::BadBaseUrl {
            source_name: kind,
            url: url.to_owned(),
            detail: error.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(SourceError::BadBaseUrl {
                source_name: kind,
                url: url.to_owned(),
                detail: "only http and https are spoken".to_owned(),
            });
        }
        self.endpoint_mut(kind).base_url = parsed;
        Ok(())
    }

    /// Applies `HYPATIA_{ARXIV,S2,OPENALEX,CROSSREF}_URL` and `…_INTERVAL_MS`, `S2_API_KEY` (or
    /// `SEMANTIC_SCHOLAR_API_KEY`), `HYPATIA_MAILTO` and `HYPATIA_SOURCES_MAX_WAIT` (seconds).
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), SourceError> {
        for (kind, name) in [
            (SourceKind::Arxiv, "ARXIV"),
            (SourceKind::SemanticScholar, "S2"),
            (SourceKind::OpenAlex, "OPENALEX"),
            (SourceKind::Crossref, "CROSSREF"),
        ] {
            if let Some(url) = env(&format!("HYPATIA_{name}_URL")).filter(|u| !u.trim().is_empty()) {
                self.set_base_url(kind, url.trim())?;
            }
            if let Some(ms) = env(&format!("HYPATIA_{name}_INTERVAL_MS")).and_then(|v| v.trim().parse::<u64>().ok()) {
                self.endpoint_mut(kind).interval = Duration::from_millis(ms);
            }
        }
        if let Some(key) = env("S2_API_KEY")
            .or_else(|| env("SEMANTIC_SCHOLAR_API_KEY"))
            .filter(|k| !k.trim().is_empty())
        {
            self.s2_api_key = Some(key.trim().to_owned());
        }
        if let Some(mailto) = env("HYPATIA_MAILTO").filter(|m| m.contains('@')) {
            self.mailto = Some(mailto.trim().to_owned());
        }
        if let Some(seconds) = env("HYPATIA_SOURCES_MAX_WAIT").and_then(|v| v.trim().parse::<f64>().ok())
            && seconds.is_finite()
            && seconds > 0.0
        {
            self.policy.max_wait = Duration::from_secs_f64(seconds);
            self.policy.request_timeout = self.policy.request_timeout.min(self.policy.max_wait);
        }
        Ok(())
    }
}
