//! Storing a paper's full text: its record matched like any other, then the
//! document attached as a new version (or recognised as one already read),
//! its passages, pages and references, and citation edges for the
//! references that carry a DOI or arXiv id. One transaction.

use hypatia_core::{FULLTEXT_ORDINAL_STRIDE, FullText, PaperId, PaperRecord, Passage, PassageLocation};
use serde_json::json;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// The columns `passage_from_row` reads, for `concat!` into a query.
macro_rules! passage_columns {
    () => {
        "id, paper_id, ordinal, text, section, page, page_end, char_start, char_end, version"
    };
}
pub(crate) use passage_columns;

use crate::ingest::log_ingest;
use crate::{RecordOutcome, SourceFile, Store, StoreError};

/// What storing a document did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    /// What became of the paper record.
    pub outcome: RecordOutcome,
    /// The full-text version the file is.
    pub version: u32,
    /// `false` when this very file (same SHA-256) was already stored for the paper.
    pub new_version: bool,
    pub passages: usize,
    pub references: usize,
    pub change_seq: i64,
}

/// A stored full-text version, for listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DocumentRow {
    pub paper_id: String,
    pub version: u32,
    pub sha256: String,
    pub path: String,
    pub extractor: String,
    pub page_count: u32,
    pub current: bool,
}

impl Store {
    /// Stores a paper read from a document with its full text. A file read
    /// before (same SHA-256, same paper) changes nothing; a different file
    /// for the paper is a new version whose passages get new ids, and the
    /// older version's passages stay (superseded, not searched).
    pub async fn store_document(
        &self,
        file: &SourceFile,
        record: &PaperRecord,
        key: &str,
        fulltext: &FullText,
    ) -> Result<StoredDocument, StoreError> {
        let mut tx = self.pool.begin().await?;
        let change_seq: i64 =
            sqlx::query_scalar("UPDATE counters SET value = value + 1 WHERE name = 'change_seq' RETURNING value")
                .fetch_one(&mut *tx)
                .await?;
        let records = [(record.clone(), key.to_owned())];
        let outcomes = crate::batch::store_chunk(&mut tx, file, &records, change_seq).await?;
        let Some(outcome) = outcomes.first().cloned() else {
            return Err(StoreError::corrupt("store_document", "no outcome for the record"));
        };
        let paper = outcome.paper_id().clone();

        let known: Option<i64> = sqlx::query_scalar("SELECT version FROM documents WHERE paper_id = ? AND sha256 = ?")
            .bind(paper.as_str())
            .bind(&fulltext.sha256)
            .fetch_optional(&mut *tx)
            .await?;
        let stored = match known {
            Some(version) => StoredDocument {
                outcome: outcome.clone(),
                version: u32::try_from(version).map_err(|e| StoreError::corrupt("documents.version", e))?,
                new_version: false,
                passages: 0,
                references: 0,
                change_seq,
            },
            None => {
                let version = add_version(&mut tx, &paper, file, fulltext, change_seq).await?;
                StoredDocument {
                    // A paper that gained full text has changed even if its record had not.
                    outcome: match &outcome {
                        RecordOutcome::Unchanged(id) => RecordOutcome::Merged(id.clone()),
                        other => other.clone(),
                    },
                    version,
                    new_version: true,
                    passages: fulltext.passages.len(),
                    references: fulltext.references.len(),
                    change_seq,
                }
            }
        };
        log_ingest(&mut tx, file, std::slice::from_ref(&stored.outcome), 0).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Whether a file with this SHA-256 was stored as some paper's full text.
    pub async fn has_document(&self, sha256: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM documents WHERE sha256 = ? LIMIT 1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// The stored full-text versions of a paper, oldest first.
    pub async fn documents(&self, paper: &PaperId) -> Result<Vec<DocumentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT paper_id, version, sha256, path, extractor, page_count, current FROM documents
             WHERE paper_id = ? ORDER BY version",
        )
        .bind(paper.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DocumentRow {
                    paper_id: row.try_get("paper_id")?,
                    version: row
                        .try_get::<i64, _>("version")?
                        .try_into()
                        .map_err(|e| StoreError::corrupt("documents.version", e))?,
                    sha256: row.try_get("sha256")?,
                    path: row.try_get("path")?,
                    extractor: row.try_get("extractor")?,
                    page_count: row
                        .try_get::<i64, _>("page_count")?
                        .try_into()
                        .map_err(|e| StoreError::corrupt("documents.page_count", e))?,
                    current: row.try_get::<i64, _>("current")? != 0,
                })
            })
            .collect()
    }

    /// The text of one page of a full-text version, as passage offsets count it.
    pub async fn page_text(&self, paper: &PaperId, version: u32, page: u32) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT text FROM document_pages WHERE paper_id = ? AND version = ? AND page = ?")
                .bind(paper.as_str())
                .bind(version)
                .bind(page)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Any passage by id, current or superseded: what a run cited.
    pub async fn passage(&self, id: &hypatia_core::PassageId) -> Result<Option<Passage>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", passage_columns!(), " FROM passages WHERE id = ?"))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(passage_from_row).transpose()
    }
}

