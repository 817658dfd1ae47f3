use predicates::prelude::*;

use crate::support::{TestProject, hypatia};

#[test]
fn commands_outside_a_project_say_how_to_create_one() {
    let outside = tempfile::tempdir().expect("tempdir");
    hypatia()
        .current_dir(outside.path())
        .args(["search", "anything"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not inside a Hypatia project").and(predicate::str::contains("hypatia init")));
}

#[test]
fn project_is_found_from_flag_env_and_parent_folders() {
    let project = TestProject::new();
    let nested = project.path().join("notes/deep");
    std::fs::create_dir_all(&nested).expect("mkdir");
    hypatia().current_dir(&nested).args(["status"]).assert().success();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    hypatia()
        .current_dir(elsewhere.path())
        .arg("--project")
        .arg(project.path())
        .arg("status")
        .assert()
        .success();
    hypatia()
        .current_dir(elsewhere.path())
        .env("HYPATIA_PROJECT", project.path())
        .arg("status")
        .assert()
        .success();
    hypatia()
        .current_dir(elsewhere.path())
        .arg("--project")
        .arg(elsewhere.path())
        .arg("status")
        .assert()
        .failure()
        .stderr(predicate::str::contains("has no hypatia.toml"));
}

#[test]
fn init_creates_wal_database_and_refuses_to_run_twice() {
    let project = TestProject::new();
    assert!(project.path().join("hypatia.toml").is_file());
    assert!(project.path().join(".hypatia/hypatia.db").is_file());
    let status = project.json(&["status", "--json"]);
    assert_eq!(status["journal_mode"], "wal");
    hypatia()
        .arg("init")
        .arg(project.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("already a Hypatia project"));
}

#[test]
fn search_ranks_filters_and_highlights() {
    let project = TestProject::new();
    project
        .ingest(&["library.bib", "library.json", "abstracts.txt"])
        .success();

    let hits = project.json(&["search", "protein structure prediction", "--json"]);
    let first = &hits[0];
    assert_eq!(first["title"], "Protein structure prediction with deep learning");
    for key in ["id", "title", "year", "score"] {
        assert!(first.get(key).is_some(), "search --json lacks {key}: {first}");
    }

    // Year filter keeps only 2023, author filter only Gomes' paper.
    let in_2023 = project.json(&["search", "scientific", "--year", "2023", "--json"]);
    assert!(!in_2023.as_array().expect("array").is_empty());
    assert!(
        in_2023.as_array().expect("array").iter().all(|h| h["year"] == 2023),
        "{in_2023}"
    );
    let by_author = project.json(&["search", "language models", "--author", "Gomes", "--json"]);
    let titles: Vec<_> = by_author
        .as_array()
        .expect("array")
        .iter()
        .map(|h| h["title"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(titles, vec!["Autonomous chemical research with large language models"]);

    // A phrase must appear as written.
    let phrase = project.json(&["search", "\"structure prediction\"", "--json"]);
    assert_eq!(phrase.as_array().map(Vec::len), Some(1));
    let no_phrase = project.json(&["search", "\"prediction structure\"", "--json"]);
    assert_eq!(no_phrase.as_array().map(Vec::len), Some(0));

    // Plain output shows rank, score, title and a highlighted snippet.
    project
        .cmd()
        .args(["search", "molecular property"])
        .assert()
        .success()
        .stdout(predicate::str::contains("  1. ").and(predicate::str::contains("**molecular** **property**")));
}

#[test]
fn query_syntax_characters_are_searched_as_text() {
    let project = TestProject::new();
    project.ingest(&["abstracts.txt"]).success();
    let hits = project.json(&["search", "graph-neural (networks): +molecular title:x AND", "--json"]);
    assert_eq!(
        hits[0]["title"],
        "Graph neural networks for molecular property prediction"
    );
    let none = project.json(&["search", "the of and", "--json"]);
    assert_eq!(none, serde_json::json!([]));
    project
        .cmd()
        .args(["search", "the of and"])
        .assert()
        .success()
        .stderr(predicate::str::contains("has no searchable words"));
    project
        .cmd()
        .args(["search", "zebrafish"])
        .assert()
        .success()
        .stderr(predicate::str::contains("no papers match"));
}

#[test]
fn passages_are_searchable_and_shown_with_stable_ids() {
    let project = TestProject::new();
    project.ingest(&["abstracts.txt"]).success();
    let hits = project.json(&["search", "--passages", "simple baselines remain competitive", "--json"]);
    let id = hits[0]["id"].as_str().expect("passage id");
    let (paper, ordinal) = id.split_once('#').expect("paper#n");
    assert_eq!(ordinal, "0", "a one-sentence abstract is one passage");
    let shown = project.json(&["papers", "show", paper, "--json"]);
    assert_eq!(
        shown["paper"]["title"],
        "Graph neural networks for molecular property prediction"
    );
    assert_eq!(shown["passages"][0]["id"], id);
    assert!(
        shown["passages"][0]["text"]
            .as_str()
            .expect("text")
            .contains("simple baselines")
    );
    project
        .cmd()
        .args(["papers", "show", "p000000000000"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no paper p000000000000"));
    project
        .cmd()
        .args(["papers", "show", "nope"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a valid paper id"));
}

#[test]
fn reindex_rebuilds_the_same_results() {
    let project = TestProject::new();
    project.ingest(&["library.bib", "abstracts.txt"]).success();
    let before = project.json(&["search", "deep learning protein", "--json"]);
    project
        .cmd()
        .arg("reindex")
        .assert()
        .success()
        .stdout(predicate::str::contains("Reindexed 5 papers"));
    let after = project.json(&["search", "deep learning protein", "--json"]);
    assert_eq!(before, after);
    project.counts();
    let status = project.json(&["status", "--json"]);
    let logged: Vec<_> = status["recent_ingests"]
        .as_array()
        .expect("log")
        .iter()
        .map(|l| l["added"].clone())
        .collect();
    assert_eq!(
        logged,
        vec![serde_json::json!(2), serde_json::json!(3)],
        "newest first: abstracts.txt, then library.bib"
    );
}

#[test]
fn papers_list_pages_through_the_store() {
    let project = TestProject::new();
    project.ingest(&["library.bib"]).success();
    let all = project.json(&["papers", "list", "--json"]);
    assert_eq!(all.as_array().map(Vec::len), Some(3));
    let page = project.json(&["papers", "list", "--limit", "1", "--offset", "2", "--json"]);
    assert_eq!(page[0], all[2]);
}

#[test]
fn phrases_with_stop_words_and_author_names_match_as_written() {
    let project = TestProject::new();
    let scratch = tempfile::tempdir().expect("tempdir");
    let file = scratch.path().join("tom.txt");
    std::fs::write(
        &file,
        "Evaluating theory of mind in language models\nWe test whether models track false beliefs.\n",
    )
    .expect("write");
    project.cmd().arg("ingest").arg(&file).assert().success();
    let hits = project.json(&["search", "\"theory of mind\"", "--json"]);
    assert_eq!(
        hits.as_array().map(Vec::len),
        Some(1),
        "a stop word inside a phrase is a gap, not a mismatch"
    );
    let hits = project.json(&["search", "\"theory mind\"", "--json"]);
    assert_eq!(hits.as_array().map(Vec::len), Some(0));

    project.ingest(&["library.bib"]).success();
    // Boiko, MacKnight, Kline (Ben) and Gomes (Gabe): a name never spans two authors.
    let gabe = project.json(&["search", "language", "--author", "Gabe Gomes", "--json"]);
    assert_eq!(gabe.as_array().map(Vec::len), Some(1));
    let nobody = project.json(&["search", "language", "--author", "Ben Gomes", "--json"]);
    assert_eq!(nobody.as_array().map(Vec::len), Some(0));
    let citation_style = project.json(&["search", "language", "--author", "Gomes, Gabe", "--json"]);
    assert_eq!(citation_style.as_array().map(Vec::len), Some(1));
    // Filters alone list what they select.
    let by_year = project.json(&["search", "", "--year", "2024", "--json"]);
    let titles: Vec<_> = by_year
        .as_array()
        .expect("array")
        .iter()
        .map(|h| h["title"].clone())
        .collect();
    assert_eq!(titles, vec!["Café Ökonomie and the CRISPR Screen"]);
}

#[test]
fn limits_out_of_range_are_refused() {
    let project = TestProject::new();
    for limit in ["0", "10001", "18446744073709551615", "ten"] {
        project
            .cmd()
            .args(["search", "x", "--limit", limit])
            .assert()
            .failure()
            .stderr(predicate::str::contains("from 1 to 10000"));
    }
}

#[test]
fn reingesting_by_another_path_or_with_generic_titles_adds_nothing() {
    let project = TestProject::new();
    let scratch = tempfile::tempdir().expect("tempdir");
    let file = scratch.path().join("generic.bib");
    std::fs::write(
        &file,
        "@article{he2017, title={Mask R-CNN}, year={2017}}\n@article{s, title={Summary}}\n",
    )
    .expect("write");
    project
        .cmd()
        .arg("ingest")
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 added"));
    let dotted = scratch
        .path()
        .join("..")
        .join(scratch.path().file_name().expect("name"))
        .join("generic.bib");
    project
        .cmd()
        .arg("ingest")
        .arg(&dotted)
        .assert()
        .success()
        .stdout(predicate::str::contains("0 added, 0 merged, 2 unchanged"));
    assert_eq!(project.counts().0, 2);
}
