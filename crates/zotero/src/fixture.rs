//! A Zotero data folder written with Zotero's own schema (its table and
//! column names, as in Zotero 7's `userdata.sql`), for tests and demos: the
//! reader is tested against the layout Zotero writes, not one made up here.

use std::path::{Path, PathBuf};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Executor};

const SCHEMA: &str = "
CREATE TABLE libraries (libraryID INTEGER PRIMARY KEY, type TEXT NOT NULL, editable INT NOT NULL, filesEditable INT NOT NULL,
    version INT NOT NULL DEFAULT 0, storageVersion INT NOT NULL DEFAULT 0, lastSync INT NOT NULL DEFAULT 0, archived INT NOT NULL DEFAULT 0);
CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT, templateItemTypeID INT, display INT DEFAULT 1);
CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT, fieldFormatID INT);
CREATE TABLE fieldsCombined (fieldID INT NOT NULL, fieldName TEXT NOT NULL, label TEXT, fieldFormatID INT, custom INT NOT NULL,
    PRIMARY KEY (fieldID));
CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT);
CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT NOT NULL, dateAdded TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    dateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    libraryID INT NOT NULL, key TEXT NOT NULL, version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0,
    UNIQUE (libraryID, key), FOREIGN KEY (libraryID) REFERENCES libraries(libraryID) ON DELETE CASCADE);
CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value UNIQUE);
CREATE TABLE itemData (itemID INT, fieldID INT, valueID, PRIMARY KEY (itemID, fieldID),
    FOREIGN KEY (itemID) REFERENCES items(itemID) ON DELETE CASCADE, FOREIGN KEY (valueID) REFERENCES itemDataValues(valueID));
CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT, UNIQUE (lastName, firstName, fieldMode));
CREATE TABLE itemCreators (itemID INT NOT NULL, creatorID INT NOT NULL, creatorTypeID INT NOT NULL DEFAULT 1, orderIndex INT NOT NULL DEFAULT 0,
    PRIMARY KEY (itemID, creatorID, creatorTypeID, orderIndex), UNIQUE (itemID, orderIndex));
CREATE TABLE collections (collectionID INTEGER PRIMARY KEY, collectionName TEXT NOT NULL, parentCollectionID INT DEFAULT NULL,
    clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL, key TEXT NOT NULL,
    version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key));
CREATE TABLE collectionItems (collectionID INT NOT NULL, itemID INT NOT NULL, orderIndex INT NOT NULL DEFAULT 0,
    PRIMARY KEY (collectionID, itemID));
CREATE TABLE itemAttachments (itemID INTEGER PRIMARY KEY, parentItemID INT, linkMode INT, contentType TEXT, charsetID INT, path TEXT,
    syncState INT DEFAULT 0, storageModTime INT, storageHash TEXT, lastProcessedModificationTime INT);
CREATE TABLE itemNotes (itemID INTEGER PRIMARY KEY, parentItemID INT, note TEXT, title TEXT);
CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY, dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL);
INSERT INTO libraries VALUES (1, 'user', 1, 1, 0, 0, 0, 0);
INSERT INTO itemTypes (itemTypeID, typeName) VALUES (1, 'note'), (3, 'attachment'), (11, 'book'), (22, 'journalArticle'),
    (10, 'conferencePaper'), (36, 'preprint'), (38, 'annotation');
INSERT INTO creatorTypes VALUES (8, 'author'), (10, 'editor');
";

/// Zotero's field ids for the fields the fixture writes (from its global schema).
const FIELDS: [(i64, &str); 12] = [
    (1, "title"),
    (2, "abstractNote"),
    (6, "date"),
    (13, "url"),
    (16, "extra"),
    (26, "DOI"),
    (38, "publicationTitle"),
    (69, "proceedingsTitle"),
    (110, "repository"),
    (111, "archiveID"),
    (123, "conferenceName"),
    (121, "bookTitle"),
];

/// One item to write.
#[derive(Debug, Clone, Default)]
pub struct FixtureItem {
    /// Zotero's 8-character item key.
    pub key: String,
    /// `journalArticle`, `preprint`, `conferencePaper`, `book`, `note`, or `attachment` (a PDF on its own).
    pub item_type: String,
    pub fields: Vec<(String, String)>,
    /// (first name, last name), in order.
    pub authors: Vec<(String, String)>,
    pub collections: Vec<String>,
    /// A PDF to store as the item's attachment (copied into `storage/<key>/`).
    pub pdf: Option<PathBuf>,
    /// Listed as an attachment but never stored (Zotero set to not sync files).
    pub pdf_missing: bool,
    /// In the trash.
    pub deleted: bool,
    pub date_modified: String,
}

