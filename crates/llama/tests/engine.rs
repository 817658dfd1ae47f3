//! The in-process engine through the real llama.cpp, on the tiny generated model.

mod support;

use std::sync::Arc;

use hypatia_llama::{LlamaEngine, LlamaSettings};
use hypatia_llm::{CallControl, ChatBackend, ChatMessage, ChatRequest, ErrorKind, FinishReason, Llm, Sampling};
use hypatia_prompts::Prompts;
use hypatia_testkit::{model_lock, test_threads, tiny_model};
use serde_json::{Value, json};

fn settings() -> LlamaSettings {
    let mut settings = LlamaSettings::new(tiny_model());
    settings.threads = Some(test_threads());
    settings.context_tokens = Some(4096);
    settings
}

fn engine_with(settings: LlamaSettings) -> Arc<LlamaEngine> {
    Arc::new(LlamaEngine::load(settings).expect("the tiny model loads"))
}

fn llm(engine: &Arc<LlamaEngine>) -> Llm {
    Llm::new(
        Arc::clone(engine) as Arc<dyn ChatBackend>,
        Arc::new(Prompts::embedded()),
    )
}

fn greedy(max_tokens: u32) -> Sampling {
    Sampling {
        temperature: 0.0,
        max_tokens,
        ..Sampling::default()
    }
}

fn ask(system: &str, user: &str, sampling: Sampling) -> ChatRequest {
    ChatRequest::new(vec![ChatMessage::system(system), ChatMessage::user(user)]).with_sampling(sampling)
}

/// A system prompt of a few hundred tokens, like an agent's instructions plus evidence.
fn long_system_prompt() -> String {
    let evidence: Vec<String> = (0..40)
        .map(|i| format!("[p{i}#1] Passage {i} reports that the treatment changed the measured outcome."))
        .collect();
    format!(
        "You review scientific claims against the evidence below.\n{}",
        evidence.join("\n")
    )
}

#[tokio::test]
async fn loads_the_model_and_answers_with_usage_figures() {
    let _lock = model_lock().await;
    let engine = engine_with(settings());
    let summary = engine.summary();
    assert!(summary.has_chat_template);
    assert!(summary.parameters > 3_000_000, "{summary:?}");
    assert_eq!(summary.context_tokens, 4096);
    assert!(engine.describe().starts_with("llama:tiny-"), "{}", engine.describe());

    let answer = llm(&engine)
        .complete(
            ask("Be brief.", "What is a hypothesis?", greedy(24)),
            CallControl::default(),
        )
        .await;
    let answer = answer.expect("an answer");
    assert!(answer.usage.prompt_tokens > 10, "{:?}", answer.usage);
    assert!(
        answer.usage.completion_tokens >= 1 && answer.usage.completion_tokens <= 24,
        "{:?}",
        answer.usage
    );
    let first_token = answer
        .usage
        .time_to_first_token
        .expect("the engine sees its first token");
    assert!(answer.usage.total_time >= first_token);
    assert!(matches!(answer.finish, FinishReason::Length | FinishReason::Stop));
    assert_eq!(answer.model, hypatia_gguf::TINY_MODEL_NAME);
}

#[tokio::test]
async fn greedy_answers_are_reproducible_and_streamed_text_matches() {
    let _lock = model_lock().await;
    let engine = engine_with(settings());
    let llm = llm(&engine);
    let first = llm
        .complete(ask("Be brief.", "Name a prime.", greedy(32)), CallControl::default())
        .await;
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let second = llm
        .complete(
            ask("Be brief.", "Name a prime.", greedy(32)),
            CallControl::streaming(sender),
        )
        .await;
    let (first, second) = (first.expect("first"), second.expect("second"));
    assert_eq!(
        first.text, second.text,
        "greedy decoding is deterministic (and prefix reuse must not change it)"
    );
    let mut streamed = String::new();
    let mut pieces = 0;
    while let Ok(piece) = receiver.try_recv() {
        streamed.push_str(&piece);
        pieces += 1;
    }
    assert_eq!(streamed.trim(), second.text, "the stream carries the whole answer");
    assert!(pieces >= 2, "the answer arrived in {pieces} pieces");
}

