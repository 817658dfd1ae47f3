//! The reader against a Zotero data folder written with Zotero's schema: items and their fields,
//! authors in order, attached and stand-alone PDFs, what the trash and notes hold left out,
//! collections with their subcollections, and reading while Zotero holds its database locked.

use std::path::PathBuf;

use hypatia_zotero::fixture::{FixtureItem, write_library};
use hypatia_zotero::{ZoteroError, ZoteroLibrary};
use sqlx::{Connection, Executor};

fn item(key: &str, item_type: &str, title: &str) -> FixtureItem {
    FixtureItem {
        key: key.into(),
        item_type: item_type.into(),
        fields: vec![("title".into(), title.into())],
        ..FixtureItem::default()
    }
}

fn pdf_file(dir: &std::path::Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let bytes = hypatia_testkit::pdf::paper_pdf(&[
        (
            "1 Introduction",
            &["Analytical engines weave algebraic patterns as a loom weaves flowers."],
        ),
        (
            "2 Results",
            &["The engine computed the Bernoulli numbers without a single error."],
        ),
    ]);
    std::fs::write(&path, bytes).expect("write pdf");
    path
}

async fn library() -> (tempfile::TempDir, ZoteroLibrary) {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = dir.path().join("files");
    std::fs::create_dir(&files).expect("mkdir");
    let zotero = dir.path().join("Zotero");
    let mut article = item("ABCD2345", "journalArticle", "Engines of Analysis");
    article.fields.extend([
        ("date".into(), "1843-00-00 1843".into()),
        ("DOI".into(), "10.1000/engines".into()),
        ("publicationTitle".into(), "Scientific Memoirs".into()),
        ("abstractNote".into(), "The engine weaves algebraic patterns.".into()),
    ]);
    article.authors = vec![("Ada".into(), "Lovelace".into()), ("Charles".into(), "Babbage".into())];
    article.collections = vec!["Reading/Engines".into()];
    article.pdf = Some(pdf_file(&files, "engines.pdf"));
    let mut preprint = item("EFGH6789", "preprint", "Beyond Summarization");
    preprint.fields.extend([
        ("archiveID".into(), "arXiv:2304.02623".into()),
        ("repository".into(), "arXiv".into()),
    ]);
    preprint.collections = vec!["Reading".into()];
    let mut missing = item("JKLM2345", "conferencePaper", "A Paper Whose PDF Was Never Synced");
    missing.pdf = Some(pdf_file(&files, "unsynced.pdf"));
    missing.pdf_missing = true;
    let mut alone = item("NPQR6789", "attachment", "");
    alone.pdf = Some(pdf_file(&files, "loose.pdf"));
    let mut trashed = item("STUV2345", "journalArticle", "Thrown Away");
    trashed.deleted = true;
    let note = item("WXYZ6789", "note", "");
    write_library(&zotero, &[article, preprint, missing, alone, trashed, note])
        .await
        .expect("write library");
    let library = ZoteroLibrary::open(&zotero).await.expect("open");
    (dir, library)
}

#[tokio::test]
async fn items_come_with_their_metadata_and_pdfs_and_without_notes_or_the_trash() {
    let (_dir, library) = library().await;
    let items = library.items(None).await.expect("items");
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["1/ABCD2345", "1/EFGH6789", "1/JKLM2345", "1/NPQR6789"]);

    let article = &items[0];
    assert_eq!(article.record.title, "Engines of Analysis");
    assert_eq!(article.record.authors, ["Ada Lovelace", "Charles Babbage"]);
    assert_eq!(article.record.year, Some(1843));
    assert_eq!(article.record.doi.as_deref(), Some("10.1000/engines"));
    assert_eq!(article.record.venue.as_deref(), Some("Scientific Memoirs"));
    assert_eq!(article.pdfs.len(), 1);
    // Stored under the attachment item's key, as Zotero stores files.
    assert!(
        article.pdfs[0].ends_with("storage/5432DCBA/engines.pdf"),
        "{:?}",
        article.pdfs
    );
    assert!(article.pdfs[0].is_file());

    assert_eq!(items[1].record.arxiv_id.as_deref(), Some("arXiv:2304.02623"));
    assert!(items[1].pdfs.is_empty());
    assert!(items[2].pdfs.is_empty());
    assert!(items[2].missing[0].contains("not on disk"), "{:?}", items[2].missing);
    assert_eq!(items[3].item_type, "attachment");
    assert!(items[3].pdfs[0].ends_with("loose.pdf"));
}

#[tokio::test]
async fn a_collection_holds_its_subcollections_items_and_an_unknown_one_names_the_others() {
    let (_dir, library) = library().await;
    let reading = library.items(Some("Reading")).await.expect("items");
    let titles: Vec<&str> = reading.iter().map(|i| i.record.title.as_str()).collect();
    assert_eq!(titles, ["Engines of Analysis", "Beyond Summarization"]);
    let engines = library.items(Some("Engines")).await.expect("items");
    assert_eq!(engines.len(), 1);
    match library.items(Some("Nope")).await {
        Err(error @ ZoteroError::NoSuchCollection { .. }) => {
            assert!(error.to_string().contains("Engines, Reading"), "{error}");
        }
        other => panic!("expected NoSuchCollection, got {other:?}"),
    }
}

#[tokio::test]
async fn the_library_reads_while_zotero_holds_its_database_locked() {
    let (dir, first) = library().await;
    first.close().await;
    let database = dir.path().join("Zotero/zotero.sqlite");
    // Zotero keeps an exclusive lock on its database while it runs.
    let mut zotero = sqlx::SqliteConnection::connect(&format!("sqlite://{}", database.display()))
        .await
        .expect("connect");
    zotero
        .execute("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
        .await
        .expect("lock");
    let library = ZoteroLibrary::open(&dir.path().join("Zotero"))
        .await
        .expect("open while locked");
    assert_eq!(library.items(None).await.expect("items").len(), 4);
    zotero.execute("ROLLBACK").await.expect("unlock");
    // Never written: the file is as Zotero left it.
    let before = std::fs::metadata(&database).expect("meta").modified().expect("mtime");
    library.close().await;
    assert_eq!(
        std::fs::metadata(&database).expect("meta").modified().expect("mtime"),
        before
    );
}

#[tokio::test]
async fn a_folder_without_a_database_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    match ZoteroLibrary::open(dir.path()).await {
        Err(error @ ZoteroError::NotAZoteroFolder { .. }) => assert!(error.to_string().contains("zotero.sqlite")),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("opened a folder without a database"),
    }
}
