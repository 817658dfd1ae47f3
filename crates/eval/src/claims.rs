//! The citation judge on SciFact: each claim against each abstract it cites, judged supports,
//! contradicts or unrelated by the same call `hypatia answer` makes, and scored per class and overall.

use futures_util::StreamExt;
use hypatia_agentkit::{Thinker, judge_support, task_seed};
use hypatia_core::PaperId;
use hypatia_research::{EvidencePassage, Support};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::EvalError;
use crate::scifact::ClaimExample;

/// A pair's judgement (label and reason), or why the model gave none.
type Outcome = Result<(Support, String), String>;

/// SciFact abstracts are judged whole (a few hundred words); longer text is cut here.
const ABSTRACT_CHARS: usize = 3000;

#[derive(Debug, Clone)]
pub struct ClaimsOptions {
    pub split: String,
    /// Judge only the first this many (claim, abstract) pairs, in the file's order.
    pub limit: Option<usize>,
    pub seed: u64,
    /// Judgements in flight at once.
    pub parallel: usize,
}

/// Precision, recall and F1 of one label (or of SciFact's overall label-only measure).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabelScores {
    pub label: String,
    pub gold: u32,
    pub predicted: u32,
    pub correct: u32,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl LabelScores {
    fn new(label: &str, gold: u32, predicted: u32, correct: u32) -> LabelScores {
        let ratio = |a: u32, b: u32| if b == 0 { 0.0 } else { f64::from(a) / f64::from(b) };
        let precision = ratio(correct, predicted);
        let recall = ratio(correct, gold);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        LabelScores {
            label: label.to_owned(),
            gold,
            predicted,
            correct,
            precision: round4(precision),
            recall: round4(recall),
            f1: round4(f1),
        }
    }
}

/// One pair the judge got wrong or could not answer, for reading the errors.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Judged {
    pub claim_id: u64,
    pub doc_id: u64,
    pub gold: Support,
    /// `None` when the model gave no valid judgement.
    pub predicted: Option<Support>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClaimsReport {
    /// What judged: the backend's description.
    pub model: String,
    pub split: String,
    /// (claim, abstract) pairs in the split, and how many were judged.
    pub pairs_in_split: usize,
    pub pairs: usize,
    pub claims: usize,
    /// Pairs the model gave no valid judgement for (after its re-asks): scored as wrong.
    pub unanswered: usize,
    pub accuracy: f64,
    /// Supports, contradicts, unrelated.
    pub classes: Vec<LabelScores>,
    /// SciFact's abstract-level label-only measure: a pair counts when its gold label is supports
    /// or contradicts and the prediction matches; precision over predicted supports/contradicts.
    pub overall: LabelScores,
    pub macro_f1: f64,
    /// Rows gold, columns predicted (supports, contradicts, unrelated, none).
    pub confusion: [[u32; 4]; 3],
    pub judgements: Vec<Judged>,
}

/// Judges the split's pairs (from [`crate::load_claims`], read before a model is loaded) with `thinker`
/// and scores them. `progress` hears (done, total).
pub async fn evaluate_claims(
    thinker: &Thinker,
    mut examples: Vec<ClaimExample>,
    options: &ClaimsOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &CancellationToken,
) -> Result<ClaimsReport, EvalError> {
    let pairs_in_split = examples.len();
    if let Some(limit) = options.limit {
        examples.truncate(limit);
    }
    let total = examples.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let judged: Vec<(ClaimExample, Outcome)> = futures_util::stream::iter(examples.into_iter().map(|example| {
        let done = &done;
        async move {
            let result = judge(thinker, &example, options.seed, cancel).await;
            progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1, total);
            (example, result)
        }
    }))
    .buffered(options.parallel.max(1))
    .collect()
    .await;
    if cancel.is_cancelled() {
        return Err(EvalError::Cancelled);
    }
    Ok(score(thinker.describe(), options, pairs_in_split, judged))
}

async fn judge(thinker: &Thinker, example: &ClaimExample, seed: u64, cancel: &CancellationToken) -> Outcome {
    let paper_id = PaperId::derive(&format!("scifact:{}", example.doc_id));
    let passage = EvidencePassage {
        passage_id: paper_id.passage(0),
        paper_id,
        title: example.title.clone(),
        year: None,
        text: example.abstract_text.clone(),
        score: 0.0,
        location: None,
    };
    let seed = task_seed(seed, &format!("claim.{}.{}", example.claim_id, example.doc_id));
    match judge_support(thinker, &example.claim, &[passage], ABSTRACT_CHARS, seed, cancel).await {
        Ok((judgements, _)) => judgements
            .into_iter()
            .next()
            .map(|j| (j.label, j.reason))
            .ok_or_else(|| "no judgement".to_owned()),
        Err(failure) => Err(failure.message),
    }
}