/// The grammar makes every answer valid JSON for the schema by construction: no re-asks needed.
#[tokio::test]
async fn schema_constrained_answers_always_parse_and_validate() {
    let _lock = model_lock().await;
    let engine = engine_with(settings());
    let llm = llm(&engine).with_max_reasks(0);
    let schema = json!({
        "type": "object",
        "properties": {
            "claim": {"type": "string", "maxLength": 24},
            "support": {"type": "string", "enum": ["supports", "refutes", "neutral"]},
            "confidence": {"type": "number"},
            "score": {"type": "integer", "minimum": 1, "maximum": 5},
            "passages": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3},
            "novel": {"type": "boolean"},
            "count": {"type": "integer"}
        },
        "required": ["claim", "support", "confidence", "score", "passages", "novel", "count"],
        "additionalProperties": false
    });
    for seed in 0..48u32 {
        let sampling = Sampling {
            temperature: 1.0,
            top_p: 1.0,
            seed: Some(seed),
            max_tokens: 400,
            stop: vec![],
        };
        let request = ask("Judge the claim.", "Does aspirin reduce fever?", sampling).with_schema(schema.clone());
        let answer = llm.complete_json(request, CallControl::default()).await;
        let answer = answer.unwrap_or_else(|error| panic!("seed {seed}: {error}"));
        assert_eq!(answer.attempts, 1, "seed {seed}");
        let value: &Value = &answer.value;
        let score = value["score"].as_i64().expect("integer score");
        assert!((1..=5).contains(&score), "seed {seed}: {value}");
        assert!(
            value["confidence"].as_f64().is_some_and(f64::is_finite),
            "seed {seed}: {value}"
        );
        assert!(
            value["count"].as_i64().is_some(),
            "an integer that deserializes as one (not -0): {value}"
        );
    }
}

#[tokio::test]
async fn four_concurrent_requests_share_decode_batches() {
    let _lock = model_lock().await;
    let engine = engine_with(settings());
    let llm = llm(&engine);
    let calls = (0..4).map(|i| {
        let llm = llm.clone();
        tokio::spawn(async move {
            let sampling = Sampling {
                temperature: 0.8,
                seed: Some(i),
                max_tokens: 48,
                ..Sampling::default()
            };
            llm.complete(
                ask("Be brief.", &format!("Question number {i}?"), sampling),
                CallControl::default(),
            )
            .await
        })
    });
    for call in futures_join(calls.collect()).await {
        let answer = call.expect("task").expect("answer");
        assert!(answer.usage.completion_tokens >= 1);
    }
    let stats = engine.stats();
    assert_eq!(stats.requests, 4);
    assert!(
        stats.max_sequences_in_a_batch >= 2,
        "requests were decoded one by one: {stats:?}"
    );
}

#[tokio::test]
async fn shared_prefix_is_reused_and_does_not_change_the_answer() {
    let _lock = model_lock().await;
    let system = long_system_prompt();
    let with_cache = engine_with(settings());
    let mut no_cache_settings = settings();
    no_cache_settings.prefix_cache = false;
    let without_cache = engine_with(no_cache_settings);

    let cached = llm(&with_cache);
    let warm = cached
        .complete(ask(&system, "Claim one?", greedy(8)), CallControl::default())
        .await
        .expect("warm");
    assert_eq!(warm.usage.cached_prompt_tokens, 0);
    assert!(
        warm.usage.prompt_tokens > 300,
        "the shared prefix should be long: {:?}",
        warm.usage
    );
    let reused = cached
        .complete(ask(&system, "Claim two?", greedy(16)), CallControl::default())
        .await
        .expect("reused");
    let fresh = llm(&without_cache)
        .complete(ask(&system, "Claim two?", greedy(16)), CallControl::default())
        .await;
    let fresh = fresh.expect("fresh");
    assert!(
        reused.usage.cached_prompt_tokens + 20 >= warm.usage.prompt_tokens,
        "most of the prompt should come from the cache: {:?}",
        reused.usage
    );
    assert_eq!(fresh.usage.cached_prompt_tokens, 0);
    assert_eq!(
        reused.text, fresh.text,
        "a reused prefix must give exactly the answer a computed one gives"
    );
}

