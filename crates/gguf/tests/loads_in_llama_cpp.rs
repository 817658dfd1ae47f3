//! The tiny model is only useful if real llama.cpp loads it, tokenizes ChatML with it, generates with it,
//! and can constrain it to JSON with a grammar. These tests prove that with the llama.cpp we ship.

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use hypatia_gguf::{CHATML_TEMPLATE, TinyModelSpec, read_info, write_tiny_model};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

struct Fixture {
    backend: LlamaBackend,
    model: LlamaModel,
    spec: TinyModelSpec,
    _dir: tempfile::TempDir,
}

/// llama.cpp's backend can be initialised once per process; the model is loaded once and shared.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tiny.gguf");
        let spec = TinyModelSpec::default();
        write_tiny_model(&path, &spec).expect("write the tiny model");
        let mut backend = LlamaBackend::init().expect("llama backend");
        if std::env::var_os("HYPATIA_LLAMA_LOG").is_none() {
            backend.void_logs();
        }
        let model = load(&backend, &path);
        Fixture {
            backend,
            model,
            spec,
            _dir: dir,
        }
    })
}

fn load(backend: &LlamaBackend, path: &Path) -> LlamaModel {
    LlamaModel::load_from_file(backend, path, &LlamaModelParams::default()).expect("llama.cpp loads the tiny model")
}

/// Creating contexts from one model on several threads at once is unsound in llama.cpp: one test at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn context(f: &Fixture) -> LlamaContext<'_> {
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(2048))
        .with_n_threads(2)
        .with_n_threads_batch(2);
    f.model.new_context(&f.backend, params).expect("context")
}

fn chatml_prompt(f: &Fixture) -> String {
    let template = f.model.chat_template(None).expect("the model has a chat template");
    let messages = [
        LlamaChatMessage::new("system".into(), "Answer in JSON.".into()).expect("message"),
        LlamaChatMessage::new("user".into(), "Is the sky blue?".into()).expect("message"),
    ];
    f.model
        .apply_chat_template(&template, &messages, true)
        .expect("apply the chat template")
}

/// Decodes `prompt`, then samples up to `max_tokens` tokens, stopping at end of generation.
/// Returns the generated text and the number of tokens generated.
fn generate(
    f: &Fixture,
    ctx: &mut LlamaContext<'_>,
    prompt: &[LlamaToken],
    sampler: &mut LlamaSampler,
    max_tokens: usize,
) -> (String, usize) {
    let vocab = f.model.vocab();
    let mut batch = LlamaBatch::new(512, 1);
    batch.add_sequence(prompt, 0, false).expect("batch");
    ctx.decode(&mut batch).expect("decode the prompt");
    let mut pos = i32::try_from(prompt.len()).expect("short prompt");
    let mut bytes = Vec::new();
    let mut generated = 0;
    while generated < max_tokens {
        // `sample` also accepts the token into the sampler (and its grammar).
        let token = sampler.sample(ctx, batch.n_tokens() - 1);
        if vocab.is_eog(token) {
            break;
        }
        generated += 1;
        bytes.extend(vocab.token_to_piece(token, false, None));
        batch.clear();
        batch.add(token, pos, &[0], true).expect("batch");
        pos += 1;
        ctx.decode(&mut batch).expect("decode");
    }
    (String::from_utf8_lossy(&bytes).into_owned(), generated)
}

