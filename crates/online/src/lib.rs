//! A project and the scholarly APIs: papers found by a search stored like an ingested file
//! (`fetch.rs`), missing metadata filled without ever merging two papers (`enrich.rs`), and the
//! citation graph around the project fetched and stored (`expand.rs`). What `hypatia fetch`,
//! `hypatia enrich`, `hypatia graph expand` and a review of an empty project run; the binary only
//! parses, shows progress and prints.

mod enrich;
mod expand;
mod fetch;

pub use enrich::{EnrichSummary, enrich};
pub use expand::{ExpandOptions, ExpandSummary, expand};
pub use fetch::{Fetch, fetch_into, format_of, sources_for, store_papers};

/// The paper about to be looked up: number `done` (from 0) of `total` at `level` (the depth of a
/// graph expansion; 1 for an enrichment).
pub struct Progress<'a> {
    pub level: u32,
    pub done: usize,
    pub total: usize,
    pub title: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum OnlineError {
    #[error(transparent)]
    Source(#[from] hypatia_sources::SourceError),
    #[error("{0}")]
    AllSourcesFailed(hypatia_sources::FallbackFailed),
    #[error(transparent)]
    Project(#[from] hypatia_project::ProjectError),
    #[error(transparent)]
    Store(#[from] hypatia_store::StoreError),
}