async fn add_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    paper: &PaperId,
    file: &SourceFile,
    fulltext: &FullText,
    change_seq: i64,
) -> Result<u32, StoreError> {
    let latest: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM documents WHERE paper_id = ?")
        .bind(paper.as_str())
        .fetch_one(&mut **tx)
        .await?;
    let version = u32::try_from(latest.unwrap_or(0) + 1).map_err(|e| StoreError::corrupt("documents.version", e))?;
    sqlx::query("UPDATE documents SET current = 0 WHERE paper_id = ?")
        .bind(paper.as_str())
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE passages SET current = 0 WHERE paper_id = ? AND version IS NOT NULL")
        .bind(paper.as_str())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO documents (paper_id, version, sha256, path, extractor, page_count) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(paper.as_str())
    .bind(version)
    .bind(&fulltext.sha256)
    .bind(&file.path)
    .bind(&fulltext.extractor)
    .bind(fulltext.pages.len() as i64)
    .execute(&mut **tx)
    .await?;

    let pages: Vec<_> = fulltext
        .pages
        .iter()
        .enumerate()
        .map(|(i, text)| json!([i + 1, text]))
        .collect();
    insert_rows(
        tx,
        "INSERT INTO document_pages (paper_id, version, page, text)
         SELECT ?1, ?2, value ->> 0, value ->> 1 FROM json_each(?3)",
        paper,
        version,
        &pages,
    )
    .await?;

    let passages: Vec<_> = fulltext
        .passages
        .iter()
        .enumerate()
        .map(|(n, passage)| {
            let n = n as u32;
            let at = &passage.location;
            json!([
                paper.fulltext_passage(version, n).as_str(),
                u64::from(version) * FULLTEXT_ORDINAL_STRIDE + u64::from(n),
                passage.text,
                at.section,
                at.page,
                at.page_end,
                at.start,
                at.end
            ])
        })
        .collect();
    insert_rows(
        tx,
        "INSERT INTO passages (id, paper_id, ordinal, text, section, page, page_end, char_start, char_end, version)
         SELECT value ->> 0, ?1, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6,
                value ->> 7, ?2
         FROM json_each(?3)",
        paper,
        version,
        &passages,
    )
    .await?;

    let references: Vec<_> = fulltext
        .references
        .iter()
        .enumerate()
        .map(|(n, r)| json!([n, r.text, r.doi, r.arxiv_id, r.page]))
        .collect();
    insert_rows(
        tx,
        "INSERT INTO document_references (paper_id, version, ordinal, text, doi, arxiv_id, page)
         SELECT ?1, ?2, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?3)",
        paper,
        version,
        &references,
    )
    .await?;

    add_reference_edges(tx, paper, fulltext).await?;
    // The index re-reads the paper with its new passages.
    sqlx::query("UPDATE papers SET change_seq = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?")
        .bind(change_seq)
        .bind(paper.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(version)
}

