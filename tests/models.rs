//! `hypatia ask`, `models` and `config` end to end, on the tiny generated model through the real
//! llama.cpp, and through a real OpenAI-compatible server (llama-cpp-python) when it is installed.

use std::path::Path;

use hypatia_llm::CompiledSchema;
use serde_json::{Value, json};

use crate::support::{TestProject, hypatia, model_lock};

const SECRET: &str = "sk-test-do-not-leak-8f3a2c";

fn answer_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "answer": {"type": "string", "maxLength": 40},
            "confidence": {"type": "integer", "minimum": 0, "maximum": 100}
        },
        "required": ["answer", "confidence"],
        "additionalProperties": false
    })
}

fn write_schema(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("answer.schema.json");
    std::fs::write(&path, answer_schema().to_string()).expect("write schema");
    path
}

/// Adds settings to the project's hypatia.toml.
fn append_to_config(project: &TestProject, settings: &str) {
    let path = project.path().join("hypatia.toml");
    let mut text = std::fs::read_to_string(&path).expect("read hypatia.toml");
    text.push_str(settings);
    std::fs::write(&path, text).expect("write hypatia.toml");
}

fn stdout_json(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn ask_with_a_schema_answers_valid_json_through_the_llama_backend() {
    let _lock = model_lock();
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write_schema(dir.path());
    let model = hypatia_testkit::tiny_model();
    let validator = CompiledSchema::new(&answer_schema()).expect("schema");
    for seed in ["1", "2", "3"] {
        let output = hypatia()
            .args([
                "ask",
                "Is aspirin an anti-inflammatory drug?",
                "--json",
                "--seed",
                seed,
                "--schema",
            ])
            .arg(&schema)
            .arg("--model")
            .arg(&model)
            .output()
            .expect("run");
        let out = stdout_json(&output);
        validator
            .validate(&out["answer"])
            .unwrap_or_else(|problem| panic!("seed {seed}: {problem}: {out}"));
        assert_eq!(out["backend"], "llama");
        assert!(out["usage"]["prompt_tokens"].as_u64().is_some_and(|n| n > 20), "{out}");
        assert!(
            out["usage"]["completion_tokens"].as_u64().is_some_and(|n| n > 0),
            "{out}"
        );
        assert!(out["usage"]["time_to_first_token_ms"].as_f64().is_some(), "{out}");
    }
}

#[test]
fn ask_without_a_schema_prints_the_answer_and_usage() {
    let _lock = model_lock();
    let model = hypatia_testkit::tiny_model();
    let output = hypatia()
        .args(["ask", "Say hello.", "--max-tokens", "12", "--seed", "4", "--model"])
        .arg(&model)
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("[llama: hypatia-tiny-test]") && stderr.contains("completion tokens"),
        "{stderr}"
    );

    let out = stdout_json(
        &hypatia()
            .args(["ask", "Say hello.", "--max-tokens", "12", "--json", "--model"])
            .arg(&model)
            .output()
            .expect("run"),
    );
    assert!(out["answer"].is_string(), "{out}");
    assert!(
        out["usage"]["completion_tokens"].as_u64().is_some_and(|n| n <= 12),
        "{out}"
    );
}

#[test]
fn no_model_configured_is_an_error_that_says_how_not_a_cloud_call() {
    let output = hypatia()
        .args(["ask", "hello"])
        .env("OPENAI_API_KEY", SECRET)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no model is configured") && stderr.contains("--openai-base-url"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET));
}

#[test]
fn missing_corrupt_and_foreign_model_files_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("absent.gguf");
    let foreign = dir.path().join("notes.gguf");
    std::fs::write(&foreign, "not a model").expect("write");
    let model = std::fs::read(hypatia_testkit::tiny_model()).expect("model");
    let truncated = dir.path().join("cut.gguf");
    std::fs::write(&truncated, &model[..model.len() / 3]).expect("write");
    for (path, words) in [
        (&missing, "absent.gguf"),
        (&foreign, "not a GGUF"),
        (&truncated, "truncated"),
    ] {
        let output = hypatia()
            .args(["ask", "hi", "--model"])
            .arg(path)
            .output()
            .expect("run");
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(words), "{words}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_schema_file_that_is_not_json_is_named_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = dir.path().join("bad.json");
    std::fs::write(&schema, "{\n  \"type\": \"object\",\n  oops\n}").expect("write");
    let output = hypatia()
        .args(["ask", "hi", "--schema"])
        .arg(&schema)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.json") && stderr.contains("line 3"), "{stderr}");
}

