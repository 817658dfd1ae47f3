//! The literature index: tantivy. The only crate that touches tantivy.
//!
//! Two indexes live side by side in the project's index folder: `papers`
//! (one document per paper: what `hypatia search` ranks) and `passages` (one
//! document per citable passage: what agents retrieve as evidence). Both are
//! derived from the store; each commit records the store change it has
//! caught up to, so a project can tell when the index is behind.

mod error;
mod query;
mod schema;
mod search;
mod writer;

pub use error::IndexError;
pub use query::{ParsedQuery, parse_query};
pub use schema::Analyzer;
pub use search::{FieldBoosts, Highlighted, MAX_LIMIT, PaperHit, PassageHit, SearchRequest, YearRange};
pub use writer::IndexWriterSession;

use std::path::{Path, PathBuf};

use schema::{PaperFields, PassageFields};
use tantivy::{Index, IndexReader, ReloadPolicy};

/// Both indexes of a project, opened for reading and (on demand) writing.
pub struct LiteratureIndex {
    dir: PathBuf,
    analyzer: Analyzer,
    boosts: FieldBoosts,
    papers: Index,
    paper_fields: PaperFields,
    papers_reader: IndexReader,
    passages: Index,
    passage_fields: PassageFields,
    passages_reader: IndexReader,
}

impl LiteratureIndex {
    /// Opens the indexes under `dir`, creating them if absent. An index
    /// built with another analyzer is reported as such, so the caller can
    /// rebuild it from the store.
    pub fn open(dir: &Path, analyzer: Analyzer) -> Result<LiteratureIndex, IndexError> {
        let (papers, paper_fields) = schema::open_papers(&dir.join("papers"), analyzer)?;
        let (passages, passage_fields) = schema::open_passages(&dir.join("passages"), analyzer)?;
        let reader = |index: &Index| {
            index
                .reader_builder()
                .reload_policy(ReloadPolicy::Manual)
                .try_into()
                .map_err(IndexError::from)
        };
        Ok(LiteratureIndex {
            dir: dir.to_owned(),
            analyzer,
            boosts: FieldBoosts::default(),
            papers_reader: reader(&papers)?,
            papers,
            paper_fields,
            passages_reader: reader(&passages)?,
            passages,
            passage_fields,
        })
    }

    pub fn analyzer(&self) -> Analyzer {
        self.analyzer
    }

    /// Changes the field weights paper search uses (for evaluation).
    pub fn set_boosts(&mut self, boosts: FieldBoosts) {
        self.boosts = boosts;
    }

    /// Deletes both indexes and opens them empty, possibly with another
    /// analyzer: what a rebuild starts from.
    pub fn recreate(dir: &Path, analyzer: Analyzer) -> Result<LiteratureIndex, IndexError> {
        for part in ["papers", "passages"] {
            let path = dir.join(part);
            if path.exists() {
                std::fs::remove_dir_all(&path).map_err(|source| IndexError::Io { path, source })?;
            }
        }
        LiteratureIndex::open(dir, analyzer)
    }

    /// The store change both indexes have caught up to (0 when new).
    pub fn indexed_seq(&self) -> Result<i64, IndexError> {
        let seq = |index: &Index| -> Result<i64, IndexError> {
            let payload = index.load_metas()?.payload;
            Ok(payload.and_then(|p| p.parse().ok()).unwrap_or(0))
        };
        Ok(seq(&self.papers)?.min(seq(&self.passages)?))
    }

    /// Number of paper and passage documents searchable now.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.papers_reader.searcher().num_docs(),
            self.passages_reader.searcher().num_docs(),
        )
    }

    /// Makes the latest commit visible to searches.
    pub fn reload(&self) -> Result<(), IndexError> {
        self.papers_reader.reload()?;
        self.passages_reader.reload()?;
        Ok(())
    }
}