#[tokio::test]
async fn concurrent_requests_with_one_prefix_compute_it_once() {
    let _lock = model_lock().await;
    let engine = engine_with(settings());
    let llm = llm(&engine);
    let system = Arc::new(long_system_prompt());
    let calls = (0..4).map(|i| {
        let (llm, system) = (llm.clone(), Arc::clone(&system));
        tokio::spawn(async move {
            llm.complete(ask(&system, &format!("Claim {i}?"), greedy(8)), CallControl::default())
                .await
        })
    });
    let answers: Vec<_> = futures_join(calls.collect())
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("answer"))
        .collect();
    let prompt = answers[0].usage.prompt_tokens;
    let cached: u32 = answers.iter().map(|a| a.usage.cached_prompt_tokens).sum();
    assert!(
        cached + 60 >= 3 * prompt,
        "three of four should reuse the shared prefix: cached {cached} of {prompt} each"
    );
}

#[tokio::test]
async fn cancelling_stops_generation_and_the_engine_serves_on() {
    let _lock = model_lock().await;
    let engine = engine_with(settings());
    let llm = llm(&engine);
    let long = Sampling {
        temperature: 1.0,
        seed: Some(7),
        max_tokens: 3000,
        ..Sampling::default()
    };
    support::cancel_after_the_first_piece(&llm, ask("Write at length.", "Tell a story.", long)).await;

    let after = llm
        .complete(ask("Be brief.", "Still there?", greedy(4)), CallControl::default())
        .await;
    assert!(after.is_ok(), "{after:?}");
    let stats = engine.stats();
    assert!(
        stats.generated_tokens < 3000,
        "the cancelled request kept generating: {stats:?}"
    );
}

#[tokio::test]
async fn stop_strings_end_the_answer_before_them() {
    let _lock = model_lock().await;
    let engine = engine_with(settings());
    let llm = llm(&engine);
    let full = llm
        .complete(ask("Be brief.", "Say something.", greedy(40)), CallControl::default())
        .await;
    let full = full.expect("answer").text;
    let chars: Vec<char> = full.chars().collect();
    assert!(chars.len() >= 12, "need some text to cut: {full:?}");
    let stop: String = chars[chars.len() / 2..chars.len() / 2 + 3].iter().collect();
    let expected = &full[..full.find(&stop).expect("stop occurs")];
    let sampling = Sampling {
        stop: vec![stop.clone()],
        ..greedy(40)
    };
    let cut = llm
        .complete(ask("Be brief.", "Say something.", sampling), CallControl::default())
        .await
        .expect("cut");
    assert_eq!(cut.finish, FinishReason::StopString, "stop {stop:?} in {full:?}");
    assert_eq!(cut.text, expected.trim());
}

#[tokio::test]
async fn too_long_a_prompt_is_a_context_error() {
    let _lock = model_lock().await;
    let mut small = settings();
    small.context_tokens = Some(256);
    let engine = engine_with(small);
    let huge = "evidence ".repeat(2000);
    let error = llm(&engine)
        .complete(ask("x", &huge, greedy(4)), CallControl::default())
        .await
        .expect_err("too long");
    assert_eq!(error.kind(), ErrorKind::ContextTooLong, "{error}");
    assert!(error.to_string().contains("256"), "{error}");
}

#[test]
fn missing_truncated_and_foreign_files_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.gguf");
    let error = LlamaEngine::load(LlamaSettings::new(&missing)).expect_err("missing");
    assert_eq!(error.kind(), ErrorKind::Permanent);
    assert!(error.to_string().contains("nope.gguf"), "{error}");

    let bytes = std::fs::read(tiny_model()).expect("tiny model");
    let truncated = dir.path().join("truncated.gguf");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    let error = LlamaEngine::load(LlamaSettings::new(&truncated)).expect_err("truncated");
    let message = error.to_string();
    assert!(
        message.contains("truncated.gguf") && message.to_lowercase().contains("truncated"),
        "{message}"
    );

    let foreign = dir.path().join("notes.gguf");
    std::fs::write(&foreign, "these are not weights\n").expect("write");
    let error = LlamaEngine::load(LlamaSettings::new(&foreign)).expect_err("not gguf");
    assert!(error.to_string().contains("notes.gguf"), "{error}");
}

async fn futures_join<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await);
    }
    results
}
