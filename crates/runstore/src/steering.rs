//! Steering as the CLI and the terminal UI offer it: papers named by id and read from the
//! project, then checked against the run (`steer.rs`) and journaled.

use hypatia_bus::RunJournal;
use hypatia_core::PaperId;
use hypatia_project::Project;
use hypatia_research::EvidencePassage;

use crate::RunError;
use crate::steer::{Steer, Steered, journal_steer};

/// Passages of a pinned paper given to the agents: its first sentences, where an abstract
/// states what the paper is about.
pub const PIN_PASSAGES: usize = 6;

/// What the researcher asks, with papers by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SteerAction {
    Pin(PaperId),
    Exclude(PaperId),
    Release(PaperId),
    Critique { hypothesis: String, critique: String },
    AnotherRound { reason: String },
}

/// Journals `action` for `run_id` after checking it against the run.
pub async fn steer(project: &Project, run_id: &str, action: SteerAction) -> Result<Steered, RunError> {
    let steer = match action {
        SteerAction::Pin(paper_id) => {
            let (paper, passages) = project
                .paper(&paper_id)
                .await?
                .ok_or_else(|| RunError::NoSuchPaper(paper_id.to_string()))?;
            let passages = passages
                .into_iter()
                .take(PIN_PASSAGES)
                .map(|passage| EvidencePassage {
                    passage_id: passage.id,
                    paper_id: paper.id.clone(),
                    title: paper.title.clone(),
                    year: paper.year,
                    text: passage.text,
                    // Not ranked by retrieval: the researcher put it there.
                    score: 0.0,
                    location: passage.location,
                })
                .collect();
            Steer::Pin {
                paper_id,
                title: paper.title,
                passages,
            }
        }
        SteerAction::Exclude(paper_id) => {
            let (paper, _) = project
                .paper(&paper_id)
                .await?
                .ok_or_else(|| RunError::NoSuchPaper(paper_id.to_string()))?;
            Steer::Exclude {
                paper_id,
                title: paper.title,
            }
        }
        SteerAction::Release(paper_id) => Steer::Release { paper_id },
        SteerAction::Critique { hypothesis, critique } => Steer::Critique {
            hypothesis_id: hypothesis,
            critique,
        },
        SteerAction::AnotherRound { reason } => Steer::AnotherRound { reason },
    };
    let journal = RunJournal::new(project.store());
    Ok(journal_steer(&journal, run_id, steer).await?)
}
