//! Every export format of a stored run: snapshots, parsers reading them back, escaping, and the
//! integrity gate.

mod fixture;

use std::collections::BTreeSet;
use std::path::Path;

use hypatia_core::SourceFormat;
use hypatia_report::{ExportDocument, ExportError, Format, JSON_SCHEMA};
use serde_json::Value;

use fixture::{RUN_ID, fixture, paper_id, passage};

fn document() -> ExportDocument {
    let fixture = fixture();
    ExportDocument::build(&fixture.record, &fixture.meta("completed"), &fixture.library).expect("a sound run exports")
}

#[test]
fn each_format_matches_its_snapshot() {
    let doc = document();
    for format in Format::ALL {
        insta::assert_snapshot!(format!("export_{}", format.name()), format.render(&doc));
    }
}

#[test]
fn the_document_ranks_hypotheses_and_keeps_their_history() {
    let doc = document();
    let ids: Vec<&str> = doc.hypotheses.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(
        ids[..2],
        ["h1.2", "h1"],
        "h1 won all its round-1 matches, then lost both to its revision"
    );
    assert_eq!(doc.hypotheses.len(), 4);
    let h1 = &doc.hypotheses[1];
    assert_eq!(h1.rating_history.len(), 2, "h1 played rounds 1 and 2");
    assert!(h1.rating_history[0].rating > 1200.0);
    let revised = doc.hypotheses.iter().find(|h| h.id == "h1.2").expect("the revision");
    assert_eq!(revised.parent.as_deref(), Some("h1"));
    assert_eq!(revised.rating_history.len(), 1);
    let h3 = doc.hypotheses.iter().find(|h| h.id == "h3").expect("h3");
    let restated = h3
        .review
        .as_ref()
        .and_then(|r| r.restates.as_ref())
        .expect("h3 restates a paper");
    assert_eq!(restated.paper_id, paper_id("doi:10.1000/delta"));
    // Cited papers and the close prior work, each once, with their keys.
    let keys: Vec<&str> = doc.papers.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "hopper2021tournament",
            "lovelace2023language",
            "simon1985prior",
            "team2019elo"
        ]
    );
    assert!(!doc.paper("simon1985prior").expect("prior work").cited);
    assert_eq!(doc.evidence.iter().filter(|e| e.cited).count(), 4);
    // The model file is named, never located.
    let settings = doc.settings.as_ref().expect("settings");
    assert_eq!(settings.model_file.as_deref(), Some(Path::new("tiny.gguf")));
    assert!(doc.complete && doc.notice.is_none());
}

