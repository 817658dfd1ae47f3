//! Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009): a
//! document's score is the sum of 1 / (k + rank) over the lists it is in.
//! It needs no score calibration between queries, which BM25 scores of
//! different queries do not have.

use std::collections::HashMap;
use std::hash::Hash;

/// The constant from the paper; it damps the weight of the very top ranks.
pub const RRF_K: f64 = 60.0;

/// Fuses ranked lists (best first) into one, best first; ties keep the
/// order of first appearance, so the result is deterministic.
pub fn reciprocal_rank_fusion<T: Clone + Eq + Hash>(lists: &[Vec<T>], k: f64) -> Vec<(T, f64)> {
    let mut scores: HashMap<&T, (f64, usize)> = HashMap::new();
    let mut order = 0;
    for list in lists {
        let mut seen_in_list = std::collections::HashSet::new();
        for (rank, item) in list.iter().enumerate() {
            // A list that repeats an item counts it once, at its best rank.
            if !seen_in_list.insert(item) {
                continue;
            }
            let entry = scores.entry(item).or_insert_with(|| {
                order += 1;
                (0.0, order)
            });
            entry.0 += 1.0 / (k + rank as f64 + 1.0);
        }
    }
    let mut fused: Vec<(&T, f64, usize)> = scores
        .into_iter()
        .map(|(item, (score, first))| (item, score, first))
        .collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    fused
        .into_iter()
        .map(|(item, score, _)| (item.clone(), score))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_beats_a_single_top_rank() {
        let lists = vec![vec!["a", "b", "c"], vec!["b", "c", "a"], vec!["d", "b"]];
        let fused = reciprocal_rank_fusion(&lists, RRF_K);
        let order: Vec<&str> = fused.iter().map(|(id, _)| *id).collect();
        assert_eq!(order, ["b", "a", "c", "d"]);
        let b = 1.0 / 62.0 + 1.0 / 61.0 + 1.0 / 62.0;
        assert!((fused[0].1 - b).abs() < 1e-12);
    }

    #[test]
    fn ties_keep_first_appearance_and_repeats_count_once() {
        let lists = vec![vec!["x", "x", "y"], vec!["y", "x"]];
        let fused = reciprocal_rank_fusion(&lists, RRF_K);
        assert_eq!(fused.len(), 2);
        // x: first, then second; y: third (the repeat still takes a rank), then first.
        assert_eq!(fused[0].0, "x");
        assert!((fused[0].1 - (1.0 / 61.0 + 1.0 / 62.0)).abs() < 1e-12);
        assert!((fused[1].1 - (1.0 / 63.0 + 1.0 / 61.0)).abs() < 1e-12);
        assert!(reciprocal_rank_fusion::<&str>(&[], RRF_K).is_empty());
    }
}
