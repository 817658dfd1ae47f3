//! Hypatia's domain types: papers, passages and their ids, and the pure
//! functions that normalise identifiers and split text into passages.
//!
//! This crate does no IO and cannot fail on user input: every function here
//! takes text and returns values.

mod fulltext;
mod ids;
mod normalize;
mod paper;
mod passage;
mod rng;
mod text;
pub mod time;

pub use fulltext::{FullText, FullTextPassage, PassageLocation, ReferenceEntry, pages_label};
pub use ids::{FULLTEXT_ORDINAL_STRIDE, InvalidId, PaperId, PassageId};
pub use normalize::{clean_text, normalize_arxiv_id, normalize_doi, normalize_title, title_is_distinctive};
pub use paper::{Paper, PaperRecord, Provenance, SourceFormat};
pub use passage::{Passage, split_passages};
pub use rng::SplitMix64;
pub use text::{at_line, line_of};