fn score(
    model: String,
    options: &ClaimsOptions,
    pairs_in_split: usize,
    judged: Vec<(ClaimExample, Outcome)>,
) -> ClaimsReport {
    let index = |label: Support| Support::ALL.iter().position(|l| *l == label).unwrap_or(2);
    let mut confusion = [[0u32; 4]; 3];
    let mut judgements = Vec::new();
    for (example, result) in &judged {
        let predicted = result.as_ref().ok().map(|(label, _)| *label);
        confusion[index(example.gold)][predicted.map_or(3, index)] += 1;
        judgements.push(Judged {
            claim_id: example.claim_id,
            doc_id: example.doc_id,
            gold: example.gold,
            predicted,
            reason: match result {
                Ok((_, reason)) => reason.clone(),
                Err(error) => error.clone(),
            },
        });
    }
    let gold = |row: usize| confusion[row].iter().sum::<u32>();
    let predicted = |column: usize| confusion.iter().map(|row| row[column]).sum::<u32>();
    let classes: Vec<LabelScores> = Support::ALL
        .iter()
        .enumerate()
        .map(|(i, label)| LabelScores::new(label.as_str(), gold(i), predicted(i), confusion[i][i]))
        .collect();
    // SciFact's label-only measure counts supports and contradicts only.
    let overall = LabelScores::new(
        "supports+contradicts",
        gold(0) + gold(1),
        predicted(0) + predicted(1),
        confusion[0][0] + confusion[1][1],
    );
    let pairs = judged.len();
    let correct: u32 = (0..3).map(|i| confusion[i][i]).sum();
    let claims = judged
        .iter()
        .map(|(e, _)| e.claim_id)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    ClaimsReport {
        model,
        split: options.split.clone(),
        pairs_in_split,
        pairs,
        claims,
        unanswered: predicted(3) as usize,
        accuracy: round4(if pairs == 0 {
            0.0
        } else {
            f64::from(correct) / pairs as f64
        }),
        macro_f1: round4(classes.iter().map(|c| c.f1).sum::<f64>() / 3.0),
        classes,
        overall,
        confusion,
        judgements,
    }
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(claim_id: u64, gold: Support) -> ClaimExample {
        ClaimExample {
            claim_id,
            claim: "C".into(),
            doc_id: claim_id * 10,
            title: "T".into(),
            abstract_text: "A".into(),
            gold,
        }
    }

    #[test]
    fn scores_follow_scifacts_label_only_measure_and_unanswered_pairs_count_as_wrong() {
        use Support::*;
        let judged = vec![
            (example(1, Supports), Ok((Supports, "r".into()))),
            (example(2, Supports), Ok((Unrelated, "r".into()))),
            (example(3, Contradicts), Ok((Supports, "r".into()))),
            (example(4, Unrelated), Ok((Unrelated, "r".into()))),
            (example(5, Unrelated), Ok((Contradicts, "r".into()))),
            (example(6, Contradicts), Err("the model never answered".into())),
        ];
        let options = ClaimsOptions {
            split: "dev".into(),
            limit: None,
            seed: 1,
            parallel: 1,
        };
        let report = score("m".into(), &options, 9, judged);
        assert_eq!(report.pairs, 6);
        assert_eq!(report.unanswered, 1);
        let supports = &report.classes[0];
        assert_eq!((supports.gold, supports.predicted, supports.correct), (2, 2, 1));
        assert_eq!(supports.precision, 0.5);
        let contradicts = &report.classes[1];
        assert_eq!(
            (contradicts.gold, contradicts.predicted, contradicts.correct),
            (2, 1, 0)
        );
        assert_eq!(contradicts.f1, 0.0);
        // Overall: gold S/C 4, predicted S/C 3, correct 1.
        assert_eq!(
            (report.overall.gold, report.overall.predicted, report.overall.correct),
            (4, 3, 1)
        );
        assert_eq!(report.overall.precision, 0.3333);
        assert_eq!(report.overall.recall, 0.25);
        assert_eq!(report.accuracy, 0.3333);
        assert_eq!(report.confusion[2], [0, 1, 1, 0]);
        assert_eq!(report.confusion[1], [1, 0, 0, 1]);
    }
}
