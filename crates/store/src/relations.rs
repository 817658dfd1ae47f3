//! Judgements of how two passages bear on each other, kept per model so later runs reuse them.

use sqlx::Row;

use crate::{Store, StoreError};

/// One stored judgement. `first_id < second_id`: a pair is stored once whichever way it was asked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RelationRow {
    pub first_id: String,
    pub second_id: String,
    /// The model's identity (its description: file or endpoint and served model).
    pub model: String,
    /// agree, contradict or unrelated.
    pub relation: String,
    pub reason: String,
    /// The run that asked.
    pub run_id: String,
    pub judged_at: String,
}

/// One query for a pair, whichever function asks (literal SQL: sqlx audits dynamic strings).
const SELECT_PAIR: &str = "SELECT first_id, second_id, model, relation, reason, run_id, judged_at
     FROM passage_relations WHERE first_id = ? AND second_id = ? AND model = ?";

fn row_of(row: &sqlx::sqlite::SqliteRow) -> Result<RelationRow, StoreError> {
    Ok(RelationRow {
        first_id: row.try_get("first_id")?,
        second_id: row.try_get("second_id")?,
        model: row.try_get("model")?,
        relation: row.try_get("relation")?,
        reason: row.try_get("reason")?,
        run_id: row.try_get("run_id")?,
        judged_at: row.try_get("judged_at")?,
    })
}

/// The pair in stored order.
fn ordered<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    if a <= b { (a, b) } else { (b, a) }
}

impl Store {
    /// What `model` judged of the two passages, in either order, if it was asked before.
    pub async fn passage_relation(&self, a: &str, b: &str, model: &str) -> Result<Option<RelationRow>, StoreError> {
        let (first, second) = ordered(a, b);
        let row = sqlx::query(SELECT_PAIR)
            .bind(first)
            .bind(second)
            .bind(model)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(row_of).transpose()
    }

    /// Stores a judgement unless the same model already judged the pair (two tasks may ask at once):
    /// returns the row the store keeps, the earlier one when there was one.
    pub async fn add_passage_relation(&self, relation: &RelationRow) -> Result<RelationRow, StoreError> {
        let (first, second) = ordered(&relation.first_id, &relation.second_id);
        if first == second {
            return Err(StoreError::Invalid(format!(
                "a passage ({first}) cannot be related to itself"
            )));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO passage_relations (first_id, second_id, model, relation, reason, run_id)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (first_id, second_id, model) DO NOTHING",
        )
        .bind(first)
        .bind(second)
        .bind(&relation.model)
        .bind(&relation.relation)
        .bind(&relation.reason)
        .bind(&relation.run_id)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(SELECT_PAIR)
            .bind(first)
            .bind(second)
            .bind(&relation.model)
            .fetch_one(&mut *tx)
            .await?;
        let stored = row_of(&row)?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Stored judgements, newest first; only those of `relation` when given.
    pub async fn passage_relations(&self, relation: Option<&str>, limit: u32) -> Result<Vec<RelationRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT first_id, second_id, model, relation, reason, run_id, judged_at FROM passage_relations
             WHERE (?1 IS NULL OR relation = ?1) ORDER BY judged_at DESC, first_id, second_id LIMIT ?2",
        )
        .bind(relation)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_of).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(a: &str, b: &str, model: &str, relation: &str) -> RelationRow {
        RelationRow {
            first_id: a.into(),
            second_id: b.into(),
            model: model.into(),
            relation: relation.into(),
            reason: format!("{a} and {b}: {relation}"),
            run_id: "r1".into(),
            judged_at: String::new(),
        }
    }

    #[tokio::test]
    async fn a_pair_is_judged_once_per_model_in_either_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("db")).await.expect("open");
        let first = store
            .add_passage_relation(&judged("pb#1", "pa#0", "m1", "contradict"))
            .await
            .expect("add");
        assert_eq!((first.first_id.as_str(), first.second_id.as_str()), ("pa#0", "pb#1"));
        // A second judgement of the same pair by the same model keeps the first.
        let again = store
            .add_passage_relation(&judged("pa#0", "pb#1", "m1", "agree"))
            .await
            .expect("add again");
        assert_eq!(again.relation, "contradict");
        // Another model's judgement is its own.
        store
            .add_passage_relation(&judged("pa#0", "pb#1", "m2", "agree"))
            .await
            .expect("another model");
        let found = store.passage_relation("pb#1", "pa#0", "m1").await.expect("read");
        assert_eq!(found.map(|r| r.relation), Some("contradict".to_owned()));
        assert!(
            store
                .passage_relation("pa#0", "pc#0", "m1")
                .await
                .expect("read")
                .is_none()
        );
        assert_eq!(store.passage_relations(None, 10).await.expect("all").len(), 2);
        let contradictions = store.passage_relations(Some("contradict"), 10).await.expect("some");
        assert_eq!(contradictions.len(), 1);
        assert!(
            store
                .add_passage_relation(&judged("pa#0", "pa#0", "m1", "agree"))
                .await
                .is_err()
        );
        // The schema refuses a label that is not one of the three.
        assert!(
            store
                .add_passage_relation(&judged("pa#0", "pd#0", "m1", "maybe"))
                .await
                .is_err()
        );
    }
}
