//! Whether a cited passage says what it is cited for: the model's judgement of one citation.

use std::fmt;

use hypatia_core::PassageId;
use serde::{Deserialize, Serialize};

/// What a passage does for the statement that cites it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    Supports,
    Contradicts,
    /// The passage does not address the statement (SciFact's "not enough information").
    Unrelated,
}

impl Support {
    pub const ALL: [Support; 3] = [Support::Supports, Support::Contradicts, Support::Unrelated];

    pub fn as_str(self) -> &'static str {
        match self {
            Support::Supports => "supports",
            Support::Contradicts => "contradicts",
            Support::Unrelated => "unrelated",
        }
    }

    pub fn parse(text: &str) -> Option<Support> {
        Support::ALL.into_iter().find(|label| label.as_str() == text)
    }
}

impl fmt::Display for Support {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The model's judgement of one cited passage against its statement: a label and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportJudgement {
    pub passage_id: PassageId,
    pub label: Support,
    pub reason: String,
}

/// How many of a statement's citations were judged, and how many support it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportTally {
    pub judged: u32,
    pub supports: u32,
    pub contradicts: u32,
    pub unrelated: u32,
}

impl SupportTally {
    pub fn add(&mut self, label: Support) {
        self.judged += 1;
        match label {
            Support::Supports => self.supports += 1,
            Support::Contradicts => self.contradicts += 1,
            Support::Unrelated => self.unrelated += 1,
        }
    }

    pub fn of<'a>(labels: impl IntoIterator<Item = &'a Support>) -> SupportTally {
        let mut tally = SupportTally::default();
        for label in labels {
            tally.add(*label);
        }
        tally
    }

    /// Share of judged citations that support their statement; `None` when none was judged.
    pub fn supported_share(&self) -> Option<f64> {
        (self.judged > 0).then(|| f64::from(self.supports) / f64::from(self.judged))
    }

    /// The highest grounding score (1–5) the judged citations allow: all supporting allows 5, none
    /// 1, in proportion between; a contradicting citation allows at most 2.
    pub fn grounding_cap(&self) -> u8 {
        let Some(share) = self.supported_share() else { return 5 };
        let cap = (1.0 + 4.0 * share).floor() as u8;
        if self.contradicts > 0 { cap.min(2) } else { cap }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_through_their_names() {
        for label in Support::ALL {
            assert_eq!(Support::parse(label.as_str()), Some(label));
            let json = serde_json::to_string(&label).expect("a label serialises");
            assert_eq!(json, format!("\"{label}\""));
        }
        assert_eq!(Support::parse("SUPPORT"), None);
    }

    #[test]
    fn unsupported_citations_lower_the_grounding_cap() {
        let all = SupportTally::of(&[Support::Supports, Support::Supports]);
        assert_eq!(all.grounding_cap(), 5);
        assert_eq!(all.supported_share(), Some(1.0));
        let half = SupportTally::of(&[Support::Supports, Support::Unrelated]);
        assert_eq!(half.grounding_cap(), 3);
        let contested = SupportTally::of(&[
            Support::Supports,
            Support::Supports,
            Support::Supports,
            Support::Contradicts,
        ]);
        assert_eq!(contested.grounding_cap(), 2);
        let none = SupportTally::of(&[Support::Unrelated]);
        assert_eq!(none.grounding_cap(), 1);
        assert_eq!(SupportTally::default().grounding_cap(), 5);
        assert_eq!(SupportTally::default().supported_share(), None);
    }
}
