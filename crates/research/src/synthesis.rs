//! What the literature shows on one sub-question: statements, each citing the passages it rests on
//! and each citation judged; where the papers agree and disagree; what is missing.

use hypatia_core::PassageId;
use serde::{Deserialize, Serialize};

use crate::SupportJudgement;

/// One statement of what the evidence shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthesisStatement {
    pub text: String,
    /// Passages it rests on: always a subset of the evidence the section was given.
    pub citations: Vec<PassageId>,
    /// The model's judgement of each citation against the statement, in citation order.
    pub support: Vec<SupportJudgement>,
}

/// A section of the review: one sub-question of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthesisSection {
    /// The sub-question's place in the plan (0-based).
    pub index: u32,
    pub sub_question: String,
    pub statements: Vec<SynthesisStatement>,
    /// Where the papers agree, in the model's words.
    pub agreement: String,
    /// Where they disagree, or that they do not.
    pub disagreement: String,
    /// What the evidence leaves open.
    pub gaps: Vec<String>,
}

impl SynthesisSection {
    pub fn citations(&self) -> impl Iterator<Item = &PassageId> {
        self.statements.iter().flat_map(|s| s.citations.iter())
    }

    /// Its gaps, each with the id a hypothesis names it by.
    pub fn gap_refs(&self) -> impl Iterator<Item = Gap> + '_ {
        self.gaps.iter().enumerate().map(|(n, text)| Gap {
            id: Gap::id_of(self.index, n),
            sub_question: self.sub_question.clone(),
            text: text.clone(),
        })
    }
}

/// A gap a synthesis section found in the literature, as hypotheses address it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// `2.1`: the first gap of the second sub-question's section.
    pub id: String,
    pub sub_question: String,
    pub text: String,
}

impl Gap {
    /// The id of gap `n` (0-based) of section `index` (0-based): both counted from 1, as a reader does.
    pub fn id_of(index: u32, n: usize) -> String {
        format!("{}.{}", index + 1, n + 1)
    }
}

/// What two passages of different papers do to each other, as a model judged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Agree,
    Contradict,
    /// They do not bear on each other.
    Unrelated,
}

impl Relation {
    pub const ALL: [Relation; 3] = [Relation::Agree, Relation::Contradict, Relation::Unrelated];

    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Agree => "agree",
            Relation::Contradict => "contradict",
            Relation::Unrelated => "unrelated",
        }
    }

    pub fn parse(text: &str) -> Option<Relation> {
        Relation::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// One judged pair of passages on a sub-question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassageRelation {
    pub first: PassageId,
    pub second: PassageId,
    pub relation: Relation,
    pub reason: String,
    /// The model that judged it.
    pub model: String,
    /// Taken from the project's store (an earlier run asked the same model), not asked again.
    pub reused: bool,
}
