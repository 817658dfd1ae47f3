//! Search modes and how the two rankings of a hybrid search become one.
//!
//! BM25 scores are unbounded and dense scores are cosines, so they are put on one scale before they
//! are combined: each list's scores are min-max normalised over its candidates (a candidate missing
//! from one list gets that list's 0), then mixed with a fixed weight. Reciprocal rank fusion, which
//! ignores scores, is the alternative; which one, and the weight, were chosen on SciFact's train
//! queries only (BENCHMARKS.md) and are fixed here.

use std::collections::HashMap;
use std::hash::Hash;

/// How a search ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Words: BM25 over the tantivy index.
    Bm25,
    /// Meaning: cosine similarity of embeddings.
    Dense,
    /// Both, fused.
    Hybrid,
}

impl SearchMode {
    pub const ALL: [SearchMode; 3] = [SearchMode::Bm25, SearchMode::Dense, SearchMode::Hybrid];

    pub fn as_str(self) -> &'static str {
        match self {
            SearchMode::Bm25 => "bm25",
            SearchMode::Dense => "dense",
            SearchMode::Hybrid => "hybrid",
        }
    }

    /// Whether the mode needs an embedding model.
    pub fn is_dense(self) -> bool {
        self != SearchMode::Bm25
    }
}

impl std::fmt::Display for SearchMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SearchMode {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "bm25" => Ok(SearchMode::Bm25),
            "dense" => Ok(SearchMode::Dense),
            "hybrid" => Ok(SearchMode::Hybrid),
            other => Err(format!(
                "unknown search mode `{other}` (expected bm25, dense or hybrid)"
            )),
        }
    }
}

/// How a hybrid search combines its two rankings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Fusion {
    /// `dense_weight × dense + (1 − dense_weight) × bm25`, each min-max normalised.
    Convex { dense_weight: f32 },
    /// `Σ 1 / (k + rank)` over the lists a candidate is in.
    Rrf { k: f32 },
}

/// The fusion every hybrid search uses, chosen on SciFact's 809 train queries with all-MiniLM-L6-v2
/// (BENCHMARKS.md, "Dense and hybrid retrieval"): convex weights 0.2 to 0.8 scored 0.719, 0.731,
/// 0.737, **0.742**, 0.737, 0.727, 0.715 nDCG@10; RRF with k 10, 30, 60 scored 0.737, 0.733, 0.730.
pub const DEFAULT_FUSION: Fusion = Fusion::Convex { dense_weight: 0.5 };

/// Candidates each ranking contributes to a hybrid search (and a dense one under filters).
pub const CANDIDATES: usize = 100;

impl std::fmt::Display for Fusion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fusion::Convex { dense_weight } => write!(f, "convex:{dense_weight}"),
            Fusion::Rrf { k } => write!(f, "rrf:{k}"),
        }
    }
}

impl std::str::FromStr for Fusion {
    type Err = String;
    /// `convex:0.4` or `rrf:60`.
    fn from_str(text: &str) -> Result<Self, String> {
        let (kind, value) = text
            .split_once(':')
            .ok_or_else(|| format!("`{text}`: expected convex:WEIGHT or rrf:K"))?;
        let value: f32 = value
            .parse()
            .map_err(|_| format!("`{value}` in `{text}` is not a number"))?;
        match kind {
            "convex" if (0.0..=1.0).contains(&value) => Ok(Fusion::Convex { dense_weight: value }),
            "convex" => Err(format!("the dense weight must be between 0 and 1, not {value}")),
            "rrf" if value >= 0.0 => Ok(Fusion::Rrf { k: value }),
            _ => Err(format!("`{text}`: expected convex:WEIGHT or rrf:K")),
        }
    }
}

