//! Both embedding backends, built from configuration as users configure them, on the same GGUF:
//! Hypatia's in-process engine and llama-cpp-python's `/v1/embeddings` serving the converted
//! MiniLM. Their vectors must agree: the same model, whichever way it is reached.

use std::path::PathBuf;

use hypatia_llm::EmbedRole;
use hypatia_models::{BackendKind, EmbeddingSection, ModelConfig, ModelFlags, ModelSettings, build_embedder};
use hypatia_testkit::{OpenAiServer, converted_minilm, model_lock, test_threads};

fn config(embedding: EmbeddingSection) -> ModelConfig {
    let project = ModelSettings {
        embedding,
        ..ModelSettings::default()
    };
    let root = PathBuf::from("/");
    let env = |name: &str| (name == "HYPATIA_CONFIG").then(|| "none".to_owned());
    ModelConfig::resolve(Some((&root, &project)), &env, &ModelFlags::default()).expect("resolves")
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum()
}

#[tokio::test]
async fn the_engine_and_a_served_model_embed_alike() {
    let Some(gguf) = converted_minilm() else { return };
    let _lock = model_lock().await;
    let texts: Vec<String> = [
        "Statins lower LDL cholesterol.",
        "Hydroxychloroquine did not improve survival in hospitalised patients.",
        "The gut microbiome shapes the immune response.",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();

    let local = config(EmbeddingSection {
        path: Some(gguf.clone()),
        threads: Some(test_threads()),
        ..EmbeddingSection::default()
    });
    assert_eq!(
        local.settings.embedding.backend,
        Some(BackendKind::Llama),
        "a file implies the engine"
    );
    let engine = build_embedder(&local).await.expect("builds").expect("configured");
    assert!(engine.embedder.identity().fingerprint.starts_with("sha256:"));
    let ours = engine
        .embedder
        .embed(texts.clone(), EmbedRole::Document)
        .await
        .expect("embeds");
    drop(engine);

    let Some(server) = OpenAiServer::llama_cpp_python_embeddings(&gguf, 512) else {
        return;
    };
    let remote = config(EmbeddingSection {
        model: Some(server.model_id().to_owned()),
        base_url: Some(server.base_url().to_owned()),
        ..EmbeddingSection::default()
    });
    assert_eq!(
        remote.settings.embedding.backend,
        Some(BackendKind::Openai),
        "a served model implies HTTP"
    );
    let served = build_embedder(&remote)
        .await
        .unwrap_or_else(|error| panic!("connects: {error}\n{}", server.stderr_tail()))
        .expect("configured");
    assert_eq!(served.embedder.identity().dimensions, 384);
    assert!(served.embedder.identity().name.starts_with("openai:http://127.0.0.1:"));
    let theirs = served
        .embedder
        .embed(texts.clone(), EmbedRole::Document)
        .await
        .expect("embeds over HTTP");
    assert_eq!(theirs.len(), texts.len());
    for ((text, a), b) in texts.iter().zip(&ours).zip(&theirs) {
        let norm: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-4,
            "served vectors are normalised here, not {norm}"
        );
        let agreement = cosine(a, b);
        assert!(
            agreement > 0.999,
            "{text}: cosine {agreement} between the engine and the server"
        );
    }
    // More texts than one request carries: split into requests and put back in order.
    let many: Vec<String> = (0..150).map(|i| format!("sentence number {i} about cells")).collect();
    let vectors = served
        .embedder
        .embed(many.clone(), EmbedRole::Query)
        .await
        .expect("embeds 150");
    assert_eq!(vectors.len(), 150);
    let again = served
        .embedder
        .embed(vec![many[149].clone()], EmbedRole::Query)
        .await
        .expect("embeds one");
    assert!(
        cosine(&vectors[149], &again[0]) > 0.9999,
        "the 150th vector is the 150th text's"
    );
}

#[tokio::test]
async fn no_embedding_section_builds_nothing_and_a_bad_server_is_a_named_error() {
    assert!(
        build_embedder(&config(EmbeddingSection::default()))
            .await
            .expect("nothing to build")
            .is_none()
    );
    let unreachable = config(EmbeddingSection {
        model: Some("m".into()),
        base_url: Some(format!("http://127.0.0.1:{}/v1", hypatia_testkit::free_port())),
        ..EmbeddingSection::default()
    });
    let mut quick = unreachable.clone();
    quick.settings.openai.max_retries = Some(0);
    let error = build_embedder(&quick).await.expect_err("nobody listens").to_string();
    assert!(error.contains("127.0.0.1"), "{error}");
}
