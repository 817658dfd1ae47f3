//! `hypatia review` end to end: the real binary, the real tiny GGUF through
//! llama.cpp, the real 249-paper corpus. The model's text is gibberish; what
//! is tested is the mechanics: every stage runs, every citation resolves to
//! a stored passage, ratings follow from the recorded matches, the journal
//! replays to the printed state, and a killed run resumes to the same end.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use hypatia_bus::Journaled;
use hypatia_research::{Envelope, Payload};
use hypatia_runs::{RunRecord, elo};
use hypatia_store::Store;
use serde_json::Value;

use crate::support::{hypatia, model_lock, shared};

pub(crate) const QUESTION: &str = "How can large language models generate scientific hypotheses?";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Every journaled message of a run, read back through the bus's own decoder.
pub(crate) fn journal(project: &Path, run_id: &str) -> Vec<Envelope> {
    runtime().block_on(async {
        let store = Store::open(&project.join(".hypatia/hypatia.db"))
            .await
            .expect("open store");
        let entries = store.run_messages(run_id, 0).await.expect("read journal");
        store.close().await;
        entries
            .iter()
            .map(|e| Envelope::from_entry(e).expect("decodable entry"))
            .collect()
    })
}

fn message_count(project: &Path) -> i64 {
    runtime().block_on(async {
        let Ok(store) = Store::open(&project.join(".hypatia/hypatia.db")).await else {
            return 0;
        };
        let count = match store.list_runs().await {
            Ok(runs) => runs.iter().map(|r| r.messages).sum(),
            Err(_) => 0,
        };
        store.close().await;
        count
    })
}

/// The passages stored for each cited paper: citations must resolve to these.
fn stored_passage_text(project: &Path, passage: &str) -> Option<String> {
    let id: hypatia_core::PassageId = passage.parse().ok()?;
    runtime().block_on(async {
        let store = Store::open(&project.join(".hypatia/hypatia.db"))
            .await
            .expect("open store");
        let passages = store.passages(&id.paper_id()).await.expect("passages");
        store.close().await;
        passages.into_iter().find(|p| p.id == id).map(|p| p.text)
    })
}

