use std::time::Duration;

use crate::SourceKind;

/// Why a source could not answer. Every message names the source and the request (never a key).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{source_name} ({url}): {detail}")]
    Network {
        source_name: SourceKind,
        url: String,
        detail: String,
    },
    #[error(
        "{source_name} ({url}): gave up after {attempts} attempts over {:.1} s (the limit is {:.0} s): {last}",
        waited.as_secs_f64(),
        limit.as_secs_f64()
    )]
    GaveUp {
        source_name: SourceKind,
        url: String,
        attempts: u32,
        waited: Duration,
        limit: Duration,
        last: String,
    },
    #[error("{source_name} ({url}) refused the request: HTTP {status}: {body}")]
    Refused {
        source_name: SourceKind,
        url: String,
        status: u16,
        body: String,
    },
    #[error("{source_name} ({url}): the response is larger than the {limit} bytes allowed")]
    TooLarge {
        source_name: SourceKind,
        url: String,
        limit: usize,
    },
    #[error("{source_name} ({url}): the response is not valid {expected}: {detail}")]
    Malformed {
        source_name: SourceKind,
        url: String,
        expected: &'static str,
        detail: String,
    },
    #[error("{source_name} has no {what}")]
    NotFound { source_name: SourceKind, what: String },
    #[error("{source_name} cannot {what}")]
    Unsupported {
        source_name: SourceKind,
        what: &'static str,
    },
    #[error("the response cache in {path}: {detail}")]
    Cache { path: String, detail: String },
    #[error("{source_name}: `{url}` is not a usable base URL: {detail}")]
    BadBaseUrl {
        source_name: SourceKind,
        url: String,
        detail: String,
    },
}

impl SourceError {
    /// Whether another source may do better: the source is down, slow, refusing or garbled; not
    /// "no such paper".
    pub fn worth_falling_back(&self) -> bool {
        !matches!(self, SourceError::NotFound { .. } | SourceError::Cache { .. })
    }
}
