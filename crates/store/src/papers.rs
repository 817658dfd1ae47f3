//! Reading papers and passages back.

use hypatia_core::{Paper, PaperId, Passage, Provenance};
use sqlx::Row;

use crate::documents::{passage_columns, passage_from_row};
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// A paper changed after a given store change, with its passages: what the
/// index needs to catch up.
#[derive(Debug, Clone)]
pub struct ChangedPaper {
    /// The paper, without its sources (the index does not need them).
    pub paper: Paper,
    pub passages: Vec<Passage>,
    pub change_seq: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreCounts {
    pub papers: i64,
    pub passages: i64,
    pub sources: i64,
}

impl Store {
    pub async fn counts(&self) -> Result<StoreCounts, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM papers) AS papers,
                    (SELECT count(*) FROM passages WHERE current = 1) AS passages,
                    (SELECT count(*) FROM paper_sources) AS sources",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(StoreCounts {
            papers: row.try_get("papers")?,
            passages: row.try_get("passages")?,
            sources: row.try_get("sources")?,
        })
    }

    /// The latest store change (0 for an empty store).
    pub async fn change_seq(&self) -> Result<i64, StoreError> {
        let seq: i64 = sqlx::query_scalar("SELECT value FROM counters WHERE name = 'change_seq'")
            .fetch_one(&self.pool)
            .await?;
        Ok(seq)
    }

    /// One paper with its sources, or `None`.
    pub async fn paper(&self, id: &PaperId) -> Result<Option<Paper>, StoreError> {
        let row = sqlx::query(
            "SELECT id, title, abstract, authors, year, venue, doi, arxiv_id, url FROM papers WHERE id = ?",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut paper = paper_from_row(&row)?;
        paper.sources = self.sources(id).await?;
        Ok(Some(paper))
    }

    /// Papers in the order they were first stored, a page at a time.
    pub async fn list_papers(&self, limit: u32, offset: u32) -> Result<Vec<Paper>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, title, abstract, authors, year, venue, doi, arxiv_id, url FROM papers
             ORDER BY created_at, rowid LIMIT ? OFFSET ?",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(paper_from_row).collect()
    }

    /// Where a paper came from.
    pub async fn sources(&self, id: &PaperId) -> Result<Vec<Provenance>, StoreError> {
        let rows = sqlx::query(
            "SELECT path, format, record FROM paper_sources WHERE paper_id = ? ORDER BY first_seen, path, record",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let format: String = row.try_get("format")?;
                Ok(Provenance {
                    path: row.try_get("path")?,
                    format: format
                        .parse()
                        .map_err(|e| StoreError::corrupt("paper_sources.format", e))?,
                    record: row.try_get("record")?,
                })
            })
            .collect()
    }

    /// A paper's passages in order.
    pub async fn passages(&self, id: &PaperId) -> Result<Vec<Passage>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            passage_columns!(),
            " FROM passages WHERE paper_id = ? AND current = 1 ORDER BY ordinal"
        ))
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(passage_from_row).collect()
    }

    /// Which paper each record key of a format maps to, e.g. BEIR `_id`s.
    pub async fn records_of_format(&self, format: &str) -> Result<Vec<(String, PaperId)>, StoreError> {
        let rows = sqlx::query("SELECT record, paper_id FROM paper_sources WHERE format = ?")
            .bind(format)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let paper: String = row.try_get("paper_id")?;
                Ok((
                    row.try_get("record")?,
                    paper
                        .parse()
                        .map_err(|e| StoreError::corrupt("paper_sources.paper_id", e))?,
                ))
            })
            .collect()
    }

    /// Papers whose last change is after `since_seq`, ordered by change then
    /// id, starting after `after` (keyset paging), at most `limit` of them.
    pub async fn changed_since(
        &self,
        since_seq: i64,
        after: Option<(i64, &PaperId)>,
        limit: u32,
    ) -> Result<Vec<ChangedPaper>, StoreError> {
        let (after_seq, after_id) = match after {
            Some((seq, id)) => (seq, id.as_str().to_owned()),
            None => (since_seq, String::new()),
        };
        let rows = sqlx::query(
            "SELECT id, title, abstract, authors, year, venue, doi, arxiv_id, url, change_seq FROM papers
             WHERE change_seq > ? AND (change_seq, id) > (?, ?)
             ORDER BY change_seq, id LIMIT ?",
        )
        .bind(since_seq)
        .bind(after_seq)
        .bind(&after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut changed = Vec::with_capacity(rows.len());
        for row in &rows {
            changed.push(ChangedPaper {
                paper: paper_from_row(row)?,
                passages: Vec::new(),
                change_seq: row.try_get("change_seq")?,
            });
        }
        if changed.is_empty() {
            return Ok(changed);
        }
        let ids: Vec<&str> = changed.iter().map(|c| c.paper.id.as_str()).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| StoreError::corrupt("paper ids", e))?;
        let passage_rows = sqlx::query(concat!(
            "SELECT ",
            passage_columns!(),
            " FROM passages WHERE paper_id IN (SELECT value FROM json_each(?)) AND current = 1
             ORDER BY paper_id, ordinal"
        ))
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        let mut by_paper: std::collections::HashMap<PaperId, Vec<Passage>> = std::collections::HashMap::new();
        for row in &passage_rows {
            let passage = passage_from_row(row)?;
            by_paper.entry(passage.paper_id.clone()).or_default().push(passage);
        }
        for entry in &mut changed {
            entry.passages = by_paper.remove(&entry.paper.id).unwrap_or_default();
        }
        Ok(changed)
    }
}

pub(crate) fn paper_from_row(row: &SqliteRow) -> Result<Paper, StoreError> {
    let id: String = row.try_get("id")?;
    let authors: String = row.try_get("authors")?;
    Ok(Paper {
        id: id.parse().map_err(|e| StoreError::corrupt("papers.id", e))?,
        title: row.try_get("title")?,
        abstract_text: row.try_get("abstract")?,
        authors: serde_json::from_str(&authors)
            .map_err(|e| StoreError::corrupt(format!("papers.authors of {id}"), e))?,
        year: row.try_get("year")?,
        venue: row.try_get("venue")?,
        doi: row.try_get("doi")?,
        arxiv_id: row.try_get("arxiv_id")?,
        url: row.try_get("url")?,
        sources: Vec::new(),
    })
}
