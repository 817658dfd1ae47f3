//! The researcher's steering of a run: checked against the run's journal, then journaled as a
//! message to the planner. Whoever drives the run reads it from the journal (this process or
//! another), so a headless run can be steered from the terminal UI or the CLI alike.

use hypatia_bus::{BusError, RunJournal};
use hypatia_core::PaperId;
use hypatia_research::{AgentName, Envelope, EvidencePassage, Payload, RunStatus};
use hypatia_runs::RunRecord;

/// The longest critique taken; a reviewer prompt has room for a few of them.
pub const CRITIQUE_MAX_CHARS: usize = 2000;
/// Rounds a run may be taken to, however often another is asked for.
pub const MAX_ROUNDS: u32 = 20;

/// What the researcher asks of a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Steer {
    /// Put a paper's passages (read from the project by the caller) into the evidence.
    Pin {
        paper_id: PaperId,
        title: String,
        passages: Vec<EvidencePassage>,
    },
    Exclude {
        paper_id: PaperId,
        title: String,
    },
    /// Undo a pin or an exclusion.
    Release {
        paper_id: PaperId,
    },
    Critique {
        hypothesis_id: String,
        critique: String,
    },
    AnotherRound {
        reason: String,
    },
}

/// The steering, journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct Steered {
    pub message_id: String,
    /// The run had completed and goes on again: someone must drive it (`hypatia resume`).
    pub reopened: bool,
    /// The run has completed: this pin or exclusion matters only if another round is asked for.
    pub needs_round: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SteerError {
    #[error("there is no run `{0}` in this project (`hypatia runs list` shows them)")]
    NoSuchRun(String),
    #[error("run {run} has {status}; it cannot be steered any more")]
    Ended { run: String, status: String },
    #[error("run {run} has no hypothesis `{id}` (it has: {known})")]
    NoSuchHypothesis { run: String, id: String, known: String },
    #[error("the critique is empty")]
    EmptyCritique,
    #[error("the critique is {0} characters long; at most {CRITIQUE_MAX_CHARS} are taken")]
    CritiqueTooLong(usize),
    #[error("paper {0} has no passages to pin")]
    NothingToPin(PaperId),
    #[error("excluding paper {paper} would leave run {run} with no evidence")]
    NoEvidenceLeft { run: String, paper: PaperId },
    #[error("paper {paper} is neither pinned nor excluded in run {run}")]
    NothingToRelease { run: String, paper: PaperId },
    #[error("run {run} already has {MAX_ROUNDS} rounds")]
    TooManyRounds { run: String },
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Checks `steer` against the run's journal and journals it. Nothing is delivered: whoever drives
/// the run reads it from the journal.
pub async fn journal_steer(journal: &RunJournal, run_id: &str, steer: Steer) -> Result<Steered, SteerError> {
    // Another process steering at the same moment takes the same id: read again and retry.
    for _ in 0..4 {
        match try_steer(journal, run_id, &steer).await {
            Err(SteerError::Bus(error)) if error.is_duplicate() => continue,
            other => return other,
        }
    }
    try_steer(journal, run_id, &steer).await
}

async fn try_steer(journal: &RunJournal, run_id: &str, steer: &Steer) -> Result<Steered, SteerError> {
    let record = journal.record(run_id).await?;
    if record.messages == 0 {
        return Err(SteerError::NoSuchRun(run_id.to_owned()));
    }
    let payload = checked(&record, steer)?;
    let completed = matches!(record.status, Some((RunStatus::Completed, _)));
    if let Some((status, _)) = &record.status
        && !completed
    {
        return Err(SteerError::Ended {
            run: run_id.to_owned(),
            status: status.as_str().replace('_', " "),
        });
    }
    let reopens = completed && matches!(payload, Payload::CritiqueAdded { .. } | Payload::RoundRequested { .. });
    let message = Envelope::new(
        run_id,
        format!("steer.{}", record.steering.messages.len() + 1),
        AgentName::User,
        AgentName::Planner,
        payload,
    );
    let journaled = if reopens {
        journal.append_with_status(message, RunStatus::Running, None).await?
    } else {
        journal.append(message).await?
    };
    Ok(Steered {
        message_id: journaled.id,
        reopened: reopens,
        needs_round: completed && !reopens,
    })
}

/// The message `steer` becomes, or why the run cannot take it.
fn checked(record: &RunRecord, steer: &Steer) -> Result<Payload, SteerError> {
    let run = record.run_id.clone();
    Ok(match steer.clone() {
        Steer::Pin {
            paper_id,
            title,
            passages,
        } => {
            if passages.is_empty() {
                return Err(SteerError::NothingToPin(paper_id));
            }
            Payload::PaperPinned {
                paper_id,
                title,
                passages,
            }
        }
        Steer::Exclude { paper_id, title } => {
            // Before retrieval the evidence is unknown; the schedule then finds out.
            if let Some(evidence) = record.working_evidence()
                && !evidence.is_empty()
                && evidence.iter().all(|p| p.paper_id == paper_id)
            {
                return Err(SteerError::NoEvidenceLeft { run, paper: paper_id });
            }
            Payload::PaperExcluded { paper_id, title }
        }
        Steer::Release { paper_id } => {
            if !record.steering.is_pinned(&paper_id) && !record.steering.is_excluded(&paper_id) {
                return Err(SteerError::NothingToRelease { run, paper: paper_id });
            }
            Payload::PaperReleased { paper_id }
        }
        Steer::Critique {
            hypothesis_id,
            critique,
        } => {
            if !record.hypotheses.contains_key(&hypothesis_id) {
                let known: Vec<&str> = record.hypotheses.keys().map(String::as_str).collect();
                return Err(SteerError::NoSuchHypothesis {
                    run,
                    id: hypothesis_id,
                    known: if known.is_empty() {
                        "none yet".to_owned()
                    } else {
                        known.join(", ")
                    },
                });
            }
            let critique = critique.split_whitespace().collect::<Vec<_>>().join(" ");
            let length = critique.chars().count();
            if length == 0 {
                return Err(SteerError::EmptyCritique);
            }
            if length > CRITIQUE_MAX_CHARS {
                return Err(SteerError::CritiqueTooLong(length));
            }
            Payload::CritiqueAdded {
                hypothesis_id,
                critique,
            }
        }
        Steer::AnotherRound { reason } => {
            if record.rounds() >= MAX_ROUNDS {
                return Err(SteerError::TooManyRounds { run });
            }
            Payload::RoundRequested { reason }
        }
    })
}