#[test]
fn json_export_validates_against_the_schema_in_the_repository() {
    let schema: Value = serde_json::from_str(JSON_SCHEMA).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    let doc = document();
    let exported: Value = serde_json::from_str(&Format::Json.render(&doc)).expect("the export is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&exported)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema is strict: an unknown field, a missing one or a wrong type is caught.
    let mut extra = exported.clone();
    extra["hypotheses"][0]["surprise"] = Value::Bool(true);
    assert!(!validator.is_valid(&extra), "an undocumented field passed");
    let mut missing = exported.clone();
    missing["papers"][0].as_object_mut().expect("object").remove("key");
    assert!(!validator.is_valid(&missing), "a missing key passed");
    let mut wrong = exported.clone();
    wrong["hypotheses"][0]["review"]["scores"]["novelty"] = Value::from(9);
    assert!(!validator.is_valid(&wrong), "a score of 9 passed");
    // And the export reads back into the same document.
    let back: ExportDocument = serde_json::from_value(exported).expect("reads back");
    assert_eq!(back, doc);
}

#[test]
fn bibtex_parses_back_with_a_real_parser_and_keys_are_unique() {
    let doc = document();
    let text = Format::Bibtex.render(&doc);
    let bibliography = biblatex::Bibliography::parse(&text).expect("valid BibTeX");
    let keys: BTreeSet<String> = bibliography.iter().map(|e| e.key.clone()).collect();
    assert_eq!(keys.len(), doc.papers.len(), "one entry per paper, unique keys");
    let beta = bibliography.get("hopper2021tournament").expect("entry");
    let title = beta.title().expect("title");
    let title: String = title.iter().map(|chunk| chunk.v.get()).collect();
    assert_eq!(title, "Tournament Ranking of Ideas <script>alert(1)</script>");
    let alpha = bibliography.get("lovelace2023language").expect("entry");
    let authors = alpha.author().expect("authors");
    assert_eq!(authors.len(), 2);
    assert_eq!(authors[1].name, "Gödel");
    assert_eq!(authors[1].given_name, "Kurt");
    let team = bibliography.get("team2019elo").expect("entry");
    assert_eq!(
        team.author().expect("author").len(),
        1,
        "an institution with 'and' stays one author"
    );
    assert!(team.get("url").is_none(), "a javascript: URL is not a link");
    // Hypatia's own BibTeX reader (what `hypatia ingest` uses) gets the same papers back.
    let parsed = hypatia_ingest::parse_bytes(Path::new("run.bib"), text.as_bytes(), Some(SourceFormat::Bibtex))
        .expect("ingestible");
    assert!(parsed.invalid.is_empty(), "{:?}", parsed.invalid);
    let titles: BTreeSet<String> = parsed.records.iter().map(|r| r.record.title.clone()).collect();
    let expected: BTreeSet<String> = doc.papers.iter().map(|p| p.title.clone()).collect();
    assert_eq!(titles, expected);
    let abstracts: Vec<String> = parsed
        .records
        .iter()
        .filter_map(|r| r.record.abstract_text.clone())
        .collect();
    assert!(
        abstracts.iter().any(|a| a == fixture::SCRIPT_ABSTRACT),
        "special characters survive the round trip: {abstracts:#?}"
    );
}

#[test]
fn csl_json_reads_back_and_shares_the_bibtex_keys() {
    let doc = document();
    let text = Format::CslJson.render(&doc);
    let items: Vec<Value> = serde_json::from_str(&text).expect("CSL-JSON is a JSON array");
    let ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
    let keys: Vec<&str> = doc.papers.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(ids, keys);
    for item in &items {
        assert!(item["type"].is_string() && item["title"].is_string(), "{item}");
    }
    let alpha = items.iter().find(|i| i["id"] == "lovelace2023language").expect("alpha");
    assert_eq!(alpha["author"][1]["family"], "Gödel");
    assert_eq!(alpha["issued"]["date-parts"][0][0], 2023);
    assert_eq!(alpha["DOI"], "10.1000/alpha");
    let parsed = hypatia_ingest::parse_bytes(Path::new("run.json"), text.as_bytes(), Some(SourceFormat::Csljson))
        .expect("ingestible");
    assert_eq!(parsed.records.len(), doc.papers.len());
    let years: BTreeSet<Option<i32>> = parsed.records.iter().map(|r| r.record.year).collect();
    assert!(years.contains(&Some(1985)) && years.contains(&Some(2023)));
}

#[test]
fn markdown_citations_are_the_bibliography_keys() {
    let doc = document();
    let markdown = Format::Markdown.render(&doc);
    let cited: BTreeSet<&str> = markdown
        .split("[@")
        .skip(1)
        .filter_map(|rest| rest.split_once(']').map(|(group, _)| group))
        // `[@a; @b]`: several citations in one group.
        .flat_map(|group| group.split("; @"))
        // `[@key, p. 4]`: the key, then pandoc's locator.
        .map(|cite| cite.split_once(", ").map_or(cite, |(key, _)| key))
        .collect();
    let keys: BTreeSet<&str> = doc.papers.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(cited, keys, "every [@key] resolves and every paper is cited");
    assert!(markdown.starts_with("---\ntitle: "), "pandoc front matter");
    assert!(markdown.contains(&format!("bibliography: \"{RUN_ID}.bib\"")));
}

#[test]
fn a_full_text_citation_shows_its_page_in_every_format() {
    let doc = document();
    let cited = doc
        .hypotheses
        .iter()
        .flat_map(|h| &h.citations)
        .find(|c| c.place.page.is_some())
        .expect("the fixture cites its one full-text passage");
    assert_eq!(cited.place.page, Some(fixture::FULLTEXT_PAGE));
    let markdown = Format::Markdown.render(&doc);
    assert!(
        markdown.contains(&format!("[@{}, p. 4], Results", cited.key)),
        "{markdown}"
    );
    let html = Format::Html.render(&doc);
    assert!(html.contains("Results, <span class=\"page\">p. 4</span>"));
    let json: Value = serde_json::from_str(&Format::Json.render(&doc)).expect("json");
    let citations: Vec<&Value> = json["hypotheses"]
        .as_array()
        .expect("hypotheses")
        .iter()
        .flat_map(|h| h["citations"].as_array().expect("citations"))
        .collect();
    let with_page: Vec<&&Value> = citations.iter().filter(|c| c["page"] == 4).collect();
    assert!(!with_page.is_empty());
    assert!(
        with_page
            .iter()
            .all(|c| c["section"] == "Results" && c["page_end"] == 4)
    );
    // Abstract sentences have no page, and say so.
    assert!(citations.iter().any(|c| c["page"].is_null()));
    let evidence = json["evidence"].as_array().expect("evidence");
    assert_eq!(evidence.iter().filter(|e| e["page"] == 4).count(), 1);
}

#[test]
fn paper_text_is_escaped_in_every_format() {
    let doc = document();
    let html = Format::Html.render(&doc);
    assert!(!html.contains("<script"), "a <script> element in the HTML");
    assert!(html.contains("&lt;script&gt;document.body.setAttribute"));
    assert!(!html.contains("javascript:"), "a javascript: link in the HTML");
    assert!(html.contains("Content-Security-Policy"));
    for external in ["src=\"http", "href=\"//", "@import", "url(http"] {
        assert!(!html.contains(external), "the HTML fetches something: {external}");
    }
    let markdown = Format::Markdown.render(&doc);
    assert!(markdown.contains("\\<script\\>document"));
    assert!(!markdown.contains("[@fake]"), "paper text became a citation");
    assert!(!markdown.contains("javascript:"));
    let dot = Format::Dot.render(&doc);
    for line in dot.lines().filter(|l| l.contains("label=")) {
        // Every quote inside a label is escaped: the count of unescaped quotes is even.
        let unescaped = line.replace("\\\"", "").matches('"').count();
        assert_eq!(unescaped % 2, 0, "{line}");
    }
}

#[test]
fn html_has_its_charts_as_inline_svg_and_links_resolve() {
    let html = Format::Html.render(&document());
    assert_eq!(
        html.matches("<svg ").count(),
        4,
        "ratings, scores, years and the evidence graph"
    );
    assert!(html.contains("<polyline"), "rating lines");
    // Every in-page link has its target.
    let ids: BTreeSet<&str> = html
        .split(" id=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(id, _)| id))
        .collect();
    for link in html
        .split("href=\"#")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(id, _)| id))
    {
        assert!(ids.contains(link), "a link to #{link}, which is not in the page");
    }
}

