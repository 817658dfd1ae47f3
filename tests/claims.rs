//! Contradictions, kept: pairs of passages judged in one run are taken from the project by the next
//! run with the same model, without a model call, and `hypatia claims` lists them.

use hypatia_research::Payload;
use serde_json::Value;

use crate::review::{QUESTION, journal};
use crate::support::{TestProject, model_lock, shared};

/// Every judged pair of a run, with whether it was taken from the project, and how many relate
/// tasks asked the model.
fn relations_of(project: &std::path::Path, run_id: &str) -> (Vec<(String, String, bool)>, u32) {
    let mut pairs = Vec::new();
    let mut asked = 0;
    for envelope in journal(project, run_id) {
        if let Payload::RelationsReady {
            relations,
            asked: calls,
            ..
        } = envelope.payload
        {
            asked += calls;
            for r in relations {
                pairs.push((r.first.to_string(), r.second.to_string(), r.reused));
            }
        }
    }
    pairs.sort();
    (pairs, asked)
}

fn review(project: &TestProject, corpus: &std::path::Path, model: &std::path::Path) -> Value {
    let output = project
        .cmd()
        .args([
            "review",
            QUESTION,
            "--hypotheses",
            "1",
            "--rounds",
            "1",
            "--leaders",
            "1",
            "--seed",
            "3",
        ])
        .args(["--json", "--corpus"])
        .arg(corpus)
        .arg("--model")
        .arg(model)
        .env("HYPATIA_MAX_SEQUENCES", "1")
        .env("HYPATIA_PREFIX_CACHE", "off")
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("run review");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn a_second_run_reuses_the_first_runs_judgements_without_a_model_call() {
    let Some(corpus) = shared("corpus/llm-science-abstracts.txt") else {
        return;
    };
    let _lock = model_lock();
    let project = TestProject::new();
    let model = hypatia_testkit::tiny_model();

    let first = review(&project, &corpus, &model);
    let first_id = first["run_id"].as_str().expect("run id");
    let (judged, asked) = relations_of(project.path(), first_id);
    assert!(
        !judged.is_empty(),
        "the corpus's passages on the question were compared: {first}"
    );
    assert!(
        judged.iter().all(|(_, _, reused)| !reused),
        "a fresh project has nothing to reuse"
    );
    assert!(asked >= 1);

    let listed = project.json(&["claims", "--all", "--json"]);
    let listed = listed.as_array().expect("an array");
    assert_eq!(listed.len(), judged.len(), "each pair is kept once: {listed:?}");
    for item in listed {
        assert!(["agree", "contradict", "unrelated"].contains(&item["relation"].as_str().expect("relation")));
        // Kept under the model's content, not its file name.
        let model = item["model"].as_str().expect("model");
        assert!(
            model.strip_prefix("gguf:sha256:").is_some_and(|hash| hash.len() == 64),
            "{model}"
        );
        assert_eq!(item["run_id"], first_id);
        for side in ["first", "second"] {
            assert!(item[side]["text"].as_str().is_some_and(|t| !t.is_empty()), "{item}");
        }
    }
    let contradictions = project.json(&["claims", "--json"]);
    let expected = listed.iter().filter(|i| i["relation"] == "contradict").count();
    assert_eq!(contradictions.as_array().expect("array").len(), expected);

    // The same question again: the same pairs, every one taken from the project, no call made.
    let second = review(&project, &corpus, &model);
    let second_id = second["run_id"].as_str().expect("run id");
    assert_ne!(first_id, second_id);
    let (again, asked) = relations_of(project.path(), second_id);
    let pairs =
        |list: &[(String, String, bool)]| list.iter().map(|(a, b, _)| (a.clone(), b.clone())).collect::<Vec<_>>();
    assert_eq!(pairs(&again), pairs(&judged));
    assert!(again.iter().all(|(_, _, reused)| *reused), "{again:?}");
    assert_eq!(asked, 0, "no model call for pairs judged before");
    assert_eq!(
        project.json(&["claims", "--all", "--json"]).as_array().map(Vec::len),
        Some(judged.len())
    );

    // The same weights under another file name are the same model: nothing asked again.
    let renamed_dir = tempfile::tempdir().expect("tempdir");
    let renamed = renamed_dir.path().join("same-weights-other-name.gguf");
    std::fs::copy(&model, &renamed).expect("copy the model");
    let third = review(&project, &corpus, &renamed);
    let (again, asked) = relations_of(project.path(), third["run_id"].as_str().expect("run id"));
    assert_eq!(pairs(&again), pairs(&judged));
    assert_eq!(asked, 0, "the renamed file's pairs were judged before");
}
