use predicates::prelude::*;
use serde_json::Value;

use crate::support::{TestProject, data};

fn paper_with_title<'a>(papers: &'a Value, title: &str) -> &'a Value {
    papers
        .as_array()
        .and_then(|all| all.iter().find(|p| p["title"] == title))
        .unwrap_or_else(|| panic!("no paper titled {title} in {papers}"))
}

#[test]
fn bibtex_is_decoded_from_latex() {
    let project = TestProject::new();
    project
        .ingest(&["library.bib"])
        .success()
        .stdout(predicate::str::contains("3 added"));
    let papers = project.json(&["papers", "list", "--json"]);
    let muller = paper_with_title(&papers, "Café Ökonomie and the CRISPR Screen");
    assert_eq!(muller["authors"], serde_json::json!(["Jörg Müller", "María Nuñez"]));
    assert_eq!(muller["venue"], "Nature Machine Intelligence");
    assert_eq!(muller["doi"], "10.5555/hypatia.0001");
    let cosci = paper_with_title(&papers, "Towards an AI co-scientist");
    assert_eq!(cosci["arxiv_id"], "2502.18864");
    assert_eq!(cosci["year"], 2025);
}

#[test]
fn ris_csljson_jsonl_text_and_beir_are_read() {
    let project = TestProject::new();
    project
        .ingest(&[
            "library.ris",
            "library.json",
            "library.jsonl",
            "abstracts.txt",
            "corpus.jsonl",
        ])
        .success()
        .stdout(predicate::str::contains(
            "total: 5 files, 11 added, 0 merged, 0 unchanged, 0 skipped, 0 refused",
        ));
    let papers = project.json(&["papers", "list", "--json"]);
    let ris = paper_with_title(&papers, "Autonomous chemical research with large language models");
    assert_eq!(ris["authors"], serde_json::json!(["Daniil A. Boiko", "Gabe Gomes"]));
    assert_eq!(ris["year"], 2023);
    let csl = paper_with_title(&papers, "Scientific discovery in the age of artificial intelligence");
    assert_eq!(csl["venue"], "Nature");
    assert_eq!(csl["authors"][0], "Hanchen Wang");
    let moose = paper_with_title(
        &papers,
        "MOOSE-Chem: Large Language Models for Rediscovering Unseen Chemistry Scientific Hypotheses",
    );
    assert_eq!(moose["arxiv_id"], "2410.07076", "arXiv id derived from the arXiv DOI");
    let paperqa = paper_with_title(
        &papers,
        "Language agents achieve superhuman synthesis of scientific knowledge",
    );
    assert_eq!(paperqa["arxiv_id"], "2409.13740");
    let storm = paper_with_title(
        &papers,
        "Assisting in Writing Wikipedia-like Articles From Scratch with Large Language Models",
    );
    assert_eq!(storm["arxiv_id"], "2402.14207", "arXiv id derived from the URL");
    // Two BEIR documents titled "Summary" are different papers.
    let summaries = papers
        .as_array()
        .expect("array")
        .iter()
        .filter(|p| p["title"] == "Summary")
        .count();
    assert_eq!(summaries, 2);
}

#[test]
fn the_same_paper_from_two_files_is_one_record_with_merged_metadata() {
    let project = TestProject::new();
    project.ingest(&["library.bib"]).success();
    // The RIS export has the Boiko paper (same DOI, other case) plus one new paper.
    project
        .ingest(&["library.ris"])
        .success()
        .stdout(predicate::str::contains("1 added, 1 merged, 0 unchanged"));
    let papers = project.json(&["papers", "list", "--json"]);
    assert_eq!(papers.as_array().map(Vec::len), Some(4));
    let boiko = paper_with_title(&papers, "Autonomous chemical research with large language models");
    // Kept from BibTeX (first seen), filled from RIS (url was missing).
    assert_eq!(boiko["authors"].as_array().map(Vec::len), Some(4));
    assert_eq!(boiko["url"], "https://www.nature.com/articles/s41586-023-06792-0");
    assert_eq!(boiko["sources"].as_array().map(Vec::len), None, "list omits sources");
    let shown = project.json(&["papers", "show", boiko["id"].as_str().expect("id"), "--json"]);
    assert_eq!(shown["paper"]["sources"].as_array().map(Vec::len), Some(2));

    // Re-ingesting either file adds nothing.
    for file in ["library.bib", "library.ris"] {
        project
            .cmd()
            .arg("ingest")
            .arg(data(file))
            .assert()
            .success()
            .stdout(predicate::str::contains("0 added, 0 merged"));
    }
    assert_eq!(project.counts().0, 4);
}

/// Each malformed file: the error names the file, the place and the fault,
/// and the store is left exactly as it was.
#[test]
fn malformed_files_are_refused_whole_with_located_errors() {
    let project = TestProject::new();
    project.ingest(&["abstracts.txt"]).success();
    let before = project.counts();
    let cases = [
        ("broken.bib", vec!["broken.bib", "unclosed2021", "line 6"]),
        ("broken.ris", vec!["broken.ris", "record at line 6", "TY"]),
        ("broken.json", vec!["broken.json", "line 3", "column"]),
        ("broken.jsonl", vec!["broken.jsonl", "line 2", "yaer", "line 3"]),
        ("dangling.txt", vec!["dangling.txt", "line 3", "no abstract line"]),
    ];
    for (file, expected) in cases {
        let assert = project.cmd().arg("ingest").arg(data(file)).assert().failure();
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        for needle in expected {
            assert!(stderr.contains(needle), "error for {file} lacks `{needle}`:\n{stderr}");
        }
        assert_eq!(project.counts(), before, "{file} changed the store");
    }
}

