//! Keeping the index in step with the store.
//!
//! Every store write bumps a change counter and stamps the papers it
//! touched; every index commit records the counter value it reflects. The
//! index is behind exactly when its value is below the store's, and then it
//! re-indexes the papers stamped after its value. A crash between the store
//! commit and the index commit is repaired on the next open.

use hypatia_index::LiteratureIndex;
use hypatia_store::Store;

use crate::ProjectError;

const BATCH: u32 = 2_000;

/// Brings the index up to the store's latest change; returns how many
/// papers were (re)indexed.
pub(crate) async fn catch_up(
    store: &Store,
    index: &LiteratureIndex,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, ProjectError> {
    // The index first: it commits only after the store change it reflects,
    // so read in this order `indexed <= target` unless they truly disagree.
    let indexed = index.indexed_seq()?;
    let target = store.change_seq().await?;
    if indexed == target {
        return Ok(0);
    }
    if indexed > target {
        // An index from another (or a restored) database: it cannot be patched.
        tracing::warn!(indexed, target, "the index is ahead of the database; rebuilding it");
        return rebuild(store, index, progress).await;
    }
    tracing::debug!(indexed, target, "index catching up with the store");
    reindex_since(store, index, indexed, target, false, progress).await
}

/// Empties the index and indexes every paper again, under the index's
/// write lock: what `hypatia reindex` does.
pub(crate) async fn rebuild(
    store: &Store,
    index: &LiteratureIndex,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, ProjectError> {
    let target = store.change_seq().await?;
    reindex_since(store, index, 0, target, true, progress).await
}

async fn reindex_since(
    store: &Store,
    index: &LiteratureIndex,
    indexed: i64,
    target: i64,
    clear_first: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, ProjectError> {
    let mut writer = index.writer()?;
    if clear_first {
        writer.clear()?;
    }
    let mut done = 0u64;
    let mut cursor: Option<(i64, hypatia_core::PaperId)> = None;
    loop {
        let batch = store
            .changed_since(indexed, cursor.as_ref().map(|(seq, id)| (*seq, id)), BATCH)
            .await?;
        let Some(last) = batch.last() else { break };
        cursor = Some((last.change_seq, last.paper.id.clone()));
        for changed in &batch {
            writer.upsert(&changed.paper, &changed.passages)?;
        }
        done += batch.len() as u64;
        progress(done);
    }
    writer.commit(target)?;
    Ok(done)
}
