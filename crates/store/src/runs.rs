//! Review runs and their message journal.
//!
//! The store does not know what the payloads mean (the bus crate does); it
//! keeps them in order, refuses duplicates, and changes a run's status in
//! the same transaction as the message that ends it.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// One journaled bus message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// Journal order, assigned by the store (0 before it is stored).
    pub seq: i64,
    pub run_id: String,
    pub id: String,
    pub parent_id: Option<String>,
    pub sender: String,
    pub recipient: String,
    pub kind: String,
    /// JSON text.
    pub payload: String,
    pub time_ms: i64,
}

/// A run as listed: its question and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunRow {
    /// Named `run_id` in JSON, as `review --json` and `runs show --json` name it.
    #[serde(rename = "run_id")]
    pub id: String,
    pub question: String,
    pub status: String,
    pub detail: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub messages: i64,
}

impl Store {
    /// Creates a run together with its first message, or neither.
    pub async fn create_run(&self, question: &str, first: &JournalEntry) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO runs (id, question, status, created_ms, updated_ms) VALUES (?, ?, 'running', ?, ?)")
            .bind(&first.run_id)
            .bind(question)
            .bind(first.time_ms)
            .bind(first.time_ms)
            .execute(&mut *tx)
            .await?;
        let seq = insert_message(&mut tx, first).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Appends a message to its run's journal; returns its sequence number.
    /// A message id already in the run is refused (`StoreError::Duplicate`).
    pub async fn append_message(&self, entry: &JournalEntry) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let seq = insert_message(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Appends a message and sets the run's status in one transaction, so a
    /// run is never "completed" without the message that completed it.
    pub async fn append_message_with_status(
        &self,
        entry: &JournalEntry,
        status: &str,
        detail: Option<&str>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let seq = insert_message(&mut tx, entry).await?;
        let updated = sqlx::query("UPDATE runs SET status = ?, detail = ?, updated_ms = ? WHERE id = ?")
            .bind(status)
            .bind(detail)
            .bind(entry.time_ms)
            .bind(&entry.run_id)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NoSuchRun(entry.run_id.clone()));
        }
        tx.commit().await?;
        Ok(seq)
    }

    pub async fn run(&self, id: &str) -> Result<Option<RunRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, question, status, detail, created_ms, updated_ms,
                    (SELECT count(*) FROM run_messages m WHERE m.run_id = runs.id) AS messages
             FROM runs WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// Every run, newest first.
    pub async fn list_runs(&self) -> Result<Vec<RunRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, question, status, detail, created_ms, updated_ms,
                    (SELECT count(*) FROM run_messages m WHERE m.run_id = runs.id) AS messages
             FROM runs ORDER BY created_ms DESC, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// A run's messages after `after_seq` (0 for all), in journal order.
    pub async fn run_messages(&self, run_id: &str, after_seq: i64) -> Result<Vec<JournalEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, run_id, id, parent_id, sender, recipient, kind, payload, time_ms
             FROM run_messages WHERE run_id = ? AND seq > ? ORDER BY seq",
        )
        .bind(run_id)
        .bind(after_seq)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_from_row).collect()
    }
}

async fn insert_message(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, entry: &JournalEntry) -> Result<i64, StoreError> {
    let result = sqlx::query(
        "INSERT INTO run_messages (run_id, id, parent_id, sender, recipient, kind, payload, time_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&entry.run_id)
    .bind(&entry.id)
    .bind(&entry.parent_id)
    .bind(&entry.sender)
    .bind(&entry.recipient)
    .bind(&entry.kind)
    .bind(&entry.payload)
    .bind(entry.time_ms)
    .execute(&mut **tx)
    .await;
    match result {
        Ok(done) => Ok(done.last_insert_rowid()),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Err(StoreError::Duplicate {
            run_id: entry.run_id.clone(),
            id: entry.id.clone(),
        }),
        Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
            Err(StoreError::NoSuchRun(entry.run_id.clone()))
        }
        Err(other) => Err(other.into()),
    }
}

fn run_from_row(row: &SqliteRow) -> Result<RunRow, StoreError> {
    Ok(RunRow {
        id: row.try_get("id")?,
        question: row.try_get("question")?,
        status: row.try_get("status")?,
        detail: row.try_get("detail")?,
        created_ms: row.try_get("created_ms")?,
        updated_ms: row.try_get("updated_ms")?,
        messages: row.try_get("messages")?,
    })
}

fn entry_from_row(row: &SqliteRow) -> Result<JournalEntry, StoreError> {
    Ok(JournalEntry {
        seq: row.try_get("seq")?,
        run_id: row.try_get("run_id")?,
        id: row.try_get("id")?,
        parent_id: row.try_get("parent_id")?,
        sender: row.try_get("sender")?,
        recipient: row.try_get("recipient")?,
        kind: row.try_get("kind")?,
        payload: row.try_get("payload")?,
        time_ms: row.try_get("time_ms")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(run: &str, id: &str) -> JournalEntry {
        JournalEntry {
            seq: 0,
            run_id: run.into(),
            id: id.into(),
            parent_id: None,
            sender: "user".into(),
            recipient: "planner".into(),
            kind: "run_started".into(),
            payload: "{}".into(),
            time_ms: 1,
        }
    }

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("db")).await.expect("open");
        (dir, store)
    }

    #[tokio::test]
    async fn journal_keeps_order_and_refuses_duplicates() {
        let (_dir, store) = store().await;
        store.create_run("q?", &entry("r1", "a")).await.expect("create");
        store.append_message(&entry("r1", "b")).await.expect("append b");
        store.append_message(&entry("r1", "c")).await.expect("append c");
        let duplicate = store.append_message(&entry("r1", "b")).await;
        assert!(
            matches!(duplicate, Err(StoreError::Duplicate { ref id, .. }) if id == "b"),
            "{duplicate:?}"
        );
        let ids: Vec<String> = store
            .run_messages("r1", 0)
            .await
            .expect("read")
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let after_first = store.run_messages("r1", 1).await.expect("read");
        assert_eq!(after_first.len(), 2);
        assert_eq!(store.run("r1").await.expect("run").expect("exists").messages, 3);
    }

    #[tokio::test]
    async fn final_message_and_status_change_together() {
        let (_dir, store) = store().await;
        store.create_run("q?", &entry("r1", "a")).await.expect("create");
        store
            .append_message_with_status(&entry("r1", "end"), "completed", Some("2 rounds"))
            .await
            .expect("finish");
        let run = store.run("r1").await.expect("run").expect("exists");
        assert_eq!(
            (run.status.as_str(), run.detail.as_deref()),
            ("completed", Some("2 rounds"))
        );
        // A duplicate final message changes nothing: the status update rolls back with it.
        let again = store
            .append_message_with_status(&entry("r1", "end"), "failed", None)
            .await;
        assert!(again.is_err());
        assert_eq!(store.run("r1").await.expect("run").expect("exists").status, "completed");
        let unknown = store.append_message(&entry("nope", "x")).await;
        assert!(matches!(unknown, Err(StoreError::NoSuchRun(_))), "{unknown:?}");
        assert_eq!(store.list_runs().await.expect("list").len(), 1);
    }
}
