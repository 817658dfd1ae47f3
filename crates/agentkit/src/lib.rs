//! Shared by the agents that think with a model: [`Thinker`] makes one
//! schema-checked model call and reports its usage; [`evidence_block`]
//! renders paper text as clearly delimited, escaped data; [`task_seed`]
//! gives every task its own reproducible seed.

mod data;
mod prose;
mod seed;
mod thinker;

pub use data::{EvidenceItem, PROMPT_PASSAGE_CHARS, escape_data, evidence_items};
pub use prose::ProseCheck;
pub use seed::task_seed;
pub use thinker::{Answer, Thinker, ThinkerSettings};
