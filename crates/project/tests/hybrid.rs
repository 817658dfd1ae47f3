//! Dense and hybrid search over a project with a real embedding model (all-MiniLM-L6-v2 converted by
//! Hypatia): vectors kept in step with the store, resumed after an interruption, dropped when the
//! model changes; a paraphrase with no word in common found by meaning.

use std::sync::Arc;

use hypatia_llama::{EmbedderSettings, LlamaEmbedder};
use hypatia_llm::EmbeddingBackend;
use hypatia_project::{IngestOptions, Project, ProjectError, SearchMode, SearchRequest, YearRange};
use hypatia_testkit::{converted_minilm, minilm_dir, model_lock, test_threads};
use tokio_util::sync::CancellationToken;

const LIBRARY: &str = r#"{"id": "smoke", "title": "Cigarette use and myocardial infarction", "abstract": "Current smokers had twice the rate of myocardial infarction of never smokers in a cohort of 20,000 adults. The excess risk fell within five years of quitting.", "year": 2015}
{"id": "ice", "title": "Arctic sea ice decline", "abstract": "Summer sea ice extent in the Arctic has declined by thirteen percent per decade since satellite records began.", "year": 2020}
{"id": "bees", "title": "Neonicotinoids and pollinators", "abstract": "Field-realistic doses of neonicotinoid pesticides impaired the foraging of bumblebee colonies.", "year": 2018}
"#;

fn embedder(path: std::path::PathBuf) -> Arc<dyn EmbeddingBackend> {
    let mut settings = EmbedderSettings::new(path);
    settings.threads = Some(test_threads());
    settings.fingerprint = "test".into();
    Arc::new(LlamaEmbedder::load(settings).expect("the embedding model loads"))
}

async fn project_with(dir: &std::path::Path, library: &str) -> Project {
    let project = Project::init(dir, Some("hybrid")).await.expect("init");
    let file = dir.join("library.jsonl");
    std::fs::write(&file, library).expect("write");
    project
        .ingest_file(&file, IngestOptions::default(), &|_| {})
        .await
        .expect("ingest");
    project
}

fn request(query: &str) -> SearchRequest<'_> {
    SearchRequest::new(query, 3)
}

#[tokio::test]
async fn a_paraphrase_is_found_by_meaning_and_vectors_follow_the_store() {
    let Some(gguf) = converted_minilm() else { return };
    let _lock = model_lock().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut project = project_with(dir.path(), LIBRARY).await;

    // Without a model, only words.
    assert!(matches!(
        project.find_papers(&request("anything"), SearchMode::Dense).await,
        Err(ProjectError::NoEmbedder { .. })
    ));
    assert_eq!(project.default_mode(), SearchMode::Bm25);

    project.attach_embedder(embedder(gguf.clone())).expect("attach");
    assert_eq!(project.default_mode(), SearchMode::Hybrid);
    let never = CancellationToken::new();
    let first = project
        .embed_passages(&|_| {}, &never)
        .await
        .expect("embeds")
        .expect("a model");
    let passages = project.status().await.expect("status").passages as u64;
    assert_eq!(first.embedded, passages, "every passage gets a vector");
    assert_eq!(first.vectors, passages);
    assert!(!first.interrupted);
    let again = project
        .embed_passages(&|_| {}, &never)
        .await
        .expect("embeds")
        .expect("a model");
    assert_eq!(again.embedded, 0, "nothing changed, nothing embedded");

    // No word in common with the paper; BM25 cannot find it, meaning can.
    let paraphrase = "heart attack chance among tobacco consumers";
    let words = project
        .find_papers(&request(paraphrase), SearchMode::Bm25)
        .await
        .expect("bm25");
    assert!(words.iter().all(|hit| !hit.title.contains("Cigarette")), "{words:?}");
    for mode in [SearchMode::Dense, SearchMode::Hybrid] {
        let hits = project.find_papers(&request(paraphrase), mode).await.expect("search");
        assert_eq!(
            hits[0].title, "Cigarette use and myocardial infarction",
            "{mode}: {hits:?}"
        );
        let passages = project
            .find_passages(&request(paraphrase), mode)
            .await
            .expect("passages");
        assert_eq!(passages[0].paper_id, hits[0].paper_id, "{mode}");
    }
    // A quoted phrase must appear, however the paper ranked by meaning.
    let phrased = project
        .find_papers(
            &request("\"sea ice\" heart attack chance among tobacco consumers"),
            SearchMode::Hybrid,
        )
        .await
        .expect("phrase");
    assert!(!phrased.is_empty());
    assert!(
        phrased.iter().all(|hit| hit.title == "Arctic sea ice decline"),
        "{phrased:?}"
    );
    // Filters hold for dense candidates too.
    let filtered = SearchRequest {
        years: Some("2016..".parse::<YearRange>().expect("range")),
        ..request(paraphrase)
    };
    let hits = project
        .find_papers(&filtered, SearchMode::Dense)
        .await
        .expect("filtered");
    assert!(hits.iter().all(|hit| hit.year.is_some_and(|y| y >= 2016)), "{hits:?}");
    assert!(!hits.is_empty());

    // A new paper: only its passages are embedded.
    let more = dir.path().join("more.jsonl");
    std::fs::write(
        &more,
        r#"{"id": "sleep", "title": "Sleep deprivation and memory", "abstract": "One night without sleep reduced the consolidation of declarative memories in healthy students.", "year": 2012}"#,
    )
    .expect("write");
    project
        .ingest_file(&more, IngestOptions::default(), &|_| {})
        .await
        .expect("ingest");
    let after = project
        .embed_passages(&|_| {}, &never)
        .await
        .expect("embeds")
        .expect("a model");
    assert_eq!(after.embedded, 1, "only the new paper's passage: {after:?}");
    assert_eq!(after.vectors, project.status().await.expect("status").passages as u64);
    project.close().await;
}

