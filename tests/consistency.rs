//! The store is the source of truth and the index never stays behind it.

use hypatia_core::{PaperRecord, SourceFormat};
use hypatia_project::{Project, SearchRequest};
use hypatia_store::{SourceFile, Store};

/// A new project in `dir` holding one paper, read from a text file.
async fn project_with_paper(dir: &std::path::Path, title: &str, abstract_text: &str) -> Project {
    let project = Project::init(dir, Some("t")).await.expect("init");
    let file = dir.join("a.txt");
    std::fs::write(&file, format!("{title}\n{abstract_text}\n")).expect("write");
    project
        .ingest_file(&file, Default::default(), &|_| {})
        .await
        .expect("ingest");
    project
}

fn record(title: &str, abstract_text: &str) -> (PaperRecord, String) {
    let record = PaperRecord {
        title: title.into(),
        abstract_text: Some(abstract_text.into()),
        ..PaperRecord::default()
    };
    (record, title.into())
}

/// Papers written to the store by a process that died before indexing are
/// indexed the next time the project is opened.
#[tokio::test]
async fn an_index_left_behind_catches_up_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = Project::init(dir.path(), Some("t")).await.expect("init");
    project.close().await;

    let store = Store::open(&dir.path().join(".hypatia/hypatia.db"))
        .await
        .expect("store");
    let file = SourceFile {
        path: "/crash.txt".into(),
        format: SourceFormat::Text,
        sha256: "0".into(),
    };
    let stored = store
        .store_file(
            &file,
            &[record(
                "Superconductivity in layered nickelates",
                "Nickelates superconduct under pressure.",
            )],
            0,
        )
        .await
        .expect("store");
    assert_eq!(stored.outcomes.len(), 1);
    store.close().await;

    let project = Project::open(dir.path()).await.expect("reopen");
    let status = project.status().await.expect("status");
    assert_eq!((status.papers, status.indexed_papers), (1, 1));
    assert_eq!(status.indexed_seq, status.change_seq);
    let hits = project
        .search_papers(&SearchRequest::new("nickelates", 5))
        .expect("search");
    assert_eq!(hits.len(), 1);
}

/// Changing the analyzer in hypatia.toml rebuilds the index from the store.
#[tokio::test]
async fn a_changed_analyzer_rebuilds_the_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = project_with_paper(
        dir.path(),
        "Running experiments on catalysts",
        "We ran many experiments.",
    )
    .await;
    // Stemming matches "run" to "running"; the plain analyzer does not.
    assert_eq!(
        project
            .search_papers(&SearchRequest::new("run", 5))
            .expect("search")
            .len(),
        1
    );
    project.close().await;

    let config = dir.path().join("hypatia.toml");
    let text = std::fs::read_to_string(&config).expect("read");
    std::fs::write(&config, text.replace("analyzer = \"english\"", "analyzer = \"plain\"")).expect("write");
    let project = Project::open(dir.path()).await.expect("reopen");
    assert_eq!(project.status().await.expect("status").analyzer, "plain");
    assert_eq!(
        project
            .search_papers(&SearchRequest::new("run", 5))
            .expect("search")
            .len(),
        0
    );
    assert_eq!(
        project
            .search_papers(&SearchRequest::new("running", 5))
            .expect("search")
            .len(),
        1
    );
}

/// An index built from another database (a restored backup, a deleted
/// .db) is ahead of the store: it is rebuilt, never trusted.
#[tokio::test]
async fn an_index_ahead_of_the_store_is_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = project_with_paper(dir.path(), "Ocean heat content trends since 1960", "Oceans warm.").await;
    project.close().await;
    for name in ["hypatia.db", "hypatia.db-wal", "hypatia.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(".hypatia").join(name));
    }
    let project = Project::open(dir.path()).await.expect("reopen");
    let status = project.status().await.expect("status");
    assert_eq!((status.papers, status.indexed_papers), (0, 0));
    assert!(
        project
            .search_papers(&SearchRequest::new("ocean", 5))
            .expect("search")
            .is_empty()
    );
}

/// While another process holds the index's write lock, a project still
/// opens for reading, and an ingest stores its file, says it is not yet
/// searchable, and is indexed on the next open.
#[tokio::test]
async fn a_busy_index_delays_indexing_but_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    Project::init(dir.path(), Some("t")).await.expect("init").close().await;
    let other = hypatia_index::LiteratureIndex::open(&dir.path().join(".hypatia/index"), Default::default())
        .expect("second handle");
    let lock = other.writer().expect("the other process's writer");

    let project = Project::open(dir.path()).await.expect("opens while busy");
    let file = dir.path().join("a.txt");
    std::fs::write(
        &file,
        "Permafrost carbon feedback estimates\nThawing permafrost releases carbon.\n",
    )
    .expect("write");
    let summary = project
        .ingest_file(&file, Default::default(), &|_| {})
        .await
        .expect("stored");
    assert_eq!(summary.added, 1);
    assert!(
        summary.warnings.iter().any(|w| w.contains("not yet searchable")),
        "{:?}",
        summary.warnings
    );
    assert_eq!(project.status().await.expect("status").indexed_papers, 0);
    project.close().await;

    drop(lock);
    let project = Project::open(dir.path()).await.expect("reopen");
    assert_eq!(
        project
            .search_papers(&SearchRequest::new("permafrost", 5))
            .expect("search")
            .len(),
        1
    );
}

/// Changing the analyzer rebuilds the index, but never under a process
/// that is writing it: that open is refused and the index is left intact.
#[tokio::test]
async fn an_analyzer_change_waits_for_a_busy_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = project_with_paper(dir.path(), "Glacier retreat in the Himalaya", "Glaciers are shrinking.").await;
    project.close().await;

    let index_dir = dir.path().join(".hypatia/index");
    let other = hypatia_index::LiteratureIndex::open(&index_dir, Default::default()).expect("second handle");
    let lock = other.writer().expect("the other process's writer");
    let config = dir.path().join("hypatia.toml");
    let text = std::fs::read_to_string(&config).expect("read");
    std::fs::write(&config, text.replace("analyzer = \"english\"", "analyzer = \"plain\"")).expect("write");
    let refused = Project::open(dir.path()).await.err().expect("refused while busy");
    assert!(
        refused.to_string().contains("another Hypatia process is writing"),
        "{refused}"
    );
    drop(lock);
    assert_eq!(other.counts().0, 1, "the old index is intact");
    drop(other);

    let project = Project::open(dir.path()).await.expect("rebuilt once free");
    assert_eq!(project.status().await.expect("status").analyzer, "plain");
    assert_eq!(
        project
            .search_papers(&SearchRequest::new("glaciers", 5))
            .expect("search")
            .len(),
        1
    );
}
