//! Storing one ingested file: every record matched against the store
//! (DOI, then arXiv id, then distinctive normalised title), merged or
//! inserted, all in one transaction.

use hypatia_core::{PaperId, PaperRecord, SourceFormat};
use sqlx::Row;

use crate::{Store, StoreError};

/// The file being stored.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The file's path as the user gave it, made absolute.
    pub path: String,
    pub format: SourceFormat,
    /// SHA-256 of the file's bytes, for the ingest log.
    pub sha256: String,
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// A paper the store did not have.
    Added(PaperId),
    /// A paper the store had: new metadata or a new source was merged in.
    Merged(PaperId),
    /// A paper the store already had from this very record.
    Unchanged(PaperId),
}

impl RecordOutcome {
    pub fn paper_id(&self) -> &PaperId {
        match self {
            RecordOutcome::Added(id) | RecordOutcome::Merged(id) | RecordOutcome::Unchanged(id) => id,
        }
    }
}

/// The result of storing one file.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// One outcome per record, in the order given.
    pub outcomes: Vec<RecordOutcome>,
    /// The store change these writes belong to.
    pub change_seq: i64,
}

/// A row of the ingest log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IngestLog {
    pub path: String,
    pub format: String,
    pub sha256: String,
    pub added: i64,
    pub merged: i64,
    pub unchanged: i64,
    pub skipped: i64,
    pub at: String,
}

/// Records matched and written together; bounds the size of one statement.
const CHUNK_RECORDS: usize = 1_000;

impl Store {
    /// Stores the records of one file (each with its record key: citation
    /// key, BEIR id or `line N`) in a single transaction: either all of them
    /// are stored or, on any error, none. `skipped` is how many invalid
    /// records the caller left out, for the ingest log.
    pub async fn store_file(
        &self,
        file: &SourceFile,
        records: &[(PaperRecord, String)],
        skipped: usize,
    ) -> Result<StoredFile, StoreError> {
        let mut tx = self.pool.begin().await?;
        let change_seq: i64 =
            sqlx::query_scalar("UPDATE counters SET value = value + 1 WHERE name = 'change_seq' RETURNING value")
                .fetch_one(&mut *tx)
                .await?;

        let mut outcomes = Vec::with_capacity(records.len());
        for chunk in records.chunks(CHUNK_RECORDS) {
            outcomes.extend(crate::batch::store_chunk(&mut tx, file, chunk, change_seq).await?);
        }

        log_ingest(&mut tx, file, &outcomes, skipped).await?;
        tx.commit().await?;
        Ok(StoredFile { outcomes, change_seq })
    }

    /// The ingest log, newest first.
    pub async fn ingest_log(&self, limit: u32) -> Result<Vec<IngestLog>, StoreError> {
        let rows = sqlx::query(
            "SELECT path, format, sha256, added, merged, unchanged, skipped, at FROM ingests ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(IngestLog {
                    path: row.try_get("path")?,
                    format: row.try_get("format")?,
                    sha256: row.try_get("sha256")?,
                    added: row.try_get("added")?,
                    merged: row.try_get("merged")?,
                    unchanged: row.try_get("unchanged")?,
                    skipped: row.try_get("skipped")?,
                    at: row.try_get("at")?,
                })
            })
            .collect()
    }
}