#[test]
fn skip_invalid_stores_the_valid_records_and_reports_the_rest() {
    let project = TestProject::new();
    let assert = project
        .cmd()
        .args(["ingest", "--skip-invalid"])
        .arg(data("broken.bib"))
        .arg(data("broken.jsonl"))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        stdout.contains("broken.bib (bibtex): 2 added, 0 merged, 0 unchanged, 1 skipped"),
        "{stdout}"
    );
    assert!(stdout.contains("skipped entry unclosed2021"), "{stdout}");
    assert!(
        stdout.contains("broken.jsonl (jsonl): 1 added, 0 merged, 0 unchanged, 2 skipped"),
        "{stdout}"
    );
    assert_eq!(project.counts().0, 3);
}

#[test]
fn binary_and_non_utf8_files_are_errors_not_panics() {
    let project = TestProject::new();
    let scratch = tempfile::tempdir().expect("tempdir");
    let binary = scratch.path().join("figure.png.bib");
    std::fs::write(&binary, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").expect("write");
    // A PDF is known by its content, whatever its name: a broken one is a PDF error naming the file.
    let fake_pdf = scratch.path().join("paper.pdf.bib");
    std::fs::write(&fake_pdf, b"%PDF-1.7\n\x00\x01\x02binary").expect("write");
    let latin1 = scratch.path().join("latin1.txt");
    std::fs::write(&latin1, b"A title\nAn abstract with caf\xe9 in Latin-1\n").expect("write");
    project
        .cmd()
        .arg("ingest")
        .arg(&binary)
        .assert()
        .failure()
        .stderr(predicate::str::contains("is a binary file"));
    project
        .cmd()
        .arg("ingest")
        .arg(&fake_pdf)
        .assert()
        .failure()
        .stderr(predicate::str::contains("paper.pdf.bib: it cannot be read as a PDF"));
    project
        .cmd()
        .arg("ingest")
        .arg(&latin1)
        .assert()
        .failure()
        .stderr(predicate::str::contains("not UTF-8").and(predicate::str::contains("line 2, column 21")));
    let unknown = scratch.path().join("notes");
    std::fs::write(&unknown, "just some notes").expect("write");
    project
        .cmd()
        .arg("ingest")
        .arg(&unknown)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--format"));
    assert_eq!(project.counts(), (0, 0));
}

#[test]
fn folders_are_ingested_recursively_and_bad_files_do_not_stop_good_ones() {
    let project = TestProject::new();
    let folder = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(folder.path().join("sub")).expect("mkdir");
    std::fs::copy(data("abstracts.txt"), folder.path().join("sub/abstracts.txt")).expect("copy");
    std::fs::copy(data("broken.jsonl"), folder.path().join("broken.jsonl")).expect("copy");
    std::fs::write(folder.path().join("README.md"), "# not a bibliography").expect("write");
    let assert = project.cmd().arg("ingest").arg(folder.path()).assert().failure();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        stdout.contains("total: 2 files, 2 added, 0 merged, 0 unchanged, 0 skipped, 1 refused"),
        "{stdout}"
    );
    assert_eq!(project.counts().0, 2);
}

#[test]
fn explicit_format_overrides_detection() {
    let project = TestProject::new();
    let scratch = tempfile::tempdir().expect("tempdir");
    let export = scratch.path().join("export.dat");
    std::fs::copy(data("library.jsonl"), &export).expect("copy");
    project
        .cmd()
        .args(["ingest", "--format", "jsonl"])
        .arg(&export)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 added"));
    project
        .cmd()
        .args(["ingest", "--format", "docx"])
        .arg(&export)
        .assert()
        .failure()
        .stderr(predicate::str::contains("unknown format `docx`"));
    // Told it is a PDF, a file that is not is refused by name.
    project
        .cmd()
        .args(["ingest", "--format", "pdf"])
        .arg(&export)
        .assert()
        .failure()
        .stderr(predicate::str::contains("export.dat: it is not a PDF"));
}

/// Found trying hostile files: `@string` macros that refer to each other made the BibTeX reader
/// recurse until the stack overflowed, and the process aborted (exit 134) with nothing said.
#[test]
fn bibtex_macros_that_loop_are_an_error_naming_the_file_not_a_crash() {
    let project = TestProject::new();
    let scratch = tempfile::tempdir().expect("tempdir");
    let looping = scratch.path().join("loop.bib");
    std::fs::write(
        &looping,
        "@string{a = b}\n@string{b = a}\n@article{k1, title = {A title long enough to be a paper}, journal = a}\n",
    )
    .expect("write");
    let output = project.cmd().arg("ingest").arg(&looping).output().expect("run ingest");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("loop.bib") && stderr.contains("a → b → a") && stderr.contains("line 1"),
        "{stderr}"
    );
    assert_eq!(project.counts(), (0, 0));
}