#[test]
fn dot_graph_links_hypotheses_passages_and_papers() {
    let doc = document();
    let dot = Format::Dot.render(&doc);
    assert!(dot.contains("digraph"));
    // One edge per citation; those judged not to support their hypothesis say so.
    let cites = dot.matches("[label=\"cites\"]").count() + dot.matches("[label=\"cites: ").count();
    assert_eq!(cites, 7, "one edge per citation");
    assert!(dot.contains("\"h:h1.2\" -> \"h:h1\" [label=\"revises\""));
    // Parsed by Graphviz itself where it is installed (CI installs it).
    let Some(graphviz) = tool_for_test("dot", "-V", "HYPATIA_REQUIRE_GRAPHVIZ") else {
        return;
    };
    let mut child = std::process::Command::new(graphviz)
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dot runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(dot.as_bytes()).expect("write");
    }
    let output = child.wait_with_output().expect("dot ran");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("<svg"));
}

#[test]
fn the_gate_refuses_a_citation_that_does_not_resolve() {
    let fixture = fixture();
    let meta = fixture.meta("completed");
    let a1 = passage("doi:10.1000/alpha", 1);

    // A passage the store does not hold.
    let mut library = fixture.library.clone();
    library.passages.remove(&a1);
    let error = ExportDocument::build(&fixture.record, &meta, &library).expect_err("refused");
    assert!(
        matches!(&error, ExportError::UnresolvedCitation { passage, .. } if *passage == a1),
        "{error}"
    );
    assert!(error.to_string().contains(a1.as_str()), "{error}");

    // A stored passage whose text is not what the run quotes.
    let mut library = fixture.library.clone();
    library.passages.insert(a1.clone(), "Different words.".into());
    let error = ExportDocument::build(&fixture.record, &meta, &library).expect_err("refused");
    assert!(error.to_string().contains("different text"), "{error}");

    // A doctored journal: a hypothesis citing a passage that was never evidence.
    let mut record = fixture.record.clone();
    let invented = passage("doi:10.1000/alpha", 9);
    record
        .hypotheses
        .get_mut("h2")
        .expect("h2")
        .citations
        .push(invented.clone());
    let error = ExportDocument::build(&record, &meta, &fixture.library).expect_err("refused");
    assert_eq!(
        error,
        ExportError::UnresolvedCitation {
            hypothesis: "h2".into(),
            passage: invented,
            reason: "is not in the evidence the run's agents were given",
        }
    );

    // A review naming prior work the project does not have.
    let mut library = fixture.library.clone();
    library.papers.remove(&paper_id("doi:10.1000/delta"));
    let error = ExportDocument::build(&fixture.record, &meta, &library).expect_err("refused");
    assert!(matches!(error, ExportError::UnresolvedPaper { .. }), "{error}");
}

