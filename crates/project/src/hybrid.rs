//! Dense and hybrid hits: the dense candidates checked against the request's filters in the index,
//! fused with BM25's ranking, cut to the limit, and given snippets, for papers and passages alike.

use std::collections::{HashMap, HashSet};

use hypatia_core::{PaperId, PassageId};
use hypatia_index::{MAX_LIMIT, PaperHit, PassageHit, SearchRequest};

use crate::ProjectError;
use crate::retrieval::{CANDIDATES, Fusion, SearchMode, fuse};

/// A search hit of either kind, as the merging of rankings sees it.
pub(crate) trait Hit: Sized {
    type Id: Clone + Eq + std::hash::Hash;
    fn id(&self) -> &Self::Id;
    fn score(&self) -> f32;
    fn scored(self, score: f32) -> Self;
    /// This hit with the snippet or highlights of `shown`.
    fn shown_as(self, shown: Self) -> Self;
}

impl Hit for PaperHit {
    type Id = PaperId;
    fn id(&self) -> &PaperId {
        &self.paper_id
    }
    fn score(&self) -> f32 {
        self.score
    }
    fn scored(self, score: f32) -> Self {
        PaperHit { score, ..self }
    }
    fn shown_as(self, shown: Self) -> Self {
        PaperHit {
            snippet: shown.snippet,
            ..self
        }
    }
}

impl Hit for PassageHit {
    type Id = PassageId;
    fn id(&self) -> &PassageId {
        &self.passage_id
    }
    fn score(&self) -> f32 {
        self.score
    }
    fn scored(self, score: f32) -> Self {
        PassageHit { score, ..self }
    }
    fn shown_as(self, shown: Self) -> Self {
        PassageHit {
            text: shown.text,
            ..self
        }
    }
}

/// The hits of a dense or hybrid search: the dense `candidates` (best first) checked against the
/// request's filters by `lookup`, fused with `bm25`'s ranking for hybrid, cut to the limit; the
/// snippets of the hits returned, only, are made at the end.
pub(crate) fn merge<H: Hit>(
    request: &SearchRequest<'_>,
    mode: SearchMode,
    fusion: Fusion,
    candidates: Vec<(H::Id, f32)>,
    bm25: impl Fn(&SearchRequest<'_>) -> Result<Vec<H>, ProjectError>,
    lookup: impl Fn(&[H::Id], &SearchRequest<'_>) -> Result<Vec<H>, ProjectError>,
) -> Result<Vec<H>, ProjectError> {
    let limit = request.limit.clamp(1, MAX_LIMIT);
    let gather = SearchRequest {
        snippets: false,
        ..*request
    };
    let words = match mode {
        SearchMode::Hybrid => bm25(&SearchRequest {
            limit: limit.max(CANDIDATES),
            ..gather
        })?,
        _ => Vec::new(),
    };
    let known: HashSet<&H::Id> = words.iter().map(Hit::id).collect();
    let unknown: Vec<H::Id> = candidates
        .iter()
        .map(|(id, _)| id.clone())
        .filter(|id| !known.contains(id))
        .collect();
    let mut hits: HashMap<H::Id, H> = lookup(&unknown, &gather)?
        .into_iter()
        .map(|hit| (hit.id().clone(), hit))
        .collect();
    // Dense candidates the filters exclude are gone from `hits`, and so from the ranking.
    let dense_ranked: Vec<(H::Id, f32)> = candidates
        .into_iter()
        .filter(|(id, _)| known.contains(id) || hits.contains_key(id))
        .take(limit.max(CANDIDATES))
        .collect();
    let words_ranked: Vec<(H::Id, f32)> = words.iter().map(|hit| (hit.id().clone(), hit.score())).collect();
    hits.extend(words.into_iter().map(|hit| (hit.id().clone(), hit)));
    let ranked = match mode {
        SearchMode::Hybrid => fuse(&words_ranked, &dense_ranked, fusion),
        _ => dense_ranked,
    };
    let top: Vec<H> = ranked
        .into_iter()
        .filter_map(|(id, score)| hits.remove(&id).map(|hit| hit.scored(score)))
        .take(limit)
        .collect();
    if !request.snippets {
        return Ok(top);
    }
    let ids: Vec<H::Id> = top.iter().map(|hit| hit.id().clone()).collect();
    let mut shown: HashMap<H::Id, H> = lookup(&ids, request)?
        .into_iter()
        .map(|hit| (hit.id().clone(), hit))
        .collect();
    Ok(top
        .into_iter()
        .map(|hit| match shown.remove(hit.id()) {
            Some(shown) => hit.shown_as(shown),
            None => hit,
        })
        .collect())
}

/// Dense candidates to fetch: under a filter many are excluded, so more are fetched.
pub(crate) fn dense_pool(request: &SearchRequest<'_>) -> usize {
    let pool = request.limit.clamp(1, MAX_LIMIT).max(CANDIDATES);
    if request.years.is_some() || request.author.is_some() {
        pool * 10
    } else {
        pool
    }
}
