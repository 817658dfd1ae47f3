//! The export document: a stored run with everything a report shows, checked against the store.
//! Its JSON form is the `json` export (`schema/export.schema.json`); every other format renders it.

use std::collections::{BTreeMap, BTreeSet};

use hypatia_core::{Paper, PaperId, PassageId};
use hypatia_research::Payload;
use hypatia_research::{
    CitationCheck, EvidencePassage, Gap, ModelIdentity, PassageRelation, Plan, Relation, RunProvenance, RunSettings,
    Scores, SkippedQuery, Support, SupportJudgement, SupportTally,
};
use hypatia_runs::elo::INITIAL_RATING;
use hypatia_runs::{FailureRecord, RunRecord, UsageTotals};
use serde::{Deserialize, Serialize};

use crate::keys::citation_keys;

/// Bumped when a field is renamed or removed; adding a field keeps it.
pub const SCHEMA_VERSION: u32 = 1;

/// What the store holds for the papers a run refers to.
#[derive(Debug, Clone, Default)]
pub struct Library {
    pub papers: BTreeMap<PaperId, Paper>,
    /// The stored text of every passage of those papers.
    pub passages: BTreeMap<PassageId, String>,
    /// Known citations between papers (citing, cited).
    pub citation_edges: Vec<(PaperId, PaperId)>,
}

