//! Exact nearest-neighbour search: every vector scored against the query. Right up to a few million
//! passages (BENCHMARKS.md measures where it stops being fast enough); an approximate index would
//! implement [`VectorSearch`] too.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::simd::dot;

/// A row of the index and its similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowScore {
    pub row: usize,
    pub score: f32,
}

/// A paper, scored by its best passage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperScore {
    pub paper: u32,
    pub score: f32,
    pub best_row: usize,
}

/// What a vector search structure does: keep rows (each a passage of a paper) and find the ones
/// nearest a query by inner product (cosine, for unit vectors).
pub trait VectorSearch: Send + Sync {
    fn dimensions(&self) -> usize;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Appends a row; its number is the length before.
    fn push(&mut self, paper: u32, vector: &[f32]);
    /// Removes `row`, moving the last row into its place.
    fn swap_remove(&mut self, row: usize);
    fn vector(&self, row: usize) -> &[f32];
    fn paper_of(&self, row: usize) -> u32;
    /// The `limit` rows most similar to `query`, best first.
    fn top_rows(&self, query: &[f32], limit: usize) -> Vec<RowScore>;
    /// The `limit` papers whose best row is most similar to `query`, best first.
    fn top_papers(&self, query: &[f32], limit: usize) -> Vec<PaperScore>;
}

/// All vectors in one contiguous matrix, row after row.
#[derive(Debug, Default)]
pub struct ExactSearch {
    dims: usize,
    data: Vec<f32>,
    papers: Vec<u32>,
}

impl ExactSearch {
    pub fn new(dims: usize) -> Self {
        ExactSearch {
            dims,
            data: Vec::new(),
            papers: Vec::new(),
        }
    }

    /// The scores of rows `range`, with their row numbers.
    fn scores_in<'a>(
        &'a self,
        query: &'a [f32],
        range: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (usize, f32)> + 'a {
        let dims = self.dims.max(1);
        self.data[range.start * dims..range.end * dims]
            .chunks_exact(dims)
            .enumerate()
            .map(move |(offset, vector)| (range.start + offset, dot(vector, query)))
    }

    /// Runs `work` over the rows split among the machine's cores, when there are enough rows for
    /// threads to pay (scanning is bound by memory bandwidth, which one core does not fill).
    fn in_parallel<T: Send>(&self, work: impl Fn(std::ops::Range<usize>) -> T + Sync) -> Vec<T> {
        let rows = self.len();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        if rows < PARALLEL_FROM_ROWS || threads < 2 {
            return vec![work(0..rows)];
        }
        let per_thread = rows.div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let range = (t * per_thread).min(rows)..((t + 1) * per_thread).min(rows);
                    let work = &work;
                    scope.spawn(move || work(range))
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        })
    }
}

/// Below this many rows one thread scans faster than several start.
const PARALLEL_FROM_ROWS: usize = 200_000;

/// A score ordered totally, so a heap can hold it.
#[derive(PartialEq)]
struct Ordered(f32, usize);
impl Eq for Ordered {}
impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Ties go to the lower row, so results do not depend on the heap's order.
        self.0.total_cmp(&other.0).then_with(|| other.1.cmp(&self.1))
    }
}

/// The `limit` best of `scored`, best first, with a heap of `limit` entries.
fn best(scored: impl Iterator<Item = (usize, f32)>, limit: usize) -> Vec<(usize, f32)> {
    if limit == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Reverse<Ordered>> = BinaryHeap::with_capacity(limit + 1);
    for (index, score) in scored {
        if heap.len() < limit {
            heap.push(Reverse(Ordered(score, index)));
        } else if let Some(Reverse(worst)) = heap.peek()
            && Ordered(score, index) > *worst
        {
            heap.pop();
            heap.push(Reverse(Ordered(score, index)));
        }
    }
    let mut best: Vec<(usize, f32)> = heap.into_iter().map(|Reverse(Ordered(s, i))| (i, s)).collect();
    best.sort_by_key(|&(index, score)| Reverse(Ordered(score, index)));
    best
}

impl VectorSearch for ExactSearch {
    fn dimensions(&self) -> usize {
        self.dims
    }

    fn len(&self) -> usize {
        self.papers.len()
    }

    fn push(&mut self, paper: u32, vector: &[f32]) {
        debug_assert_eq!(vector.len(), self.dims);
        self.data.extend_from_slice(vector);
        self.papers.push(paper);
    }

    fn swap_remove(&mut self, row: usize) {
        let last = self.papers.len() - 1;
        if row != last {
            let (head, tail) = self.data.split_at_mut(last * self.dims);
            head[row * self.dims..(row + 1) * self.dims].copy_from_slice(&tail[..self.dims]);
        }
        self.data.truncate(last * self.dims);
        self.papers.swap_remove(row);
    }

    fn vector(&self, row: usize) -> &[f32] {
        &self.data[row * self.dims..(row + 1) * self.dims]
    }

    fn paper_of(&self, row: usize) -> u32 {
        self.papers[row]
    }

    fn top_rows(&self, query: &[f32], limit: usize) -> Vec<RowScore> {
        let partial = self.in_parallel(|range| best(self.scores_in(query, range), limit));
        best(partial.into_iter().flatten(), limit)
            .into_iter()
            .map(|(row, score)| RowScore { row, score })
            .collect()
    }