/// References with a DOI or an arXiv id become edges of the citation graph,
/// from the paper's strongest key (its DOI, its arXiv id, else its id).
async fn add_reference_edges(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    paper: &PaperId,
    fulltext: &FullText,
) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT title, doi, arxiv_id FROM papers WHERE id = ?")
        .bind(paper.as_str())
        .fetch_one(&mut **tx)
        .await?;
    let title: String = row.try_get("title")?;
    let doi: Option<String> = row.try_get("doi")?;
    let arxiv: Option<String> = row.try_get("arxiv_id")?;
    let citing = match (doi, arxiv) {
        (Some(doi), _) => format!("doi:{}", doi.to_lowercase()),
        (None, Some(arxiv)) => format!("arxiv:{arxiv}"),
        (None, None) => format!("paper:{paper}"),
    };
    let edges: Vec<_> = fulltext
        .references
        .iter()
        .filter_map(|r| {
            let cited = match (&r.doi, &r.arxiv_id) {
                (Some(doi), _) => format!("doi:{}", doi.to_lowercase()),
                (None, Some(arxiv)) => format!("arxiv:{arxiv}"),
                (None, None) => return None,
            };
            (cited != citing).then(|| json!([cited]))
        })
        .collect();
    if edges.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO citation_edges (citing_key, cited_key, citing_title, source)
         SELECT ?1, value ->> 0, ?2, 'pdf' FROM json_each(?3) WHERE true
         ON CONFLICT (citing_key, cited_key) DO NOTHING",
    )
    .bind(&citing)
    .bind(&title)
    .bind(to_json(&edges)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One statement for all rows of a version: `?1` the paper, `?2` the version, `?3` the rows as a
/// JSON array read with `json_each`.
async fn insert_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    sql: &'static str,
    paper: &PaperId,
    version: u32,
    rows: &[serde_json::Value],
) -> Result<(), StoreError> {
    sqlx::query(sql)
        .bind(paper.as_str())
        .bind(version)
        .bind(to_json(rows)?)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn to_json(values: &[serde_json::Value]) -> Result<String, StoreError> {
    serde_json::to_string(values).map_err(|e| StoreError::corrupt("a JSON batch", e))
}

pub(crate) fn passage_from_row(row: &SqliteRow) -> Result<Passage, StoreError> {
    let id: String = row.try_get("id")?;
    let paper: String = row.try_get("paper_id")?;
    let ordinal: i64 = row.try_get("ordinal")?;
    let version: Option<i64> = row.try_get("version")?;
    let location = match version {
        None => None,
        Some(_) => {
            let number = |column: &str| -> Result<u32, StoreError> {
                let value: Option<i64> = row.try_get(column)?;
                value
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| StoreError::corrupt(format!("passages.{column} of {id}"), "missing or out of range"))
            };
            Some(PassageLocation {
                section: row.try_get("section")?,
                page: number("page")?,
                page_end: number("page_end")?,
                start: number("char_start")?,
                end: number("char_end")?,
            })
        }
    };
    Ok(Passage {
        id: id.parse().map_err(|e| StoreError::corrupt("passages.id", e))?,
        paper_id: paper.parse().map_err(|e| StoreError::corrupt("passages.paper_id", e))?,
        ordinal: u64::try_from(ordinal).map_err(|e| StoreError::corrupt("passages.ordinal", e))?,
        text: row.try_get("text")?,
        location,
    })
}

#[cfg(test)]
mod tests {
    use hypatia_core::{FullTextPassage, ReferenceEntry, SourceFormat};

    use super::*;

    fn location(page: u32) -> PassageLocation {
        PassageLocation {
            section: "Results".into(),
            page,
            page_end: page,
            start: 0,
            end: 10,
        }
    }

    fn fulltext(sha: &str, passages: &[&str]) -> FullText {
        FullText {
            sha256: sha.into(),
            extractor: "test".into(),
            pages: vec!["page one".into(), "page two".into()],
            passages: passages
                .iter()
                .enumerate()
                .map(|(i, text)| FullTextPassage {
                    text: (*text).into(),
                    location: location(i as u32 + 1),
                })
                .collect(),
            references: vec![ReferenceEntry {
                text: "A cited paper. doi:10.1000/cited".into(),
                doi: Some("10.1000/cited".into()),
                arxiv_id: None,
                page: 2,
            }],
        }
    }