pub(crate) fn review_args(model: &Path, seed: &str) -> Vec<String> {
    [
        "review",
        QUESTION,
        "--model",
        &model.to_string_lossy(),
        "--hypotheses",
        "3",
        "--rounds",
        "2",
        "--leaders",
        "1",
        "--seed",
        seed,
        "--json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// One answer per prompt and seed, whatever else runs: one sequence at a time, no reused prefixes.
fn deterministic(command: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
    command
        .env("HYPATIA_MAX_SEQUENCES", "1")
        .env("HYPATIA_PREFIX_CACHE", "off")
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
}

/// Checks that hold for any finished run of the tiny model: every stage ran, and the report holds
/// against its journal ([`check_journal`]).
pub(crate) fn check_run(project: &Path, report: &Value) {
    check_journal(project, report, true);
}

/// The report against its journal: nothing lost or duplicated, every citation given and stored, the
/// ratings replayed, `runs show` equal. With `every_stage`, every kind of task must have run (a real
/// model's refused tasks may leave a stage out).
/// Hypotheses are composed once every synthesis section is written or has failed, each given the
/// gaps the sections found (those of its inspiration's sections first, a few); a gap a hypothesis
/// names is one of those, word for word.
fn check_gaps(envelopes: &[Envelope], record: &RunRecord, hypotheses: &[Value]) {
    let position = |id: &str| envelopes.iter().position(|e| e.id == id);
    let last_section = envelopes
        .iter()
        .enumerate()
        .filter(|(_, e)| e.id.starts_with(RunRecord::SYNTHESIS_TASK_PREFIX) && e.id.ends_with("/reply"))
        .map(|(at, _)| at)
        .max();
    let gaps = record.gaps();
    for request in envelopes.iter() {
        if let Payload::GenerateRequest {
            gaps: given,
            inspiration,
            ..
        } = &request.payload
        {
            if let Some(last) = last_section {
                let at = position(&request.id).expect("journaled");
                assert!(at > last, "{} was sent before every section was written", request.id);
            }
            let expected = hypatia_planner::composition_gaps(record, inspiration);
            assert_eq!(
                given, &expected,
                "{} was not given the gaps the sections found",
                request.id
            );
            assert_eq!(given.len(), gaps.len().min(hypatia_planner::GAPS_PER_COMPOSITION));
        }
    }
    for hypothesis in hypotheses {
        if hypothesis["gap"].is_null() {
            continue;
        }
        let named: hypatia_research::Gap = serde_json::from_value(hypothesis["gap"].clone()).expect("a gap");
        assert!(
            gaps.contains(&named),
            "{} addresses a gap no section found: {named:?}",
            hypothesis["id"]
        );
    }
}

pub(crate) fn check_journal(project: &Path, report: &Value, every_stage: bool) {
    let run_id = report["run_id"].as_str().expect("run_id");
    let envelopes = journal(project, run_id);

    // No message lost or duplicated: ids unique, every request answered exactly once.
    let ids: BTreeSet<&str> = envelopes.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), envelopes.len(), "duplicate message ids");
    let record = RunRecord::from_envelopes(run_id, &envelopes);
    assert!(
        record.pending_requests().is_empty(),
        "unanswered requests in a finished run"
    );
    for reply in envelopes.iter().filter(|e| e.id.ends_with("/reply")) {
        let parent = reply.parent_id.as_deref().expect("a reply has a parent");
        assert!(
            ids.contains(parent),
            "reply {} to a request not in the journal",
            reply.id
        );
    }

    // Every stage ran.
    let kinds: BTreeSet<&str> = envelopes.iter().map(Envelope::kind).collect();
    for kind in [
        "run_started",
        "session_started",
        "plan_request",
        "retrieve_request",
        "evidence_ready",
        "synthesis_request",
        "generate_request",
        "hypothesis_ready",
        "review_request",
        "review_ready",
        "judge_request",
        "judge_ready",
        "revise_request",
        "round_finished",
        "run_finished",
    ] {
        // A run with `--no-synthesis` writes no section.
        let skipped = kind == "synthesis_request" && !record.settings.as_ref().is_some_and(|s| s.synthesis);
        assert!(
            kinds.contains(kind) || !every_stage || skipped,
            "no `{kind}` message in the journal: {kinds:?}"
        );
    }

    // Every citation resolves to a stored passage, and the report quotes it exactly.
    let hypotheses = report["hypotheses"].as_array().expect("hypotheses");
    assert!(!hypotheses.is_empty());
    // Each hypothesis was given the evidence of the request that asked for it (retrieved passages,
    // and pinned ones when the run was steered): it may cite those only.
    let given: BTreeMap<String, BTreeSet<String>> = record
        .requests
        .values()
        .filter_map(|request| match &request.payload {
            Payload::GenerateRequest {
                hypothesis_id,
                evidence,
                ..
            }
            | Payload::ReviseRequest {
                hypothesis_id,
                evidence,
                ..
            } => Some((
                hypothesis_id.clone(),
                evidence.iter().map(|p| p.passage_id.to_string()).collect(),
            )),
            _ => None,
        })
        .collect();
    for hypothesis in hypotheses {
        let id = hypothesis["id"].as_str().expect("id");
        let evidence = given.get(id).unwrap_or_else(|| panic!("no request composed {id}"));
        let citations = hypothesis["citations"].as_array().expect("citations");
        assert!(!citations.is_empty(), "{hypothesis}");
        for citation in citations {
            let passage = citation["passage_id"].as_str().expect("passage id");
            assert!(
                evidence.contains(passage),
                "{passage} was not in the evidence {id} was given"
            );
            let stored = stored_passage_text(project, passage).unwrap_or_else(|| panic!("{passage} is not stored"));
            assert_eq!(citation["text"].as_str(), Some(stored.as_str()));
            assert!(citation["title"].as_str().is_some_and(|t| !t.is_empty()));
        }
        check_support(hypothesis);
    }
    check_gaps(&envelopes, &record, hypotheses);
    let named: Vec<&str> = hypotheses.iter().filter_map(|h| h["gap"]["id"].as_str()).collect();
    if !named.is_empty() {
        let shown = crate::support::hypatia()
            .current_dir(project)
            .args(["runs", "show", run_id])
            .output()
            .expect("runs show");
        let text = String::from_utf8_lossy(&shown.stdout);
        for id in named {
            assert!(
                text.contains(&format!("addresses gap {id}: ")),
                "gap {id} not shown: {text}"
            );
        }
    }
    let synthesis_judged = check_synthesis(project, &record, report);
    let judged: usize = hypotheses
        .iter()
        .flat_map(|h| h["citations"].as_array().into_iter().flatten())
        .filter(|c| c["support"].is_string())
        .count();
    assert_eq!(
        report["support"]["judged"].as_u64(),
        Some((judged + synthesis_judged) as u64),
        "the run's support figure"
    );

    // Ratings are Elo over the journaled judgements, replayed here from scratch.
    let mut games: Vec<(u32, String, String, String)> = Vec::new();
    for reply in &envelopes {
        if let Payload::JudgeReady { winner, .. } = &reply.payload {
            let request = envelopes
                .iter()
                .find(|e| Some(&e.id) == reply.parent_id.as_ref())
                .expect("judge request");
            let Payload::JudgeRequest {
                round, first, second, ..
            } = &request.payload
            else {
                panic!("not a judge request")
            };
            let (w, l) = match winner {
                hypatia_research::Side::First => (&first.id, &second.id),
                hypatia_research::Side::Second => (&second.id, &first.id),
            };
            games.push((*round, request.id.clone(), w.clone(), l.clone()));
        }
    }
    games.sort();
    let mut ratings: BTreeMap<String, f64> = BTreeMap::new();
    for hypothesis in hypotheses {
        ratings.insert(hypothesis["id"].as_str().expect("id").to_owned(), elo::INITIAL_RATING);
    }
    for (_, _, winner, loser) in &games {
        elo::play(&mut ratings, winner, loser);
    }
    let mut previous = f64::INFINITY;
    for hypothesis in hypotheses {
        let id = hypothesis["id"].as_str().expect("id");
        let rating = hypothesis["rating"].as_f64().expect("rating");
        assert!(
            (rating - ratings[id]).abs() < 0.051,
            "{id}: reported {rating}, replayed {}",
            ratings[id]
        );
        assert!(rating <= previous + 1e-9, "hypotheses are not in rating order");
        previous = rating;
        let won = hypothesis["matches_won"].as_u64().expect("won");
        assert_eq!(won as usize, games.iter().filter(|g| g.2 == id).count());
    }
    let total_won: u64 = hypotheses.iter().map(|h| h["matches_won"].as_u64().unwrap_or(0)).sum();
    assert_eq!(total_won as usize, games.len());

    // The journal replays to what was printed.
    let shown = crate::support::hypatia()
        .current_dir(project)
        .args(["runs", "show", run_id, "--json"])
        .output()
        .expect("runs show");
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let shown: Value = serde_json::from_slice(&shown.stdout).expect("JSON");
    assert_eq!(&shown, report, "`runs show` differs from the review's own report");
}

