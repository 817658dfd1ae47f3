//! What agents say to each other: one typed payload per message kind, and
//! the research objects they carry.

use hypatia_core::{PaperId, PassageId, PassageLocation};
use serde::{Deserialize, Serialize};

use crate::{AgentFailure, Gap};

/// Everything the user chose for a run: enough to run it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    pub question: String,
    /// Hypotheses composed in the first round.
    pub hypotheses: u32,
    /// Rounds of review and tournament; every round after the first revises the leaders.
    pub rounds: u32,
    /// Hypotheses revised (and carried into the next tournament) per round.
    pub leaders: u32,
    pub seed: u64,
    /// Passages kept in the evidence set.
    pub evidence_limit: u32,
    pub budget: Budget,
    /// What answered: the backend's description (never a key).
    pub model: String,
    /// The GGUF file, for the in-process backend: `resume` uses it when no model is given.
    #[serde(default)]
    pub model_file: Option<std::path::PathBuf>,
    /// What a report needs to say how to reproduce the run; absent in runs started before it was recorded.
    #[serde(default)]
    pub provenance: Option<RunProvenance>,
    /// Whether the run writes a synthesis section per sub-question; false in runs started before
    /// syntheses existed, so resuming one schedules none.
    #[serde(default)]
    pub synthesis: bool,
}

/// The exact model, prompts and sampler a run used, recorded when it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunProvenance {
    pub hypatia_version: String,
    /// SHA-256 over every prompt template in effect, built-in or overridden.
    pub prompts_sha256: String,
    /// Prompt files that replaced built-in prompts.
    pub prompt_overrides: Vec<String>,
    pub model: ModelIdentity,
    pub temperature: f32,
    pub top_p: f32,
    /// Model calls in flight at once.
    pub parallel_calls: u32,
    /// How evidence was searched: `bm25`, or hybrid with the embedding model's identity and the
    /// fusion. Absent from runs recorded before embeddings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieval: Option<String>,
}

/// Which model answered: a file (identified by its hash) or a server's model name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum ModelIdentity {
    Local {
        file_name: String,
        size_bytes: u64,
        sha256: String,
        parameters: u64,
        context_tokens: u32,
    },
    Openai {
        /// The endpoint without credentials or query.
        base_url: String,
        model: String,
    },
}

impl ModelIdentity {
    /// What tells this model from any other, for keeping its judgements: a file by its content (the
    /// same weights under another name are the same model; other weights under the same name are
    /// not), a server's model by endpoint and name.
    pub fn key(&self) -> String {
        match self {
            ModelIdentity::Local { sha256, .. } => format!("gguf:sha256:{sha256}"),
            ModelIdentity::Openai { base_url, model } => format!("openai:{base_url}#{model}"),
        }
    }
}

/// Limits on a run. `None` is no limit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub model_calls: Option<u64>,
    pub tokens: Option<u64>,
    pub minutes: Option<f64>,
}

/// What one model call cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallUsage {
    pub prompt_tokens: u64,
    pub cached_prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Wall time of the call, re-asks included.
    pub ms: u64,
    /// 1 when the first answer was valid; more when it had to be asked again.
    pub attempts: u32,
}

impl CallUsage {
    pub fn tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }

    /// The cost of two calls made for one task.
    pub fn plus(mut self, other: &CallUsage) -> CallUsage {
        self.prompt_tokens += other.prompt_tokens;
        self.cached_prompt_tokens += other.cached_prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.ms += other.ms;
        self.attempts += other.attempts;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubQuestion {
    pub question: String,
    pub queries: Vec<String>,
}

/// The planner's reading of the question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub sub_questions: Vec<SubQuestion>,
    /// What the retriever searches: the question itself first, then the sub-questions' queries.
    pub queries: Vec<String>,
    /// Set when the model's plan could not be used and the question alone was searched.
    pub fallback: Option<String>,
}

/// A passage the agents may cite: its id, where it is from, and its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidencePassage {
    pub passage_id: PassageId,
    pub paper_id: PaperId,
    pub title: String,
    pub year: Option<i32>,
    pub text: String,
    /// Reciprocal-rank-fusion score over the plan's queries.
    pub score: f64,
    /// Section and pages of a full-text passage; `None` for an abstract sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<PassageLocation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedQuery {
    pub query: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hypothesis {
    /// `h3` for the third composed in round 1; `h3.2` for its revision in round 2.
    pub id: String,
    pub round: u32,
    /// The hypothesis this one revises.
    pub parent: Option<String>,
    pub statement: String,
    pub rationale: String,
    pub prediction: String,
    pub experiment: String,
    /// Passages it rests on: always a subset of the evidence it was given.
    pub citations: Vec<PassageId>,
    /// The gap of the literature it addresses, one of those it was given; a revision keeps its
    /// parent's. None when it was given none (no synthesis) or the model named none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<Gap>,
}

