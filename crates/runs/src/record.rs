use std::collections::BTreeMap;

use hypatia_research::{AgentFailure, Envelope, FailureKind, Payload};
use hypatia_research::{
    EvidencePassage, Gap, Hypothesis, PassageRelation, Plan, Review, RunSettings, RunStatus, Side, SkippedQuery,
    SynthesisSection,
};
use serde::{Deserialize, Serialize};

use crate::elo;
use crate::steering::Steering;

/// One judged pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchRecord {
    /// The judge request's id; matches are applied to ratings in this order.
    pub id: String,
    pub round: u32,
    pub first: String,
    pub second: String,
    pub winner: Side,
    pub reason: String,
}

impl MatchRecord {
    pub fn winner_id(&self) -> &str {
        match self.winner {
            Side::First => &self.first,
            Side::Second => &self.second,
        }
    }

    pub fn loser_id(&self) -> &str {
        match self.winner {
            Side::First => &self.second,
            Side::Second => &self.first,
        }
    }
}

/// A task that failed, and why: the run went on without it (or stopped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    pub task: String,
    pub agent: String,
    pub kind: FailureKind,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageTotals {
    pub model_calls: u64,
    pub prompt_tokens: u64,
    pub cached_prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Time spent in model calls (concurrent calls add up).
    pub model_ms: u64,
}

impl UsageTotals {
    pub fn tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// A run's state: its journal, folded.
#[derive(Debug, Clone, Default)]
pub struct RunRecord {
    pub run_id: String,
    pub settings: Option<RunSettings>,
    pub plan: Option<Plan>,
    /// `None` until the retriever answered.
    pub evidence: Option<Vec<EvidencePassage>>,
    pub skipped_queries: Vec<SkippedQuery>,
    /// By id; `order` keeps the order they were composed in.
    pub hypotheses: BTreeMap<String, Hypothesis>,
    pub reviews: BTreeMap<String, Review>,
    /// Synthesis sections by the sub-question's index in the plan.
    pub syntheses: BTreeMap<u32, SynthesisSection>,
    /// Judged pairs of passages by the sub-question's index.
    pub relations: BTreeMap<u32, Vec<PassageRelation>>,
    pub matches: Vec<MatchRecord>,
    pub failures: Vec<FailureRecord>,
    /// Every request by id, and every reply by the id of its request.
    pub requests: BTreeMap<String, Envelope>,
    pub replies: BTreeMap<String, Envelope>,
    /// Ratings after each finished round, as journaled.
    pub rounds_finished: BTreeMap<u32, Vec<(String, f64)>>,
    pub usage: UsageTotals,
    pub status: Option<(RunStatus, String)>,
    /// How many times the run ended: a completed run the researcher steers goes on, and ends again.
    pub finishes: u32,
    pub steering: Steering,
    pub started_ms: i64,
    /// Working time so far: each session from its start to its last message.
    pub active_ms: i64,
    pub sessions: u32,
    pub last_ms: i64,
    session_start_ms: i64,
    pub messages: u64,
    /// The journal position of the last journaled message folded in: a reader goes on from there.
    pub last_seq: i64,
}

impl RunRecord {
    pub fn from_envelopes<'a>(run_id: &str, envelopes: impl IntoIterator<Item = &'a Envelope>) -> RunRecord {
        let mut record = RunRecord {
            run_id: run_id.to_owned(),
            ..RunRecord::default()
        };
        for envelope in envelopes {
            record.apply(envelope);
        }
        record
    }