#[test]
fn review_of_the_249_paper_corpus_runs_every_stage_and_cites_only_stored_passages() {
    let Some(corpus) = shared("corpus/llm-science-abstracts.txt") else {
        return;
    };
    let _model = model_lock();
    let model = hypatia_testkit::tiny_model();
    let dir = tempfile::tempdir().expect("tempdir");
    // No project here yet: the review creates one and ingests the corpus first.
    let output = hypatia()
        .current_dir(dir.path())
        .args(review_args(&model, "11"))
        .arg("--corpus")
        .arg(&corpus)
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("run review");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "review failed: {stderr}");
    assert!(dir.path().join("hypatia.toml").is_file(), "no project was created");
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON object on stdout");
    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(report["question"], QUESTION);
    let usage = &report["usage"];
    assert!(usage["model_calls"].as_u64().expect("calls") >= 10, "{usage}");
    assert!(usage["tokens"].as_u64().expect("tokens") > 0);
    check_run(dir.path(), &report);
    export_every_format(dir.path(), &report);

    let list = hypatia()
        .current_dir(dir.path())
        .args(["runs", "list", "--json"])
        .output()
        .expect("list");
    let list: Value = serde_json::from_slice(&list.stdout).expect("JSON");
    assert_eq!(list[0]["run_id"], report["run_id"]);
    assert!(
        list[0].get("id").is_none(),
        "one name for a run's id in every command: {list}"
    );
    assert_eq!(list[0]["status"], "completed");
}

/// `hypatia export --out-dir` of a real run: every format written, each read back by a real parser,
/// the HTML rendered in Chromium; then the integrity gate refuses the run once its journal is doctored.
/// Each written synthesis section cites only passages its own request gave it, quoted as stored, each
/// judged. Returns how many citations the sections carry.
fn check_synthesis(project: &Path, record: &RunRecord, report: &Value) -> usize {
    let sections = report["synthesis"].as_array().expect("a synthesis array");
    let mut judged = 0;
    for section in sections {
        let number = section["number"].as_u64().expect("number");
        let given: BTreeSet<String> = record
            .requests
            .values()
            .find_map(|r| match &r.payload {
                Payload::SynthesisRequest { index, evidence, .. } if u64::from(*index) + 1 == number => {
                    Some(evidence.iter().map(|p| p.passage_id.to_string()).collect())
                }
                _ => None,
            })
            .unwrap_or_default();
        let statements = section["statements"].as_array().expect("statements");
        assert_eq!(section["status"] == "written", !statements.is_empty(), "{section}");
        for statement in statements {
            assert!(statement["text"].as_str().is_some_and(|t| !t.trim().is_empty()));
            for citation in statement["citations"].as_array().expect("citations") {
                let passage = citation["passage_id"].as_str().expect("id");
                assert!(
                    given.contains(passage),
                    "section {number} cites {passage}, which it was not given"
                );
                let stored = stored_passage_text(project, passage).unwrap_or_else(|| panic!("{passage} not stored"));
                assert_eq!(citation["text"].as_str(), Some(stored.as_str()));
                let label = citation["support"]
                    .as_str()
                    .unwrap_or_else(|| panic!("unjudged: {citation}"));
                assert!(["supports", "contradicts", "unrelated"].contains(&label));
                judged += 1;
            }
        }
    }
    judged
}

/// A reviewed hypothesis has every citation judged, and a citation that does not support it caps its
/// grounding score (all supporting allows 5, none 1; a contradiction at most 2).
fn check_support(hypothesis: &Value) {
    let citations = hypothesis["citations"].as_array().expect("citations");
    let Some(grounding) = hypothesis["scores"]["grounding"].as_u64() else {
        return;
    };
    let labels: Vec<&str> = citations
        .iter()
        .map(|c| {
            let label = c["support"]
                .as_str()
                .unwrap_or_else(|| panic!("an unjudged citation in a review: {c}"));
            assert!(["supports", "contradicts", "unrelated"].contains(&label), "{label}");
            assert!(
                c["support_reason"].as_str().is_some_and(|r| !r.trim().is_empty()),
                "{c}"
            );
            label
        })
        .collect();
    let supports = labels.iter().filter(|l| **l == "supports").count();
    let mut cap = 1 + (4 * supports) / labels.len().max(1);
    if labels.contains(&"contradicts") {
        cap = cap.min(2);
    }
    assert!(
        grounding as usize <= cap,
        "grounding {grounding} over the cap {cap} of {labels:?}"
    );
}

pub(crate) fn export_every_format(project: &Path, report: &Value) {
    export_and_check(project, report, true);
}