    fn pdf(sha: &str) -> SourceFile {
        SourceFile {
            path: format!("/papers/{sha}.pdf"),
            format: SourceFormat::Pdf,
            sha256: sha.into(),
        }
    }

    #[tokio::test]
    async fn a_pdf_attaches_to_the_paper_with_its_doi_and_versions_never_rewrite_passages() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("t.db")).await.expect("open");
        let from_bibtex = PaperRecord {
            title: "Engines of Analysis".into(),
            abstract_text: Some("We study engines. They compute numbers.".into()),
            doi: Some("10.1000/engines".into()),
            ..PaperRecord::default()
        };
        let bib = SourceFile {
            path: "/refs.bib".into(),
            format: SourceFormat::Bibtex,
            sha256: "b".into(),
        };
        let stored = store
            .store_file(&bib, &[(from_bibtex.clone(), "eng".into())], 0)
            .await
            .expect("bib");
        let paper = stored.outcomes[0].paper_id().clone();
        let abstract_passages = store.passages(&paper).await.expect("passages");

        // The PDF's first page gives a slightly different title; its DOI finds the paper.
        let from_pdf = PaperRecord {
            title: "Engines of analysis (preprint)".into(),
            doi: Some("10.1000/engines".into()),
            ..PaperRecord::default()
        };
        let first = store
            .store_document(
                &pdf("v1"),
                &from_pdf,
                "document",
                &fulltext("v1", &["Engines weave patterns.", "They also compute."]),
            )
            .await
            .expect("pdf");
        assert_eq!(first.outcome, RecordOutcome::Merged(paper.clone()));
        assert_eq!((first.version, first.new_version, first.passages), (1, true, 2));
        let passages = store.passages(&paper).await.expect("passages");
        assert_eq!(
            &passages[..abstract_passages.len()],
            &abstract_passages[..],
            "abstract passages unchanged"
        );
        let full: Vec<&Passage> = passages.iter().filter(|p| p.location.is_some()).collect();
        assert_eq!(full.len(), 2);
        assert_eq!(full[0].id, paper.fulltext_passage(1, 0));
        assert_eq!(full[1].location.as_ref().map(|l| l.page), Some(2));
        assert_eq!(
            store.page_text(&paper, 1, 2).await.expect("page").as_deref(),
            Some("page two")
        );

        // The same file again changes nothing.
        let again = store
            .store_document(
                &pdf("v1"),
                &from_pdf,
                "document",
                &fulltext("v1", &["Engines weave patterns.", "They also compute."]),
            )
            .await
            .expect("again");
        assert_eq!((again.version, again.new_version), (1, false));
        assert_eq!(store.passages(&paper).await.expect("passages"), passages);

        // A changed file is version 2; version 1's passages stay readable by id, out of search.
        let second = store
            .store_document(
                &pdf("v2"),
                &from_pdf,
                "document",
                &fulltext("v2", &["Engines weave new patterns."]),
            )
            .await
            .expect("v2");
        assert_eq!((second.version, second.new_version), (2, true));
        let current = store.passages(&paper).await.expect("passages");
        assert!(current.iter().all(|p| p.id.fulltext_version() != Some(1)));
        assert!(current.iter().any(|p| p.id == paper.fulltext_passage(2, 0)));
        let cited = store
            .passage(&paper.fulltext_passage(1, 1))
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(cited.text, "They also compute.");
        let documents = store.documents(&paper).await.expect("documents");
        assert_eq!(
            documents.iter().map(|d| (d.version, d.current)).collect::<Vec<_>>(),
            [(1, false), (2, true)]
        );

        // The reference with a DOI is an edge of the citation graph.
        let edges = store.citation_edges().await.expect("edges");
        assert!(
            edges.iter().any(|e| e.citing_key == "doi:10.1000/engines"
                && e.cited_key == "doi:10.1000/cited"
                && e.source == "pdf")
        );
        assert_eq!(store.counts().await.expect("counts").papers, 1);
    }
}
