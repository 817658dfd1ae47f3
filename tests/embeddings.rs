//! Embeddings end to end through the binary: `models convert` on the real all-MiniLM-L6-v2 folder
//! from PyPI, hybrid search from a configured model, vectors rebuilt by `reindex`, and SciFact's
//! figures for bm25, dense and hybrid from one `eval retrieval --mode all`.

use std::path::{Path, PathBuf};

use crate::support::{TestProject, hypatia, model_lock, shared};

const LIBRARY: &str = r#"{"id": "smoke", "title": "Cigarette use and myocardial infarction", "abstract": "Current smokers had twice the rate of myocardial infarction of never smokers in a cohort of 20,000 adults. The excess risk fell within five years of quitting.", "year": 2015}
{"id": "ice", "title": "Arctic sea ice decline", "abstract": "Summer sea ice extent in the Arctic has declined by thirteen percent per decade since satellite records began.", "year": 2020}
{"id": "bees", "title": "Neonicotinoids and pollinators", "abstract": "Field-realistic doses of neonicotinoid pesticides impaired the foraging of bumblebee colonies.", "year": 2018}
"#;

/// Converts the MiniLM folder with the binary into `dir`; `None` (having said why) without it.
fn convert(dir: &Path) -> Option<PathBuf> {
    let folder = hypatia_testkit::minilm_dir()?;
    let out = dir.join("minilm.gguf");
    let output = hypatia()
        .args(["models", "convert"])
        .arg(&folder)
        .arg("--out")
        .arg(&out)
        .arg("--json")
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(summary["architecture"], "bert");
    assert_eq!(summary["dimensions"], 384);
    assert_eq!(summary["pooling"], "mean");
    assert_eq!(summary["context_length"], 256);
    assert_eq!(
        summary["bytes"].as_u64(),
        Some(std::fs::metadata(&out).expect("written").len())
    );
    Some(out)
}

#[test]
fn models_convert_writes_a_model_the_engine_embeds_with_and_refuses_what_it_cannot_convert() {
    let dir = tempfile::tempdir().expect("temp dir");
    let _lock = model_lock();
    let Some(gguf) = convert(dir.path()) else { return };
    let probe = hypatia()
        .args(["models", "probe", "--embedding"])
        .arg(&gguf)
        .output()
        .expect("run");
    assert!(probe.status.success(), "{}", String::from_utf8_lossy(&probe.stderr));
    assert!(String::from_utf8_lossy(&probe.stdout).contains("embeds: 384 dimensions"));

    // A RoBERTa folder: refused, naming the file and what it found.
    let folder = hypatia_testkit::minilm_dir().expect("present");
    let roberta = dir.path().join("roberta");
    std::fs::create_dir_all(&roberta).expect("mkdir");
    let config = std::fs::read_to_string(folder.join("config.json")).expect("config");
    std::fs::write(roberta.join("config.json"), config.replace("\"bert\"", "\"roberta\"")).expect("write");
    let message = refused_conversion(&roberta);
    assert!(
        message.contains("config.json") && message.contains("roberta"),
        "{message}"
    );
    // A folder without a pooling config: the pooling is unknown, so it is refused, not guessed.
    std::fs::write(roberta.join("config.json"), config).expect("write");
    assert!(refused_conversion(&roberta).contains("modules.json"));
}

/// `models convert` of `folder`, which must fail: its error message.
fn refused_conversion(folder: &Path) -> String {
    let refused = hypatia()
        .args(["models", "convert"])
        .arg(folder)
        .arg("--out")
        .arg(folder.join("out.gguf"))
        .output()
        .expect("run");
    assert!(!refused.status.success(), "{} was converted", folder.display());
    String::from_utf8_lossy(&refused.stderr).into_owned()
}

#[test]
fn a_configured_embedding_model_makes_search_hybrid_and_reindex_embeds_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let _lock = model_lock();
    let Some(gguf) = convert(dir.path()) else { return };
    let project = TestProject::new();
    let library = project.path().join("library.jsonl");
    std::fs::write(&library, LIBRARY).expect("write");
    project.cmd().arg("ingest").arg(&library).assert().success();

    let paraphrase = "heart attack chance among tobacco consumers";
    // Without a model: words only, and dense is refused with what to do.
    let words = project.json(&["search", paraphrase, "--json"]);
    let smoke = "Cigarette use and myocardial infarction";
    assert!(
        words
            .as_array()
            .is_some_and(|hits| hits.iter().all(|h| h["title"] != smoke)),
        "{words}"
    );
    let refused = project
        .cmd()
        .args(["search", paraphrase, "--mode", "dense"])
        .output()
        .expect("run");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--embedding-model"));

    // The model in hypatia.toml: every search is hybrid by default.
    let config = project.path().join("hypatia.toml");
    let mut toml = std::fs::read_to_string(&config).expect("config");
    toml.push_str(&format!(
        "\n[embedding]\npath = {:?}\nthreads = 2\n",
        gguf.display().to_string()
    ));
    std::fs::write(&config, toml).expect("write");
    let hits = project.json(&["search", paraphrase, "--json", "--limit", "3"]);
    assert_eq!(hits[0]["title"], smoke, "{hits}");
    let passages = project.json(&["search", paraphrase, "--passages", "--json", "--limit", "1"]);
    assert_eq!(passages[0]["paper_id"], hits[0]["id"]);
    let bm25 = project.json(&["search", paraphrase, "--json", "--mode", "bm25"]);
    assert!(
        bm25.as_array()
            .is_some_and(|hits| hits.iter().all(|h| h["title"] != smoke)),
        "{bm25}"
    );

    // reindex rebuilds the vectors too.
    let output = project.cmd().arg("reindex").output().expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (_, passages_stored) = project.counts();
    assert!(
        stdout.contains(&format!("Embedded {passages_stored} passages")),
        "{stdout}"
    );
}