/// [`export_every_format`]; `charts` says whether the run has the reviews and matches that every
/// chart draws (a real model's refused tasks may leave a chart with nothing to show).
pub(crate) fn export_and_check(project: &Path, report: &Value, charts: bool) {
    let run_id = report["run_id"].as_str().expect("run_id");
    let out = project.join("reports");
    let output = hypatia()
        .current_dir(project)
        .args(["export", run_id, "--out-dir"])
        .arg(&out)
        .output()
        .expect("export");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let read = |ext: &str| {
        std::fs::read_to_string(out.join(format!("{run_id}.{ext}"))).unwrap_or_else(|e| panic!("{ext}: {e}"))
    };

    let exported: Value = serde_json::from_str(&read("json")).expect("JSON export");
    let schema: Value = serde_json::from_str(hypatia_report::JSON_SCHEMA).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&exported)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let ids = |v: &Value| -> Vec<String> {
        v["hypotheses"]
            .as_array()
            .expect("hypotheses")
            .iter()
            .map(|h| h["id"].to_string())
            .collect()
    };
    assert_eq!(ids(&exported), ids(report), "the export ranks as the review did");
    for (exported, reported) in exported["hypotheses"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(report["hypotheses"].as_array().into_iter().flatten())
    {
        let passages = |h: &Value, field: &str| -> Vec<Value> {
            h["citations"]
                .as_array()
                .expect("citations")
                .iter()
                .map(|c| c[field].clone())
                .collect()
        };
        assert_eq!(passages(exported, "passage_id"), passages(reported, "passage_id"));
        assert_eq!(passages(exported, "text"), passages(reported, "text"));
    }
    let provenance = &exported["settings"]["provenance"];
    assert_eq!(provenance["model"]["backend"], "local", "{provenance}");
    assert_eq!(provenance["model"]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(provenance["prompts_sha256"].as_str().map(str::len), Some(64));

    let keys: BTreeSet<String> = exported["papers"]
        .as_array()
        .expect("papers")
        .iter()
        .map(|p| p["key"].as_str().expect("key").to_owned())
        .collect();
    assert!(!keys.is_empty());
    let bibtex = biblatex::Bibliography::parse(&read("bib")).expect("the BibTeX export parses");
    assert_eq!(bibtex.iter().map(|e| e.key.clone()).collect::<BTreeSet<_>>(), keys);
    let csl: Vec<Value> = serde_json::from_str(&read("csl.json")).expect("CSL-JSON");
    assert_eq!(
        csl.iter()
            .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
            .collect::<BTreeSet<_>>(),
        keys
    );
    let markdown = read("md");
    let cited: BTreeSet<String> = markdown
        .split("[@")
        .skip(1)
        .filter_map(|rest| rest.split_once(']').map(|(group, _)| group))
        // `[@a; @b]`: a synthesis statement citing several papers.
        .flat_map(|group| group.split("; @"))
        .map(|cite| cite.split_once(", ").map_or(cite, |(key, _)| key).to_owned())
        .collect();
    assert_eq!(cited, keys, "[@key] citations and the bibliography agree");
    assert!(read("dot").contains("digraph"));
    let html = read("html");
    // The plain-text corpus has no years: the year chart then says so instead of drawing nothing.
    let dated = exported["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .any(|e| e["year"].is_i64());
    if charts {
        assert_eq!(html.matches("<svg ").count(), if dated { 4 } else { 3 });
    }
    assert_eq!(html.contains("has a publication year"), !dated);
    if let Some(browser) = hypatia_testkit::Browser::for_test("the review's HTML report in Chromium") {
        let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-screenshots/review-249.png");
        let rendered = browser.render(&out.join(format!("{run_id}.html")), &shot, 3000);
        assert!(
            rendered.requests.is_empty(),
            "the report made requests: {:?}",
            rendered.requests
        );
        assert!(
            rendered.dom.contains("<polyline") || !charts,
            "the rating chart rendered"
        );
    }
    // Standard output carries the same text as the file.
    let stdout = hypatia()
        .current_dir(project)
        .args(["export", "latest", "--format", "json"])
        .output()
        .expect("export to stdout");
    assert_eq!(String::from_utf8_lossy(&stdout.stdout), read("json"));

    // A journal doctored to cite a passage the agents were never given: refused, naming it.
    let invented = format!("{}#99", exported["papers"][0]["paper_id"].as_str().expect("paper id"));
    runtime().block_on(async {
        let store = Store::open(&project.join(".hypatia/hypatia.db")).await.expect("store");
        let hypothesis = hypatia_research::Hypothesis {
            id: "h99".into(),
            round: 1,
            parent: None,
            statement: "An invented hypothesis".into(),
            rationale: "r".into(),
            prediction: "p".into(),
            experiment: "e".into(),
            citations: vec![invented.parse().expect("a well-formed passage id")],
            gap: None,
        };
        let doctored = Envelope::new(
            run_id,
            "doctored",
            hypatia_research::AgentName::Hypothesis,
            hypatia_research::AgentName::Planner,
            Payload::HypothesisReady {
                hypothesis,
                usage: Default::default(),
            },
        );
        store
            .append_message(&doctored.to_entry().expect("entry"))
            .await
            .expect("append");
        store.close().await;
    });
    let refused_dir = project.join("refused");
    let refused = hypatia()
        .current_dir(project)
        .args(["export", run_id, "--out-dir"])
        .arg(&refused_dir)
        .output()
        .expect("export");
    assert!(!refused.status.success(), "a doctored run was exported");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains(&invented) && stderr.contains("h99"), "{stderr}");
    assert!(!refused_dir.exists(), "a refused export wrote files");
}

#[test]
fn without_a_model_the_review_stops_before_any_work_and_says_how_to_get_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = hypatia()
        .current_dir(dir.path())
        .args(["review", QUESTION, "--corpus"])
        .arg(crate::support::data("library.bib"))
        .output()
        .expect("run review");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for hint in [
        "--pull-model",
        "hypatia models pull",
        "--model PATH",
        "--openai-base-url",
    ] {
        assert!(stderr.contains(hint), "the message does not mention {hint}: {stderr}");
    }
    assert!(
        !dir.path().join("hypatia.toml").exists(),
        "a project was created before the model check"
    );
}

