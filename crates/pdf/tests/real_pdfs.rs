//! The reader on real papers (`../shared/eval-data/pdfs/`, arXiv and ACL
//! Anthology, one and two columns): every page read, passages placed on
//! their pages, sections and references found, and the text as good as the
//! reference extraction of `2304.02623v1.pdf`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hypatia_pdf::{Limits, PdfPaper, read_pdf};

fn papers() -> Option<Vec<(PathBuf, PdfPaper)>> {
    let dir = hypatia_testkit::shared_data("eval-data/pdfs")?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read the PDF folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 7, "expected the seven papers in {}", dir.display());
    Some(
        paths
            .into_iter()
            .map(|path| {
                let bytes = std::fs::read(&path).expect("read PDF");
                let paper = read_pdf(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                (path, paper)
            })
            .collect(),
    )
}

fn name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_passage_is_on_its_page_at_its_offsets() {
    let Some(papers) = papers() else { return };
    for (path, paper) in &papers {
        assert!(!paper.passages.is_empty(), "{}: no passages", name(path));
        assert!(paper.page_errors.is_empty(), "{}: {:?}", name(path), paper.page_errors);
        for passage in &paper.passages {
            let at = &passage.location;
            assert!(at.page >= 1 && at.page <= at.page_end && at.page_end as usize <= paper.pages.len());
            let first: Vec<char> = paper.pages[at.page as usize - 1].chars().collect();
            if at.page == at.page_end {
                let slice: String = first[at.start as usize..at.end as usize].iter().collect();
                assert_eq!(collapse(&slice), passage.text, "{}: {:?}", name(path), at);
            } else {
                let head: String = first[at.start as usize..].iter().collect();
                assert!(passage.text.starts_with(&collapse(&head)), "{}: {:?}", name(path), at);
                let last: Vec<char> = paper.pages[at.page_end as usize - 1].chars().collect();
                let tail: String = last[..at.end as usize].iter().collect();
                assert!(passage.text.ends_with(&collapse(&tail)), "{}: {:?}", name(path), at);
            }
        }
    }
}

#[test]
fn sections_references_and_first_page_metadata_are_read() {
    let Some(papers) = papers() else { return };
    let by_name: HashMap<String, &PdfPaper> = papers.iter().map(|(p, paper)| (name(p), paper)).collect();

    let expository = by_name["2304.02623v1.pdf"];
    assert_eq!(
        expository.metadata.title.as_deref(),
        Some("Beyond Summarization: Designing AI Support for Real-World Expository Writing Tasks")
    );
    assert_eq!(expository.metadata.arxiv_id.as_deref(), Some("2304.02623"));
    assert_eq!(expository.metadata.year, Some(2023));
    assert!(
        expository.metadata.authors.iter().any(|a| a == "Kyle Lo"),
        "{:?}",
        expository.metadata.authors
    );
    assert!(
        expository
            .abstract_text
            .as_deref()
            .is_some_and(|a| a.starts_with("Large language models have introduced"))
    );
    assert!(
        expository
            .references
            .iter()
            .any(|r| r.doi.as_deref() == Some("10.18653/v1/2021.naacl-main.382")),
        "the first reference's DOI"
    );

    let longeval = by_name["2023.eacl-main.121.pdf"];
    assert_eq!(
        longeval.metadata.title.as_deref(),
        Some("LONGEVAL: Guidelines for Human Evaluation of Faithfulness in Long-form Summarization")
    );
    assert!(
        longeval.references.len() >= 40,
        "{} references",
        longeval.references.len()
    );

    for (path, paper) in &papers {
        let sections: Vec<&str> = paper.passages.iter().map(|p| p.location.section.as_str()).collect();
        if paper.pages.len() > 2 {
            assert!(sections.contains(&"Introduction"), "{}: {sections:?}", name(path));
            assert!(!paper.references.is_empty(), "{}: no reference list", name(path));
        }
        // The reference list is not evidence, nor are the title and authors.
        for passage in &paper.passages {
            assert!(
                !paper
                    .references
                    .iter()
                    .any(|r| r.text.len() > 60 && passage.text.contains(&r.text)),
                "{}",
                name(path)
            );
            if let Some(title) = &paper.metadata.title {
                assert!(
                    !passage.text.starts_with(title.as_str()),
                    "{}: front matter cited",
                    name(path)
                );
            }
        }
    }
}

/// Word-level F1 of each page against papermage's reference extraction.
#[test]
fn page_text_matches_the_reference_extraction() {
    let Some(reference) = hypatia_testkit::shared_data("eval-data/pdf-reference/2304.02623v1.papermage.json") else {
        return;
    };
    let Some(pdf) = hypatia_testkit::shared_data("eval-data/pdfs/2304.02623v1.pdf") else {
        return;
    };
    let reference: serde_json::Value = serde_json::from_slice(&std::fs::read(reference).expect("read")).expect("json");
    let symbols: Vec<char> = reference["symbols"].as_str().expect("symbols").chars().collect();
    let spans: Vec<(usize, usize)> = reference["entities"]["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .map(|page| {
            let span = &page["spans"][0];
            (
                span[0].as_u64().expect("start") as usize,
                span[1].as_u64().expect("end") as usize,
            )
        })
        .collect();
    let paper = read_pdf(&std::fs::read(pdf).expect("read"), &Limits::default()).expect("read PDF");
    assert_eq!(paper.pages.len(), spans.len());
    for (index, (start, end)) in spans.into_iter().enumerate() {
        let expected: String = symbols[start..end].iter().collect();
        let f1 = word_f1(&paper.pages[index], &expected);
        // pdftotext scores 0.905–0.991 on these pages (BENCHMARKS.md).
        assert!(f1 >= 0.88, "page {}: word F1 {f1:.3}", index + 1);
    }
}

fn words(text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    let text = text.replace("-\n", "");
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        *counts.entry(word.to_lowercase()).or_insert(0) += 1;
    }
    counts
}

fn word_f1(found: &str, expected: &str) -> f64 {
    let (found, expected) = (words(found), words(expected));
    let common: usize = found
        .iter()
        .map(|(w, n)| (*n).min(expected.get(w).copied().unwrap_or(0)))
        .sum();
    let (found_n, expected_n): (usize, usize) = (found.values().sum(), expected.values().sum());
    if common == 0 {
        return 0.0;
    }
    let (precision, recall) = (common as f64 / found_n as f64, common as f64 / expected_n as f64);
    2.0 * precision * recall / (precision + recall)
}
