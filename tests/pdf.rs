//! PDFs end to end through the binary: the real papers in `../shared/eval-data/pdfs/` ingested with
//! page-numbered passages, a question answered only in a paper's body found with its page, the same
//! folder again changing nothing, hostile files refused by name (or stepped over with
//! `--skip-invalid`), and a review over the PDFs whose exports show the pages it cites.

use std::path::Path;

use serde_json::Value;

use crate::review::check_run;
use crate::support::{TestProject, hypatia, model_lock, shared};

fn ingest_json(project: &TestProject, path: &Path, extra: &[&str]) -> (bool, Value, String) {
    let output = project
        .cmd()
        .arg("ingest")
        .arg(path)
        .args(extra)
        .arg("--json")
        .output()
        .expect("run ingest");
    let stdout: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (
        output.status.success(),
        stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_shared_pdfs_are_stored_with_page_numbered_passages_and_a_body_answer_is_found_on_its_page() {
    let Some(pdfs) = shared("eval-data/pdfs") else { return };
    let project = TestProject::new();
    let (ok, summaries, stderr) = ingest_json(&project, &pdfs, &[]);
    assert!(ok, "{stderr}");
    let summaries = summaries.as_array().expect("one summary per file");
    let files = std::fs::read_dir(&pdfs).expect("pdfs").count();
    assert_eq!(summaries.len(), files);
    for summary in summaries {
        assert_eq!(summary["format"], "pdf");
        assert_eq!(summary["added"], 1, "{summary}");
        let document = &summary["documents"][0];
        assert_eq!(document["version"], 1);
        assert!(document["passages"].as_u64().expect("passages") >= 4, "{summary}");
    }
    let (papers, passages) = project.counts();
    assert_eq!(papers, files as i64);
    assert!(passages > 300, "{passages} passages");

    // Said only on page 5 of Multi-LexSum, in its body (not its abstract).
    let hits = project.json(&[
        "search",
        "--passages",
        "--json",
        "manually curated by legal experts scholars attorneys law students",
    ]);
    let top = &hits[0];
    assert_eq!(top["page"], 5, "{top}");
    assert!(
        top["text"]
            .as_str()
            .expect("text")
            .contains("legal scholars, attorneys"),
        "{top}"
    );
    assert!(
        top["id"].as_str().expect("id").contains("#v1."),
        "a full-text passage id: {top}"
    );
    assert!(top["section"].as_str().is_some_and(|s| !s.is_empty()));

    // The same folder again: every file recognised, nothing stored twice.
    let (ok, again, stderr) = ingest_json(&project, &pdfs, &[]);
    assert!(ok, "{stderr}");
    for summary in again.as_array().expect("summaries") {
        assert_eq!(summary["unchanged"], 1, "{summary}");
        assert_eq!(summary["documents"][0]["new_version"], false);
    }
    assert_eq!(project.counts(), (papers, passages));
}

/// A review with the tiny model (2 hypotheses, 2 rounds, 1 leader), its `--json` report; the caller
/// holds the model lock.
fn tiny_review(project: &TestProject, question: &str, seed: &str) -> Value {
    let output = hypatia()
        .current_dir(project.path())
        .args(["review", question, "--model"])
        .arg(hypatia_testkit::tiny_model())
        .args([
            "--hypotheses",
            "2",
            "--rounds",
            "2",
            "--leaders",
            "1",
            "--seed",
            seed,
            "--json",
            // Pages are what this tests; the reviews of tests/review.rs check syntheses. Twelve
            // full-text passages already fill most of the tiny model's 8,192-token context, and the
            // tiny model's gaps pushed a composition over it ("the prompt is 9027 tokens").
            "--no-synthesis",
        ])
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("review");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("report")
}

fn minimal_pdf(content: &str, trailer: &str, extra: &[&str]) -> Vec<u8> {
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    hypatia_testkit::pdf::one_page_pdf(content, trailer, &extra)
}

#[test]
fn hostile_pdfs_are_refused_by_name_and_skip_invalid_goes_on_with_the_rest() {
    let project = TestProject::new();
    let folder = project.path().join("library");
    std::fs::create_dir(&folder).expect("mkdir");
    let good = "BT /F1 11 Tf 72 720 Td 14 TL (Engines of analysis weave algebraic patterns as looms weave flowers.) Tj T* \
                (The engine computes Bernoulli numbers without error, as we show.) Tj ET";
    std::fs::write(folder.join("a-good.pdf"), minimal_pdf(good, "", &[])).expect("write");
    let encrypt = format!(
        "<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O <{}> /U <{}> >>",
        "11".repeat(32),
        "22".repeat(32)
    );
    std::fs::write(
        folder.join("b-locked.pdf"),
        minimal_pdf(
            good,
            "/Encrypt 6 0 R /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>]",
            &[&encrypt],
        ),
    )
    .expect("write");
    std::fs::write(
        folder.join("c-scan.pdf"),
        minimal_pdf("0 0 1 rg 72 72 468 648 re f", "", &[]),
    )
    .expect("write");
    let whole = minimal_pdf(good, "", &[]);
    std::fs::write(folder.join("d-truncated.pdf"), &whole[..whole.len() / 3]).expect("write");

    let output = project.cmd().arg("ingest").arg(&folder).output().expect("ingest");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "unreadable PDFs fail the ingest without --skip-invalid"
    );
    assert!(
        stderr.contains("b-locked.pdf: it is encrypted and needs a password"),
        "{stderr}"
    );
    assert!(stderr.contains("c-scan.pdf: it has no text layer"), "{stderr}");
    assert!(stderr.contains("d-truncated.pdf"), "{stderr}");
    // The readable file was stored all the same, once.
    assert_eq!(project.counts().0, 1);

    let output = project
        .cmd()
        .args(["ingest", "--skip-invalid"])
        .arg(&folder)
        .output()
        .expect("ingest");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipped: ") && stderr.contains("b-locked.pdf"),
        "{stderr}"
    );
    assert!(stdout.contains("3 skipped, 0 refused"), "{stdout}");
    assert_eq!(project.counts().0, 1);
}