/// Starts `hypatia review` and kills it (SIGKILL) once `kill_after` messages are journaled.
fn review_killed_after(project: &Path, model: &Path, kill_after: i64) -> String {
    let mut command = StdCommand::new(env!("CARGO_BIN_EXE_hypatia"));
    command
        .current_dir(project)
        .args(review_args(model, "5"))
        .env("HYPATIA_CONFIG", "none")
        .env("HYPATIA_MAX_SEQUENCES", "1")
        .env("HYPATIA_PREFIX_CACHE", "off")
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .env_remove("HYPATIA_MODEL")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let before = message_count(project);
    let mut child = command.spawn().expect("start review");
    let started = Instant::now();
    while message_count(project) < before + kill_after {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the run ended ({status}) before {kill_after} messages");
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the run stalled");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let runs = runs_list(project);
    assert_eq!(runs[0]["status"], "interrupted", "{runs}");
    runs[0]["run_id"].as_str().expect("run_id").to_owned()
}

/// `hypatia runs list --json`, or null when it printed none (a store busy mid-write; callers poll
/// or assert on the result).
fn runs_list(project: &Path) -> Value {
    let output = hypatia()
        .current_dir(project)
        .args(["runs", "list", "--json"])
        .output()
        .expect("list");
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// A new project holding the corpus.
fn corpus_project(corpus: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    hypatia().arg("init").arg(dir.path()).assert().success();
    hypatia()
        .current_dir(dir.path())
        .arg("ingest")
        .arg(corpus)
        .assert()
        .success();
    dir
}

/// What must be equal between two runs of the same question and seed.
/// The synthesis without where each relation's judgement came from (the judging model's name, and
/// whether an earlier run of the project made it): a run resumed with the same weights under another
/// file name, or after other runs judged its pairs, ends the same.
fn without_provenance(synthesis: &Value) -> Value {
    let mut synthesis = synthesis.clone();
    for section in synthesis.as_array_mut().into_iter().flatten() {
        for relation in section["relations"].as_array_mut().into_iter().flatten() {
            if let Some(relation) = relation.as_object_mut() {
                relation.remove("model");
                relation.remove("reused");
            }
        }
    }
    synthesis
}

fn outcome(report: &Value) -> Value {
    let hypotheses: Vec<Value> = report["hypotheses"]
        .as_array()
        .expect("hypotheses")
        .iter()
        .map(|h| {
            serde_json::json!({
                "id": h["id"], "statement": h["statement"], "rating": h["rating"], "scores": h["scores"],
                "citations": h["citations"], "critique": h["critique"], "won": h["matches_won"],
                "history": h["rating_history"], "parent": h["parent"],
            })
        })
        .collect();
    serde_json::json!({
        "status": report["status"], "detail": report["detail"], "hypotheses": hypotheses,
        "plan": report["plan"], "failures": report["failures"], "synthesis": without_provenance(&report["synthesis"]),
    })
}

#[test]
fn a_run_killed_at_any_point_resumes_to_the_state_of_an_uninterrupted_run() {
    let Some(corpus) = shared("corpus/llm-science-abstracts.txt") else {
        return;
    };
    let _model = model_lock();
    let model = hypatia_testkit::tiny_model();
    let dir = corpus_project(&corpus);
    let project = dir.path();

    let output = deterministic(hypatia().current_dir(project).args(review_args(&model, "5")))
        .output()
        .expect("uninterrupted run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let uninterrupted: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    check_run(project, &uninterrupted);
    let total = journal(project, uninterrupted["run_id"].as_str().expect("id")).len() as i64;

    // Early (planning), in the middle (reviews and the first tournament), late (second round).
    for kill_after in [3, total / 2, total - 4] {
        let run_id = review_killed_after(project, &model, kill_after);
        if kill_after == total / 2 {
            // An interrupted run exports what it has, and says so before anything else.
            let export = hypatia()
                .current_dir(project)
                .args(["export", &run_id])
                .output()
                .expect("export");
            assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
            let markdown = String::from_utf8_lossy(&export.stdout);
            let body = markdown.split("\n---\n").nth(1).unwrap_or_default();
            assert!(
                body.trim_start()
                    .lines()
                    .nth(2)
                    .is_some_and(|l| l.starts_with("> **Interrupted:**")),
                "{markdown}"
            );
            assert!(String::from_utf8_lossy(&export.stderr).contains("interrupted"));
        }
        let mut resume = hypatia();
        resume.current_dir(project).args(["resume", &run_id, "--json"]);
        if kill_after == 3 {
            // The same weights under another name: the run goes on, and says the model changed.
            let renamed = project.join("renamed-tiny.gguf");
            std::fs::copy(&model, &renamed).expect("copy the model");
            resume.arg("--model").arg(&renamed);
        }
        let resumed = deterministic(&mut resume).output().expect("resume");
        assert!(
            resumed.status.success(),
            "resume failed: {}",
            String::from_utf8_lossy(&resumed.stderr)
        );
        let warned = String::from_utf8_lossy(&resumed.stderr).contains("goes on with renamed-tiny.gguf");
        assert_eq!(warned, kill_after == 3, "{}", String::from_utf8_lossy(&resumed.stderr));
        let resumed: Value = serde_json::from_slice(&resumed.stdout).expect("JSON");
        check_run(project, &resumed);
        assert_eq!(
            outcome(&resumed),
            outcome(&uninterrupted),
            "killed after {kill_after} of {total} messages, the resumed run ended differently"
        );
        // No finished call is made again: a call killed before its reply was journaled is, unless
        // what it found was kept in the project (judged pairs), which the resumed run takes from there.
        let calls = |run: &Value| run["usage"]["model_calls"].as_u64().expect("calls");
        assert!(
            calls(&resumed) <= calls(&uninterrupted),
            "killed after {kill_after}: more calls than uninterrupted"
        );
        // The same messages as the uninterrupted run, plus one marker per extra session.
        let ids = |run: &str| -> BTreeSet<String> {
            journal(project, run)
                .into_iter()
                .map(|e| e.id)
                .filter(|id| !id.starts_with("session."))
                .collect()
        };
        assert_eq!(ids(&run_id), ids(uninterrupted["run_id"].as_str().expect("id")));
        if kill_after == 3 {
            // An interrupted run can be ended for good instead; then it cannot be resumed.
            let interrupted = review_killed_after(project, &model, 3);
            let cancel = hypatia()
                .current_dir(project)
                .args(["runs", "cancel", &interrupted, "--reason", "wrong question"])
                .output()
                .expect("cancel");
            assert!(cancel.status.success(), "{}", String::from_utf8_lossy(&cancel.stderr));
            let shown = hypatia()
                .current_dir(project)
                .args(["runs", "show", &interrupted, "--json"])
                .output()
                .expect("show");
            let shown: Value = serde_json::from_slice(&shown.stdout).expect("JSON");
            assert_eq!(
                (&shown["status"], &shown["detail"]),
                (&Value::from("cancelled"), &Value::from("wrong question"))
            );
            let again = hypatia()
                .current_dir(project)
                .args(["resume", &interrupted])
                .output()
                .expect("resume a cancelled run");
            assert!(!again.status.success());
        }
        // A finished run cannot be resumed again.
        let again = hypatia()
            .current_dir(project)
            .args(["resume", &run_id])
            .output()
            .expect("resume again");
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to resume"));
    }
}

/// Serves `body` to every GET on 127.0.0.1, recording the request lines: a stand-in for Hugging Face.
fn serve_file(body: Vec<u8>) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            log.lock().expect("log").push(first.trim().to_owned());
            let mut stream = reader.into_inner();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&body));
        }
    });
    (base, seen)
}