/// The ingest log's row for one file, in the file's transaction.
pub(crate) async fn log_ingest(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    file: &SourceFile,
    outcomes: &[RecordOutcome],
    skipped: usize,
) -> Result<(), StoreError> {
    let count = |pred: fn(&RecordOutcome) -> bool| outcomes.iter().filter(|o| pred(o)).count() as i64;
    sqlx::query(
        "INSERT INTO ingests (path, format, sha256, added, merged, unchanged, skipped) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&file.path)
    .bind(file.format.as_str())
    .bind(&file.sha256)
    .bind(count(|o| matches!(o, RecordOutcome::Added(_))))
    .bind(count(|o| matches!(o, RecordOutcome::Merged(_))))
    .bind(count(|o| matches!(o, RecordOutcome::Unchanged(_))))
    .bind(skipped as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("t.db")).await.expect("open");
        (dir, store)
    }

    fn file(name: &str) -> SourceFile {
        SourceFile {
            path: format!("/data/{name}"),
            format: SourceFormat::Bibtex,
            sha256: "0".into(),
        }
    }

    fn paper(title: &str) -> PaperRecord {
        PaperRecord {
            title: title.into(),
            ..PaperRecord::default()
        }
    }

    /// Records keyed "1", "2", … in order, as a file's record keys.
    fn numbered(records: Vec<PaperRecord>) -> Vec<(PaperRecord, String)> {
        records
            .into_iter()
            .enumerate()
            .map(|(i, r)| (r, (i + 1).to_string()))
            .collect()
    }

    fn kinds(stored: &StoredFile) -> Vec<&'static str> {
        stored
            .outcomes
            .iter()
            .map(|o| match o {
                RecordOutcome::Added(_) => "added",
                RecordOutcome::Merged(_) => "merged",
                RecordOutcome::Unchanged(_) => "unchanged",
            })
            .collect()
    }

    #[tokio::test]
    async fn migrations_apply_and_the_database_is_in_wal_mode() {
        let (_dir, store) = store().await;
        assert_eq!(store.journal_mode().await.expect("mode"), "wal");
        let limit: i64 = sqlx::query_scalar("PRAGMA journal_size_limit")
            .fetch_one(&store.pool)
            .await
            .expect("limit");
        assert_eq!(limit, 64 * 1024 * 1024);
        assert_eq!(
            store.applied_migrations().await.expect("migrations"),
            vec![1, 2, 3, 4, 5]
        );
    }

    #[tokio::test]
    async fn a_file_is_stored_all_or_nothing() {
        let (_dir, store) = store().await;
        sqlx::query(
            "CREATE TRIGGER poison BEFORE INSERT ON papers WHEN NEW.title = 'Poisoned record' BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
        )
        .execute(&store.pool)
        .await
        .expect("trigger");
        let mut first = paper("A perfectly good paper on sea ice");
        first.abstract_text = Some("Sea ice is thinning across the Arctic basin every year.".into());
        let records = vec![(first, "a".to_string()), (paper("Poisoned record"), "b".to_string())];
        let err = store
            .store_file(&file("x.bib"), &records, 0)
            .await
            .expect_err("aborted");
        assert!(err.to_string().contains("poisoned"), "{err}");
        let counts = store.counts().await.expect("counts");
        assert_eq!((counts.papers, counts.passages, counts.sources), (0, 0, 0));
        assert_eq!(store.change_seq().await.expect("seq"), 0);
        assert!(store.ingest_log(10).await.expect("log").is_empty());
    }

    #[tokio::test]
    async fn dedup_by_doi_arxiv_and_distinctive_title() {
        let (_dir, store) = store().await;
        let mut by_doi = paper("Deep learning for weather");
        by_doi.doi = Some("10.1/w".into());
        let mut by_arxiv = paper("Scaling laws for neural language models");
        by_arxiv.arxiv_id = Some("2001.08361".into());
        let by_title = paper("Attention is all you need");
        let first = store
            .store_file(
                &file("a.bib"),
                &[(by_doi, "1".into()), (by_arxiv, "2".into()), (by_title, "3".into())],
                0,
            )
            .await
            .expect("store");
        assert_eq!(kinds(&first), vec!["added"; 3]);

        let mut same_doi = paper("Deep Learning for Weather (journal version)");
        same_doi.doi = Some("10.1/w".into());
        same_doi.year = Some(2020);
        let mut same_arxiv = paper("Scaling Laws");
        same_arxiv.arxiv_id = Some("2001.08361".into());
        same_arxiv.doi = Some("10.1/scaling".into());
        let mut same_title = paper("ATTENTION is all you need!");
        same_title.authors = vec!["Ashish Vaswani".into()];
        let second = store
            .store_file(&file("b.ris"), &numbered(vec![same_doi, same_arxiv, same_title]), 0)
            .await
            .expect("store");
        assert_eq!(kinds(&second), vec!["merged"; 3]);
        let weather = store
            .paper(first.outcomes[0].paper_id())
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(weather.title, "Deep learning for weather", "the first title is kept");
        assert_eq!(weather.year, Some(2020), "a missing year is filled");
        assert_eq!(weather.sources.len(), 2);
        let scaling = store
            .paper(first.outcomes[1].paper_id())
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(scaling.doi.as_deref(), Some("10.1/scaling"));
        assert_eq!(store.counts().await.expect("counts").papers, 3);

        // Storing the same file again changes nothing.
        let again = store
            .store_file(&file("a.bib"), &[(paper("Attention is all you need"), "3".into())], 0)
            .await
            .expect("store");
        assert_eq!(kinds(&again), vec!["unchanged"]);
    }

    #[tokio::test]
    async fn duplicates_are_found_across_chunks_of_one_file() {
        let (_dir, store) = store().await;
        let mut records: Vec<(PaperRecord, String)> = (0..CHUNK_RECORDS + 500)
            .map(|i| {
                let mut record = paper(&format!("Distinct study number {i} of coral reef ecology"));
                record.doi = Some(format!("10.1/{i}"));
                (record, format!("k{i}"))
            })
            .collect();
        // The same paper again, in the second chunk, by DOI and by title.
        let mut again_by_doi = paper("Renamed in the journal version");
        again_by_doi.doi = Some("10.1/3".into());
        again_by_doi.venue = Some("Coral Reefs".into());
        records.push((again_by_doi, "dup-doi".into()));
        records.push((
            paper("Distinct study number 7 of coral reef ecology"),
            "dup-title".into(),
        ));
        let stored = store.store_file(&file("big.bib"), &records, 0).await.expect("store");
        let outcomes = kinds(&stored);
        assert_eq!(outcomes.iter().filter(|k| **k == "added").count(), CHUNK_RECORDS + 500);
        assert_eq!(&outcomes[CHUNK_RECORDS + 500..], ["merged", "merged"]);
        assert_eq!(
            stored.outcomes[CHUNK_RECORDS + 500].paper_id(),
            stored.outcomes[3].paper_id()
        );
        assert_eq!(
            stored.outcomes[CHUNK_RECORDS + 501].paper_id(),
            stored.outcomes[7].paper_id()
        );
        let merged = store
            .paper(stored.outcomes[3].paper_id())
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(merged.venue.as_deref(), Some("Coral Reefs"));
        assert_eq!(merged.sources.len(), 2);
    }

    #[tokio::test]
    async fn an_edited_generic_record_is_a_new_paper_and_stays_one() {
        let (_dir, store) = store().await;
        let mut first = paper("Summary");
        first.abstract_text = Some("A summary of a cardiology meeting held in spring.".into());
        let mut edited = paper("Summary");
        edited.abstract_text = Some("A summary of an oncology meeting held in autumn.".into());
        let once = store
            .store_file(&file("notes.bib"), &[(first.clone(), "k".into())], 0)
            .await
            .expect("store");
        let again = store
            .store_file(&file("notes.bib"), &[(first, "k".into())], 0)
            .await
            .expect("store");
        assert_eq!(kinds(&once), vec!["added"]);
        assert_eq!(kinds(&again), vec!["unchanged"]);
        // The record under key k now holds another text: another paper.
        let changed = store
            .store_file(&file("notes.bib"), &[(edited.clone(), "k".into())], 0)
            .await
            .expect("store");
        assert_eq!(kinds(&changed), vec!["added"]);
        // Key k now names two papers; reading the edited record again finds its own.
        for _ in 0..3 {
            let repeat = store
                .store_file(&file("notes.bib"), &[(edited.clone(), "k".into())], 0)
                .await
                .expect("store");
            assert_eq!(kinds(&repeat), vec!["unchanged"]);
            assert_eq!(repeat.outcomes[0].paper_id(), changed.outcomes[0].paper_id());
        }
        assert_eq!(store.counts().await.expect("counts").papers, 2);
    }

    #[tokio::test]
    async fn same_title_is_not_enough_when_other_facts_disagree() {
        let (_dir, store) = store().await;
        let mut original = paper("Graph neural networks in chemistry");
        original.doi = Some("10.1/a".into());
        original.year = Some(2019);
        let mut other_doi = paper("Graph neural networks in chemistry");
        other_doi.doi = Some("10.1/b".into());
        other_doi.year = Some(2020);
        let mut other_decade = paper("Graph neural networks in chemistry");
        other_decade.year = Some(2029);
        let generic_one = paper("Summary");
        let generic_two = paper("Summary");
        let stored = store
            .store_file(
                &file("c.bib"),
                &numbered(vec![original, other_doi, other_decade, generic_one, generic_two]),
                0,
            )
            .await
            .expect("store");
        assert_eq!(kinds(&stored), vec!["added"; 5]);

        // Extreme years compare without overflow; different first authors are different papers.
        let mut ancient = paper("Graph neural networks in chemistry");
        ancient.year = Some(i32::MIN);
        let mut first = paper("A distinctive paper on ice sheet dynamics");
        first.authors = vec!["Ada Lovelace".into()];
        let mut same_surname = paper("A distinctive paper on ice sheet dynamics");
        same_surname.authors = vec!["A. Lovelace".into(), "C. Babbage".into()];
        let mut different = paper("A distinctive paper on ice sheet dynamics");
        different.authors = vec!["Grace Hopper".into()];
        let mut citation_style = paper("A distinctive paper on ice sheet dynamics");
        citation_style.authors = vec!["Lovelace, Ada".into()];
        let stored = store
            .store_file(
                &file("d.bib"),
                &numbered(vec![ancient, first, same_surname, different, citation_style]),
                0,
            )
            .await
            .expect("store");
        assert_eq!(kinds(&stored), vec!["added", "added", "merged", "added", "merged"]);
    }

    #[tokio::test]
    async fn passages_are_made_once_and_keep_their_ids() {
        let (_dir, store) = store().await;
        let bare = paper("Catalysis with single atoms on oxide supports");
        let stored = store
            .store_file(&file("a.bib"), &[(bare, "1".into())], 0)
            .await
            .expect("store");
        let id = stored.outcomes[0].paper_id().clone();
        assert!(store.passages(&id).await.expect("passages").is_empty());

        let mut with_abstract = paper("Catalysis with single atoms on oxide supports");
        with_abstract.abstract_text =
            Some("Single-atom catalysts maximise metal use. They are hard to stabilise on supports.".into());
        store
            .store_file(&file("b.bib"), &[(with_abstract, "1".into())], 0)
            .await
            .expect("store");
        let passages = store.passages(&id).await.expect("passages");
        assert_eq!(passages.len(), 1, "{passages:?}");
        assert_eq!(passages[0].id, id.passage(0));

        let mut rewritten = paper("Catalysis with single atoms on oxide supports");
        rewritten.abstract_text = Some("A different abstract that must not replace the first.".into());
        store
            .store_file(&file("c.bib"), &[(rewritten, "1".into())], 0)
            .await
            .expect("store");
        assert_eq!(store.passages(&id).await.expect("passages"), passages);
        let changed = store.changed_since(0, None, 10).await.expect("changed");
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].passages, passages);
    }
}
