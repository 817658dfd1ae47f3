//! A Hypatia project: its folder, its config, its store and its index, and
//! the operations that keep the two in step (ingest, reindex, search), and the passage vectors
//! of an attached embedding model with the searches that use them (dense, hybrid).
//!
//! This crate speaks neither SQL nor tantivy: it drives `hypatia-store`
//! and `hypatia-index` through their APIs.

mod config;
mod embedding;
mod error;
mod hybrid;
mod ingest;
mod locate;
mod project;
mod retrieval;
mod run_lock;
mod sync;
mod zotero;

pub use config::{CONFIG_FILE, ProjectConfig};
pub use embedding::{EmbedProgress, EmbedSummary, embedding_text};
pub use error::ProjectError;
/// The thread a PDF is read on: its panics are contained (see `hypatia_pdf`).
pub use hypatia_ingest::PDF_EXTRACTOR_THREAD;
pub use hypatia_store::RelationRow;
pub use hypatia_zotero::{ZoteroError, ZoteroLibrary};
pub use ingest::{DocumentSummary, IngestOptions, IngestProgress, IngestSummary};
pub use locate::{DATA_DIR, find_project_root};
pub use project::{Project, ProjectStatus};
pub use retrieval::{CANDIDATES, DEFAULT_FUSION, Fusion, SearchMode, fuse};
pub use run_lock::RunLock;
pub use zotero::ZoteroSummary;

pub use hypatia_index::{
    Analyzer, FieldBoosts, Highlighted, MAX_LIMIT, PaperHit, PassageHit, SearchRequest, YearRange,
};
