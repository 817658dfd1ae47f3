//! What the researcher changed about a run while it went on: papers pinned into the evidence or
//! kept out of it, critiques of hypotheses, and rounds asked for. Folded from the journal like
//! everything else, so a resumed or replayed run is steered exactly as the original was.

use std::collections::{BTreeMap, BTreeSet};

use hypatia_core::{PaperId, PassageId};
use hypatia_research::EvidencePassage;
use hypatia_research::{Envelope, Payload};

#[derive(Debug, Clone, PartialEq)]
pub struct PinnedPaper {
    pub paper_id: PaperId,
    pub title: String,
    pub passages: Vec<EvidencePassage>,
}

#[derive(Debug, Clone, Default)]
pub struct Steering {
    /// Papers pinned now, in the order they were pinned.
    pub pinned: Vec<PinnedPaper>,
    /// Papers kept out now, by id, with their titles.
    pub excluded: BTreeMap<PaperId, String>,
    /// The researcher's critiques by hypothesis id, oldest first.
    pub critiques: BTreeMap<String, Vec<String>>,
    /// Rounds asked for beyond the settings'.
    pub extra_rounds: u32,
    /// Every steering message, in journal order.
    pub messages: Vec<Envelope>,
    /// Every passage ever pinned, even if unpinned since: a hypothesis citing one was given it.
    offered: BTreeMap<PassageId, EvidencePassage>,
}

impl Steering {
    /// Folds one steering message in; other messages are ignored.
    pub fn apply(&mut self, envelope: &Envelope) {
        match &envelope.payload {
            Payload::PaperPinned {
                paper_id,
                title,
                passages,
            } => {
                self.excluded.remove(paper_id);
                self.pinned.retain(|pin| &pin.paper_id != paper_id);
                for passage in passages {
                    self.offered.insert(passage.passage_id.clone(), passage.clone());
                }
                self.pinned.push(PinnedPaper {
                    paper_id: paper_id.clone(),
                    title: title.clone(),
                    passages: passages.clone(),
                });
            }
            Payload::PaperExcluded { paper_id, title } => {
                self.pinned.retain(|pin| &pin.paper_id != paper_id);
                self.excluded.insert(paper_id.clone(), title.clone());
            }
            Payload::PaperReleased { paper_id } => {
                self.pinned.retain(|pin| &pin.paper_id != paper_id);
                self.excluded.remove(paper_id);
            }
            Payload::CritiqueAdded {
                hypothesis_id,
                critique,
            } => self
                .critiques
                .entry(hypothesis_id.clone())
                .or_default()
                .push(critique.clone()),
            Payload::RoundRequested { .. } => self.extra_rounds += 1,
            _ => return,
        }
        self.messages.push(envelope.clone());
    }

    pub fn is_pinned(&self, paper: &PaperId) -> bool {
        self.pinned.iter().any(|pin| &pin.paper_id == paper)
    }

    pub fn is_excluded(&self, paper: &PaperId) -> bool {
        self.excluded.contains_key(paper)
    }

    pub fn critiques_of(&self, hypothesis: &str) -> &[String] {
        self.critiques.get(hypothesis).map_or(&[], Vec::as_slice)
    }

    /// Every passage some pin ever offered, by id.
    pub fn offered_passages(&self) -> impl Iterator<Item = &EvidencePassage> {
        self.offered.values()
    }

    /// A passage some pin ever offered.
    pub fn offered(&self, passage: &PassageId) -> Option<&EvidencePassage> {
        self.offered.get(passage)
    }

    /// The evidence tasks are given now: pinned passages first (the researcher says they matter),
    /// then the retrieved ones, less every excluded paper's.
    pub fn working_evidence(&self, retrieved: &[EvidencePassage]) -> Vec<EvidencePassage> {
        let mut seen: BTreeSet<&PassageId> = BTreeSet::new();
        let pinned = self.pinned.iter().flat_map(|pin| pin.passages.iter());
        let kept = retrieved.iter().filter(|p| !self.excluded.contains_key(&p.paper_id));
        pinned
            .chain(kept)
            .filter(|p| seen.insert(&p.passage_id))
            .cloned()
            .collect()
    }
}
