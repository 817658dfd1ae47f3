//! Ranking measures as trec_eval and pytrec_eval compute them.

use std::collections::HashMap;

/// nDCG@k with graded gains (the grade itself) and log2 discounts; the
/// ideal ranking sorts all judged documents by grade.
pub fn ndcg_at_k(ranked: &[String], judged: &HashMap<String, i32>, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(rank, doc)| gain(judged.get(doc).copied()) / (rank as f64 + 2.0).log2())
        .sum();
    let mut grades: Vec<i32> = judged.values().copied().filter(|&g| g > 0).collect();
    grades.sort_unstable_by(|a, b| b.cmp(a));
    let ideal: f64 = grades
        .iter()
        .take(k)
        .enumerate()
        .map(|(rank, &g)| gain(Some(g)) / (rank as f64 + 2.0).log2())
        .sum();
    if ideal == 0.0 { 0.0 } else { dcg / ideal }
}

fn gain(grade: Option<i32>) -> f64 {
    f64::from(grade.unwrap_or(0).max(0))
}

/// Share of the relevant documents found in the top k.
pub fn recall_at_k(ranked: &[String], judged: &HashMap<String, i32>, k: usize) -> f64 {
    let relevant = judged.values().filter(|&&g| g > 0).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranked
        .iter()
        .take(k)
        .filter(|doc| judged.get(*doc).is_some_and(|&g| g > 0))
        .count();
    found as f64 / relevant as f64
}

/// Reciprocal rank of the first relevant document in the top k.
pub fn mrr_at_k(ranked: &[String], judged: &HashMap<String, i32>, k: usize) -> f64 {
    ranked
        .iter()
        .take(k)
        .position(|doc| judged.get(doc).is_some_and(|&g| g > 0))
        .map_or(0.0, |rank| 1.0 / (rank as f64 + 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn measures_match_hand_computed_values() {
        let judged: HashMap<String, i32> = [("a".to_string(), 1), ("b".to_string(), 1), ("z".to_string(), 0)].into();
        let ranked = docs(&["x", "a", "y", "b"]);
        // DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3).
        let expected = (1.0 / 3f64.log2() + 1.0 / 5f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((ndcg_at_k(&ranked, &judged, 10) - expected).abs() < 1e-12);
        assert_eq!(recall_at_k(&ranked, &judged, 2), 0.5);
        assert_eq!(recall_at_k(&ranked, &judged, 100), 1.0);
        assert_eq!(mrr_at_k(&ranked, &judged, 10), 0.5);
        assert_eq!(mrr_at_k(&ranked, &judged, 1), 0.0);
        assert_eq!(ndcg_at_k(&docs(&["a", "b"]), &judged, 10), 1.0);
        assert_eq!(ndcg_at_k(&[], &judged, 10), 0.0);
    }
}