/// SciFact's figures for the three modes from one `eval retrieval --mode all`, on a sample CI can
/// afford: the first 100 test queries and a corpus of 400 documents (every judged one, then others in
/// file order; about 3,300 passages, 3 minutes to embed on 2 AVX2 cores). The whole corpus (43,513
/// passages) takes 6 minutes on an AVX-512 machine and over 25 on a 2-core AVX2 one; its figures are
/// in BENCHMARKS.md, made by the same command without the sample flags. On this sample (measured:
/// bm25 0.799, dense 0.880, hybrid 0.870) words alone are clearly beaten and the fusion costs dense
/// little; on the whole corpus hybrid is above both.
#[test]
fn scifact_hybrid_retrieval_beats_words_alone() {
    let Some(scifact) = shared("eval-data/scifact-beir") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let _lock = model_lock();
    let Some(gguf) = convert(dir.path()) else { return };
    let output = hypatia()
        .args(["eval", "retrieval", "--json", "--mode", "all", "--beir"])
        .arg(&scifact)
        .arg("--embedding-model")
        .arg(&gguf)
        .args(["--limit-queries", "100", "--sample-documents", "400"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reports: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let report = |mode: &str| {
        reports
            .as_array()
            .and_then(|all| all.iter().find(|r| r["mode"] == mode))
            .unwrap_or_else(|| panic!("no {mode} report in {reports}"))
            .clone()
    };
    let ndcg = |mode: &str| report(mode)["ndcg_at_10"].as_f64().expect("ndcg");
    let (bm25, dense, hybrid) = (ndcg("bm25"), ndcg("dense"), ndcg("hybrid"));
    eprintln!("SciFact sample nDCG@10: bm25 {bm25:.4}, dense {dense:.4}, hybrid {hybrid:.4}");
    assert!(bm25 >= 0.77, "bm25 {bm25}");
    assert!(dense >= 0.85, "dense {dense}");
    assert!(hybrid > bm25 + 0.04, "hybrid {hybrid} is not clearly above bm25 {bm25}");
    assert!(hybrid > dense - 0.03, "hybrid {hybrid} is far below dense {dense}");
    let hybrid_report = report("hybrid");
    assert!(
        hybrid_report["embedding_model"]
            .as_str()
            .is_some_and(|m| m.contains("minilm.gguf sha256:"))
    );
    assert_eq!(hybrid_report["queries"], 100);
    assert_eq!(hybrid_report["sampled"], true);
    assert_eq!(hybrid_report["documents"], 400);
    assert_eq!(hybrid_report["corpus_documents"], 5183);
}

#[test]
fn a_review_with_an_embedding_model_retrieves_hybrid_and_says_so_in_its_report() {
    let Some(corpus) = shared("corpus/llm-science-abstracts.txt") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let _lock = model_lock();
    let Some(gguf) = convert(dir.path()) else { return };
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).expect("mkdir");
    let model = hypatia_testkit::tiny_model();
    let output = hypatia()
        .current_dir(&project)
        .args(crate::review::review_args(&model, "5"))
        .arg("--corpus")
        .arg(&corpus)
        .arg("--embedding-model")
        .arg(&gguf)
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("run review");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    assert_eq!(report["status"], "completed", "{report}");
    crate::review::check_run(&project, &report);

    // The report names how evidence was searched, with the embedding model's identity.
    let run_id = report["run_id"].as_str().expect("run id");
    let out = project.join("reports");
    let exported = hypatia()
        .current_dir(&project)
        .args(["export", run_id, "--format", "json", "--out-dir"])
        .arg(&out)
        .output()
        .expect("export");
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(format!("{run_id}.json"))).expect("json"))
            .expect("json");
    let retrieval = json["settings"]["provenance"]["retrieval"].as_str().unwrap_or_default();
    assert!(
        retrieval.starts_with("hybrid (convex:0.5): bm25 + llama:minilm.gguf sha256:"),
        "{retrieval}: {}",
        json["settings"]["provenance"]
    );
}
