//! A Zotero library read from its data folder (by default `~/Zotero`): the
//! items of `zotero.sqlite` with their metadata, collections and attached
//! PDFs in `storage/`.
//!
//! Zotero holds its database locked while it runs, so the database is
//! copied first and the copy opened read-only and immutable: reading never
//! waits for Zotero, never writes, and sees one consistent state.

mod attachments;
pub mod fixture;
mod metadata;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hypatia_core::PaperRecord;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, SqliteConnection};

/// The database file in a Zotero data folder.
pub const DATABASE_FILE: &str = "zotero.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum ZoteroError {
    #[error(
        "{dir} is not a Zotero data folder: it has no {DATABASE_FILE} (Zotero shows its data folder under Settings → Advanced → Files and Folders)"
    )]
    NotAZoteroFolder { dir: PathBuf },
    #[error("cannot copy {path} to read it: {source}")]
    Copy {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} cannot be read as a Zotero database: {source}")]
    Database {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("the Zotero library has no collection named `{name}`; its collections are: {}", if available.is_empty() { "(none)".to_owned() } else { available.join(", ") })]
    NoSuchCollection { name: String, available: Vec<String> },
}

/// One item of the library: a paper's metadata and its PDFs.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoteroItem {
    /// `<library id>/<item key>`: how the item is known across runs.
    pub id: String,
    /// Zotero's own type name: `journalArticle`, `preprint`, `attachment` (a PDF on its own), …
    pub item_type: String,
    /// When Zotero last changed the item.
    pub date_modified: String,
    pub record: PaperRecord,
    /// Attached PDFs found on disk.
    pub pdfs: Vec<PathBuf>,
    /// Attached PDFs Zotero lists but this folder does not hold, each with why.
    pub missing: Vec<String>,
}

/// An open Zotero library (a read-only copy of its database).
pub struct ZoteroLibrary {
    dir: PathBuf,
    database: PathBuf,
    pool: SqlitePool,
    // The copy lives as long as the library.
    _copy: tempfile::TempDir,
}

