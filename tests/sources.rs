//! `hypatia fetch`, `enrich`, `graph` and `review --fetch` end to end: the real binary against the
//! real recorded API responses (`../shared/eval-data/api-fixtures/`) replayed from a loopback server.

use std::path::{Path, PathBuf};

use serde_json::Value;
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{TestProject, shared};

fn fixture(relative: &str) -> Option<Vec<u8>> {
    let path = shared(&format!("eval-data/api-fixtures/{relative}"))?;
    Some(std::fs::read(path).expect("read fixture"))
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("fixture JSON")
}

/// A loopback server on a runtime of its own, serving while the CLI runs in another process.
struct Replay {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
}

impl Replay {
    fn start() -> Replay {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let server = runtime.block_on(MockServer::start());
        Replay { runtime, server }
    }

    fn serve(&self, route: &str, params: &[(&str, &str)], response: ResponseTemplate) {
        let mut mock = Mock::given(path(route));
        for (name, value) in params {
            mock = mock.and(query_param(*name, *value));
        }
        self.runtime.block_on(mock.respond_with(response).mount(&self.server));
    }

    fn requests(&self, route: &str) -> usize {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == route)
            .count()
    }

    /// Every source pointed here, patient for two seconds at most, with no pause between requests.
    fn env(&self, command: &mut assert_cmd::Command) {
        let uri = self.server.uri();
        command
            .env("HYPATIA_ARXIV_URL", format!("{uri}/api"))
            .env("HYPATIA_S2_URL", format!("{uri}/graph/v1"))
            .env("HYPATIA_OPENALEX_URL", format!("{uri}/openalex"))
            .env("HYPATIA_CROSSREF_URL", format!("{uri}/crossref"))
            .env("HYPATIA_SOURCES_MAX_WAIT", "2");
        for name in ["ARXIV", "S2", "OPENALEX", "CROSSREF"] {
            command.env(format!("HYPATIA_{name}_INTERVAL_MS"), "0");
        }
        command.env_remove("S2_API_KEY").env_remove("SEMANTIC_SCHOLAR_API_KEY");
    }
}

fn ok_json(value: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(value)
}

fn ok_raw(bytes: Vec<u8>, content_type: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(bytes, content_type)
}