#[test]
fn models_info_and_list_describe_gguf_files() {
    let model = hypatia_testkit::tiny_model();
    let info = stdout_json(
        &hypatia()
            .args(["models", "info", "--json"])
            .arg(&model)
            .output()
            .expect("run"),
    );
    assert_eq!(info["architecture"], "llama");
    assert_eq!(info["quantization"], "F32");
    assert_eq!(info["has_chat_template"], true);
    assert_eq!(info["chat_format"]["source"], "embedded");
    assert!(
        info["parameter_count"].as_u64().is_some_and(|n| n > 3_000_000),
        "{info}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&model, dir.path().join("tiny.gguf")).expect("copy");
    std::fs::write(dir.path().join("broken.gguf"), "GGUF?").expect("write");
    let list = stdout_json(
        &hypatia()
            .args(["models", "list", "--json"])
            .env("HYPATIA_MODELS_DIR", dir.path())
            .output()
            .expect("run"),
    );
    let entries = list.as_array().expect("a list");
    assert_eq!(entries.len(), 2, "{list}");
    assert!(entries[0]["path"].as_str().is_some_and(|p| p.ends_with("broken.gguf")));
    assert!(entries[0]["error"].is_string(), "{list}");
    assert_eq!(entries[1]["info"]["architecture"], "llama");

    let text = hypatia()
        .args(["models", "list"])
        .env("HYPATIA_MODELS_DIR", dir.path())
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("tiny.gguf  llama") && text.contains("broken.gguf  unreadable"),
        "{text}"
    );
}

#[test]
fn config_show_layers_project_over_environment_and_masks_the_key() {
    let project = TestProject::new();
    append_to_config(
        &project,
        "\n[model]\nthreads = 3\ncontext_tokens = 2048\n\n[openai]\nmodel = \"served\"\n",
    );
    let output = project
        .cmd()
        .args(["config", "show", "--json"])
        .env("OPENAI_API_KEY", SECRET)
        .env("HYPATIA_THREADS", "1")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(!stdout.contains(SECRET), "{stdout}");
    let config = stdout_json(&output);
    assert_eq!(config["settings"]["model"]["threads"], 1, "environment over project");
    assert_eq!(config["settings"]["model"]["context_tokens"], 2048);
    assert_eq!(config["settings"]["openai"]["api_key"], hypatia_models::MASK);
    assert_eq!(config["backend"], "openai");

    let text = project
        .cmd()
        .args(["config", "show"])
        .env("OPENAI_API_KEY", SECRET)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("api_key = \"********\"") && !text.contains(SECRET),
        "{text}"
    );
}

#[test]
fn an_api_key_in_the_project_file_is_refused_without_echoing_it() {
    let project = TestProject::new();
    append_to_config(&project, &format!("\n[openai]\napi_key = \"{SECRET}\"\n"));
    let output = project.cmd().args(["config", "show"]).output().expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("api_key") && !stderr.contains(SECRET), "{stderr}");
}