    pub fn apply(&mut self, envelope: &Envelope) {
        self.messages += 1;
        self.last_seq = self.last_seq.max(envelope.seq);
        if self.started_ms == 0 {
            self.started_ms = envelope.time_ms;
        }
        if self.session_start_ms == 0 {
            self.session_start_ms = envelope.time_ms;
        }
        if let Payload::SessionStarted { resumed: true } = envelope.payload {
            // The previous session ended with its last message.
            self.active_ms += (self.last_ms - self.session_start_ms).max(0);
            self.session_start_ms = envelope.time_ms;
        }
        self.last_ms = self.last_ms.max(envelope.time_ms);
        if let Some(usage) = envelope.payload.usage() {
            self.usage.model_calls += envelope.payload.model_calls();
            self.usage.prompt_tokens += usage.prompt_tokens;
            self.usage.cached_prompt_tokens += usage.cached_prompt_tokens;
            self.usage.completion_tokens += usage.completion_tokens;
            self.usage.model_ms += usage.ms;
        }
        match &envelope.payload {
            Payload::RunStarted { settings } => self.settings = Some(settings.clone()),
            Payload::SessionStarted { .. } => self.sessions += 1,
            Payload::PlanRequest { .. }
            | Payload::RetrieveRequest { .. }
            | Payload::GenerateRequest { .. }
            | Payload::ReviseRequest { .. }
            | Payload::ReviewRequest { .. }
            | Payload::JudgeRequest { .. }
            | Payload::SynthesisRequest { .. }
            | Payload::RelateRequest { .. } => {
                self.requests.insert(envelope.id.clone(), envelope.clone());
            }
            Payload::SynthesisReady { section, .. } => {
                self.syntheses.insert(section.index, section.clone());
            }
            Payload::RelationsReady { index, relations, .. } => {
                self.relations.insert(*index, relations.clone());
            }
            Payload::PlanReady { plan, .. } => self.plan = Some(plan.clone()),
            Payload::EvidenceReady { evidence, skipped } => {
                self.evidence = Some(evidence.clone());
                self.skipped_queries = skipped.clone();
            }
            Payload::HypothesisReady { hypothesis, .. } => {
                self.hypotheses.insert(hypothesis.id.clone(), hypothesis.clone());
            }
            Payload::ReviewReady { review, .. } => {
                self.reviews.insert(review.hypothesis_id.clone(), review.clone());
            }
            Payload::JudgeReady { winner, reason, .. } => {
                let request = envelope.parent_id.as_ref().and_then(|id| self.requests.get(id));
                if let Some(Payload::JudgeRequest {
                    round, first, second, ..
                }) = request.map(|r| &r.payload)
                {
                    self.matches.push(MatchRecord {
                        id: envelope.parent_id.clone().unwrap_or_default(),
                        round: *round,
                        first: first.id.clone(),
                        second: second.id.clone(),
                        winner: *winner,
                        reason: reason.clone(),
                    });
                    self.matches.sort_by(|a, b| (a.round, &a.id).cmp(&(b.round, &b.id)));
                }
            }
            Payload::TaskFailed { failure } => self.record_failure(envelope, failure),
            Payload::RoundFinished { round, ratings } => {
                self.rounds_finished.insert(*round, ratings.clone());
            }
            Payload::CritiqueAdded { .. } | Payload::RoundRequested { .. } => {
                self.steering.apply(envelope);
                // Asking more of a completed run opens it again.
                if matches!(self.status, Some((RunStatus::Completed, _))) {
                    self.status = None;
                }
            }
            Payload::PaperPinned { .. } | Payload::PaperExcluded { .. } | Payload::PaperReleased { .. } => {
                self.steering.apply(envelope);
            }
            Payload::CancelRequested { .. } => {}
            Payload::RunFinished { status, detail } => {
                self.status = Some((*status, detail.clone()));
                self.finishes += 1;
            }
        }
        if let Some(parent) = &envelope.parent_id
            && self.requests.contains_key(parent)
        {
            self.replies.insert(parent.clone(), envelope.clone());
        }
    }

    fn record_failure(&mut self, envelope: &Envelope, failure: &AgentFailure) {
        self.failures.push(FailureRecord {
            task: envelope.parent_id.clone().unwrap_or_else(|| envelope.id.clone()),
            agent: envelope.sender.to_string(),
            kind: failure.kind,
            message: failure.message.clone(),
        });
    }

    /// Requests journaled but never answered: what a resumed run sends again.
    pub fn pending_requests(&self) -> Vec<&Envelope> {
        self.requests
            .values()
            .filter(|request| !self.replies.contains_key(&request.id))
            .collect()
    }

    pub fn is_finished(&self) -> bool {
        self.status.is_some()
    }

    /// Elo ratings from every match so far, applied in task order.
    pub fn ratings(&self) -> BTreeMap<String, f64> {
        self.ratings_through(u32::MAX)
    }

