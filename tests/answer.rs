//! `hypatia answer`: a few cited sentences from the library, or a plain abstention.

use serde_json::Value;

use crate::support::{TestProject, model_lock};

fn answer(project: &TestProject, question: &str, model: &std::path::Path) -> Value {
    let output = project
        .cmd()
        .args(["answer", question, "--json", "--model"])
        .arg(model)
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("run hypatia answer");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

#[test]
fn answer_abstains_on_a_library_with_nothing_relevant_and_loads_no_model() {
    let project = TestProject::new();
    project.ingest(&["corpus.jsonl", "abstracts.txt"]).success();
    // The model file does not exist: the command must not need it to say it has no evidence.
    let missing = project.path().join("no-such-model.gguf");
    let answer = answer(&project, "What is the half-life of caffeine in neonates?", &missing);
    assert_eq!(answer["abstained"], true, "{answer}");
    assert_eq!(answer["citations"], serde_json::json!([]));
    assert!(answer["model"].is_null(), "no model was asked: {answer}");
    assert_eq!(answer["model_calls"], 0);
    assert!(
        answer["answer"].as_str().is_some_and(|a| a.contains("no evidence")),
        "{answer}"
    );
    assert!(answer["abstain_reason"].as_str().is_some_and(|r| !r.is_empty()));

    let text = project
        .cmd()
        .args(["answer", "What is the half-life of caffeine in neonates?", "--model"])
        .arg(&missing)
        .output()
        .expect("run");
    assert!(text.status.success());
    let printed = String::from_utf8_lossy(&text.stdout);
    assert!(printed.starts_with("No answer from this library."), "{printed}");
}

#[test]
fn an_answer_cites_only_passages_it_was_given_each_with_its_judgement() {
    let _lock = model_lock();
    let project = TestProject::new();
    project.ingest(&["corpus.jsonl", "abstracts.txt"]).success();
    let model = hypatia_testkit::tiny_model();
    let answer = answer(&project, "Does vitamin D supplementation reduce fracture risk?", &model);
    // The tiny model's words are random; what holds is the mechanics.
    assert!(answer["model"].as_str().is_some_and(|m| m.contains("tiny")), "{answer}");
    assert!(answer["passages_given"].as_u64().is_some_and(|n| n >= 1), "{answer}");
    let citations = answer["citations"].as_array().expect("citations");
    for citation in citations {
        let id = citation["passage_id"].as_str().expect("id");
        let paper = citation["paper_id"].as_str().expect("paper");
        let shown = project.json(&["papers", "show", paper, "--json"]);
        let stored = shown["passages"]
            .as_array()
            .expect("passages")
            .iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not stored"));
        assert_eq!(citation["text"], stored["text"]);
        assert!(["supports", "contradicts", "unrelated"].contains(&citation["support"].as_str().expect("label")));
    }
    let supported = citations.iter().any(|c| c["support"] == "supports");
    // An answer is given only when a citation supports it; otherwise it abstains, saying why.
    assert_eq!(answer["abstained"] == false, supported, "{answer}");
    if answer["abstained"] == true {
        assert!(answer["abstain_reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    assert!(answer["model_calls"].as_u64().is_some_and(|n| n >= 1));
}