/// The run as the store lists it.
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub run_id: String,
    pub question: String,
    /// As shown to users: running, interrupted, completed, budget_exhausted, failed or cancelled.
    pub status: String,
    pub detail: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ExportError {
    #[error(
        "hypothesis {hypothesis} cites passage {passage}, which {reason}: the export was refused, since a report \
         may quote only passages stored in the project"
    )]
    UnresolvedCitation {
        hypothesis: String,
        passage: PassageId,
        reason: &'static str,
    },
    #[error(
        "synthesis section {section} cites passage {passage}, which {reason}: the export was refused, since a \
         report may quote only passages stored in the project"
    )]
    UnresolvedSynthesisCitation {
        section: u32,
        passage: PassageId,
        reason: &'static str,
    },
    #[error(
        "the review of hypothesis {hypothesis} names paper {paper} as prior work, but the project has no such \
         paper: the export was refused"
    )]
    UnresolvedPaper { hypothesis: String, paper: PaperId },
    #[error(
        "hypothesis {hypothesis} addresses gap {gap}, which no synthesis section of the run found as written: the \
         export was refused"
    )]
    UnresolvedGap { hypothesis: String, gap: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportDocument {
    pub schema_version: u32,
    /// The Hypatia that wrote this export.
    pub generator: String,
    pub run_id: String,
    pub question: String,
    pub status: String,
    pub detail: Option<String>,
    /// False unless the run completed or stopped on a budget: then the report is what exists so far.
    pub complete: bool,
    /// What a reader must know first, for an unfinished or failed run.
    pub notice: Option<String>,
    pub settings: Option<RunSettings>,
    pub plan: Option<Plan>,
    pub evidence: Vec<EvidenceEntry>,
    pub skipped_queries: Vec<SkippedQuery>,
    /// What the literature shows, one entry per sub-question of the plan, in its order; empty for a
    /// run without syntheses (one started before they existed, or with `--no-synthesis`).
    pub synthesis: Vec<SynthesisEntry>,
    /// Best first.
    pub hypotheses: Vec<HypothesisEntry>,
    pub matches: Vec<MatchEntry>,
    pub rounds: Vec<RoundEntry>,
    pub failures: Vec<FailureRecord>,
    pub usage: UsageTotals,
    pub timings: Timings,
    /// Every paper the report refers to (cited, or named as close prior work), in citation-key order.
    pub papers: Vec<PaperEntry>,
    pub citation_edges: Vec<CitationEdge>,
    /// What the researcher changed while the run went on, in journal order.
    pub steering: Vec<SteeringEntry>,
    /// The reviewers' judgements of the hypotheses' citations, counted: the share that support what
    /// they are cited for is a figure of the run.
    pub support: SupportTally,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SteeringAction {
    Pin,
    Exclude,
    Release,
    Critique,
    Round,
}

/// One steering message, as a report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SteeringEntry {
    pub message_id: String,
    pub time_ms: i64,
    pub action: SteeringAction,
    pub paper_id: Option<PaperId>,
    pub title: Option<String>,
    pub hypothesis_id: Option<String>,
    /// The critique, or why another round was asked for.
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceEntry {
    pub passage_id: PassageId,
    pub paper_id: PaperId,
    pub title: String,
    pub year: Option<i32>,
    pub text: String,
    pub score: f64,
    #[serde(flatten)]
    pub place: Place,
    /// Whether any hypothesis or synthesis statement cites it.
    pub cited: bool,
    /// Put into the evidence by the researcher, not retrieved.
    pub pinned: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HypothesisEntry {
    pub rank: usize,
    pub id: String,
    pub round: u32,
    pub parent: Option<String>,
    pub statement: String,
    pub rationale: String,
    pub prediction: String,
    pub experiment: String,
    pub rating: f64,
    pub rating_history: Vec<RatingPoint>,
    pub matches_won: u32,
    pub matches_lost: u32,
    pub review: Option<ReviewEntry>,
    pub citations: Vec<CitationEntry>,
    /// The researcher's own critiques, oldest first.
    pub researcher_critiques: Vec<String>,
    /// Its citations that another paper's passage was judged to contradict: contested evidence.
    pub contested: Vec<PassageId>,
    /// The gap of the literature it addresses (from the run's synthesis), when it names one.
    #[serde(default)]
    pub gap: Option<Gap>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatingPoint {
    pub round: u32,
    pub rating: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewEntry {
    pub scores: Scores,
    pub critique: String,
    pub citation_checks: Vec<CitationCheck>,
    pub closest_papers: Vec<ClosePaperEntry>,
    /// Set when the hypothesis nearly restates a paper.
    pub restates: Option<ClosePaperEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosePaperEntry {
    pub paper_id: PaperId,
    pub key: String,
    pub title: String,
    pub year: Option<i32>,
    pub similarity: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CitationEntry {
    pub passage_id: PassageId,
    pub paper_id: PaperId,
    pub key: String,
    pub title: String,
    pub year: Option<i32>,
    /// The passage exactly as stored.
    pub text: String,
    #[serde(flatten)]
    pub place: Place,
    /// The reviewer's judgement of whether the passage says what the hypothesis cites it for;
    /// `None` until the hypothesis is reviewed (and in runs reviewed before citations were judged).
    pub support: Option<Support>,
    /// Why, in the model's words.
    pub support_reason: Option<String>,
}

impl CitationEntry {
    /// The reviewer's judgement of the citation, said plainly: a reader must see a citation that
    /// does not support its hypothesis, in every report.
    pub fn support_summary(&self) -> String {
        let reason = self.support_reason.as_deref().unwrap_or("");
        match self.support {
            Some(Support::Supports) => format!("Supports the claim: {reason}"),
            Some(Support::Contradicts) => format!("CONTRADICTS the claim: {reason}"),
            Some(Support::Unrelated) => format!("Does NOT address the claim: {reason}"),
            None => "Support not judged: no review judged this citation.".to_owned(),
        }
    }
}

/// One section of "what the literature shows": a sub-question of the plan and what its evidence says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthesisEntry {
    /// 1-based, in the plan's order.
    pub number: u32,
    pub sub_question: String,
    /// written, failed (the task failed: `note` says why), no_evidence, or pending (not yet written).
    pub status: String,
    pub note: Option<String>,
    pub statements: Vec<StatementEntry>,
    pub agreement: Option<String>,
    pub disagreement: Option<String>,
    pub gaps: Vec<String>,
    /// Pairs of its passages from different papers, judged agree / contradict / unrelated.
    pub relations: Vec<RelationEntry>,
}

/// Two passages and how a model judged they bear on each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationEntry {
    pub first: PassageId,
    pub first_key: String,
    pub second: PassageId,
    pub second_key: String,
    pub relation: Relation,
    pub reason: String,
    pub model: String,
    /// Taken from the project (an earlier run asked the same model), not asked again.
    pub reused: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementEntry {
    pub text: String,
    /// Each with the model's judgement of whether it supports the statement.
    pub citations: Vec<CitationEntry>,
}

/// Where a full-text passage is in its paper; all `None` for an abstract
/// sentence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    #[serde(default)]
    pub section: Option<String>,
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub page_end: Option<u32>,
}

impl Place {
    pub fn of(location: Option<&hypatia_core::PassageLocation>) -> Place {
        match location {
            Some(at) => Place {
                section: Some(at.section.clone()),
                page: Some(at.page),
                page_end: Some(at.page_end),
            },
            None => Place::default(),
        }
    }

    /// "p. 4" or "pp. 4–5": a locator as a reader (and pandoc) reads it.
    pub fn pages(&self) -> Option<String> {
        let page = self.page?;
        Some(hypatia_core::pages_label(page, self.page_end.unwrap_or(page)))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchEntry {
    pub id: String,
    pub round: u32,
    pub first: String,
    pub second: String,
    pub winner: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundEntry {
    pub round: u32,
    /// Best first.
    pub ratings: Vec<RoundRating>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundRating {
    pub hypothesis_id: String,
    pub rating: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub started_ms: i64,
    pub last_message_ms: i64,
    /// Time worked on the run, summed over sessions (time spent stopped not counted).
    pub working_ms: i64,
    /// Time in model calls; concurrent calls add up.
    pub model_ms: u64,
    pub sessions: u32,
    pub messages: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperEntry {
    pub key: String,
    pub paper_id: PaperId,
    pub title: String,
    pub authors: Vec<String>,
    pub year: Option<i32>,
    pub venue: Option<String>,
    pub doi: Option<String>,
    pub arxiv_id: Option<String>,
    pub url: Option<String>,
    #[serde(rename = "abstract")]
    pub abstract_text: Option<String>,
    /// Cited by a hypothesis (as opposed to only named as close prior work).
    pub cited: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CitationEdge {
    pub citing: PaperId,
    pub cited: PaperId,
}

impl ExportDocument {
    /// The run's document, after the integrity gate: every citation must be a passage the agents were
    /// given, stored in the project with the same text; every paper named must be stored.
    pub fn build(record: &RunRecord, meta: &RunMeta, library: &Library) -> Result<ExportDocument, ExportError> {
        check_integrity(record, library)?;

        let referenced = referenced_papers(record);
        let cited_papers: BTreeSet<PaperId> = record
            .hypotheses
            .values()
            .flat_map(|h| h.citations.iter())
            .chain(record.syntheses.values().flat_map(|s| s.citations()))
            .map(PassageId::paper_id)
            .collect();
        let mut bibliography: Vec<&Paper> = referenced.iter().filter_map(|id| library.papers.get(id)).collect();
        let keys = citation_keys(&bibliography);
        let key_of = |id: &PaperId| keys.get(id).cloned().unwrap_or_else(|| id.to_string());
        bibliography.sort_by_key(|paper| key_of(&paper.id));

        let close_entry = |paper: &hypatia_research::ClosePaper| ClosePaperEntry {
            paper_id: paper.paper_id.clone(),
            key: key_of(&paper.paper_id),
            title: paper.title.clone(),
            year: paper.year,
            similarity: paper.similarity,
        };
        let ratings = record.ratings();
        let citation = |passage: &EvidencePassage, judged: Option<&SupportJudgement>| CitationEntry {
            passage_id: passage.passage_id.clone(),
            paper_id: passage.paper_id.clone(),
            key: key_of(&passage.paper_id),
            title: passage.title.clone(),
            year: passage.year,
            text: library
                .passages
                .get(&passage.passage_id)
                .cloned()
                .unwrap_or_else(|| passage.text.clone()),
            place: Place::of(passage.location.as_ref()),
            support: judged.map(|j| j.label),
            support_reason: judged.map(|j| j.reason.clone()),
        };
        let contested: BTreeSet<&PassageId> = record
            .relations
            .values()
            .flatten()
            .filter(|r| r.relation == Relation::Contradict)
            .flat_map(|r| [&r.first, &r.second])
            .collect();
        let hypotheses: Vec<HypothesisEntry> = record
            .ranking()
            .iter()
            .enumerate()
            .filter_map(|(index, id)| {
                let hypothesis = record.hypotheses.get(id)?;
                let review = record.reviews.get(id).map(|review| ReviewEntry {
                    scores: review.scores,
                    critique: review.critique.clone(),
                    citation_checks: review.citations.clone(),
                    closest_papers: review.novelty.closest.iter().map(close_entry).collect(),
                    restates: review.novelty.restates.as_ref().map(close_entry),
                });
                let rating_history = record
                    .rounds_finished
                    .iter()
                    .filter_map(|(round, list)| {
                        let (_, rating) = list.iter().find(|(h, _)| h == id)?;
                        Some(RatingPoint {
                            round: *round,
                            rating: round_to_tenth(*rating),
                        })
                    })
                    .collect();
                let judged = |passage: &PassageId| {
                    record
                        .reviews
                        .get(id)
                        .and_then(|review| review.citations.iter().find(|c| &c.passage_id == passage))
                        .and_then(|check| check.support.clone())
                };
                let citations = hypothesis
                    .citations
                    .iter()
                    .filter_map(|passage| record.evidence_passage(passage))
                    .map(|passage| citation(passage, judged(&passage.passage_id).as_ref()))
                    .collect();
                Some(HypothesisEntry {
                    rank: index + 1,
                    id: id.clone(),
                    round: hypothesis.round,
                    parent: hypothesis.parent.clone(),
                    statement: hypothesis.statement.clone(),
                    rationale: hypothesis.rationale.clone(),
                    prediction: hypothesis.prediction.clone(),
                    experiment: hypothesis.experiment.clone(),
                    rating: round_to_tenth(ratings.get(id).copied().unwrap_or(INITIAL_RATING)),
                    rating_history,
                    matches_won: record.matches.iter().filter(|m| m.winner_id() == id).count() as u32,
                    matches_lost: record.matches.iter().filter(|m| m.loser_id() == id).count() as u32,
                    review,
                    researcher_critiques: record.steering.critiques_of(id).to_vec(),
                    contested: hypothesis
                        .citations
                        .iter()
                        .filter(|c| contested.contains(c))
                        .cloned()
                        .collect(),
                    gap: hypothesis.gap.clone(),
                    citations,
                })
            })
            .collect();

        let cited_passages: BTreeSet<&PassageId> = record
            .hypotheses
            .values()
            .flat_map(|h| h.citations.iter())
            .chain(record.syntheses.values().flat_map(|s| s.citations()))
            .collect();
        let retrieved: Vec<&EvidencePassage> = record.evidence.iter().flatten().collect();
        let pinned = record
            .steering
            .offered_passages()
            .filter(|p| !retrieved.iter().any(|r| r.passage_id == p.passage_id));
        let entry = |p: &EvidencePassage, pinned: bool| EvidenceEntry {
            passage_id: p.passage_id.clone(),
            paper_id: p.paper_id.clone(),
            title: p.title.clone(),
            year: p.year,
            text: p.text.clone(),
            score: p.score,
            place: Place::of(p.location.as_ref()),
            cited: cited_passages.contains(&p.passage_id),
            pinned,
        };
        let evidence = pinned
            .map(|p| entry(p, true))
            .chain(retrieved.iter().map(|p| entry(p, false)))
            .collect();

        let papers = bibliography
            .iter()
            .map(|paper| PaperEntry {
                key: key_of(&paper.id),
                paper_id: paper.id.clone(),
                title: paper.title.clone(),
                authors: paper.authors.clone(),
                year: paper.year,
                venue: paper.venue.clone(),
                doi: paper.doi.clone(),
                arxiv_id: paper.arxiv_id.clone(),
                url: paper.url.clone(),
                abstract_text: paper.abstract_text.clone(),
                cited: cited_papers.contains(&paper.id),
            })
            .collect();
        let citation_edges = library
            .citation_edges
            .iter()
            .filter(|(citing, cited)| referenced.contains(citing) && referenced.contains(cited))
            .map(|(citing, cited)| CitationEdge {
                citing: citing.clone(),
                cited: cited.clone(),
            })
            .collect();

        let relation = |r: &PassageRelation| RelationEntry {
            first: r.first.clone(),
            first_key: key_of(&r.first.paper_id()),
            second: r.second.clone(),
            second_key: key_of(&r.second.paper_id()),
            relation: r.relation,
            reason: r.reason.clone(),
            model: r.model.clone(),
            reused: r.reused,
        };
        let synthesis = synthesis_entries(record, &citation, &relation);
        let complete = matches!(meta.status.as_str(), "completed" | "budget_exhausted");
        let support = SupportTally::of(
            hypotheses
                .iter()
                .flat_map(|h| h.citations.iter())
                .chain(
                    synthesis
                        .iter()
                        .flat_map(|s| s.statements.iter().flat_map(|st| st.citations.iter())),
                )
                .filter_map(|c| c.support.as_ref()),
        );
        Ok(ExportDocument {
            schema_version: SCHEMA_VERSION,
            generator: format!("hypatia {}", env!("CARGO_PKG_VERSION")),
            run_id: meta.run_id.clone(),
            question: meta.question.clone(),
            status: meta.status.clone(),
            detail: meta.detail.clone(),
            complete,
            notice: notice(&meta.status, meta.detail.as_deref()),
            settings: record.settings.as_ref().map(shareable_settings),
            plan: record.plan.clone(),
            evidence,
            skipped_queries: record.skipped_queries.clone(),
            synthesis,
            hypotheses,
            matches: record
                .matches
                .iter()
                .map(|m| MatchEntry {
                    id: m.id.clone(),
                    round: m.round,
                    first: m.first.clone(),
                    second: m.second.clone(),
                    winner: m.winner_id().to_owned(),
                    reason: m.reason.clone(),
                })
                .collect(),
            rounds: record
                .rounds_finished
                .iter()
                .map(|(round, ratings)| RoundEntry {
                    round: *round,
                    ratings: ratings
                        .iter()
                        .map(|(id, rating)| RoundRating {
                            hypothesis_id: id.clone(),
                            rating: round_to_tenth(*rating),
                        })
                        .collect(),
                })
                .collect(),
            failures: record.failures.clone(),
            usage: record.usage.clone(),
            timings: Timings {
                started_ms: record.started_ms,
                last_message_ms: record.last_ms,
                working_ms: record.elapsed_ms(),
                model_ms: record.usage.model_ms,
                sessions: record.sessions,
                messages: record.messages,
            },
            papers,
            citation_edges,
            steering: record.steering.messages.iter().filter_map(steering_entry).collect(),
            support,
        })
    }

    pub fn paper(&self, key: &str) -> Option<&PaperEntry> {
        self.papers.iter().find(|p| p.key == key)
    }

    pub fn paper_by_id(&self, id: &PaperId) -> Option<&PaperEntry> {
        self.papers.iter().find(|p| &p.paper_id == id)
    }

    pub fn provenance(&self) -> Option<&RunProvenance> {
        self.settings.as_ref()?.provenance.as_ref()
    }

    /// The model as a reader should see it: file name and hash, or endpoint and model name.
    pub fn model_summary(&self) -> String {
        match self.provenance().map(|p| &p.model) {
            Some(ModelIdentity::Local {
                file_name, size_bytes, ..
            }) => format!("{file_name} ({})", human_bytes(*size_bytes)),
            Some(ModelIdentity::Openai { base_url, model }) => format!("{model} at {base_url}"),
            None => self
                .settings
                .as_ref()
                .map_or_else(|| "not recorded".to_owned(), |s| s.model.clone()),
        }
    }
}

/// Every paper a run's report names: the papers of cited passages and of close prior work.
impl SteeringEntry {
    /// What the researcher did, as a sentence (plain text: each format escapes it its own way).
    pub fn describe(&self) -> String {
        let paper = || match (&self.title, &self.paper_id) {
            (Some(title), Some(id)) => format!("“{title}” ({id})"),
            (None, Some(id)) => id.to_string(),
            _ => "a paper".to_owned(),
        };
        let text = self.text.as_deref().unwrap_or_default();
        match self.action {
            SteeringAction::Pin => format!("Pinned {} into the evidence.", paper()),
            SteeringAction::Exclude => format!("Excluded {} from the evidence.", paper()),
            SteeringAction::Release => format!("Released {}: neither pinned nor excluded any more.", paper()),
            SteeringAction::Critique => format!(
                "Critiqued {}: {text}",
                self.hypothesis_id.as_deref().unwrap_or("a hypothesis")
            ),
            SteeringAction::Round => format!("Asked for another round ({text})."),
        }
    }
}

fn steering_entry(message: &hypatia_research::Envelope) -> Option<SteeringEntry> {
    let entry = |action,
                 paper_id: Option<&PaperId>,
                 title: Option<&String>,
                 hypothesis: Option<&String>,
                 text: Option<&String>| SteeringEntry {
        message_id: message.id.clone(),
        time_ms: message.time_ms,
        action,
        paper_id: paper_id.cloned(),
        title: title.cloned(),
        hypothesis_id: hypothesis.cloned(),
        text: text.cloned(),
    };
    Some(match &message.payload {
        Payload::PaperPinned { paper_id, title, .. } => {
            entry(SteeringAction::Pin, Some(paper_id), Some(title), None, None)
        }
        Payload::PaperExcluded { paper_id, title } => {
            entry(SteeringAction::Exclude, Some(paper_id), Some(title), None, None)
        }
        Payload::PaperReleased { paper_id } => entry(SteeringAction::Release, Some(paper_id), None, None, None),
        Payload::CritiqueAdded {
            hypothesis_id,
            critique,
        } => entry(
            SteeringAction::Critique,
            None,
            None,
            Some(hypothesis_id),
            Some(critique),
        ),
        Payload::RoundRequested { reason } => entry(SteeringAction::Round, None, None, None, Some(reason)),
        _ => return None,
    })
}

/// Ratings are shown to a tenth of a point.
fn round_to_tenth(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

pub fn referenced_papers(record: &RunRecord) -> BTreeSet<PaperId> {
    let cited = record
        .hypotheses
        .values()
        .flat_map(|h| h.citations.iter())
        .chain(record.syntheses.values().flat_map(|s| s.citations()))
        .chain(record.relations.values().flatten().flat_map(|r| [&r.first, &r.second]))
        .map(PassageId::paper_id);
    let close = record.reviews.values().flat_map(|review| {
        review
            .novelty
            .closest
            .iter()
            .chain(review.novelty.restates.iter())
            .map(|paper| paper.paper_id.clone())
    });
    cited.chain(close).collect()
}

/// Why a citation of `passage`, given to its writer as `given`, cannot be quoted; `None` when it can.
fn unquotable(given: Option<&EvidencePassage>, passage: &PassageId, library: &Library) -> Option<&'static str> {
    let Some(given) = given else {
        return Some("is not in the evidence the run's agents were given");
    };
    let Some(stored) = library.passages.get(passage) else {
        return Some("is not stored in the project");
    };
    if stored != &given.text {
        return Some("is stored with different text than the run quotes");
    }
    if !library.papers.contains_key(&passage.paper_id()) {
        return Some("belongs to a paper the project does not have");
    }
    None
}

fn check_integrity(record: &RunRecord, library: &Library) -> Result<(), ExportError> {
    for hypothesis in record.hypotheses.values() {
        for passage in &hypothesis.citations {
            if let Some(reason) = unquotable(record.evidence_passage(passage), passage, library) {
                return Err(ExportError::UnresolvedCitation {
                    hypothesis: hypothesis.id.clone(),
                    passage: passage.clone(),
                    reason,
                });
            }
        }
    }
    // A gap a hypothesis addresses is one the run's syntheses found, word for word.
    let gaps = record.gaps();
    for hypothesis in record.hypotheses.values() {
        if let Some(gap) = hypothesis.gap.as_ref().filter(|gap| !gaps.contains(gap)) {
            return Err(ExportError::UnresolvedGap {
                hypothesis: hypothesis.id.clone(),
                gap: gap.id.clone(),
            });
        }
    }
    // A judged pair names passages the run was given, stored as given.
    for (index, relations) in &record.relations {
        for passage in relations.iter().flat_map(|r| [&r.first, &r.second]) {
            if let Some(reason) = unquotable(record.evidence_passage(passage), passage, library) {
                return Err(ExportError::UnresolvedSynthesisCitation {
                    section: index + 1,
                    passage: passage.clone(),
                    reason,
                });
            }
        }
    }
    // A section may cite only the passages its own request gave it.
    for (index, section) in &record.syntheses {
        for passage in section.citations() {
            if let Some(reason) = unquotable(record.synthesis_passage(*index, passage), passage, library) {
                return Err(ExportError::UnresolvedSynthesisCitation {
                    section: index + 1,
                    passage: passage.clone(),
                    reason,
                });
            }
        }
    }
    for review in record.reviews.values() {
        for paper in review.novelty.closest.iter().chain(review.novelty.restates.iter()) {
            if !library.papers.contains_key(&paper.paper_id) {
                return Err(ExportError::UnresolvedPaper {
                    hypothesis: review.hypothesis_id.clone(),
                    paper: paper.paper_id.clone(),
                });
            }
        }
    }
    Ok(())
}

/// One entry per sub-question the run has synthesis tasks for (or would: one with no evidence says so).
fn synthesis_entries(
    record: &RunRecord,
    citation: &dyn Fn(&EvidencePassage, Option<&SupportJudgement>) -> CitationEntry,
    relation: &dyn Fn(&PassageRelation) -> RelationEntry,
) -> Vec<SynthesisEntry> {
    let Some(settings) = record.settings.as_ref().filter(|s| s.synthesis) else {
        return Vec::new();
    };
    if record.evidence.is_none() {
        return Vec::new();
    }
    record
        .sub_questions(settings)
        .into_iter()
        .enumerate()
        .map(|(index, sub_question)| {
            let task = RunRecord::synthesis_task(index);
            // Contradictions first: they are what a reader must not miss.
            let mut relations: Vec<RelationEntry> = record
                .relations
                .get(&(index as u32))
                .into_iter()
                .flatten()
                .map(relation)
                .collect();
            relations.sort_by_key(|r| r.relation != Relation::Contradict);
            let empty = |status: &str, note: Option<String>| SynthesisEntry {
                number: index as u32 + 1,
                sub_question: sub_question.clone(),
                status: status.to_owned(),
                note,
                statements: Vec::new(),
                agreement: None,
                disagreement: None,
                gaps: Vec::new(),
                relations: relations.clone(),
            };
            match (record.syntheses.get(&(index as u32)), record.replies.get(&task)) {
                (Some(section), _) => SynthesisEntry {
                    number: index as u32 + 1,
                    sub_question: section.sub_question.clone(),
                    status: "written".to_owned(),
                    note: None,
                    statements: section
                        .statements
                        .iter()
                        .map(|statement| StatementEntry {
                            text: statement.text.clone(),
                            citations: statement
                                .citations
                                .iter()
                                .filter_map(|id| record.synthesis_passage(index as u32, id))
                                .map(|p| citation(p, statement.support.iter().find(|j| j.passage_id == p.passage_id)))
                                .collect(),
                        })
                        .collect(),
                    agreement: Some(section.agreement.clone()),
                    disagreement: Some(section.disagreement.clone()),
                    gaps: section.gaps.clone(),
                    relations: relations.clone(),
                },
                (None, Some(reply)) => match &reply.payload {
                    Payload::TaskFailed { failure } => empty(
                        "failed",
                        Some(format!("The section could not be written: {}", failure.message)),
                    ),
                    _ => empty("failed", None),
                },
                (None, None) if record.requests.contains_key(&task) => {
                    empty("pending", Some("The section is being written.".to_owned()))
                }
                (None, None) => empty(
                    "no_evidence",
                    Some("No passage of the evidence bears on this sub-question.".to_owned()),
                ),
            }
        })
        .collect()
}

/// Settings as they may leave the machine: the model file by name, not by its path.
fn shareable_settings(settings: &RunSettings) -> RunSettings {
    let mut settings = settings.clone();
    settings.model_file = settings
        .model_file
        .as_ref()
        .and_then(|path| path.file_name())
        .map(std::path::PathBuf::from);
    settings
}

fn notice(status: &str, detail: Option<&str>) -> Option<String> {
    let detail = detail.map_or(String::new(), |d| format!(" ({d})"));
    match status {
        "completed" => None,
        "budget_exhausted" => Some(format!("This run stopped early when a budget was spent{detail}.")),
        "running" => Some(
            "This run is still going: this report shows what exists so far, and a later export will show more."
                .to_owned(),
        ),
        "interrupted" => Some(
            "This run was interrupted before it finished: this report shows what exists so far (`hypatia resume` \
             continues it)."
                .to_owned(),
        ),
        "failed" => Some(format!(
            "This run failed{detail}: this report shows what exists, which may be incomplete."
        )),
        "cancelled" => Some(format!(
            "This run was cancelled{detail}: this report shows what exists, which may be incomplete."
        )),
        other => Some(format!(
            "This run's status is `{other}`: this report may be incomplete."
        )),
    }
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
