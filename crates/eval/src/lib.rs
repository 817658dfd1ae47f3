//! Retrieval evaluation on BEIR datasets: the same ingest and search path
//! users get, scored with the standard measures; and the citation judge on SciFact's claims.

mod beir;
mod claims;
mod metrics;
mod run;
mod sample;
mod scifact;

pub use beir::{BeirDataset, EvalError};
pub use claims::{ClaimsOptions, ClaimsReport, Judged, LabelScores, evaluate_claims};
pub use metrics::{mrr_at_k, ndcg_at_k, recall_at_k};
pub use run::{EvalOptions, EvalRun, RetrievalReport, evaluate_retrieval, evaluate_retrieval_runs};
pub use sample::Sample;
pub use scifact::{ClaimExample, load_claims};
