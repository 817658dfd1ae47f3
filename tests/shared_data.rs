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