#[test]
fn loads_with_the_shape_and_template_we_wrote() {
    let f = fixture();
    let _serial = serial();
    assert_eq!(u64::try_from(f.model.n_vocab()).expect("n_vocab"), f.spec.vocab_size());
    assert_eq!(f.model.n_params(), f.spec.parameter_count());
    assert_eq!(f.model.n_layer(), f.spec.n_layer);
    assert_eq!(f.model.n_ctx_train(), f.spec.context_length);
    let template = f.model.chat_template(None).expect("chat template");
    assert_eq!(template.to_str().expect("utf-8"), CHATML_TEMPLATE);
    assert_eq!(
        chatml_prompt(f),
        "<|im_start|>system\nAnswer in JSON.<|im_end|>\n<|im_start|>user\nIs the sky blue?<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn tokenizes_chatml_and_generates_greedily() {
    let f = fixture();
    let _serial = serial();
    let vocab = f.model.vocab();
    let im_start = vocab.tokenize(b"<|im_start|>", false, true);
    assert_eq!(im_start.len(), 1, "<|im_start|> is one control token: {im_start:?}");
    assert!(vocab.is_control(im_start[0]));
    assert!(
        vocab.tokenize(b"<|im_start|>", false, false).len() > 1,
        "without parse_special it is text"
    );
    let im_end = vocab.tokenize(b"<|im_end|>", false, true);
    assert_eq!(im_end.len(), 1);
    assert!(vocab.is_eog(im_end[0]), "<|im_end|> ends generation");
    let words = vocab.tokenize(" the evidence".as_bytes(), false, false);
    assert_eq!(words.len(), 2, "whole words are single pieces: {words:?}");

    let prompt = vocab.tokenize(chatml_prompt(f).as_bytes(), false, true);
    assert_eq!(prompt[0], im_start[0], "no BOS is added");
    let mut ctx = context(f);
    let mut sampler = LlamaSampler::greedy();
    let started = Instant::now();
    let (text, n) = generate(f, &mut ctx, &prompt, &mut sampler, 20);
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "greedy: {n} tokens after a {}-token prompt in {seconds:.3}s: {text:?}",
        prompt.len()
    );
    assert!(n > 0, "generated nothing");

    // Greedy decoding of a fixed model is deterministic.
    let mut ctx = context(f);
    let (again, _) = generate(f, &mut ctx, &prompt, &mut LlamaSampler::greedy(), 20);
    assert_eq!(again, text);
}

#[test]
fn grammar_constrains_output_to_the_schema() {
    let f = fixture();
    let _serial = serial();
    let schema = r#"{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}"#;
    let grammar = llama_cpp_2::json_schema_to_grammar(schema).expect("grammar from schema");
    let prompt = f.model.vocab().tokenize(chatml_prompt(f).as_bytes(), false, true);
    let started = Instant::now();
    let mut total = 0;
    for seed in 0..10 {
        let mut ctx = context(f);
        let mut sampler = LlamaSampler::chain_simple([
            LlamaSampler::grammar(&f.model, &grammar, "root").expect("grammar sampler"),
            LlamaSampler::dist(seed),
        ]);
        let (text, n) = generate(f, &mut ctx, &prompt, &mut sampler, 200);
        total += n;
        assert!(n < 200, "seed {seed}: no end of generation within 200 tokens: {text:?}");
        let value: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("seed {seed}: not JSON ({e}): {text:?}"));
        // llama.cpp's schema grammar allows `-0`, which JSON Schema counts as an integer but serde_json
        // reads as the float -0.0: accept any number with no fractional part.
        let a = value["a"]
            .as_f64()
            .unwrap_or_else(|| panic!("seed {seed}: `a` is not a number: {text:?}"));
        assert_eq!(a.fract(), 0.0, "seed {seed}: `a` is not an integer: {text:?}");
        eprintln!("seed {seed}: {n} tokens: {text}");
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "grammar: {total} tokens in {seconds:.3}s ({:.0} tokens/s)",
        total as f64 / seconds
    );
}

#[test]
fn read_info_agrees_with_llama_cpp() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tiny.gguf");
    write_tiny_model(&path, &f.spec).expect("write");
    let info = read_info(&path).expect("read_info");
    assert_eq!(info.parameter_count, f.model.n_params());
    assert_eq!(info.context_length, Some(u64::from(f.model.n_ctx_train())));
    assert_eq!(f.model.meta_val_str("general.architecture").expect("arch"), "llama");
}
