//! Citation edges between papers named by key, and which papers were expanded.

use sqlx::Row;

use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CitationEdgeRow {
    pub citing_key: String,
    pub cited_key: String,
    pub citing_title: Option<String>,
    pub cited_title: Option<String>,
    pub source: String,
}

impl Store {
    /// Stores edges (one already there is kept, and learns a title it lacked) and marks `expanded` as
    /// expanded, in one transaction; returns how many edges were new.
    pub async fn add_citation_edges(
        &self,
        edges: &[CitationEdgeRow],
        expanded: Option<(&str, usize, usize, &str)>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let before: i64 = sqlx::query_scalar("SELECT count(*) FROM citation_edges")
            .fetch_one(&mut *tx)
            .await?;
        for edge in edges {
            sqlx::query(
                "INSERT INTO citation_edges (citing_key, cited_key, citing_title, cited_title, source)
                 VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (citing_key, cited_key) DO UPDATE SET
                     citing_title = coalesce(citation_edges.citing_title, excluded.citing_title),
                     cited_title = coalesce(citation_edges.cited_title, excluded.cited_title)",
            )
            .bind(&edge.citing_key)
            .bind(&edge.cited_key)
            .bind(&edge.citing_title)
            .bind(&edge.cited_title)
            .bind(&edge.source)
            .execute(&mut *tx)
            .await?;
        }
        if let Some((key, references, citations, source)) = expanded {
            sqlx::query(
                "INSERT INTO citation_expansions (paper_key, references_n, citations_n, source) VALUES (?, ?, ?, ?)
                 ON CONFLICT (paper_key) DO UPDATE SET references_n = excluded.references_n,
                     citations_n = excluded.citations_n, source = excluded.source,
                     expanded_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            )
            .bind(key)
            .bind(references as i64)
            .bind(citations as i64)
            .bind(source)
            .execute(&mut *tx)
            .await?;
        }
        let after: i64 = sqlx::query_scalar("SELECT count(*) FROM citation_edges")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((after - before).max(0) as u64)
    }

    pub async fn citation_edges(&self) -> Result<Vec<CitationEdgeRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT citing_key, cited_key, citing_title, cited_title, source FROM citation_edges
             ORDER BY citing_key, cited_key",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(edge_from_row).collect()
    }

    /// The edges whose both ends are among `keys`.
    pub async fn citation_edges_among(&self, keys: &[String]) -> Result<Vec<CitationEdgeRow>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys = serde_json::to_string(keys).map_err(|e| StoreError::corrupt("citation keys", e))?;
        let rows = sqlx::query(
            "SELECT citing_key, cited_key, citing_title, cited_title, source FROM citation_edges
             WHERE citing_key IN (SELECT value FROM json_each(?1))
               AND cited_key IN (SELECT value FROM json_each(?1))
             ORDER BY citing_key, cited_key",
        )
        .bind(keys)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(edge_from_row).collect()
    }

    /// Keys of the papers already expanded.
    pub async fn expanded_papers(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT paper_key FROM citation_expansions ORDER BY paper_key")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

fn edge_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<CitationEdgeRow, StoreError> {
    Ok(CitationEdgeRow {
        citing_key: row.try_get("citing_key")?,
        cited_key: row.try_get("cited_key")?,
        citing_title: row.try_get("citing_title")?,
        cited_title: row.try_get("cited_title")?,
        source: row.try_get("source")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(a: &str, b: &str, title: Option<&str>) -> CitationEdgeRow {
        CitationEdgeRow {
            citing_key: a.into(),
            cited_key: b.into(),
            citing_title: None,
            cited_title: title.map(str::to_owned),
            source: "s2".into(),
        }
    }

    #[tokio::test]
    async fn edges_are_kept_once_and_learn_titles() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("db")).await.expect("open");
        let added = store
            .add_citation_edges(
                &[edge("doi:a", "doi:b", None), edge("doi:a", "doi:c", None)],
                Some(("doi:a", 2, 0, "s2")),
            )
            .await
            .expect("add");
        assert_eq!(added, 2);
        let added = store
            .add_citation_edges(&[edge("doi:a", "doi:b", Some("B"))], None)
            .await
            .expect("add again");
        assert_eq!(added, 0, "the same edge is not stored twice");
        assert_eq!(store.citation_edges().await.expect("read").len(), 2);
        let edges = store.citation_edges().await.expect("read");
        assert_eq!(edges[0].cited_title.as_deref(), Some("B"));
        assert_eq!(store.expanded_papers().await.expect("expanded"), ["doi:a"]);
        let among = store
            .citation_edges_among(&["doi:a".into(), "doi:c".into()])
            .await
            .expect("among");
        assert_eq!(among.len(), 1, "only a → c has both ends among the keys");
        assert_eq!(among[0].cited_key, "doi:c");
    }
}