impl ZoteroLibrary {
    /// `~/Zotero`, Zotero's default data folder.
    pub fn default_dir() -> Option<PathBuf> {
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join("Zotero"))
    }

    pub async fn open(dir: &Path) -> Result<ZoteroLibrary, ZoteroError> {
        let database = dir.join(DATABASE_FILE);
        if !database.is_file() {
            return Err(ZoteroError::NotAZoteroFolder { dir: dir.to_owned() });
        }
        let copy = tempfile::tempdir().map_err(|source| ZoteroError::Copy {
            path: database.clone(),
            source,
        })?;
        let copied = copy.path().join(DATABASE_FILE);
        std::fs::copy(&database, &copied).map_err(|source| ZoteroError::Copy {
            path: database.clone(),
            source,
        })?;
        let options = SqliteConnectOptions::new()
            .filename(&copied)
            .read_only(true)
            .immutable(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|source| ZoteroError::Database {
                path: database.clone(),
                source,
            })?;
        Ok(ZoteroLibrary {
            dir: dir.to_owned(),
            database,
            pool,
            _copy: copy,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn database_error(&self) -> impl Fn(sqlx::Error) -> ZoteroError + '_ {
        move |source| ZoteroError::Database {
            path: self.database.clone(),
            source,
        }
    }

    /// Every collection's name, sorted.
    pub async fn collections(&self) -> Result<Vec<String>, ZoteroError> {
        let mut connection = self.pool.acquire().await.map_err(self.database_error())?;
        collection_names(&mut connection).await.map_err(self.database_error())
    }

    /// The library's papers (notes, annotations and deleted items left out),
    /// or those in `collection` and its subcollections. A PDF stored on its
    /// own, without a parent item, is an item too.
    pub async fn items(&self, collection: Option<&str>) -> Result<Vec<ZoteroItem>, ZoteroError> {
        let mut connection = self.pool.acquire().await.map_err(self.database_error())?;
        let in_collection = match collection {
            None => None,
            Some(name) => Some(self.collection_items(&mut connection, name).await?),
        };
        let rows = sqlx::query(
            "SELECT i.itemID, i.libraryID, i.key, i.dateModified, t.typeName
             FROM items i JOIN itemTypes t ON t.itemTypeID = i.itemTypeID
             WHERE t.typeName NOT IN ('note', 'annotation')
               AND i.itemID NOT IN (SELECT itemID FROM deletedItems)
               AND NOT (t.typeName = 'attachment'
                        AND i.itemID IN (SELECT itemID FROM itemAttachments WHERE parentItemID IS NOT NULL))
             ORDER BY i.itemID",
        )
        .fetch_all(&mut *connection)
        .await
        .map_err(self.database_error())?;
        let fields = metadata::fields(&mut connection).await.map_err(self.database_error())?;
        let creators = metadata::authors(&mut connection)
            .await
            .map_err(self.database_error())?;
        let attached = attachments::pdfs(&mut connection, &self.dir)
            .await
            .map_err(self.database_error())?;

        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let item_id: i64 = row.try_get("itemID").map_err(self.database_error())?;
            if in_collection.as_ref().is_some_and(|ids| !ids.contains(&item_id)) {
                continue;
            }
            let item_type: String = row.try_get("typeName").map_err(self.database_error())?;
            let key: String = row.try_get("key").map_err(self.database_error())?;
            let library: i64 = row.try_get("libraryID").map_err(self.database_error())?;
            let empty = BTreeMap::new();
            let item_fields = fields.get(&item_id).unwrap_or(&empty);
            let record = metadata::record(item_fields, creators.get(&item_id).cloned().unwrap_or_default());
            let (pdfs, missing) = if item_type == "attachment" {
                // A PDF on its own: the attachment is the paper.
                attachments::own_file(&mut connection, &self.dir, item_id, &key)
                    .await
                    .map_err(self.database_error())?
            } else {
                attached.get(&item_id).cloned().unwrap_or_default()
            };
            if item_type == "attachment" && pdfs.is_empty() && missing.is_empty() {
                continue; // a web link or a non-PDF file: nothing to read.
            }
            items.push(ZoteroItem {
                id: format!("{library}/{key}"),
                item_type,
                date_modified: row.try_get("dateModified").map_err(self.database_error())?,
                record,
                pdfs,
                missing,
            });
        }
        Ok(items)
    }

    /// Items in the collection named `name` or any collection under it.
    async fn collection_items(
        &self,
        connection: &mut SqliteConnection,
        name: &str,
    ) -> Result<std::collections::BTreeSet<i64>, ZoteroError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT collectionID FROM collections WHERE collectionName = ? LIMIT 1")
                .bind(name)
                .fetch_optional(&mut *connection)
                .await
                .map_err(self.database_error())?;
        if found.is_none() {
            return Err(ZoteroError::NoSuchCollection {
                name: name.to_owned(),
                available: collection_names(connection).await.map_err(self.database_error())?,
            });
        }
        let ids: Vec<i64> = sqlx::query_scalar(
            "WITH RECURSIVE tree(id) AS (
                 SELECT collectionID FROM collections WHERE collectionName = ?1
                 UNION SELECT c.collectionID FROM collections c JOIN tree ON c.parentCollectionID = tree.id)
             SELECT DISTINCT itemID FROM collectionItems WHERE collectionID IN (SELECT id FROM tree)",
        )
        .bind(name)
        .fetch_all(&mut *connection)
        .await
        .map_err(self.database_error())?;
        Ok(ids.into_iter().collect())
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

async fn collection_names(connection: &mut SqliteConnection) -> Result<Vec<String>, sqlx::Error> {
    let mut names: Vec<String> = sqlx::query_scalar("SELECT collectionName FROM collections")
        .fetch_all(&mut *connection)
        .await?;
    names.sort();
    names.dedup();
    Ok(names)
}