#[test]
fn a_review_over_pdfs_cites_pages_and_every_export_shows_them() {
    let Some(pdfs) = shared("eval-data/pdfs") else { return };
    let project = TestProject::new();
    let (ok, _, stderr) = ingest_json(&project, &pdfs, &[]);
    assert!(ok, "{stderr}");
    let _model = model_lock();
    let report = tiny_review(&project, "How should long-form summaries be evaluated by humans?", "5");
    check_run(project.path(), &report);
    let run_id = report["run_id"].as_str().expect("run id");

    let out = project.path().join("reports");
    hypatia()
        .current_dir(project.path())
        .args(["export", run_id, "--out-dir"])
        .arg(&out)
        .assert()
        .success();
    let read = |ext: &str| std::fs::read_to_string(out.join(format!("{run_id}.{ext}"))).expect("export");
    let json: Value = serde_json::from_str(&read("json")).expect("json");
    let citations: Vec<&Value> = json["hypotheses"]
        .as_array()
        .expect("hypotheses")
        .iter()
        .flat_map(|h| h["citations"].as_array().expect("citations"))
        .collect();
    assert!(!citations.is_empty(), "the review cited nothing");
    let markdown = read("md");
    let html = read("html");
    for citation in citations
        .iter()
        .filter(|c| c["passage_id"].as_str().is_some_and(|id| id.contains("#v")))
    {
        let page = citation["page"].as_u64().expect("a full-text citation has a page");
        let label = if citation["page_end"].as_u64() > Some(page) {
            format!("pp. {page}–{}", citation["page_end"])
        } else {
            format!("p. {page}")
        };
        let key = citation["key"].as_str().expect("key");
        assert!(
            markdown.contains(&format!("[@{key}, {label}]")),
            "{key} {label} not in the Markdown"
        );
        assert!(
            html.contains(&format!("<span class=\"page\">{label}</span>")),
            "{label} not in the HTML"
        );
    }
    assert!(
        citations.iter().any(|c| c["page"].as_u64().is_some()),
        "a review over PDFs cites their full text: {citations:?}"
    );
}

/// A PDF (a seeded mutation of a hand-made one) on which pdf-extract panics: the panic stays on the
/// reader's thread, and the user reads one error naming the file, not a panic message.
#[test]
fn a_pdf_that_panics_the_extractor_is_one_clear_error() {
    let project = TestProject::new();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/pdf/tests/data/extractor-panics.pdf");
    let output = project.cmd().arg("ingest").arg(&file).output().expect("ingest");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("extractor-panics.pdf: the PDF reader failed on it"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// A changed PDF is a new version: a run that cited the old version's passages still exports, its
/// citations resolving to the passages it quoted, while search sees only the new version.
#[test]
fn a_run_that_cited_a_superseded_version_still_exports() {
    let Some(original) = shared("eval-data/pdfs/2304.02623v1.pdf") else {
        return;
    };
    let project = TestProject::new();
    let file = project.path().join("expository.pdf");
    std::fs::copy(&original, &file).expect("copy");
    let (ok, _, stderr) = ingest_json(&project, &file, &[]);
    assert!(ok, "{stderr}");

    let _model = model_lock();
    let report = tiny_review(&project, "How can AI support expository writing?", "3");
    let run_id = report["run_id"].as_str().expect("run id").to_owned();

    // The file changes (an editor appended to it): version 2 of the same paper.
    let mut bytes = std::fs::read(&file).expect("read");
    bytes.extend_from_slice(b"\n% annotated\n");
    std::fs::write(&file, bytes).expect("write");
    let (ok, summaries, stderr) = ingest_json(&project, &file, &[]);
    assert!(ok, "{stderr}");
    assert_eq!(summaries[0]["documents"][0]["version"], 2, "{summaries}");
    let hits = project.json(&["search", "--passages", "--json", "expository writing"]);
    assert!(
        hits.as_array()
            .expect("hits")
            .iter()
            .all(|h| !h["id"].as_str().unwrap_or_default().contains("#v1.")),
        "search sees only the current version: {hits}"
    );

    let exported = project.path().join("run.json");
    let export = hypatia()
        .current_dir(project.path())
        .args(["export", &run_id, "--format", "json", "--out"])
        .arg(&exported)
        .output()
        .expect("export");
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&exported).expect("read")).expect("json");
    let cited: Vec<&str> = json["hypotheses"]
        .as_array()
        .expect("hypotheses")
        .iter()
        .flat_map(|h| h["citations"].as_array().expect("citations"))
        .filter_map(|c| c["passage_id"].as_str())
        .collect();
    assert!(
        cited.iter().any(|id| id.contains("#v1.")),
        "the run cited version 1: {cited:?}"
    );
}