    fn top_papers(&self, query: &[f32], limit: usize) -> Vec<PaperScore> {
        let papers = self.papers.iter().map(|&p| p as usize + 1).max().unwrap_or(0);
        let partial = self.in_parallel(|range| {
            let mut best_of_paper: Vec<(f32, usize)> = vec![(f32::NEG_INFINITY, usize::MAX); papers];
            for (row, score) in self.scores_in(query, range) {
                let slot = &mut best_of_paper[self.papers[row] as usize];
                if score > slot.0 {
                    *slot = (score, row);
                }
            }
            best_of_paper
        });
        let mut parts = partial.into_iter();
        let mut best_of_paper = parts.next().unwrap_or_default();
        for part in parts {
            for (slot, candidate) in best_of_paper.iter_mut().zip(part) {
                if candidate.0 > slot.0 {
                    *slot = candidate;
                }
            }
        }
        let scored = best_of_paper
            .iter()
            .enumerate()
            .filter(|(_, (_, row))| *row != usize::MAX)
            .map(|(paper, (score, _))| (paper, *score));
        best(scored, limit)
            .into_iter()
            .map(|(paper, score)| PaperScore {
                paper: paper as u32,
                score,
                best_row: best_of_paper[paper].1,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::normalize;

    fn unit(values: &[f32]) -> Vec<f32> {
        let mut v = values.to_vec();
        normalize(&mut v);
        v
    }

    fn matrix() -> ExactSearch {
        let mut search = ExactSearch::new(3);
        search.push(0, &unit(&[1.0, 0.0, 0.0]));
        search.push(0, &unit(&[0.0, 1.0, 0.0]));
        search.push(1, &unit(&[0.9, 0.1, 0.0]));
        search.push(2, &unit(&[0.0, 0.0, 1.0]));
        search
    }

    #[test]
    fn rows_come_best_first_and_limited() {
        let search = matrix();
        let top = search.top_rows(&unit(&[1.0, 0.05, 0.0]), 2);
        assert_eq!(top.iter().map(|r| r.row).collect::<Vec<_>>(), vec![0, 2]);
        assert!(top[0].score > top[1].score);
        assert!(search.top_rows(&unit(&[1.0, 0.0, 0.0]), 0).is_empty());
        assert_eq!(search.top_rows(&unit(&[1.0, 0.0, 0.0]), 10).len(), 4);
    }

    #[test]
    fn a_paper_scores_as_its_best_passage() {
        let search = matrix();
        let top = search.top_papers(&unit(&[0.0, 1.0, 0.0]), 3);
        assert_eq!(top[0].paper, 0);
        assert_eq!(top[0].best_row, 1);
        assert_eq!(top.len(), 3);
        assert_eq!(top[2].paper, 2);
    }

    #[test]
    fn swap_remove_moves_the_last_row_into_the_gap() {
        let mut search = matrix();
        search.swap_remove(0);
        assert_eq!(search.len(), 3);
        assert_eq!(search.paper_of(0), 2);
        assert_eq!(search.vector(0), unit(&[0.0, 0.0, 1.0]).as_slice());
        search.swap_remove(2);
        assert_eq!(search.len(), 2);
        let top = search.top_rows(&unit(&[0.0, 1.0, 0.0]), 5);
        assert_eq!(top[0].row, 1);
    }

    #[test]
    fn a_search_split_among_threads_finds_what_one_thread_finds() {
        let mut search = ExactSearch::new(8);
        let mut rng = 11u64;
        let rows = PARALLEL_FROM_ROWS + 1_234;
        for row in 0..rows {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let v: Vec<f32> = (0..8).map(|i| ((rng >> (i * 8)) & 0xff) as f32 - 127.5).collect();
            search.push((row % 5_000) as u32, &unit(&v));
        }
        let query = unit(&[1.0, -2.0, 0.5, 3.0, 0.0, 1.0, -1.0, 2.0]);
        let serial = best(search.scores_in(&query, 0..rows), 25);
        let parallel = search.top_rows(&query, 25);
        assert_eq!(parallel.iter().map(|r| (r.row, r.score)).collect::<Vec<_>>(), serial);
        let papers = search.top_papers(&query, 10);
        assert_eq!(papers[0].best_row, serial[0].0);
        assert_eq!(papers.len(), 10);
        let mut seen = std::collections::HashSet::new();
        assert!(papers.iter().all(|p| seen.insert(p.paper)), "each paper once");
    }

    #[test]
    fn exact_search_agrees_with_sorting_every_score() {
        let mut rng = 7u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % 2000) as f32 / 1000.0 - 1.0
        };
        let mut search = ExactSearch::new(24);
        for row in 0..500 {
            let v: Vec<f32> = (0..24).map(|_| next()).collect();
            search.push(row % 37, &unit(&v));
        }
        let query = unit(&(0..24).map(|_| next()).collect::<Vec<_>>());
        let mut all: Vec<(usize, f32)> = (0..500).map(|r| (r, dot(search.vector(r), &query))).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top = search.top_rows(&query, 20);
        assert_eq!(
            top.iter().map(|r| r.row).collect::<Vec<_>>(),
            all[..20].iter().map(|r| r.0).collect::<Vec<_>>()
        );
    }
}
