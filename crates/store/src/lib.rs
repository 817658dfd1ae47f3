//! The project store: SQLite through sqlx. The only crate that speaks SQL.
//!
//! The store is the source of truth for papers and passages; the search
//! index is derived from it and can always be rebuilt from it.

mod batch;
mod citations;
mod documents;
mod error;
mod ingest;
mod open;
mod papers;
mod relations;
mod runs;

pub use citations::CitationEdgeRow;
pub use documents::{DocumentRow, StoredDocument};
pub use error::StoreError;
pub use ingest::{IngestLog, RecordOutcome, SourceFile, StoredFile};
pub use open::Store;
pub use papers::{ChangedPaper, StoreCounts};
pub use relations::RelationRow;
pub use runs::{JournalEntry, RunRow};