#[test]
fn pull_model_fetches_the_default_model_then_reviews_with_it() {
    let _model = model_lock();
    let tiny = std::fs::read(hypatia_testkit::tiny_model()).expect("tiny model");
    let (endpoint, requests) = serve_file(tiny.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let models = dir.path().join("models");
    let output = hypatia()
        .current_dir(dir.path())
        .args([
            "review",
            "How does deep learning predict protein structure?",
            "--pull-model",
        ])
        .args(["--hypotheses", "1", "--rounds", "1", "--json", "--corpus"])
        .arg(crate::support::data("abstracts.txt"))
        .env("HF_ENDPOINT", &endpoint)
        .env("HYPATIA_MODELS_DIR", &models)
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("run review");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let pulled = models.join("qwen2.5-0.5b-instruct-q4_k_m.gguf");
    assert_eq!(std::fs::read(&pulled).expect("the pulled model"), tiny);
    let requests = requests.lock().expect("requests");
    assert!(
        requests
            .iter()
            .any(|r| r.contains("/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf")),
        "{requests:?}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["status"], "completed", "{report}");
}

#[test]
fn a_run_nobody_drives_can_be_cancelled_and_stays_cancelled() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("hypatia.db")).await.expect("store");
        let bus = hypatia_bus::Bus::new(store.clone());
        let settings = hypatia_research::RunSettings {
            question: QUESTION.into(),
            hypotheses: 2,
            rounds: 1,
            leaders: 1,
            seed: 1,
            evidence_limit: 4,
            budget: Default::default(),
            model: "none".into(),
            model_file: None,
            provenance: None,
            synthesis: false,
        };
        hypatia_planner::start_run(&bus, "run-cancel", settings).await.expect("start");
        hypatia_planner::cancel_run(&bus, "run-cancel", "enough for today")
            .await
            .expect("cancel");
        let run = store.run("run-cancel").await.expect("read").expect("the run");
        assert_eq!((run.status.as_str(), run.detail.as_deref()), ("cancelled", Some("enough for today")));
        let kinds: Vec<String> = store
            .run_messages("run-cancel", 0)
            .await
            .expect("journal")
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds[kinds.len() - 2..], ["cancel_requested", "run_finished"]);
        // Ended is ended: a second cancel is refused, and driving it again changes nothing.
        let again = hypatia_planner::cancel_run(&bus, "run-cancel", "again").await;
        assert!(matches!(again, Err(hypatia_planner::DriveError::Ended(..))), "{again:?}");
        let outcome = hypatia_planner::drive(&bus, "run-cancel", tokio_util::sync::CancellationToken::new())
            .await
            .expect("drive");
        assert!(
            matches!(&outcome, hypatia_planner::RunOutcome::Finished { status, .. } if *status == hypatia_research::RunStatus::Cancelled),
            "{outcome:?}"
        );
        store.close().await;
    });
}