#[test]
fn an_unfinished_run_exports_what_exists_and_says_so_first() {
    let fixture = fixture();
    // Stopped after the first round's reviews: no tournament yet.
    let record = fixture.truncated(24);
    let doc = ExportDocument::build(&record, &fixture.meta("running"), &fixture.library).expect("exports");
    assert!(!doc.complete);
    let notice = doc.notice.clone().expect("a notice");
    assert!(notice.contains("still going"), "{notice}");
    assert_eq!(doc.hypotheses.len(), 3);
    assert!(doc.hypotheses.iter().all(|h| h.rating_history.is_empty()));

    let markdown = Format::Markdown.render(&doc);
    let body = markdown.split("\n---\n").nth(1).expect("after the front matter");
    assert!(
        body.trim_start()
            .lines()
            .nth(2)
            .is_some_and(|l| l.contains("Still running")),
        "{body}"
    );
    let html = Format::Html.render(&doc);
    assert!(html.find("class=\"notice").expect("notice") < html.find("<h1>").expect("title"));
    assert!(html.contains("No round has finished yet"));
    for format in [Format::Bibtex, Format::Dot] {
        let text = format.render(&doc);
        assert!(
            text.lines().take(2).any(|l| l.contains("still going")),
            "{format}: {text}"
        );
    }
    let json: Value = serde_json::from_str(&Format::Json.render(&doc)).expect("JSON");
    assert_eq!(json["complete"], false);
    assert_eq!(json["status"], "running");

    // A failed run names why.
    let doc = ExportDocument::build(&record, &fixture.meta("failed"), &fixture.library).expect("exports");
    assert!(doc.notice.as_deref().is_some_and(|n| n.contains("failed")));
}

#[test]
fn formats_parse_from_their_names() {
    for format in Format::ALL {
        assert_eq!(format.name().parse::<Format>(), Ok(format));
    }
    assert_eq!("bib".parse::<Format>(), Ok(Format::Bibtex));
    assert!("pdf".parse::<Format>().is_err());
}

/// Where screenshots are kept for a person to look at.
fn screenshot_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/report-screenshots")
        .join(name)
}

