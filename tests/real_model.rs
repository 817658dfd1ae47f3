//! The real-model tier through the binary: Gemma 3 270M Q4_K_M (a real quantized GGUF with a 262k
//! vocabulary and no chat template in the file) answering `ask`, and running whole reviews of the
//! 249-paper corpus in process and through llama-cpp-python's OpenAI-compatible server. Skips, saying
//! why, without the file; CI fetches it (`.ci/fetch-gemma`) and requires it.

use std::path::Path;

use serde_json::Value;

use crate::review::{QUESTION, check_journal, export_and_check, journal};
use crate::support::{hypatia, model_lock, shared};

const TEMPLATE_MARKUP: [&str; 4] = ["<start_of_turn>", "<end_of_turn>", "<|im_start|>", "<|im_end|>"];

fn prose_words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|word| word.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .count()
}

#[test]
fn models_info_says_gemma_speaks_gemmas_format() {
    let Some(model) = hypatia_testkit::real_model() else {
        return;
    };
    let output = hypatia().args(["models", "info"]).arg(&model).output().expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("architecture:   gemma3"), "{stdout}");
    assert!(stdout.contains("quantization:   Q4_K_M"), "{stdout}");
    assert!(stdout.contains("chat template:  no"), "{stdout}");
    assert!(
        stdout.contains(
            "chat format:    gemma (no template in the file; the vocabulary has <start_of_turn> and <end_of_turn>)"
        ),
        "{stdout}"
    );
}

/// The crash the issue reported: `ask` with this file segfaulted on AMX CPUs. It answers, in text.
#[test]
fn ask_answers_in_plain_text_with_the_real_model() {
    let Some(model) = hypatia_testkit::real_model() else {
        return;
    };
    let _lock = model_lock();
    let output = hypatia()
        .args([
            "ask",
            "What is a null hypothesis?",
            "--max-tokens",
            "80",
            "--seed",
            "1",
            "--temperature",
            "0",
            "--model",
        ])
        .arg(&model)
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}: {stderr}", output.status);
    assert!(prose_words(&stdout) >= 5, "not an answer: {stdout:?}");
    for markup in TEMPLATE_MARKUP {
        assert!(!stdout.contains(markup), "{markup} in {stdout:?}");
    }
}

/// `hypotheses` composed, `rounds` rounds: small, since a 262k-token vocabulary makes every grammar
/// step costly (above all for llama-cpp-python's server, which masks the whole vocabulary each token).
/// Gemma 3 270M (a base model) writes a hypothesis that passes the content checks about one time in
/// three, so an in-process run composes four (with a synthesis per sub-question) to have some to review and export.
fn review_args(hypotheses: &str, rounds: &str, seed: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "review",
        QUESTION,
        "--hypotheses",
        hypotheses,
        "--rounds",
        rounds,
        "--leaders",
        "1",
        "--seed",
        seed,
        "--json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// What every real-model review must show, whatever the model is able to write: the run ends, with
/// every request answered in the journal; no task failed for transport or syntax (grammar, JSON,
/// control characters); a task that failed was refused for its content, with the reason; every
/// hypothesis kept is prose citing only passages it was given. A completed run is checked whole
/// (`check_run`) and returned for export.
fn check_real_review(project: &Path, output: &std::process::Output) -> Option<Value> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("no report on stdout ({error}): {stderr}"));
    println!(
        "status {} ({}), {} hypotheses, {} failures, usage {}",
        report["status"],
        report["detail"],
        report["hypotheses"].as_array().map_or(0, Vec::len),
        report["failures"].as_array().map_or(0, Vec::len),
        report["usage"]
    );
    let run_id = report["run_id"].as_str().expect("run_id");
    let envelopes = journal(project, run_id);
    let record = hypatia_runs::RunRecord::from_envelopes(run_id, &envelopes);
    assert!(
        record.pending_requests().is_empty(),
        "unanswered requests in an ended run"
    );
    for failure in report["failures"].as_array().expect("failures") {
        let message = failure["message"].as_str().unwrap_or_default();
        println!("refused: {}", message.chars().take(300).collect::<String>());
        assert!(
            message.contains("the model's answer is not valid")
                && !message.contains("not JSON")
                && !message.contains("control character"),
            "a task failed for something other than its content: {failure}"
        );
    }
    for hypothesis in report["hypotheses"].as_array().expect("hypotheses") {
        for field in ["statement", "prediction"] {
            let text = hypothesis[field].as_str().expect("text");
            assert!(prose_words(text) >= 3, "{field} is not prose: {text:?}");
        }
    }
    match report["status"].as_str() {
        Some("completed") => {
            assert!(output.status.success(), "{stderr}");
            check_journal(project, &report, false);
            Some(report)
        }
        Some("failed") => {
            // Only an honest failure: nothing the model wrote passed the checks.
            assert!(
                report["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("no hypothesis could be composed")),
                "{report}"
            );
            assert!(!output.status.success());
            None
        }
        other => panic!("the run did not end: {other:?}: {stderr}"),
    }
}