/// `hypatia ask` through the openai backend against a real server on 127.0.0.1, with an API key in the
/// environment and debug logging on: the answer is schema-valid and the key appears nowhere.
#[test]
fn ask_answers_valid_json_through_a_real_openai_compatible_server() {
    let _lock = model_lock();
    let Some(server) = hypatia_testkit::OpenAiServer::llama_cpp_python(&hypatia_testkit::tiny_model(), 2048) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    // llama-cpp-python's grammar does not enforce integer bounds, so a random model breaks them: this
    // schema has none, and everything in it the server's grammar does enforce.
    let schema_value = json!({
        "type": "object",
        "properties": {
            "answer": {"type": "string", "maxLength": 40},
            "verdict": {"enum": ["supported", "refuted", "unclear"]},
            "confidence": {"type": "integer"}
        },
        "required": ["answer", "verdict", "confidence"]
    });
    let schema = dir.path().join("verdict.schema.json");
    std::fs::write(&schema, schema_value.to_string()).expect("write schema");
    let validator = CompiledSchema::new(&schema_value).expect("schema");
    let output = hypatia()
        .args([
            "-vv",
            "ask",
            "Is aspirin an anti-inflammatory drug?",
            "--json",
            "--seed",
            "1",
            "--schema",
        ])
        .arg(&schema)
        .args([
            "--openai-base-url",
            server.base_url(),
            "--openai-model",
            server.model_id(),
        ])
        .env("OPENAI_API_KEY", SECRET)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        !stderr.contains(SECRET) && !stdout.contains(SECRET),
        "the API key leaked"
    );
    assert!(output.status.success(), "{stderr}\nserver:\n{}", server.stderr_tail());
    let out: Value = serde_json::from_str(&stdout).expect("JSON");
    validator
        .validate(&out["answer"])
        .unwrap_or_else(|problem| panic!("{problem}: {out}"));
    assert_eq!(out["backend"], "openai");
}

#[test]
fn an_openai_model_without_a_server_address_never_defaults_to_a_cloud() {
    let project = TestProject::new();
    append_to_config(&project, "\n[openai]\nmodel = \"qwen2.5-7b\"\n");
    let output = project
        .cmd()
        .args(["ask", "hello"])
        .env("OPENAI_API_KEY", SECRET)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("base_url") && !stderr.contains(SECRET), "{stderr}");
}

/// A model file that kills llama.cpp must end as an error that names the file, not as a dead process:
/// its first load runs in a trial child (`hypatia models probe`). The fault is injected into that
/// child (it aborts after loading); the parent reports it and writes nothing it would later trust.
#[test]
fn a_model_that_crashes_the_engine_is_an_error_naming_the_file_not_a_dead_process() {
    let _lock = model_lock();
    let models = tempfile::tempdir().expect("models dir");
    let model = models.path().join("crashes.gguf");
    std::fs::copy(hypatia_testkit::tiny_model(), &model).expect("copy");
    let ask = |fault: Option<&str>| {
        let mut command = hypatia();
        command
            .args(["ask", "Say hello.", "--max-tokens", "4", "--model"])
            .arg(&model)
            .env("HYPATIA_MODELS_DIR", models.path());
        if let Some(fault) = fault {
            command.env("HYPATIA_PROBE_FAULT", fault);
        }
        command.output().expect("run")
    };
    let crashed = ask(Some("abort"));
    let stderr = String::from_utf8_lossy(&crashed.stderr);
    assert_eq!(
        crashed.status.code(),
        Some(1),
        "the parent exits with an error of its own: {stderr}"
    );
    assert!(stderr.contains("llama.cpp crashed (signal 6, SIGABRT"), "{stderr}");
    assert!(
        stderr.contains(&model.display().to_string()),
        "the file is named: {stderr}"
    );
    assert!(
        !models.path().join(".probed").exists(),
        "a crashed trial is not remembered"
    );

    // Once the file runs, the trial passes and is remembered; the next load skips it.
    let ok = ask(None);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let markers = std::fs::read_dir(models.path().join(".probed"))
        .expect("marker")
        .count();
    assert_eq!(markers, 1);
    let again = ask(Some("abort"));
    assert!(
        again.status.success(),
        "a passed trial is not run again: {}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn the_engine_reports_its_build_without_amx() {
    let engine = stdout_json(&hypatia().args(["models", "engine", "--json"]).output().expect("run"));
    assert_eq!(engine["amx"], false, "{engine}");
    assert!(
        engine["system_info"]
            .as_str()
            .is_some_and(|info| info.contains("CPU :")),
        "{engine}"
    );
}
