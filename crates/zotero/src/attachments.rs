//! Attached files: which are PDFs and where they are on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sqlx::{Row, SqliteConnection};

/// Zotero's link modes: a file it stores, a snapshot of a web page, a file
/// it links to, a link to a web page.
const IMPORTED_FILE: i64 = 0;
const IMPORTED_URL: i64 = 1;
const LINKED_FILE: i64 = 2;

pub(crate) type Found = (Vec<PathBuf>, Vec<String>);

/// Each parent item's PDFs found on disk, and those Zotero lists but the folder lacks.
pub(crate) async fn pdfs(connection: &mut SqliteConnection, dir: &Path) -> Result<BTreeMap<i64, Found>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT a.parentItemID, a.linkMode, a.contentType, a.path, i.key FROM itemAttachments a
         JOIN items i ON i.itemID = a.itemID
         WHERE a.parentItemID IS NOT NULL AND a.itemID NOT IN (SELECT itemID FROM deletedItems)
         ORDER BY a.parentItemID, a.itemID",
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut by_parent: BTreeMap<i64, Found> = BTreeMap::new();
    for row in rows {
        let parent: i64 = row.try_get("parentItemID")?;
        let found = resolve(&row, dir)?;
        let entry = by_parent.entry(parent).or_default();
        match found {
            Some(Ok(path)) => entry.0.push(path),
            Some(Err(why)) => entry.1.push(why),
            None => {}
        }
    }
    Ok(by_parent)
}

/// The file of a top-level attachment item (a PDF added on its own).
pub(crate) async fn own_file(
    connection: &mut SqliteConnection,
    dir: &Path,
    item: i64,
    _key: &str,
) -> Result<Found, sqlx::Error> {
    let row = sqlx::query(
        "SELECT a.linkMode, a.contentType, a.path, i.key FROM itemAttachments a JOIN items i ON i.itemID = a.itemID
         WHERE a.itemID = ?",
    )
    .bind(item)
    .fetch_optional(&mut *connection)
    .await?;
    let mut found = Found::default();
    if let Some(row) = row {
        match resolve(&row, dir)? {
            Some(Ok(path)) => found.0.push(path),
            Some(Err(why)) => found.1.push(why),
            None => {}
        }
    }
    Ok(found)
}

/// `None` for an attachment that is not a PDF file; else its path, or why it cannot be read.
fn resolve(row: &sqlx::sqlite::SqliteRow, dir: &Path) -> Result<Option<Result<PathBuf, String>>, sqlx::Error> {
    let link_mode: i64 = row.try_get("linkMode")?;
    let content_type: Option<String> = row.try_get("contentType")?;
    let path: Option<String> = row.try_get("path")?;
    let key: String = row.try_get("key")?;
    let Some(path) = path else { return Ok(None) };
    let is_pdf = content_type.as_deref() == Some("application/pdf") || path.to_lowercase().ends_with(".pdf");
    if !is_pdf || !matches!(link_mode, IMPORTED_FILE | IMPORTED_URL | LINKED_FILE) {
        return Ok(None);
    }
    let file = if let Some(name) = path.strip_prefix("storage:") {
        dir.join("storage").join(&key).join(name)
    } else if let Some(relative) = path.strip_prefix("attachments:") {
        // Relative to the "linked attachment base directory", a Zotero preference this folder does not record.
        return Ok(Some(Err(format!(
            "`{relative}` is relative to Zotero's linked attachment base directory, which is not known here"
        ))));
    } else {
        PathBuf::from(&path)
    };
    Ok(Some(if file.is_file() {
        Ok(file)
    } else {
        Err(format!("{} is listed but not on disk", file.display()))
    }))
}
