//! Shared by the agents that think with a model: [`Thinker`] makes one
//! schema-checked model call and reports its usage; [`evidence_block`]
//! renders paper text as clearly delimited, escaped data; [`task_seed`]
//! gives every task its own reproducible seed; [`judge_support`] checks what a citation says;
//! [`coverage`] measures word overlap without the model.

mod data;
mod prose;
mod seed;
mod support;
mod thinker;
mod words;

pub use data::{EvidenceItem, PROMPT_PASSAGE_CHARS, escape_data, evidence_items, evidence_items_cut};
pub use prose::ProseCheck;
pub use seed::task_seed;
pub use support::{check_support, judge_statements, judge_support, read_support, statement_key, support_schema};
pub use thinker::{Answer, Thinker, ThinkerSettings};
pub use words::{content_words, coverage};
