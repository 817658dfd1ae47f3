//! The scholarly APIs, and the only crate that talks to them: arXiv (Atom), Semantic Scholar (Graph
//! API), OpenAlex and Crossref. Every client goes through one polite [`Http`] (per-host rate limits,
//! retries honouring `Retry-After` within a bounded wait, a response cache, a size limit) and treats
//! what comes back as untrusted: a malformed body is an error naming the source and the request.
//! Results are [`PaperRecord`]s, stored by the caller with the same dedup as local files.

mod arxiv;
mod cache;
mod config;
mod crossref;
mod error;
mod http;
mod limiter;
mod openalex;
mod s2;
mod sources;
mod text;

use std::fmt;
use std::str::FromStr;

use hypatia_core::PaperRecord;
use serde::Serialize;

pub use cache::ResponseCache;
pub use config::{Endpoint, SourcesConfig};
pub use error::SourceError;
pub use http::{Http, HttpPolicy, Reply, Request};
pub use limiter::RateLimiter;
pub use openalex::abstract_from_inverted_index;
pub use sources::{FallbackFailed, Fetched, LinkedPaper, PaperRef, Sources};
pub use text::strip_markup;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Arxiv,
    #[serde(rename = "s2")]
    SemanticScholar,
    OpenAlex,
    Crossref,
}

impl SourceKind {
    pub const ALL: [SourceKind; 4] = [
        SourceKind::SemanticScholar,
        SourceKind::OpenAlex,
        SourceKind::Arxiv,
        SourceKind::Crossref,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Arxiv => "arxiv",
            SourceKind::SemanticScholar => "s2",
            SourceKind::OpenAlex => "openalex",
            SourceKind::Crossref => "crossref",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            SourceKind::Arxiv => "arXiv",
            SourceKind::SemanticScholar => "Semantic Scholar",
            SourceKind::OpenAlex => "OpenAlex",
            SourceKind::Crossref => "Crossref",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

impl FromStr for SourceKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "arxiv" => Ok(SourceKind::Arxiv),
            "s2" | "semanticscholar" | "semantic-scholar" => Ok(SourceKind::SemanticScholar),
            "openalex" => Ok(SourceKind::OpenAlex),
            "crossref" => Ok(SourceKind::Crossref),
            other => Err(format!(
                "unknown source `{other}` (expected arxiv, s2, openalex or crossref)"
            )),
        }
    }
}

/// What to search for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub text: String,
    /// At most this many papers, over as many pages as that takes.
    pub max: usize,
    /// Publication years, inclusive.
    pub years: Option<(i32, i32)>,
}

/// One paper as a source described it.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedPaper {
    pub source: SourceKind,
    /// The source's own id: an arXiv id, a Semantic Scholar paperId, an OpenAlex work id, a DOI.
    pub source_id: String,
    pub record: PaperRecord,
}

/// Where a fetch is, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchProgress {
    pub source: SourceKind,
    pub page: u32,
    pub fetched: usize,
    pub total: Option<u64>,
}