/// Writes `zotero.sqlite` and `storage/` for `items` into `dir` (collections
/// are made by name; a name `Parent/Child` is a subcollection).
pub async fn write_library(dir: &Path, items: &[FixtureItem]) -> Result<(), sqlx::Error> {
    std::fs::create_dir_all(dir.join("storage"))?;
    let options = SqliteConnectOptions::new()
        .filename(dir.join(crate::DATABASE_FILE))
        .create_if_missing(true);
    let mut db = SqliteConnection::connect_with(&options).await?;
    db.execute(SCHEMA).await?;
    for (id, name) in FIELDS {
        sqlx::query("INSERT INTO fields (fieldID, fieldName) VALUES (?, ?)")
            .bind(id)
            .bind(name)
            .execute(&mut db)
            .await?;
        sqlx::query("INSERT INTO fieldsCombined (fieldID, fieldName, custom) VALUES (?, ?, 0)")
            .bind(id)
            .bind(name)
            .execute(&mut db)
            .await?;
    }
    let mut collections: Vec<String> = Vec::new();
    let mut next_item = 1i64;
    for item in items {
        let item_id = next_item;
        next_item += 1;
        let type_id: i64 = sqlx::query_scalar("SELECT itemTypeID FROM itemTypes WHERE typeName = ?")
            .bind(&item.item_type)
            .fetch_one(&mut db)
            .await?;
        let modified = if item.date_modified.is_empty() {
            "2024-01-01 00:00:00"
        } else {
            &item.date_modified
        };
        sqlx::query("INSERT INTO items (itemID, itemTypeID, libraryID, key, dateModified) VALUES (?, ?, 1, ?, ?)")
            .bind(item_id)
            .bind(type_id)
            .bind(&item.key)
            .bind(modified)
            .execute(&mut db)
            .await?;
        for (name, value) in &item.fields {
            let field: i64 = FIELDS
                .iter()
                .find(|(_, n)| n == name)
                .map(|(id, _)| *id)
                .ok_or_else(|| sqlx::Error::Protocol(format!("the fixture knows no field {name}")))?;
            sqlx::query("INSERT OR IGNORE INTO itemDataValues (value) VALUES (?)")
                .bind(value)
                .execute(&mut db)
                .await?;
            sqlx::query("INSERT INTO itemData (itemID, fieldID, valueID) SELECT ?, ?, valueID FROM itemDataValues WHERE value = ?")
                .bind(item_id)
                .bind(field)
                .bind(value)
                .execute(&mut db)
                .await?;
        }
        for (order, (first, last)) in item.authors.iter().enumerate() {
            sqlx::query("INSERT OR IGNORE INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, 0)")
                .bind(first)
                .bind(last)
                .execute(&mut db)
                .await?;
            sqlx::query(
                "INSERT INTO itemCreators (itemID, creatorID, creatorTypeID, orderIndex)
                 SELECT ?, creatorID, 8, ? FROM creators WHERE firstName = ? AND lastName = ?",
            )
            .bind(item_id)
            .bind(order as i64)
            .bind(first)
            .bind(last)
            .execute(&mut db)
            .await?;
        }
        for path in &item.collections {
            let collection = collection_id(&mut db, &mut collections, path).await?;
            sqlx::query("INSERT INTO collectionItems (collectionID, itemID) VALUES (?, ?)")
                .bind(collection)
                .bind(item_id)
                .execute(&mut db)
                .await?;
        }
        if item.deleted {
            sqlx::query("INSERT INTO deletedItems (itemID) VALUES (?)")
                .bind(item_id)
                .execute(&mut db)
                .await?;
        }
        let Some(pdf) = &item.pdf else { continue };
        let name = pdf
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file.pdf".into());
        // A top-level attachment is its own file; a child attachment is an item of its own.
        let (attachment_id, attachment_key, parent) = if item.item_type == "attachment" {
            (item_id, item.key.clone(), None)
        } else {
            let id = next_item;
            next_item += 1;
            // The attachment's own key: the item's, reversed (Zotero's are random).
            let key: String = item.key.chars().rev().collect();
            sqlx::query("INSERT INTO items (itemID, itemTypeID, libraryID, key) VALUES (?, 3, 1, ?)")
                .bind(id)
                .bind(&key)
                .execute(&mut db)
                .await?;
            (id, key, Some(item_id))
        };
        sqlx::query("INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path) VALUES (?, ?, 0, 'application/pdf', ?)")
            .bind(attachment_id)
            .bind(parent)
            .bind(format!("storage:{name}"))
            .execute(&mut db)
            .await?;
        if !item.pdf_missing {
            let folder = dir.join("storage").join(&attachment_key);
            std::fs::create_dir_all(&folder)?;
            std::fs::copy(pdf, folder.join(&name))?;
        }
    }
    db.close().await?;
    Ok(())
}

async fn collection_id(db: &mut SqliteConnection, known: &mut Vec<String>, path: &str) -> Result<i64, sqlx::Error> {
    let mut parent: Option<i64> = None;
    let mut so_far = String::new();
    for name in path.split('/') {
        if !so_far.is_empty() {
            so_far.push('/');
        }
        so_far.push_str(name);
        let id = match known.iter().position(|k| *k == so_far) {
            Some(index) => index as i64 + 1,
            None => {
                known.push(so_far.clone());
                let id = known.len() as i64;
                sqlx::query("INSERT INTO collections (collectionID, collectionName, parentCollectionID, libraryID, key) VALUES (?, ?, ?, 1, ?)")
                    .bind(id)
                    .bind(name)
                    .bind(parent)
                    .bind(format!("C{id:07}"))
                    .execute(&mut *db)
                    .await?;
                id
            }
        };
        parent = Some(id);
    }
    parent.ok_or_else(|| sqlx::Error::Protocol("an empty collection name".into()))
}