fn run_json(project: &TestProject, replay: &Replay, args: &[&str]) -> Value {
    let mut command = project.cmd();
    replay.env(&mut command);
    let output = command.args(args).output().expect("run hypatia");
    assert!(
        output.status.success(),
        "hypatia {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

/// A BibTeX file with the given entries, in a folder that outlives the command.
fn bib(dir: &Path, entries: &str) -> PathBuf {
    let file = dir.join("thin.bib");
    std::fs::write(&file, entries).expect("write bib");
    file
}

#[test]
fn each_source_fills_a_project_and_a_paper_seen_twice_is_one_record() {
    let (Some(arxiv), Some(s2), Some(work), Some(crossref)) = (
        fixture("arxiv/query.xml"),
        fixture("semantic-scholar/paper_search.json"),
        fixture("openalex/work.json"),
        fixture("crossref/works_query.json"),
    ) else {
        return;
    };
    let replay = Replay::start();
    replay.serve("/api/query", &[("start", "0")], ok_raw(arxiv, "application/atom+xml"));
    replay.serve(
        "/graph/v1/paper/search",
        &[("query", "turing")],
        ok_raw(s2, "application/json"),
    );
    // No OpenAlex list response was recorded: OpenAlex's documented envelope around the recorded work.
    let list =
        serde_json::json!({"meta": {"count": 1, "page": 1, "per_page": 25}, "results": [json(&work)], "group_by": []});
    replay.serve("/openalex/works", &[("search", "open access")], ok_json(&list));
    // The recorded Crossref search, its first item given the DOI of an arXiv entry fetched above:
    // the same paper reached through two sources (edited here, in the recorded format).
    let mut crossref = json(&crossref);
    crossref["message"]["items"][0]["DOI"] = "10.5170/CERN-2013-002.237".into();
    replay.serve("/crossref/works", &[("query", "ecology")], ok_json(&crossref));

    let project = TestProject::new();
    let arxiv = run_json(
        &project,
        &replay,
        &["fetch", "arxiv", "electron", "proton", "--max", "10", "--json"],
    );
    assert_eq!(
        (
            arxiv["source"].as_str(),
            arxiv["fetched"].as_u64(),
            arxiv["added"].as_u64()
        ),
        (Some("arxiv"), Some(10), Some(10)),
        "{arxiv}"
    );
    let s2 = run_json(&project, &replay, &["fetch", "s2", "turing", "--max", "5", "--json"]);
    assert_eq!(
        (s2["fetched"].as_u64(), s2["added"].as_u64()),
        (Some(5), Some(5)),
        "{s2}"
    );
    let openalex = run_json(
        &project,
        &replay,
        &["fetch", "openalex", "open access", "--max", "5", "--json"],
    );
    assert_eq!(openalex["added"], 1, "{openalex}");
    let crossref = run_json(
        &project,
        &replay,
        &["fetch", "crossref", "ecology", "--max", "2", "--json"],
    );
    assert_eq!(
        (crossref["added"].as_u64(), crossref["merged"].as_u64()),
        (Some(1), Some(1)),
        "{crossref}"
    );
    assert_eq!(
        project.counts().0,
        17,
        "10 + 5 + 1 + 1 papers: the shared DOI made one record"
    );

    // Fetched papers are searchable, abstracts and all, like ingested ones.
    let hits = project.json(&["search", "two-photon exchange", "--json"]);
    assert!(
        hits[0]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Two-photon exchange")),
        "{hits}"
    );
    // A second identical fetch is answered from the response cache: no request reaches the server.
    let before = replay.requests("/api/query");
    let again = run_json(
        &project,
        &replay,
        &["fetch", "arxiv", "electron", "proton", "--max", "10", "--json"],
    );
    assert_eq!(again["unchanged"], 10, "{again}");
    assert_eq!(replay.requests("/api/query"), before, "the cache did not answer");
}

#[test]
fn a_source_that_is_down_falls_back_and_without_fallback_fails_clearly_storing_nothing() {
    let Some(work) = fixture("openalex/work.json") else {
        return;
    };
    let replay = Replay::start();
    replay.serve(
        "/graph/v1/paper/search",
        &[],
        ResponseTemplate::new(503).set_body_string("busy"),
    );
    let list = serde_json::json!({"meta": {"count": 1, "page": 1, "per_page": 25}, "results": [json(&work)]});
    replay.serve("/openalex/works", &[], ok_json(&list));
    let project = TestProject::new();
    let mut refused = project.cmd();
    replay.env(&mut refused);
    let output = refused
        .args(["fetch", "s2", "open access", "--no-fallback"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Semantic Scholar") && stderr.contains("HTTP 503") && stderr.contains("gave up"),
        "{stderr}"
    );
    assert_eq!(project.counts().0, 0, "a failed fetch stored something");

    let mut command = project.cmd();
    replay.env(&mut command);
    let output = command
        .args(["fetch", "s2", "open access", "--json"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        (summary["asked"].as_str(), summary["source"].as_str()),
        (Some("s2"), Some("openalex")),
        "{summary}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("the papers come from OpenAlex instead"));
    assert_eq!(project.counts().0, 1);
}

#[test]
fn enrich_fills_what_a_doi_finds_and_never_takes_a_different_title() {
    let (Some(work), Some(search)) = (
        fixture("crossref/works_doi.json"),
        fixture("semantic-scholar/paper_search.json"),
    ) else {
        return;
    };
    let replay = Replay::start();
    replay.serve(
        "/crossref/works/10.1371/journal.pone.0033693",
        &[],
        ok_raw(work, "application/json"),
    );
    replay.serve("/graph/v1/paper/search", &[], ok_raw(search, "application/json"));
    replay.serve(
        "/crossref/works",
        &[],
        ok_json(&serde_json::json!({"message": {"total-results": 0, "items": []}})),
    );
    let project = TestProject::new();
    let file = bib(
        project.path(),
        "@article{thin, title = {Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia in the Basal Ganglia of Mice}, doi = {10.1371/journal.pone.0033693}}\n\
         @article{other, title = {Quantum theory and a universal machine of many worlds}}\n",
    );
    project.cmd().arg("ingest").arg(&file).assert().success();
    let summary = run_json(&project, &replay, &["enrich", "--json"]);
    assert_eq!(
        (summary["candidates"].as_u64(), summary["enriched"].as_u64()),
        (Some(2), Some(1)),
        "{summary}"
    );
    assert_eq!(summary["added"], 0, "enrichment created a paper: {summary}");
    assert_eq!(
        summary["not_found"], 1,
        "a near title was taken for the paper: {summary}"
    );
    let papers = project.json(&["papers", "list", "--json"]);
    let thin = papers
        .as_array()
        .expect("papers")
        .iter()
        .find(|p| p["doi"] == "10.1371/journal.pone.0033693")
        .expect("the DOI paper");
    assert_eq!(thin["year"], 2012, "{thin}");
    assert_eq!(thin["venue"], "PLoS ONE", "{thin}");
    assert_eq!(project.counts().0, 2);
}

#[test]
fn graph_expand_stores_references_and_citations_and_exports_them() {
    let (Some(p0), Some(p1), Some(citation)) = (
        fixture("semantic-scholar/paper_references_p0.json"),
        fixture("semantic-scholar/paper_references_p1.json"),
        fixture("semantic-scholar/Citation.json"),
    ) else {
        return;
    };
    let replay = Replay::start();
    let route = "/graph/v1/paper/DOI:10.2139/ssrn.2250500";
    replay.serve(
        &format!("{route}/references"),
        &[("offset", "0")],
        ok_raw(p0, "application/json"),
    );
    replay.serve(
        &format!("{route}/references"),
        &[("offset", "50")],
        ok_raw(p1, "application/json"),
    );
    // The recorded citation item, in the Graph API's documented page envelope.
    let page = serde_json::json!({"offset": 0, "data": [json(&citation)]});
    replay.serve(&format!("{route}/citations"), &[], ok_json(&page));
    let project = TestProject::new();
    let file = bib(
        project.path(),
        "@article{micro, title = {Six Randomized Evaluations of Microcredit}, doi = {10.2139/ssrn.2250500}, year = {2013}}\n",
    );
    project.cmd().arg("ingest").arg(&file).assert().success();

    let expanded = run_json(&project, &replay, &["graph", "expand", "--max", "100", "--json"]);
    assert_eq!(
        (
            expanded["expanded"].as_u64(),
            expanded["references"].as_u64(),
            expanded["citations"].as_u64(),
            expanded["new_edges"].as_u64()
        ),
        (Some(1), Some(44), Some(1), Some(45)),
        "{expanded}"
    );
    let stats = run_json(&project, &replay, &["graph", "stats", "--json"]);
    assert_eq!(
        (
            stats["nodes"].as_u64(),
            stats["edges"].as_u64(),
            stats["project_papers"].as_u64()
        ),
        (Some(46), Some(45), Some(1)),
        "{stats}"
    );
    // Expanded once is expanded: a second run asks nothing.
    let asked = replay.requests(&format!("{route}/references"));
    let again = run_json(&project, &replay, &["graph", "expand", "--json"]);
    assert_eq!(again["expanded"], 0, "{again}");
    assert_eq!(replay.requests(&format!("{route}/references")), asked);

    let dot = project
        .cmd()
        .args(["graph", "export", "--format", "dot"])
        .output()
        .expect("export");
    let dot = String::from_utf8(dot.stdout).expect("UTF-8");
    assert_eq!(dot.matches(" -> ").count(), 45, "{dot}");
    assert!(
        dot.contains("\"doi:10.1109/lra.2022.3229266\" -> \"doi:10.2139/ssrn.2250500\""),
        "the citing paper: {dot}"
    );
    if std::process::Command::new("dot").arg("-V").output().is_ok() {
        let mut child = std::process::Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("dot");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(dot.as_bytes())
            .expect("write");
        let rendered = child.wait_with_output().expect("dot ran");
        assert!(
            rendered.status.success(),
            "Graphviz rejected the DOT: {}",
            String::from_utf8_lossy(&rendered.stderr)
        );
    } else if std::env::var_os("HYPATIA_REQUIRE_GRAPHVIZ").is_some() {
        panic!("HYPATIA_REQUIRE_GRAPHVIZ is set but `dot` cannot run");
    }
    let out = project.path().join("graph.graphml");
    project
        .cmd()
        .args(["graph", "export", "--format", "graphml", "--out"])
        .arg(&out)
        .assert()
        .success();
    let graphml = std::fs::read_to_string(&out).expect("graphml written");
    assert_eq!(graphml.matches("<edge ").count(), 45);
    assert_eq!(graphml.matches("<data key=\"in_project\">true</data>").count(), 1);

    // --add brings the linked papers into the project, from the response cache.
    let added = run_json(
        &project,
        &replay,
        &["graph", "expand", "--refresh", "--add", "--max", "100", "--json"],
    );
    assert_eq!(added["added_papers"], 45, "{added}");
    assert_eq!(
        replay.requests(&format!("{route}/references")),
        asked,
        "the cache answered"
    );
    let stats = run_json(&project, &replay, &["graph", "stats", "--json"]);
    assert_eq!(stats["project_papers"], 46, "{stats}");
    assert_eq!(stats["edges_within_project"], 45, "{stats}");

    // The added papers are expanded in turn, by their Semantic Scholar ids; ones the recording does
    // not know answer 404, which is "no links known", not a failure.
    let next = run_json(&project, &replay, &["graph", "expand", "--json"]);
    assert_eq!(next["expanded"], 45, "{next}");
    assert_eq!(next["failures"].as_array().map(Vec::len), Some(0), "{next}");
    let by_s2_id = replay
        .runtime
        .block_on(replay.server.received_requests())
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().starts_with("/graph/v1/paper/") && !r.url.path().contains("DOI:"))
        .count();
    assert_eq!(
        by_s2_id,
        44 * 2,
        "references and citations of each paper known only to Semantic Scholar"
    );
}

#[test]
fn a_review_with_nothing_but_a_question_fetches_its_literature_first() {
    let Some(arxiv) = fixture("arxiv/query.xml") else {
        return;
    };
    let _model = crate::support::model_lock();
    let model = hypatia_testkit::tiny_model();
    let replay = Replay::start();
    replay.serve("/api/query", &[("start", "0")], ok_raw(arxiv, "application/atom+xml"));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = crate::support::hypatia();
    replay.env(&mut command);
    let output = command
        .current_dir(dir.path())
        .args([
            "review",
            "How do electron and proton scattering measurements constrain form factors?",
            // No --corpus and no --fetch: the README's first command. The empty project is filled
            // from arXiv.
            "--max",
            "10",
            "--hypotheses",
            "2",
            "--rounds",
            "1",
            "--seed",
            "3",
            "--json",
            "--model",
        ])
        .arg(&model)
        .env("HYPATIA_THREADS", hypatia_testkit::test_threads().to_string())
        .output()
        .expect("review");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("the project has no papers: fetching up to 10 from arXiv for the question"),
        "{stderr}"
    );
    assert!(stderr.contains("fetched 10 papers from arXiv: 10 added"), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["status"], "completed", "{report}");
    let project = TestProject { dir };
    assert_eq!(project.counts().0, 10, "the project holds what was fetched");
    // Every citation is a passage of a fetched arXiv paper.
    let papers: Vec<String> = project
        .json(&["papers", "list", "--json"])
        .as_array()
        .expect("papers")
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect();
    for hypothesis in report["hypotheses"].as_array().expect("hypotheses") {
        for citation in hypothesis["citations"].as_array().expect("citations") {
            let paper = citation["paper_id"].as_str().expect("paper id");
            assert!(papers.iter().any(|p| p == paper), "{paper} is not a fetched paper");
        }
    }
}