#[test]
fn a_whole_review_of_the_corpus_with_the_real_model_completes_and_exports() {
    let Some(corpus) = shared("corpus/llm-science-abstracts.txt") else {
        return;
    };
    let Some(model) = hypatia_testkit::real_model() else {
        return;
    };
    let _lock = model_lock();
    let dir = tempfile::tempdir().expect("tempdir");
    let output = hypatia()
        .current_dir(dir.path())
        .args(review_args("4", "1", "1", &["--model", &model.to_string_lossy()]))
        .arg("--corpus")
        .arg(&corpus)
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("run review");
    if let Some(report) = check_real_review(dir.path(), &output) {
        export_and_check(dir.path(), &report, false);
    }
}

/// The same review through the OpenAI-compatible backend, against llama-cpp-python serving the same
/// file: what real servers send (raw control characters in JSON strings) is accepted, so no task fails
/// for transport or syntax. One hypothesis: the server takes 60-100 s a structured call on 2 cores
/// (its grammar walks the 262k-token vocabulary each step), ten times the in-process engine, and two
/// hypotheses with their re-asks made this one test run over 15 minutes.
#[test]
fn a_whole_review_through_a_real_openai_compatible_server_fails_no_task_for_syntax() {
    let Some(corpus) = shared("corpus/llm-science-abstracts.txt") else {
        return;
    };
    let Some(model) = hypatia_testkit::real_model() else {
        return;
    };
    let _lock = model_lock();
    let Some(server) = hypatia_testkit::OpenAiServer::llama_cpp_python(&model, 8192) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let output = hypatia()
        .current_dir(dir.path())
        .args(review_args(
            "1",
            "1",
            "5",
            &[
                "--openai-base-url",
                server.base_url(),
                "--openai-model",
                server.model_id(),
                // Two calls per sub-question at a minute or more each through this server: the
                // in-process review writes the syntheses with the same file.
                "--no-synthesis",
            ],
        ))
        .arg("--corpus")
        .arg(&corpus)
        .output()
        .expect("run review");
    if !output.status.success() {
        eprintln!("server log:\n{}", server.stderr_tail());
    }
    check_real_review(dir.path(), &output);
}

/// The citation judge with the real file on a slice of SciFact: the harness runs, and the model gives
/// valid judgements. The figure itself is the model's (BENCHMARKS.md has the whole dev split's).
#[test]
fn eval_claims_with_the_real_model_judges_a_scifact_slice() {
    let Some(model) = hypatia_testkit::real_model() else {
        return;
    };
    let Some(scifact) = shared("eval-data/scifact-original") else {
        return;
    };
    let _lock = model_lock();
    let output = hypatia()
        .args(["eval", "claims", "--limit", "8", "--json", "--scifact"])
        .arg(&scifact)
        .arg("--model")
        .arg(&model)
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    eprintln!(
        "Gemma on 8 SciFact dev pairs: overall F1 {}, accuracy {}, unanswered {}, confusion {}",
        report["overall"]["f1"], report["accuracy"], report["unanswered"], report["confusion"]
    );
    assert_eq!(report["pairs"], 8);
    assert!(
        report["model"].as_str().is_some_and(|m| m.contains("gemma")),
        "{report}"
    );
    let unanswered = report["unanswered"].as_u64().expect("unanswered");
    assert!(
        unanswered <= 4,
        "the real model gave no valid judgement for {unanswered} of 8 pairs: {report}"
    );
    for judgement in report["judgements"].as_array().expect("judgements") {
        // A kept judgement has a reason in words (one at least, as the judge's check asks).
        if !judgement["predicted"].is_null() {
            assert!(
                prose_words(judgement["reason"].as_str().expect("reason")) >= 1,
                "{judgement}"
            );
        }
    }
}

/// `answer` with the real file over the 249-paper corpus: it answers from the library's passages and
/// judges each citation, or abstains saying why; either way only stored passages are cited.
#[test]
fn answer_with_the_real_model_cites_the_library_or_abstains() {
    let Some(model) = hypatia_testkit::real_model() else {
        return;
    };
    let Some(corpus) = shared("corpus/llm-science-abstracts.txt") else {
        return;
    };
    let _lock = model_lock();
    let project = crate::support::TestProject::new();
    project.cmd().arg("ingest").arg(&corpus).assert().success();
    let output = project
        .cmd()
        .args(["answer", QUESTION, "--passages", "4", "--json", "--model"])
        .arg(&model)
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let answer: Value = serde_json::from_slice(&output.stdout).expect("json");
    eprintln!("Gemma's answer: {answer:#}");
    assert!(
        answer["passages_given"].as_u64().is_some_and(|n| n >= 1),
        "the corpus is on the question: {answer}"
    );
    assert!(answer["model_calls"].as_u64().is_some_and(|n| n >= 1));
    assert!(prose_words(answer["answer"].as_str().expect("answer")) >= 5, "{answer}");
    for markup in TEMPLATE_MARKUP {
        assert!(!answer["answer"].as_str().unwrap_or("").contains(markup));
    }
    let citations = answer["citations"].as_array().expect("citations");
    for citation in citations {
        let paper = citation["paper_id"].as_str().expect("paper");
        let shown = project.json(&["papers", "show", paper, "--json"]);
        assert!(
            shown["passages"]
                .as_array()
                .expect("passages")
                .iter()
                .any(|p| p["id"] == citation["passage_id"] && p["text"] == citation["text"]),
            "{citation} is not a stored passage"
        );
    }
    let supported = citations.iter().any(|c| c["support"] == "supports");
    assert_eq!(answer["abstained"] == false, supported, "{answer}");
}
