//! `hypatia ingest --zotero` on a Zotero data folder written with Zotero's schema, holding the real
//! papers of `../shared/eval-data/pdfs/` as attachments: metadata from Zotero, full text from the
//! PDFs, a collection as a filter, and a second import that adds nothing.

use serde_json::Value;

use crate::support::{TestProject, shared};
use hypatia_zotero::fixture::{FixtureItem, write_library};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn a_zotero_library_imports_with_full_text_and_a_second_import_adds_nothing() {
    let Some(pdfs) = shared("eval-data/pdfs") else { return };
    let project = TestProject::new();
    let zotero = project.path().join("Zotero");
    let mut expository = FixtureItem {
        key: "SHEN2023".into(),
        item_type: "preprint".into(),
        fields: vec![
            (
                "title".into(),
                "Beyond Summarization: Designing AI Support for Real-World Expository Writing Tasks".into(),
            ),
            ("archiveID".into(), "arXiv:2304.02623".into()),
            ("date".into(), "2023-04-05 2023-04-05".into()),
        ],
        authors: vec![("Zejiang".into(), "Shen".into()), ("Tal".into(), "August".into())],
        collections: vec!["Writing".into()],
        pdf: Some(pdfs.join("2304.02623v1.pdf")),
        ..FixtureItem::default()
    };
    expository.date_modified = "2024-03-01 10:00:00".into();
    let longeval = FixtureItem {
        key: "KRIS2023".into(),
        item_type: "conferencePaper".into(),
        fields: vec![
            (
                "title".into(),
                "LongEval: Guidelines for Human Evaluation of Faithfulness in Long-form Summarization".into(),
            ),
            ("proceedingsTitle".into(), "Proceedings of EACL 2023".into()),
            ("date".into(), "2023-05-00 May 2023".into()),
        ],
        collections: vec!["Evaluation".into()],
        pdf: Some(pdfs.join("2023.eacl-main.121.pdf")),
        ..FixtureItem::default()
    };
    let metadata_only = FixtureItem {
        key: "BELT2019".into(),
        item_type: "conferencePaper".into(),
        fields: vec![
            (
                "title".into(),
                "SciBERT: A Pretrained Language Model for Scientific Text".into(),
            ),
            ("DOI".into(), "10.18653/v1/D19-1371".into()),
        ],
        collections: vec!["Evaluation".into()],
        ..FixtureItem::default()
    };
    runtime()
        .block_on(write_library(&zotero, &[expository, longeval, metadata_only]))
        .expect("write the Zotero library");

    let json = |args: &[&str]| -> Value {
        let output = project.cmd().args(args).output().expect("run");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("json")
    };
    let zotero_arg = zotero.to_string_lossy().into_owned();
    let only = json(&["ingest", "--zotero", &zotero_arg, "--collection", "Writing", "--json"]);
    assert_eq!(
        (
            only["items"].as_u64(),
            only["added"].as_u64(),
            only["pdfs_read"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{only}"
    );

    let all = json(&["ingest", "--zotero", &zotero_arg, "--json"]);
    assert_eq!(all["items"], 3, "{all}");
    assert_eq!(
        (all["added"].as_u64(), all["unchanged"].as_u64()),
        (Some(2), Some(1)),
        "{all}"
    );
    assert_eq!(
        (all["pdfs_read"].as_u64(), all["pdfs_known"].as_u64()),
        (Some(1), Some(1)),
        "{all}"
    );
    let (papers, passages) = project.counts();
    assert_eq!(papers, 3);

    // Zotero's curated title, not the PDF's first page; the full text searchable with its page.
    let listed = json(&["papers", "list", "--json"]);
    let titles: Vec<&str> = listed
        .as_array()
        .expect("papers")
        .iter()
        .filter_map(|p| p["title"].as_str())
        .collect();
    assert!(
        titles.contains(&"LongEval: Guidelines for Human Evaluation of Faithfulness in Long-form Summarization"),
        "{titles:?}"
    );
    let hits = json(&[
        "search",
        "--passages",
        "--json",
        "inter-annotator agreement fine-grained annotations",
    ]);
    assert!(hits[0]["page"].as_u64().is_some(), "{}", hits[0]);

    let again = json(&["ingest", "--zotero", &zotero_arg, "--json"]);
    assert_eq!(
        (
            again["added"].as_u64(),
            again["merged"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(3)),
        "{again}"
    );
    assert_eq!(
        (again["pdfs_read"].as_u64(), again["pdfs_known"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );
    assert_eq!(project.counts(), (papers, passages));
}

#[test]
fn a_missing_collection_and_a_folder_that_is_not_zotero_are_named() {
    let project = TestProject::new();
    let output = project
        .cmd()
        .args(["ingest", "--zotero"])
        .arg(project.path())
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a Zotero data folder"), "{stderr}");

    let zotero = project.path().join("Zotero");
    let item = FixtureItem {
        key: "ONLY2345".into(),
        item_type: "book".into(),
        fields: vec![("title".into(), "A Book".into())],
        collections: vec!["Shelf".into()],
        ..FixtureItem::default()
    };
    runtime().block_on(write_library(&zotero, &[item])).expect("write");
    let output = project
        .cmd()
        .args(["ingest", "--zotero"])
        .arg(&zotero)
        .args(["--collection", "Desk"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no collection named `Desk`; its collections are: Shelf"),
        "{stderr}"
    );
}
