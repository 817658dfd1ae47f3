//! The embedding engine: real MiniLM converted by Hypatia's own converter agrees with an independent
//! numpy forward pass of the original safetensors; batching, truncation and pooling are checked on
//! it, and the mechanics on a generative GGUF (the tiny model, and Gemma in the real-model tier).

use hypatia_llama::{EmbedderSettings, LlamaEmbedder};
use hypatia_llm::{EmbedRole, EmbeddingBackend};
use hypatia_testkit::{converted_minilm, minilm_dir, model_lock, real_model, reference_embeddings, test_threads};

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

fn embedder(path: std::path::PathBuf) -> LlamaEmbedder {
    let mut settings = EmbedderSettings::new(path);
    settings.threads = Some(test_threads());
    LlamaEmbedder::load(settings).expect("the embedding model loads")
}

const SENTENCES: &[&str] = &[
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "β-amyloid plaques accumulate in Alzheimer's disease.",
    "Amyloid beta deposits are a hallmark of Alzheimer's.",
    "Café au lait spots, naïve Bayes, and façade: accents are stripped.",
    "0-dimensional biomaterials show inductive properties.",
    "The p53 protein (TP53) regulates apoptosis — and is mutated in ~50% of cancers!",
    "Mitochondria: the powerhouse of the cell? Not always; see Lane et al., 2010.",
    "ΣΟΦΙΑ and σοφία are Greek for wisdom.",
    "汉字 mixed with English text",
    "",
    "Vitamin D supplementation does not reduce the risk of fractures in older adults living in the community.",
];

#[tokio::test]
async fn converted_minilm_agrees_with_an_independent_forward_pass() {
    let (Some(dir), Some(gguf)) = (minilm_dir(), converted_minilm()) else {
        return;
    };
    let _lock = model_lock().await;
    let (reference, _) = reference_embeddings(&dir, SENTENCES);
    let f16 = tempfile::tempdir().expect("temp dir");
    let f16_path = f16.path().join("minilm-f16.gguf");
    hypatia_gguf::convert_sentence_transformers(&dir, &f16_path, hypatia_gguf::OutputType::F16)
        .expect("converts to F16");
    for path in [gguf, f16_path] {
        let engine = embedder(path.clone());
        assert_eq!(engine.identity().dimensions, 384);
        assert_eq!(engine.summary().pooling, "mean");
        assert_eq!(
            engine.summary().max_tokens,
            256,
            "sentence-transformers' max_seq_length"
        );
        let texts = SENTENCES.iter().map(|s| (*s).to_owned()).collect();
        let ours = engine.embed(texts, EmbedRole::Document).await.expect("embeds");
        for ((sentence, mine), theirs) in SENTENCES.iter().zip(&ours).zip(&reference) {
            let agreement = cosine(mine, theirs);
            assert!(
                agreement >= 0.999,
                "{}: cosine {agreement:.5} with the numpy reference for {sentence:?}",
                path.display()
            );
        }
    }
}

#[tokio::test]
async fn batching_and_truncation_do_not_change_a_vector() {
    let (Some(dir), Some(gguf)) = (minilm_dir(), converted_minilm()) else {
        return;
    };
    let _lock = model_lock().await;
    let mut settings = EmbedderSettings::new(gguf);
    settings.threads = Some(test_threads());
    // Small batches, so 40 texts take several forward passes.
    settings.batch_tokens = 300;
    settings.max_sequences = 7; // 300 is not a multiple of 7: the engine must round it
    let engine = LlamaEmbedder::load(settings).expect("loads");
    let long = "Exercise improves insulin sensitivity in skeletal muscle. ".repeat(80);
    let mut texts: Vec<String> = (0..40)
        .map(|i| format!("Passage number {i} is about protein folding."))
        .collect();
    texts.push(long.clone());
    let together = engine
        .embed(texts.clone(), EmbedRole::Document)
        .await
        .expect("embeds in batches");
    assert_eq!(together.len(), texts.len());
    for (text, vector) in texts.iter().zip(&together).step_by(9) {
        let alone = engine
            .embed(vec![text.clone()], EmbedRole::Document)
            .await
            .expect("embeds alone");
        assert!(cosine(&alone[0], vector) > 0.9999, "{text}");
    }
    for vector in &together {
        let norm: f64 = vector.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit length, not {norm}");
    }
    // The long text is cut where sentence-transformers cuts it (256 tokens), as the reference does.
    let (reference, ids) = reference_embeddings(&dir, &[long.as_str()]);
    assert_eq!(ids[0].len(), 256);
    assert!(cosine(&together[40], &reference[0]) >= 0.999);
    // Texts in, vectors out, in order: distinct texts, distinct vectors.
    assert!(cosine(&together[0], &together[1]) < 0.9999);
}

#[tokio::test]
async fn a_generative_gguf_embeds_with_mean_pooling() {
    let _lock = model_lock().await;
    let mut paths = vec![hypatia_testkit::tiny_model()];
    paths.extend(real_model());
    for path in paths {
        let engine = embedder(path.clone());
        assert!(
            engine.summary().pooling.starts_with("mean"),
            "{}",
            engine.summary().pooling
        );
        let texts = vec![
            "protein folding".to_owned(),
            "galaxy formation".to_owned(),
            "protein folding".to_owned(),
        ];
        let vectors = engine.embed(texts, EmbedRole::Query).await.expect("embeds");
        assert_eq!(vectors.len(), 3);
        assert_eq!(vectors[0].len(), engine.identity().dimensions);
        assert!(
            cosine(&vectors[0], &vectors[2]) > 0.9999,
            "{}: the same text, the same vector",
            path.display()
        );
        assert!(cosine(&vectors[0], &vectors[1]) < 0.9999, "{}", path.display());
    }
}

#[test]
fn a_file_that_is_not_a_model_is_a_named_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("notes.gguf");
    std::fs::write(&path, b"these are notes, not weights").expect("write");
    let error = LlamaEmbedder::load(EmbedderSettings::new(&path))
        .expect_err("refused")
        .to_string();
    assert!(error.contains("notes.gguf"), "{error}");
}
