//! The research objects of a review run and the messages that carry them.
//!
//! What the user asked for ([`RunSettings`], [`RunProvenance`]), what the agents make ([`Plan`],
//! [`EvidencePassage`], [`Hypothesis`], [`Review`]) and the typed [`Payload`] of every message
//! between them, wrapped in an [`Envelope`]. Shared by the bus that carries and journals them, the
//! fold that reads a run back (`hypatia-runs`), the reports and the agents. Pure data: no storage,
//! no network; the clock is read only to stamp a new envelope.

pub mod defaults;
mod envelope;
mod failure;
mod payload;
mod support;
mod synthesis;

pub use envelope::{AgentName, Envelope, now_ms};
pub use failure::{AgentFailure, FailureKind};
pub use payload::*;
pub use support::{Support, SupportJudgement, SupportTally};
pub use synthesis::{Gap, PassageRelation, Relation, SynthesisSection, SynthesisStatement};