/// Review scores, each from 1 (poor) to 5 (excellent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scores {
    pub grounding: u8,
    pub novelty: u8,
    pub testability: u8,
    pub significance: u8,
}

impl Scores {
    pub fn mean(&self) -> f64 {
        f64::from(
            u16::from(self.grounding)
                + u16::from(self.novelty)
                + u16::from(self.testability)
                + u16::from(self.significance),
        ) / 4.0
    }
}

/// One cited passage as the reviewer found it in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CitationCheck {
    pub passage_id: PassageId,
    pub exists: bool,
    /// Share of the claim's content words that occur in the passage.
    pub overlap: f64,
    /// The model's judgement of whether the passage says what it is cited for; absent in reviews
    /// made before citations were judged, and for a passage that is not in the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<crate::SupportJudgement>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosePaper {
    pub paper_id: PaperId,
    pub title: String,
    pub year: Option<i32>,
    /// Share of the hypothesis's content words found in the paper's title and abstract.
    pub similarity: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoveltyFinding {
    /// The closest papers in the index, closest first.
    pub closest: Vec<ClosePaper>,
    /// Set when the hypothesis nearly restates a paper.
    pub restates: Option<ClosePaper>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub hypothesis_id: String,
    pub scores: Scores,
    pub critique: String,
    pub citations: Vec<CitationCheck>,
    pub novelty: NoveltyFinding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    First,
    Second,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Completed,
    BudgetExhausted,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::BudgetExhausted => "budget_exhausted",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

/// Every message kind. The journal stores `kind` next to the payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    /// User → planner: the first message of a run.
    RunStarted {
        settings: RunSettings,
    },
    /// User → planner: a process began (or resumed) working on the run.
    SessionStarted {
        resumed: bool,
    },
    PlanRequest {
        question: String,
        seed: u64,
    },
    PlanReady {
        plan: Plan,
        usage: CallUsage,
    },
    RetrieveRequest {
        queries: Vec<String>,
        limit: u32,
    },
    EvidenceReady {
        evidence: Vec<EvidencePassage>,
        skipped: Vec<SkippedQuery>,
    },
    /// Planner → hypothesis: compose `hypothesis_id` from the evidence, around the inspiration pair.
    GenerateRequest {
        question: String,
        hypothesis_id: String,
        evidence: Vec<EvidencePassage>,
        inspiration: Vec<PassageId>,
        /// What the run's syntheses found missing: the hypothesis names the one it addresses.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        gaps: Vec<Gap>,
        seed: u64,
    },
    /// Planner → hypothesis: revise `parent` in answer to the critiques, as `hypothesis_id`.
    ReviseRequest {
        question: String,
        hypothesis_id: String,
        round: u32,
        parent: Hypothesis,
        critiques: Vec<String>,
        evidence: Vec<EvidencePassage>,
        seed: u64,
    },
    HypothesisReady {
        hypothesis: Hypothesis,
        usage: CallUsage,
    },
    ReviewRequest {
        question: String,
        hypothesis: Hypothesis,
        evidence: Vec<EvidencePassage>,
        seed: u64,
        /// What the researcher said of this hypothesis, oldest first; absent in older journals.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        user_critiques: Vec<String>,
    },
    ReviewReady {
        review: Review,
        usage: CallUsage,
    },
    /// Planner → reviewer: which of two hypotheses is better (asked in both orders).
    JudgeRequest {
        question: String,
        round: u32,
        first: Hypothesis,
        second: Hypothesis,
        seed: u64,
    },
    JudgeReady {
        winner: Side,
        reason: String,
        usage: CallUsage,
    },
    /// Planner → reviewer: what the evidence shows on sub-question `index` (its synthesis section).
    SynthesisRequest {
        question: String,
        index: u32,
        sub_question: String,
        /// The evidence that bears on the sub-question: the only passages the section may cite.
        evidence: Vec<EvidencePassage>,
        seed: u64,
    },
    /// The section written, each citation judged (two model calls: `usage` is their sum).
    SynthesisReady {
        section: crate::SynthesisSection,
        usage: CallUsage,
    },
    /// Planner → reviewer: how these pairs of passages (from different papers, on sub-question
    /// `index`) bear on each other; pairs the same model judged before are taken from the store.
    RelateRequest {
        index: u32,
        pairs: Vec<(EvidencePassage, EvidencePassage)>,
        seed: u64,
    },
    /// Every pair judged; `usage` is the one call made for those not judged before (none when all
    /// were: `asked` is 0).
    RelationsReady {
        index: u32,
        relations: Vec<crate::PassageRelation>,
        asked: u32,
        usage: CallUsage,
    },
    /// Any agent's reply when it could not do what it was asked.
    TaskFailed {
        failure: AgentFailure,
    },
    /// Planner: a round's tournament is over; ratings after it, best first.
    RoundFinished {
        round: u32,
        ratings: Vec<(String, f64)>,
    },
    /// User → planner: put this paper's passages into the evidence of every task not yet sent.
    PaperPinned {
        paper_id: PaperId,
        title: String,
        passages: Vec<EvidencePassage>,
    },
    /// User → planner: keep this paper's passages out of the evidence of every task not yet sent.
    PaperExcluded {
        paper_id: PaperId,
        title: String,
    },
    /// User → planner: undo a pin or an exclusion.
    PaperReleased {
        paper_id: PaperId,
    },
    /// User → planner: the researcher's critique of a hypothesis, for its review and its next revision.
    CritiqueAdded {
        hypothesis_id: String,
        critique: String,
    },
    /// User → planner: one more round of revision and tournament.
    RoundRequested {
        reason: String,
    },
    /// User → planner: stop the run.
    CancelRequested {
        reason: String,
    },
    /// Planner: the run is over.
    RunFinished {
        status: RunStatus,
        detail: String,
    },
}