/// A paper of the project the retriever did not choose: one to pin.
fn paper_outside(project: &Path, retrieved: &BTreeSet<String>) -> String {
    let hits: Value = serde_json::from_slice(
        &hypatia()
            .current_dir(project)
            .args(["search", "language models", "--json", "-n", "40"])
            .output()
            .expect("search")
            .stdout,
    )
    .expect("search JSON");
    hits.as_array()
        .expect("hits")
        .iter()
        .filter_map(|hit| hit["id"].as_str())
        .find(|id| !retrieved.contains(*id))
        .expect("a paper outside the evidence")
        .to_owned()
}

/// What `hypatia runs steer` printed, and whether it succeeded.
fn steer(project: &Path, run: &str, args: &[&str]) -> (bool, String) {
    let output = hypatia()
        .current_dir(project)
        .args(["runs", "steer", run])
        .args(args)
        .output()
        .expect("run steer");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_completed_review_steered_from_the_shell_goes_on_with_the_pin_the_exclusion_and_the_critique() {
    let Some(corpus) = shared("corpus/llm-science-abstracts.txt") else {
        return;
    };
    let _model = model_lock();
    let model = hypatia_testkit::tiny_model();
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path();
    let mut args = review_args(&model, "5");
    args[5] = "2".into(); // hypotheses
    args[7] = "1".into(); // rounds
    let output = hypatia()
        .current_dir(project)
        .args(&args)
        .arg("--corpus")
        .arg(&corpus)
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("run review");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["status"], "completed", "{report}");
    let run = report["run_id"].as_str().expect("run id").to_owned();
    let leader = report["hypotheses"][0]["id"].as_str().expect("a leader").to_owned();

    // A paper the retriever did not choose, and one it did.
    let before = RunRecord::from_envelopes(&run, &journal(project, &run));
    let retrieved: BTreeSet<String> = before
        .evidence
        .iter()
        .flatten()
        .map(|p| p.paper_id.to_string())
        .collect();
    assert!(retrieved.len() >= 2, "{retrieved:?}");
    let pinned = paper_outside(project, &retrieved);
    let excluded = retrieved.iter().next().expect("retrieved").clone();

    // Bad steering is refused by name and journals nothing.
    let messages = journal(project, &run).len();
    let (ok, said) = steer(project, &run, &["critique", "h42", "no such hypothesis"]);
    assert!(!ok && said.contains("h42") && said.contains(&leader), "{said}");
    let (ok, said) = steer(project, &run, &["pin", "not-a-paper"]);
    assert!(!ok && said.contains("not-a-paper"), "{said}");
    assert_eq!(journal(project, &run).len(), messages, "a refused steer left a message");

    let critique = "The cited passages do not measure novelty; add a baseline.";
    for (args, said) in [
        (vec!["pin", pinned.as_str()], "needs another round"),
        (vec!["exclude", excluded.as_str()], "needs another round"),
        (vec!["critique", leader.as_str(), critique], "goes on"),
        (vec!["round", "--reason", "test the critique"], "resume"),
    ] {
        let (ok, printed) = steer(project, &run, &args);
        assert!(ok, "{args:?}: {printed}");
        let expected = match said {
            "needs another round" => "ask for another round",
            other => other,
        };
        assert!(printed.contains(expected), "{args:?}: {printed}");
    }
    let runs = runs_list(project);
    assert_eq!(runs[0]["status"], "interrupted", "reopened and not driven: {runs}");

    let resumed = hypatia()
        .current_dir(project)
        .args(["resume", &run, "--model", &model.to_string_lossy(), "--json"])
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("resume");
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let after: Value = serde_json::from_slice(&resumed.stdout).expect("JSON");
    assert_eq!(after["status"], "completed", "{after}");
    check_run(project, &after);

    let envelopes = journal(project, &run);
    let record = RunRecord::from_envelopes(&run, &envelopes);
    assert_eq!(record.rounds(), 2);
    assert!(record.rounds_finished.contains_key(&2), "round 2 ran");
    assert_eq!(record.finishes, 2, "the run ended, was reopened, and ended again");
    // The reviewer heard the critique: the leader was reviewed again with it.
    let rereview = &record.requests[&format!("user.review.{leader}.1")];
    match &rereview.payload {
        Payload::ReviewRequest { user_critiques, .. } => assert_eq!(user_critiques, &[critique]),
        other => panic!("{other:?}"),
    }
    assert!(record.replies.contains_key(&rereview.id), "the re-review was answered");
    // The revision of the leader heard it first, and was given the steered evidence.
    let revise = &record.requests[&format!("r2.revise.{leader}")];
    let Payload::ReviseRequest {
        critiques, evidence, ..
    } = &revise.payload
    else {
        panic!("not a revision")
    };
    assert_eq!(critiques[0], format!("From the researcher: {critique}"));
    assert_eq!(evidence[0].paper_id.to_string(), pinned, "pinned passages come first");
    assert!(
        evidence.iter().all(|p| p.paper_id.to_string() != excluded),
        "an excluded paper was given"
    );
    // The export says how the run was steered.
    let export = hypatia()
        .current_dir(project)
        .args(["export", &run, "--format", "json"])
        .output()
        .expect("export");
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let document: Value = serde_json::from_slice(&export.stdout).expect("JSON");
    let actions: Vec<&str> = document["steering"]
        .as_array()
        .expect("steering")
        .iter()
        .map(|s| s["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["pin", "exclude", "critique", "round"]);
    let leader_entry = document["hypotheses"]
        .as_array()
        .expect("hypotheses")
        .iter()
        .find(|h| h["id"] == leader.as_str())
        .expect("the leader");
    assert_eq!(leader_entry["researcher_critiques"][0], critique);
}

/// The latest journaled request (by journal order) that `matches`.
fn last_request(envelopes: &[Envelope], matches: impl Fn(&Payload) -> bool) -> Option<&Envelope> {
    envelopes
        .iter()
        .filter(|e| e.parent_id.is_none() && matches(&e.payload))
        .max_by_key(|e| e.seq)
}

#[test]
fn a_headless_review_is_steered_from_another_process_while_it_runs() {
    let Some(corpus) = shared("corpus/llm-science-abstracts.txt") else {
        return;
    };
    let _model = model_lock();
    let model = hypatia_testkit::tiny_model();
    let dir = corpus_project(&corpus);
    let project = dir.path();
    let mut args = review_args(&model, "9");
    args[7] = "3".into(); // rounds: long enough to steer while it runs
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_hypatia"))
        .current_dir(project)
        .args(&args)
        .env("HYPATIA_CONFIG", "none")
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .env_remove("HYPATIA_MODEL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start review");
    // Steer as soon as the first hypothesis exists.
    let started = Instant::now();
    let run = loop {
        let runs = runs_list(project);
        if let Some(run) = runs[0]["run_id"].as_str()
            && journal(project, run)
                .iter()
                .any(|e| matches!(&e.payload, Payload::HypothesisReady { hypothesis, .. } if hypothesis.id == "h1"))
        {
            break run.to_owned();
        }
        assert!(
            child.try_wait().expect("poll").is_none(),
            "the review ended before h1 existed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no hypothesis after 5 minutes"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let retrieved: BTreeSet<String> = RunRecord::from_envelopes(&run, &journal(project, &run))
        .evidence
        .iter()
        .flatten()
        .map(|p| p.paper_id.to_string())
        .collect();
    let pinned = paper_outside(project, &retrieved);
    let critique = "Name the dataset the prediction would be measured on.";
    for args in [vec!["critique", "h1", critique], vec!["pin", pinned.as_str()]] {
        let (ok, said) = steer(project, &run, &args);
        assert!(ok, "{args:?}: {said}");
        assert!(
            said.contains("takes it up now"),
            "the review should still be running (steer raced its end?): {said}"
        );
    }
    let output = child.wait_with_output().expect("review ends");
    assert!(output.status.success(), "the steered review failed");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["status"], "completed", "{report}");
    check_run(project, &report);

    let envelopes = journal(project, &run);
    let record = RunRecord::from_envelopes(&run, &envelopes);
    assert_eq!(record.finishes, 1, "steered while running, the run ended once");
    let seq_of = |kind: &str| {
        envelopes
            .iter()
            .find(|e| e.kind() == kind)
            .map(|e| e.seq)
            .expect("journaled")
    };
    // h1's last review request came after the critique, and carries it.
    let review = last_request(
        &envelopes,
        |p| matches!(p, Payload::ReviewRequest { hypothesis, .. } if hypothesis.id == "h1"),
    )
    .expect("h1 was reviewed");
    assert!(review.seq > seq_of("critique_added"), "{}", review.id);
    match &review.payload {
        Payload::ReviewRequest { user_critiques, .. } => assert_eq!(user_critiques, &[critique]),
        other => panic!("{other:?}"),
    }
    // Every composition or revision sent after the pin was given the pinned paper first.
    let pin_seq = seq_of("paper_pinned");
    let after_pin: Vec<&Envelope> = envelopes
        .iter()
        .filter(|e| e.seq > pin_seq && e.parent_id.is_none())
        .filter(|e| {
            matches!(
                e.payload,
                Payload::GenerateRequest { .. } | Payload::ReviseRequest { .. }
            )
        })
        .collect();
    assert!(!after_pin.is_empty(), "no revision was sent after the pin");
    for request in after_pin {
        let (Payload::GenerateRequest { evidence, .. } | Payload::ReviseRequest { evidence, .. }) = &request.payload
        else {
            unreachable!()
        };
        assert_eq!(evidence[0].paper_id.to_string(), pinned, "{}", request.id);
    }
}
