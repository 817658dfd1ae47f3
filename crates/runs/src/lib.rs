//! What a review run is, read from its journal.
//!
//! [`RunRecord`] folds a run's messages into its state. The fold does not
//! depend on the order in which concurrent tasks finished: results are keyed
//! by task, and ratings are computed from the matches in task order. That is
//! what lets an interrupted run, resumed, end in the same state as one that
//! was never interrupted.

pub mod elo;
mod record;
mod steering;

pub use record::{FailureRecord, MatchRecord, RunRecord, UsageTotals};
pub use steering::{PinnedPaper, Steering};
