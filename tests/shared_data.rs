//! Tests on the real data in ../shared: they run wherever it is present
//! (always in CI) and say why they skip where it is not.

use crate::support::{TestProject, hypatia, shared};

#[test]
fn the_249_paper_corpus_ingests_once_and_finds_hypothesis_generation_papers() {
    let Some(corpus) = shared("corpus/llm-science-abstracts.txt") else {
        return;
    };
    let project = TestProject::new();
    let first = project.json(&["ingest", corpus.to_str().expect("utf-8 path"), "--json"]);
    assert_eq!(first[0]["added"], 249);
    let again = project.json(&["ingest", corpus.to_str().expect("utf-8 path"), "--json"]);
    assert_eq!(again[0]["added"], 0);
    assert_eq!(again[0]["unchanged"], 249);
    assert_eq!(project.counts().0, 249);

    let hits = project.json(&["search", "hypothesis generation", "--json", "--limit", "3"]);
    let titles: Vec<String> = hits
        .as_array()
        .expect("array")
        .iter()
        .map(|h| h["title"].as_str().unwrap_or("").to_lowercase())
        .collect();
    for title in &titles {
        assert!(
            title.contains("hypothes"),
            "a non-hypothesis paper ranks in the top 3: {titles:?}"
        );
    }
    assert!(titles[0].contains("hypothesis generation"), "{titles:?}");
}

#[test]
fn scifact_retrieval_reaches_the_published_bm25_baseline() {
    let Some(scifact) = shared("eval-data/scifact-beir") else {
        return;
    };
    let output = hypatia()
        .args(["eval", "retrieval", "--json", "--mode", "bm25", "--beir"])
        .arg(&scifact)
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["mode"], "bm25");
    assert_eq!(report["queries"], 300);
    assert_eq!(report["documents"], 5183);
    let ndcg = report["ndcg_at_10"].as_f64().expect("ndcg");
    assert!(ndcg >= 0.665, "nDCG@10 {ndcg} is below BEIR's BM25 0.665");
    for key in ["recall_at_100", "mrr_at_10", "seconds"] {
        assert!(report[key].as_f64().is_some_and(|v| v > 0.0), "{key} missing: {report}");
    }
}

/// The first `n` (claim, cited abstract) pairs of SciFact's dev split and their labels, read here
/// independently of the harness.
fn scifact_pairs(dir: &std::path::Path, n: usize) -> (usize, Vec<&'static str>) {
    let text = std::fs::read_to_string(dir.join("claims_dev.jsonl")).expect("claims");
    let mut labels = Vec::new();
    for line in text.lines() {
        let claim: serde_json::Value = serde_json::from_str(line).expect("claim");
        for doc in claim["cited_doc_ids"].as_array().expect("cited") {
            let label = match claim["evidence"][doc.to_string()][0]["label"].as_str() {
                Some("SUPPORT") => "supports",
                Some("CONTRADICT") => "contradicts",
                _ => "unrelated",
            };
            labels.push(label);
        }
    }
    let all = labels.len();
    labels.truncate(n);
    (all, labels)
}

#[test]
fn eval_claims_scores_a_slice_of_scifact_against_its_labels() {
    let Some(scifact) = shared("eval-data/scifact-original") else {
        return;
    };
    let _lock = crate::support::model_lock();
    let model = hypatia_testkit::tiny_model();
    let output = hypatia()
        .args(["eval", "claims", "--limit", "6", "--json", "--scifact"])
        .arg(&scifact)
        .arg("--model")
        .arg(&model)
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let (all, gold) = scifact_pairs(&scifact, 6);
    assert_eq!(report["pairs"], 6);
    assert_eq!(report["pairs_in_split"].as_u64(), Some(all as u64));
    assert!(report["model"].as_str().is_some_and(|m| m.contains("tiny")), "{report}");
    let classes = report["classes"].as_array().expect("classes");
    assert_eq!(classes.len(), 3);
    for (class, label) in classes.iter().zip(["supports", "contradicts", "unrelated"]) {
        assert_eq!(class["label"], label);
        let expected = gold.iter().filter(|g| **g == label).count() as u64;
        assert_eq!(class["gold"].as_u64(), Some(expected), "{label}: {report}");
        for key in ["precision", "recall", "f1"] {
            assert!(
                class[key].as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)),
                "{key}: {class}"
            );
        }
    }
    for key in ["precision", "recall", "f1"] {
        assert!(
            report["overall"][key]
                .as_f64()
                .is_some_and(|v| (0.0..=1.0).contains(&v))
        );
    }
    // Each pair is judged (or counted unanswered) once.
    let judgements = report["judgements"].as_array().expect("judgements");
    assert_eq!(judgements.len(), 6);
    let confusion: u64 = report["confusion"]
        .as_array()
        .expect("confusion")
        .iter()
        .flat_map(|row| row.as_array().expect("row").iter().map(|v| v.as_u64().expect("count")))
        .sum();
    assert_eq!(confusion, 6);

    // The test split's labels are private: said, not scored as if they were all "unrelated".
    let output = hypatia()
        .args(["eval", "claims", "--split", "test", "--scifact"])
        .arg(&scifact)
        .arg("--model")
        .arg(&model)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("claims_test.jsonl") && stderr.contains("has no labels"),
        "{stderr}"
    );
}