#[test]
fn chromium_renders_the_report_without_running_paper_text_or_fetching_anything() {
    let Some(browser) = hypatia_testkit::Browser::for_test("the HTML report in Chromium") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("report.html");
    std::fs::write(&page, Format::Html.render(&document())).expect("write report");
    let rendered = browser.render(&page, &screenshot_path("fixture-report.png"), 2400);
    assert!(
        rendered.requests.is_empty(),
        "the report made requests: {:?}",
        rendered.requests
    );
    assert!(rendered.dom.contains("<svg"), "the charts are in the rendered page");
    assert!(
        !rendered.dom.contains("data-pwned=\"1\""),
        "a script from an abstract ran"
    );
    assert!(!rendered.dom.contains("<script"), "an abstract became a script element");
    assert!(
        rendered.dom.contains("&lt;script&gt;document.body.setAttribute"),
        "the abstract shows as text"
    );

    // The same checks see a page that does fetch, and a script that does run: they can fail.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><body><img src=\"http://fetch.hypatia.invalid/x.png\">\
         <script>document.body.setAttribute('data-pwned','1')</script></body></html>",
    )
    .expect("write control");
    let rendered = browser.render(&control, &screenshot_path("control.png"), 600);
    assert!(
        rendered.requests.iter().any(|r| r.contains("fetch.hypatia.invalid")),
        "the proxy saw no request from a page that fetches: {:?}",
        rendered.requests
    );
    assert!(
        rendered.dom.contains("data-pwned=\"1\""),
        "the control script did not run"
    );
}