/// Two rankings (best first, with their scores) fused into one, best first. Ties keep the BM25
/// order, then the dense order.
pub fn fuse<K: Clone + Eq + Hash>(bm25: &[(K, f32)], dense: &[(K, f32)], fusion: Fusion) -> Vec<(K, f32)> {
    let mut fused: HashMap<K, (f32, usize)> = HashMap::new();
    let mut order = 0usize;
    let mut add = |key: &K, value: f32| {
        let entry = fused.entry(key.clone()).or_insert_with(|| {
            order += 1;
            (0.0, order)
        });
        entry.0 += value;
    };
    match fusion {
        Fusion::Convex { dense_weight } => {
            for (list, weight) in [(bm25, 1.0 - dense_weight), (dense, dense_weight)] {
                let (low, high) = list
                    .iter()
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), (_, s)| {
                        (lo.min(*s), hi.max(*s))
                    });
                let span = high - low;
                for (key, score) in list {
                    let normal = if span > 0.0 { (score - low) / span } else { 1.0 };
                    add(key, weight * normal);
                }
            }
        }
        Fusion::Rrf { k } => {
            for list in [bm25, dense] {
                for (rank, (key, _)) in list.iter().enumerate() {
                    add(key, 1.0 / (k + rank as f32 + 1.0));
                }
            }
        }
    }
    let mut ranked: Vec<(K, f32, usize)> = fused.into_iter().map(|(k, (s, o))| (k, s, o)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    ranked.into_iter().map(|(k, s, _)| (k, s)).collect()
}

/// The query as a sentence for the embedding model: quotes mark phrases for BM25, not meaning.
pub fn query_sentence(query: &str) -> String {
    query.replace('"', " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn convex_fusion_normalises_each_list_and_weighs_them() {
        let bm25 = [("a", 12.0), ("b", 8.0), ("c", 4.0)];
        let dense = [("c", 0.9), ("d", 0.8), ("a", 0.5)];
        let fused = fuse(&bm25, &dense, Fusion::Convex { dense_weight: 0.5 });
        // a: 0.5·1 + 0.5·0 = 0.5; c: 0.5·0 + 0.5·1 = 0.5 (tie: BM25 order first); d: 0.5·0.75; b: 0.5·0.5.
        let keys: Vec<&str> = fused.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, vec!["a", "c", "d", "b"]);
        let only_dense = fuse(&bm25, &dense, Fusion::Convex { dense_weight: 1.0 });
        assert_eq!(only_dense[0].0, "c");
        let only_bm25 = fuse(&bm25, &dense, Fusion::Convex { dense_weight: 0.0 });
        assert_eq!(only_bm25[0].0, "a");
    }

    #[test]
    fn rrf_rewards_agreement_between_the_lists() {
        let bm25 = [("a", 3.0), ("b", 2.0), ("c", 1.0)];
        let dense = [("x", 0.9), ("b", 0.8), ("y", 0.7)];
        let fused = fuse(&bm25, &dense, Fusion::Rrf { k: 60.0 });
        assert_eq!(fused[0].0, "b", "second in both beats first in one");
        assert_eq!(fused[1].0, "a", "ties keep the BM25 order");
        assert_eq!(fused.len(), 5);
    }

    #[test]
    fn fusions_and_modes_parse_and_print() {
        assert_eq!("convex:0.3".parse::<Fusion>(), Ok(Fusion::Convex { dense_weight: 0.3 }));
        assert_eq!("rrf:60".parse::<Fusion>(), Ok(Fusion::Rrf { k: 60.0 }));
        assert!("convex:1.5".parse::<Fusion>().is_err());
        assert!("mean:1".parse::<Fusion>().is_err());
        assert_eq!(Fusion::Rrf { k: 60.0 }.to_string(), "rrf:60");
        for mode in SearchMode::ALL {
            assert_eq!(mode.as_str().parse::<SearchMode>(), Ok(mode));
        }
        assert!("semantic".parse::<SearchMode>().is_err());
        assert_eq!(
            query_sentence("\"heat shock\" proteins  fold"),
            "heat shock proteins fold"
        );
    }
}
