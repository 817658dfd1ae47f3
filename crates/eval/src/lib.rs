//! Retrieval evaluation on BEIR datasets: the same ingest and search path
//! users get, scored with the standard measures.

mod beir;
mod metrics;
mod run;
mod sample;

pub use beir::{BeirDataset, EvalError};
pub use metrics::{mrr_at_k, ndcg_at_k, recall_at_k};
pub use run::{EvalOptions, EvalRun, RetrievalReport, evaluate_retrieval, evaluate_retrieval_runs};
pub use sample::Sample;
