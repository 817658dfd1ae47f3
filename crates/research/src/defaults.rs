//! The one set of review defaults: `hypatia review`'s flags, the terminal UI's new-review form and
//! the benches start from these.

/// Hypotheses composed in the first round.
pub const HYPOTHESES: u32 = 6;
/// Rounds: the first composes and ranks; each later one revises the leaders and ranks again.
pub const ROUNDS: u32 = 2;
/// Hypotheses revised in each round after the first.
pub const LEADERS: u32 = 3;
/// Passages in the evidence set.
pub const EVIDENCE: u32 = 12;
/// Whether a review writes what the literature shows on each sub-question before its hypotheses.
pub const SYNTHESIS: bool = true;