#[tokio::test]
async fn an_interrupted_embedding_resumes_and_a_new_model_starts_again() {
    let (Some(gguf), Some(folder)) = (converted_minilm(), minilm_dir()) else {
        return;
    };
    let _lock = model_lock().await;
    let dir = tempfile::tempdir().expect("temp dir");
    // Enough passages for several calls to the model.
    let library: String = (0..150)
        .map(|i| {
            format!(
                "{{\"id\": \"p{i}\", \"title\": \"Study {i} of enzyme kinetics\", \"abstract\": \"Enzyme {i} follows Michaelis-Menten kinetics at low substrate concentrations. Its turnover number was measured at {i} per second.\", \"year\": 2001}}\n"
            )
        })
        .collect();
    let mut project = project_with(dir.path(), &library).await;
    project.attach_embedder(embedder(gguf.clone())).expect("attach");
    let cancel = CancellationToken::new();
    let stop_after_first = |progress: hypatia_project::EmbedProgress| {
        if progress.embedded > 0 {
            cancel.cancel();
        }
    };
    let cut = project
        .embed_passages(&stop_after_first, &cancel)
        .await
        .expect("embeds")
        .expect("a model");
    assert!(cut.interrupted);
    assert!(cut.vectors > 0 && cut.vectors < 300, "{cut:?}");
    project.close().await;

    // A new process: the vectors made before the interruption are kept, the rest are embedded.
    let mut project = Project::open(dir.path()).await.expect("reopen");
    project.attach_embedder(embedder(gguf.clone())).expect("attach");
    let never = CancellationToken::new();
    let rest = project
        .embed_passages(&|_| {}, &never)
        .await
        .expect("embeds")
        .expect("a model");
    assert_eq!(
        rest.embedded + cut.vectors,
        rest.vectors,
        "nothing embedded twice: {rest:?}"
    );
    assert_eq!(rest.vectors, project.status().await.expect("status").passages as u64);

    // Another model (same weights in F16, another fingerprint): every vector is made again.
    let f16 = dir.path().join("minilm-f16.gguf");
    hypatia_gguf::convert_sentence_transformers(&folder, &f16, hypatia_gguf::OutputType::F16).expect("convert");
    let mut settings = EmbedderSettings::new(f16);
    settings.threads = Some(test_threads());
    settings.fingerprint = "other".into();
    project
        .attach_embedder(Arc::new(LlamaEmbedder::load(settings).expect("loads")))
        .expect("attach another model");
    assert_eq!(project.vector_count(), Some(0), "the first model's vectors are dropped");
    let all = project
        .embed_passages(&|_| {}, &never)
        .await
        .expect("embeds")
        .expect("a model");
    assert_eq!(all.embedded, rest.vectors);
    project.close().await;
}
