use super::*;
use crate::simd::normalize;

fn identity(model: &str) -> ModelIdentity {
    ModelIdentity {
        model: model.into(),
        dimensions: 3,
    }
}

fn passage(paper: &str, n: u32, text: &str) -> PassageVector {
    PassageVector {
        paper: paper.into(),
        passage: format!("{paper}#{n}"),
        text_hash: text_hash(text),
    }
}

fn unit(values: [f32; 3]) -> Vec<f32> {
    let mut v = values.to_vec();
    normalize(&mut v);
    v
}

#[test]
fn vectors_survive_reopening_with_their_change_counter() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let mut index = VectorIndex::open(dir.path(), identity("m")).expect("opens");
        index.put(passage("a", 0, "x"), &unit([1.0, 0.0, 0.0])).expect("put");
        index.put(passage("b", 0, "y"), &unit([0.0, 1.0, 0.0])).expect("put");
        index.set_embedded_seq(7).expect("counter");
    }
    let index = VectorIndex::open(dir.path(), identity("m")).expect("reopens");
    assert_eq!(index.len(), 2);
    assert_eq!(index.embedded_seq(), 7);
    assert!(index.replaced().is_none());
    let top = index.search_passages(&unit([0.1, 1.0, 0.0]), 1);
    assert_eq!(top[0].0.passage, "b#0");
}

#[test]
fn another_model_empties_the_index_so_vectors_never_mix() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let mut index = VectorIndex::open(dir.path(), identity("m")).expect("opens");
        index.put(passage("a", 0, "x"), &unit([1.0, 0.0, 0.0])).expect("put");
        index.set_embedded_seq(3).expect("counter");
    }
    let index = VectorIndex::open(dir.path(), identity("other")).expect("opens for another model");
    assert_eq!(index.len(), 0);
    assert_eq!(index.embedded_seq(), 0);
    assert_eq!(index.replaced(), Some(&identity("m")));
    drop(index);
    // ...and the first model's vectors are gone for good, not resurrected.
    let again = VectorIndex::open(dir.path(), identity("m")).expect("opens");
    assert_eq!(again.len(), 0);
}

#[test]
fn an_interrupted_embedding_keeps_its_flushed_vectors_but_not_the_counter() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let mut index = VectorIndex::open(dir.path(), identity("m")).expect("opens");
        index.set_embedded_seq(1).expect("counter");
        index.put(passage("a", 0, "x"), &unit([1.0, 0.0, 0.0])).expect("put");
        index.flush().expect("flush");
        // Killed here: the counter was never moved to the new change.
    }
    // A torn record after the flushed ones, as a crash mid-write leaves.
    let log = dir.path().join(LOG_FILE);
    let mut bytes = std::fs::read(&log).expect("log");
    bytes.extend_from_slice(&[1, 9, 0, 0]);
    std::fs::write(&log, bytes).expect("write");
    let mut index = VectorIndex::open(dir.path(), identity("m")).expect("reopens");
    assert_eq!(index.embedded_seq(), 1);
    assert_eq!(index.text_hash_of("a#0"), Some(text_hash("x")));
    index
        .put(passage("b", 0, "y"), &unit([0.0, 1.0, 0.0]))
        .expect("put after the torn tail");
    index.set_embedded_seq(2).expect("counter");
    drop(index);
    let index = VectorIndex::open(dir.path(), identity("m")).expect("reopens");
    assert_eq!(index.len(), 2);
}

#[test]
fn a_replaced_or_removed_passage_leaves_one_vector_or_none() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut index = VectorIndex::open(dir.path(), identity("m")).expect("opens");
    index.put(passage("a", 0, "x"), &unit([1.0, 0.0, 0.0])).expect("put");
    index.put(passage("a", 1, "z"), &unit([0.0, 0.0, 1.0])).expect("put");
    index
        .put(passage("a", 0, "x2"), &unit([0.0, 1.0, 0.0]))
        .expect("replace");
    assert_eq!(index.len(), 2);
    assert_eq!(index.text_hash_of("a#0"), Some(text_hash("x2")));
    index.remove("a", "a#1").expect("remove");
    assert_eq!(index.passages_of("a").len(), 1);
    let top = index.search_papers(&unit([0.0, 1.0, 0.0]), 5);
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].0.passage, "a#0");
    index.set_embedded_seq(4).expect("counter");
    drop(index);
    let index = VectorIndex::open(dir.path(), identity("m")).expect("reopens");
    assert_eq!(index.len(), 1);
    assert!(index.text_hash_of("a#1").is_none());
}

#[test]
fn a_second_writer_opens_read_only_and_cannot_append() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut first = VectorIndex::open(dir.path(), identity("m")).expect("opens");
    first.put(passage("a", 0, "x"), &unit([1.0, 0.0, 0.0])).expect("put");
    first.set_embedded_seq(1).expect("counter");
    let mut second = VectorIndex::open(dir.path(), identity("m")).expect("opens read-only");
    assert!(!second.is_writable());
    assert_eq!(second.len(), 1);
    assert!(second.put(passage("b", 0, "y"), &unit([0.0, 1.0, 0.0])).is_err());
    assert!(matches!(
        first.put(passage("b", 0, "y"), &[1.0]),
        Err(VectorError::Dimensions { expected: 3, found: 1 })
    ));
}

#[test]
fn compaction_keeps_exactly_the_live_vectors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut index = VectorIndex::open(dir.path(), identity("m")).expect("opens");
    for round in 0..12_000 {
        index
            .put(
                passage("a", round % 3, &round.to_string()),
                &unit([1.0, round as f32, 0.0]),
            )
            .expect("put");
    }
    index.set_embedded_seq(9).expect("counter, compacting");
    let size = std::fs::metadata(dir.path().join(LOG_FILE)).expect("log").len();
    drop(index);
    let index = VectorIndex::open(dir.path(), identity("m")).expect("reopens");
    assert_eq!(index.len(), 3);
    assert_eq!(index.text_hash_of("a#0"), Some(text_hash("11997")));
    assert!(size < 1_000, "the log was compacted to {size} bytes");
}