    /// Ratings after the matches of rounds up to `round`.
    pub fn ratings_through(&self, round: u32) -> BTreeMap<String, f64> {
        let mut ratings: BTreeMap<String, f64> = self
            .hypotheses
            .values()
            .filter(|h| h.round <= round)
            .map(|h| (h.id.clone(), elo::INITIAL_RATING))
            .collect();
        for game in self.matches.iter().filter(|m| m.round <= round) {
            elo::play(&mut ratings, game.winner_id(), game.loser_id());
        }
        ratings
    }

    /// Hypothesis ids, best first: rating, then mean review score, then id.
    pub fn ranking(&self) -> Vec<String> {
        let ratings = self.ratings();
        let mean = |id: &str| self.reviews.get(id).map(|r| r.scores.mean()).unwrap_or(0.0);
        let mut ids: Vec<String> = self.hypotheses.keys().cloned().collect();
        ids.sort_by(|a, b| {
            let (ra, rb) = (
                ratings.get(a).copied().unwrap_or(0.0),
                ratings.get(b).copied().unwrap_or(0.0),
            );
            rb.total_cmp(&ra).then(mean(b).total_cmp(&mean(a))).then(a.cmp(b))
        });
        ids
    }

    /// Working time so far, including the current session.
    pub fn elapsed_ms(&self) -> i64 {
        self.active_ms + (self.last_ms - self.session_start_ms).max(0)
    }

    /// A passage the run's agents were given: retrieved, or pinned by the researcher.
    pub fn evidence_passage(&self, id: &hypatia_core::PassageId) -> Option<&EvidencePassage> {
        self.evidence
            .iter()
            .flatten()
            .find(|p| &p.passage_id == id)
            .or_else(|| self.steering.offered(id))
    }

    /// What the synthesis sections are about: the plan's sub-questions, or the question alone when the
    /// plan has none (it failed, or fell back). The planner schedules from it and reports show it.
    pub fn sub_questions(&self, settings: &RunSettings) -> Vec<String> {
        match &self.plan {
            Some(plan) if !plan.sub_questions.is_empty() => {
                plan.sub_questions.iter().map(|s| s.question.clone()).collect()
            }
            _ => vec![settings.question.clone()],
        }
    }

    /// What every synthesis task id starts with.
    pub const SYNTHESIS_TASK_PREFIX: &str = "synth.";

    /// The task id of synthesis section `index` (0-based).
    pub fn synthesis_task(index: usize) -> String {
        format!("{}{}", Self::SYNTHESIS_TASK_PREFIX, index + 1)
    }

    /// Every gap the written synthesis sections found, in section order: what hypotheses address.
    pub fn gaps(&self) -> Vec<Gap> {
        self.syntheses.values().flat_map(SynthesisSection::gap_refs).collect()
    }

    /// A passage synthesis section `index` was given (its request's evidence).
    pub fn synthesis_passage(&self, index: u32, id: &hypatia_core::PassageId) -> Option<&EvidencePassage> {
        let request = self
            .requests
            .values()
            .find(|r| matches!(&r.payload, Payload::SynthesisRequest { index: i, .. } if *i == index))?;
        match &request.payload {
            Payload::SynthesisRequest { evidence, .. } => evidence.iter().find(|p| &p.passage_id == id),
            _ => None,
        }
    }

    /// The evidence a task built now is given (`None` until the retriever answered).
    pub fn working_evidence(&self) -> Option<Vec<EvidencePassage>> {
        let retrieved = self.evidence.as_ref()?;
        Some(self.steering.working_evidence(retrieved))
    }

    /// Rounds the run is to do: its settings' and those the researcher asked for since.
    pub fn rounds(&self) -> u32 {
        self.settings.as_ref().map_or(0, |s| self.rounds_of(s))
    }

    /// Rounds to do under `settings` (the schedule is given them apart from the record).
    pub fn rounds_of(&self, settings: &RunSettings) -> u32 {
        settings.rounds + self.steering.extra_rounds
    }

    /// The id of the next message that ends the run: unique, as journal ids must be.
    pub fn finish_id(&self) -> String {
        match self.finishes {
            0 => "finished".to_owned(),
            n => format!("finished.{}", n + 1),
        }
    }
}