impl Payload {
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::RunStarted { .. } => "run_started",
            Payload::SessionStarted { .. } => "session_started",
            Payload::PlanRequest { .. } => "plan_request",
            Payload::PlanReady { .. } => "plan_ready",
            Payload::RetrieveRequest { .. } => "retrieve_request",
            Payload::EvidenceReady { .. } => "evidence_ready",
            Payload::GenerateRequest { .. } => "generate_request",
            Payload::ReviseRequest { .. } => "revise_request",
            Payload::HypothesisReady { .. } => "hypothesis_ready",
            Payload::ReviewRequest { .. } => "review_request",
            Payload::ReviewReady { .. } => "review_ready",
            Payload::JudgeRequest { .. } => "judge_request",
            Payload::JudgeReady { .. } => "judge_ready",
            Payload::SynthesisRequest { .. } => "synthesis_request",
            Payload::SynthesisReady { .. } => "synthesis_ready",
            Payload::RelateRequest { .. } => "relate_request",
            Payload::RelationsReady { .. } => "relations_ready",
            Payload::TaskFailed { .. } => "task_failed",
            Payload::RoundFinished { .. } => "round_finished",
            Payload::PaperPinned { .. } => "paper_pinned",
            Payload::PaperExcluded { .. } => "paper_excluded",
            Payload::PaperReleased { .. } => "paper_released",
            Payload::CritiqueAdded { .. } => "critique_added",
            Payload::RoundRequested { .. } => "round_requested",
            Payload::CancelRequested { .. } => "cancel_requested",
            Payload::RunFinished { .. } => "run_finished",
        }
    }

    /// The user's steering of a run in progress: what the planner reads from the journal as it
    /// drives, wherever it was written from.
    pub fn is_steering(&self) -> bool {
        matches!(
            self,
            Payload::PaperPinned { .. }
                | Payload::PaperExcluded { .. }
                | Payload::PaperReleased { .. }
                | Payload::CritiqueAdded { .. }
                | Payload::RoundRequested { .. }
        )
    }

    /// Model calls a request of this kind makes when answered: a synthesis section is written, then
    /// its citations judged.
    pub fn model_calls(&self) -> u64 {
        match self {
            Payload::RetrieveRequest { .. } => 0,
            Payload::SynthesisRequest { .. } | Payload::SynthesisReady { .. } => 2,
            Payload::RelationsReady { asked, .. } => u64::from((*asked).min(1)),
            _ => 1,
        }
    }

    /// The model usage a reply reports, if it came from a model call.
    pub fn usage(&self) -> Option<&CallUsage> {
        match self {
            Payload::PlanReady { usage, .. }
            | Payload::HypothesisReady { usage, .. }
            | Payload::ReviewReady { usage, .. }
            | Payload::JudgeReady { usage, .. }
            | Payload::SynthesisReady { usage, .. }
            | Payload::RelationsReady { usage, .. } => Some(usage),
            _ => None,
        }
    }
}