#[test]
fn pandoc_resolves_every_markdown_citation_against_the_bibtex_export() {
    let Some(pandoc) = tool_for_test("pandoc", "--version", "HYPATIA_REQUIRE_PANDOC") else {
        return;
    };
    let doc = document();
    let dir = tempfile::tempdir().expect("tempdir");
    let markdown = dir.path().join(format!("{RUN_ID}.md"));
    std::fs::write(&markdown, Format::Markdown.render(&doc)).expect("write md");
    std::fs::write(dir.path().join(format!("{RUN_ID}.bib")), Format::Bibtex.render(&doc)).expect("write bib");
    // The front matter names the bibliography, so plain `pandoc --citeproc` finds it.
    let run = |file: &Path| {
        let output = std::process::Command::new(&pandoc)
            .current_dir(dir.path())
            .arg(file)
            .args(["--citeproc", "--standalone", "--to", "html"])
            .output()
            .expect("pandoc runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (html, warnings) = run(&markdown);
    assert!(
        !warnings.contains("not found"),
        "pandoc could not resolve a citation: {warnings}"
    );
    for paper in &doc.papers {
        assert!(
            html.contains(&format!("id=\"ref-{}\"", paper.key)),
            "{} is not in pandoc's bibliography",
            paper.key
        );
    }
    assert!(!html.contains("<script"), "paper text became markup through pandoc");
    // The same check sees a citation that does not resolve.
    let broken = dir.path().join("broken.md");
    let text = Format::Markdown
        .render(&doc)
        .replace("[@lovelace2023language]", "[@nosuch2020key]");
    std::fs::write(&broken, text).expect("write");
    let (_, warnings) = run(&broken);
    assert!(warnings.contains("nosuch2020key"), "{warnings}");
}

/// A command-line tool a test needs: `None` (saying why) when missing, a panic when `require` is set.
fn tool_for_test(program: &str, version_flag: &str, require: &str) -> Option<std::path::PathBuf> {
    let found = std::process::Command::new(program)
        .arg(version_flag)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    match (found, std::env::var_os(require).is_some()) {
        (true, _) => Some(program.into()),
        (false, true) => panic!("{require} is set but `{program}` cannot run here"),
        (false, false) => {
            eprintln!("skipping: `{program}` is not installed (set {require} to make this a failure)");
            None
        }
    }
}

#[test]
fn a_citation_of_a_pinned_passage_passes_the_gate_and_one_never_given_does_not() {
    use hypatia_research::{AgentName, Envelope, Payload};
    let fixture = fixture();
    let pinned = passage("doi:10.1000/delta", 1);
    let citing = |envelopes: &[Envelope]| {
        let mut envelopes = envelopes.to_vec();
        let mut hypothesis = fixture.record.hypotheses["h2"].clone();
        hypothesis.id = "h9".into();
        hypothesis.citations = vec![pinned.clone()];
        envelopes.push(Envelope::new(
            RUN_ID,
            "r2.gen.h9/reply",
            AgentName::Hypothesis,
            AgentName::Planner,
            Payload::HypothesisReady {
                hypothesis,
                usage: Default::default(),
            },
        ));
        hypatia_runs::RunRecord::from_envelopes(RUN_ID, &envelopes)
    };
    // The fixture pins delta between the rounds: citing its passage is citing evidence given.
    let with_pin = citing(&fixture.envelopes);
    let document = ExportDocument::build(&with_pin, &fixture.meta("completed"), &fixture.library)
        .expect("a pinned passage is evidence");
    let entry = document
        .evidence
        .iter()
        .find(|e| e.passage_id == pinned)
        .expect("listed");
    assert!(entry.pinned && entry.cited, "{entry:?}");
    // Without the pin the same citation was never given to any agent.
    let unpinned: Vec<Envelope> = fixture
        .envelopes
        .iter()
        .filter(|e| !matches!(e.payload, Payload::PaperPinned { .. }))
        .cloned()
        .collect();
    let error = ExportDocument::build(&citing(&unpinned), &fixture.meta("completed"), &fixture.library)
        .expect_err("never given");
    assert!(error.to_string().contains("h9"), "{error}");
    assert!(error.to_string().contains("not in the evidence"), "{error}");
}

#[test]
fn a_citation_judged_not_to_support_its_hypothesis_says_so_in_every_format() {
    let doc = document();
    let contradicting = doc
        .hypotheses
        .iter()
        .flat_map(|h| &h.citations)
        .find(|c| c.support == Some(hypatia_research::Support::Contradicts))
        .expect("the fixture's second citations contradict");
    let reason = contradicting.support_reason.clone().expect("a reason");
    let markdown = Format::Markdown.render(&doc);
    assert!(markdown.contains("CONTRADICTS the claim: Judged for"), "{markdown}");
    assert!(markdown.contains("Does NOT address the claim"), "{markdown}");
    // The model's reason is text from a model: escaped like paper text.
    assert!(!markdown.contains("<b>reports</b>"));
    let html = Format::Html.render(&doc);
    assert!(html.contains("<blockquote class=\"support-contradicts\""), "{html}");
    assert!(html.contains("CONTRADICTS the claim: Judged for"));
    assert!(html.contains("&lt;b&gt;reports&lt;/b&gt;") && !html.contains("<b>reports</b>"));
    let json: Value = serde_json::from_str(&Format::Json.render(&doc)).expect("json");
    let citations: Vec<&Value> = json["hypotheses"]
        .as_array()
        .expect("hypotheses")
        .iter()
        .flat_map(|h| h["citations"].as_array().expect("citations"))
        .collect();
    assert!(
        citations.iter().all(|c| c.get("support").is_some()),
        "every citation carries `support`"
    );
    let labels: BTreeSet<&str> = citations.iter().filter_map(|c| c["support"].as_str()).collect();
    assert!(
        labels.contains("contradicts") && labels.contains("supports"),
        "{labels:?}"
    );
    assert!(citations.iter().any(|c| c["support_reason"] == reason.as_str()));
    // The run's figure counts exactly the judgements the citations carry, the synthesis's with the
    // hypotheses'.
    let synthesis: Vec<&Value> = json["synthesis"]
        .as_array()
        .expect("synthesis")
        .iter()
        .flat_map(|s| s["statements"].as_array().expect("statements"))
        .flat_map(|s| s["citations"].as_array().expect("citations"))
        .collect();
    let all: Vec<&&Value> = citations.iter().chain(synthesis.iter()).collect();
    let judged = all.iter().filter(|c| c["support"].is_string()).count() as u64;
    assert_eq!(json["support"]["judged"].as_u64(), Some(judged));
    let supports = all.iter().filter(|c| c["support"] == "supports").count() as u64;
    assert_eq!(json["support"]["supports"].as_u64(), Some(supports));
    assert!(
        markdown.contains(&format!("{supports} of {judged} (")),
        "the appendix gives the share"
    );
    let dot = Format::Dot.render(&doc);
    assert!(dot.contains("label=\"cites: contradicts\""), "{dot}");
}

#[test]
fn the_report_opens_with_what_the_literature_shows_each_citation_judged() {
    let doc = document();
    assert_eq!(doc.synthesis.len(), 2, "one entry per sub-question");
    let written = &doc.synthesis[0];
    assert_eq!((written.number, written.status.as_str()), (1, "written"));
    assert_eq!(written.statements.len(), 2);
    let failed = &doc.synthesis[1];
    assert_eq!(failed.status, "failed");
    assert!(
        failed
            .note
            .as_deref()
            .is_some_and(|n| n.contains("never wrote a valid section"))
    );

    let markdown = Format::Markdown.render(&doc);
    let synthesis_at = markdown
        .find("## What the literature shows")
        .expect("a synthesis section");
    assert!(
        synthesis_at < markdown.find("## Hypotheses").expect("hypotheses"),
        "the report opens with it"
    );
    assert!(synthesis_at < markdown.find("## Ranking").expect("ranking"));
    let first = &written.statements[0];
    let keys: Vec<String> = first.citations.iter().map(|c| format!("@{}", c.key)).collect();
    assert!(markdown.contains(&format!("[{}]", keys.join("; "))), "{markdown}");
    assert!(
        markdown.contains("\\<b\\>seed\\</b\\>") || !markdown.contains("<b>seed</b>"),
        "statement text escaped"
    );
    assert!(
        markdown.contains("CONTRADICTS the claim: The passage contradicts it"),
        "{markdown}"
    );
    assert!(markdown.contains("**What is missing.**\n\n- No study measures novelty"));

    let html = Format::Html.render(&doc);
    let html_synthesis = html.find("<section id=\"synthesis\">").expect("synthesis section");
    assert!(html_synthesis < html.find("<section id=\"ranking\">").expect("ranking"));
    assert!(html.contains("class=\"cite support-contradicts\""));
    assert!(!html.contains("<b>seed</b>") && !html.contains("<i>plainly</i>"));

    let json: Value = serde_json::from_str(&Format::Json.render(&doc)).expect("json");
    let sections = json["synthesis"].as_array().expect("a synthesis array");
    assert_eq!(sections.len(), 2);
    let labels: Vec<&str> = sections[0]["statements"]
        .as_array()
        .expect("statements")
        .iter()
        .flat_map(|s| s["citations"].as_array().expect("citations"))
        .map(|c| c["support"].as_str().expect("every citation carries `support`"))
        .collect();
    assert_eq!(labels, ["supports", "contradicts", "unrelated"]);
    // The run's figure counts the synthesis's judgements with the hypotheses'.
    let hypothesis_judged = json["hypotheses"]
        .as_array()
        .expect("hypotheses")
        .iter()
        .flat_map(|h| h["citations"].as_array().expect("citations"))
        .filter(|c| c["support"].is_string())
        .count() as u64;
    assert_eq!(json["support"]["judged"].as_u64(), Some(hypothesis_judged + 3));
}

#[test]
fn contradictions_are_shown_first_and_the_hypotheses_resting_on_them_say_so() {
    let doc = document();
    let relations = &doc.synthesis[0].relations;
    assert_eq!(relations.len(), 2);
    assert_eq!(
        relations[0].relation,
        hypatia_research::Relation::Contradict,
        "contradictions first"
    );
    let (a1, b1) = (&relations[0].first, &relations[0].second);
    let h1 = doc.hypotheses.iter().find(|h| h.id == "h1").expect("h1");
    assert_eq!(h1.contested.iter().collect::<Vec<_>>(), vec![a1, b1]);
    // Every hypothesis citing a contradicted passage says so, and names no other.
    for h in &doc.hypotheses {
        let expected: Vec<&hypatia_core::PassageId> = h
            .citations
            .iter()
            .map(|c| &c.passage_id)
            .filter(|c| *c == a1 || *c == b1)
            .collect();
        assert_eq!(h.contested.iter().collect::<Vec<_>>(), expected, "{}", h.id);
    }

    let markdown = Format::Markdown.render(&doc);
    assert!(
        markdown.contains(&format!(
            "- `{a1}` [@{}] and `{b1}` [@{}] **contradict**",
            relations[0].first_key, relations[0].second_key
        )),
        "{markdown}"
    );
    assert!(markdown.contains("(judged in an earlier run)"));
    assert!(markdown.contains("**Contested evidence.** This hypothesis rests on"));
    assert!(!markdown.contains("<on>"), "the model's reason is escaped");
    let html = Format::Html.render(&doc);
    assert!(html.contains("<strong class=\"contradict\">contradict</strong>"));
    assert!(html.contains("class=\"notice contested\""));
    assert!(
        html.contains("class=\"edge contradiction\""),
        "the evidence graph draws the contradiction"
    );
    let dot = Format::Dot.render(&doc);
    assert!(
        dot.contains(&format!("\"s:{a1}\" -> \"s:{b1}\" [label=\"contradicts\"")),
        "{dot}"
    );
    let json: Value = serde_json::from_str(&Format::Json.render(&doc)).expect("json");
    assert_eq!(json["synthesis"][0]["relations"][0]["relation"], "contradict");
    assert_eq!(json["synthesis"][0]["relations"][1]["reused"], true);
    let contested: Vec<&str> = json["hypotheses"]
        .as_array()
        .expect("hypotheses")
        .iter()
        .find(|h| h["id"] == "h1")
        .and_then(|h| h["contested"].as_array())
        .expect("contested")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(contested, [a1.as_str(), b1.as_str()]);
}

#[test]
fn a_synthesis_citing_a_passage_it_was_not_given_is_refused() {
    let fixture = fixture();
    let meta = fixture.meta("completed");
    // A doctored journal: the section cites a stored passage of a paper outside its evidence.
    let mut record = fixture.record.clone();
    let ungiven = passage("doi:10.1000/delta", 1);
    assert!(
        fixture.library.passages.contains_key(&ungiven),
        "stored, just never given"
    );
    record.syntheses.get_mut(&0).expect("section 1").statements[1]
        .citations
        .push(ungiven.clone());
    let error = ExportDocument::build(&record, &meta, &fixture.library).expect_err("refused");
    assert_eq!(
        error,
        ExportError::UnresolvedSynthesisCitation {
            section: 1,
            passage: ungiven,
            reason: "is not in the evidence the run's agents were given",
        }
    );
    assert!(error.to_string().contains("synthesis section 1"), "{error}");
}

#[test]
fn a_hypothesis_addressing_a_gap_no_section_found_is_refused() {
    let fixture = fixture();
    let meta = fixture.meta("completed");
    let document = ExportDocument::build(&fixture.record, &meta, &fixture.library).expect("the fixture exports");
    let h1 = document.hypotheses.iter().find(|h| h.id == "h1").expect("h1");
    assert_eq!(h1.gap.as_ref().map(|g| g.id.as_str()), Some("1.1"));
    // A doctored journal: the gap's words changed after the section wrote it.
    let mut record = fixture.record.clone();
    let gap = record
        .hypotheses
        .get_mut("h1")
        .expect("h1")
        .gap
        .as_mut()
        .expect("a gap");
    gap.text = "A gap the synthesis never named.".into();
    let error = ExportDocument::build(&record, &meta, &fixture.library).expect_err("refused");
    assert_eq!(
        error,
        ExportError::UnresolvedGap {
            hypothesis: "h1".into(),
            gap: "1.1".into(),
        }
    );
    assert!(error.to_string().contains("gap 1.1"), "{error}");
}
