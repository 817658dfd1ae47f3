//! Passage vectors beside the tantivy index.
//!
//! Like the index, vectors are derived data: the store is the truth, and the project keeps this file
//! in step with the store's change counter ([`VectorIndex::embedded_seq`]). Each file belongs to one
//! embedding model ([`ModelIdentity`]): opening it for another model empties it, so vectors of two
//! models can never be compared with each other.
//!
//! On disk a project's vectors are one append-only log (`vectors.log`: puts, and removals of a
//! paper's passages) and `meta.json` (the change counter the log reflects). A put is written before
//! the counter moves, so an interrupted embedding keeps what it finished and resumes from there; a
//! torn last record is cut off on open. In memory the vectors are one contiguous matrix searched
//! exactly ([`exact`]), behind [`VectorSearch`] so an approximate index can follow.

mod error;
mod exact;
mod index;
mod log;
mod simd;

pub use error::VectorError;
pub use exact::{PaperScore, RowScore, VectorSearch};
pub use index::{ModelIdentity, PassageVector, VectorIndex, text_hash};
pub use simd::{dot, normalize};
