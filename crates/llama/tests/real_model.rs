//! The real-model tier: the engine on a real quantized GGUF as users download them (Google's Gemma 3
//! 270M, Q4_K_M: 262k-token vocabulary, K-quants, no chat template in the file). The tiny model proves
//! the mechanics; this proves that a user's model works. Skips, saying why, when the file is absent;
//! CI fetches it (`.ci/fetch-gemma`) and requires it.

mod support;

use std::sync::Arc;

use hypatia_llama::{LlamaEngine, LlamaSettings};
use hypatia_llm::{CallControl, ChatBackend, ChatMessage, ChatRequest, FinishReason, Llm, Sampling};
use hypatia_prompts::Prompts;
use hypatia_testkit::{model_lock, real_model, test_threads};
use serde_json::json;

fn engine(prefix_cache: bool) -> Option<Arc<LlamaEngine>> {
    let mut settings = LlamaSettings::new(real_model()?);
    settings.threads = Some(test_threads());
    settings.context_tokens = Some(4096);
    settings.prefix_cache = prefix_cache;
    Some(Arc::new(LlamaEngine::load(settings).expect("the real model loads")))
}

fn llm(engine: &Arc<LlamaEngine>) -> Llm {
    Llm::new(
        Arc::clone(engine) as Arc<dyn ChatBackend>,
        Arc::new(Prompts::embedded()),
    )
}

fn sampling(temperature: f32, seed: u32, max_tokens: u32) -> Sampling {
    Sampling {
        temperature,
        seed: Some(seed),
        max_tokens,
        ..Sampling::default()
    }
}

fn ask(system: &str, user: &str, sampling: Sampling) -> ChatRequest {
    ChatRequest::new(vec![ChatMessage::system(system), ChatMessage::user(user)]).with_sampling(sampling)
}

/// Words of two letters or more: what a real answer has and random bytes or markup do not.
fn words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|word| word.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .count()
}

const TEMPLATE_MARKUP: [&str; 5] = [
    "<start_of_turn>",
    "<end_of_turn>",
    "<|im_start|>",
    "<|im_end|>",
    "<|eot_id|>",
];

#[tokio::test]
async fn gemma_gets_gemmas_turn_format_token_by_token() {
    let _lock = model_lock().await;
    let Some(engine) = engine(true) else { return };
    let summary = engine.summary();
    assert!(!summary.has_chat_template, "the file carries no template: {summary:?}");
    assert_eq!(summary.chat_format.builtin_template(), Some("gemma"), "{summary:?}");
    let prompt = engine
        .render_prompt(vec![
            ChatMessage::system("Be brief."),
            ChatMessage::user("What is a null hypothesis?"),
        ])
        .await
        .expect("render");
    // Gemma's documented format: no system role (it leads the first user turn), turns between
    // <start_of_turn>ROLE\n and <end_of_turn>\n, the model's turn left open.
    assert_eq!(
        prompt.text,
        "<start_of_turn>user\nBe brief.\n\nWhat is a null hypothesis?<end_of_turn>\n<start_of_turn>model\n"
    );
    let pieces: Vec<(&str, bool)> = prompt.tokens.iter().map(|t| (t.piece.as_str(), t.control)).collect();
    assert_eq!(pieces[0], ("<bos>", true), "{pieces:?}");
    assert_eq!(pieces[1], ("<start_of_turn>", true), "{pieces:?}");
    assert_eq!(pieces[2].0, "user", "{pieces:?}");
    let ending: Vec<(&str, bool)> = pieces[pieces.len() - 5..].to_vec();
    assert_eq!(
        ending,
        [
            ("<end_of_turn>", true),
            ("\n", false),
            ("<start_of_turn>", true),
            ("model", false),
            ("\n", false),
        ],
        "{pieces:?}"
    );
    // Exactly four control tokens: <bos> and the three turn markers; no text spells one.
    let controls: Vec<&str> = pieces.iter().filter(|(_, c)| *c).map(|(p, _)| *p).collect();
    assert_eq!(
        controls,
        ["<bos>", "<start_of_turn>", "<end_of_turn>", "<start_of_turn>"]
    );
}

#[tokio::test]
async fn a_plain_question_gets_real_text_without_template_markup() {
    let _lock = model_lock().await;
    let Some(engine) = engine(true) else { return };
    let answer = llm(&engine)
        .complete(
            ask(
                "Answer in one or two sentences.",
                "What is a null hypothesis?",
                sampling(0.0, 1, 96),
            ),
            CallControl::default(),
        )
        .await
        .expect("answer");
    println!("{:?}: {}", answer.finish, answer.text);
    assert!(words(&answer.text) >= 5, "not prose: {:?}", answer.text);
    for markup in TEMPLATE_MARKUP {
        assert!(
            !answer.text.contains(markup),
            "template markup {markup} in {:?}",
            answer.text
        );
    }
    assert!(answer.usage.completion_tokens >= 5, "{:?}", answer.usage);
}

/// Over many seeds at temperature 1, every schema-constrained answer parses, validates and closes
/// within its budget (strings are bounded to fit it), with the first-try rate printed.
#[tokio::test]
async fn schema_constrained_answers_over_many_seeds_parse_and_validate() {
    let _lock = model_lock().await;
    let Some(engine) = engine(true) else { return };
    let llm = llm(&engine);
    // No maxLength on the strings: the budget bounds them.
    let schema = json!({
        "type": "object",
        "properties": {
            "answer": {"type": "string", "minLength": 1},
            "keywords": {"type": "array", "items": {"type": "string"}},
            "confidence": {"type": "integer", "minimum": 1, "maximum": 5},
            "testable": {"type": "boolean"}
        },
        "required": ["answer", "keywords", "confidence", "testable"],
        "additionalProperties": false
    });
    let seeds = 16u32;
    let mut first_try = 0;
    for seed in 0..seeds {
        let request = ask(
            "You answer questions about research methods.",
            "Is a randomized controlled trial needed to show that a drug lowers blood pressure?",
            sampling(1.0, seed, 256),
        )
        .with_schema(schema.clone());
        let answer = llm
            .complete_json(request, CallControl::default())
            .await
            .unwrap_or_else(|error| panic!("seed {seed}: {error}"));
        first_try += u32::from(answer.attempts == 1);
        let confidence = answer.value["confidence"].as_i64().expect("integer");
        assert!((1..=5).contains(&confidence), "seed {seed}: {}", answer.value);
        assert!(answer.value["answer"].as_str().is_some_and(|a| !a.is_empty()));
    }
    println!("first-try valid: {first_try} of {seeds}");
    assert!(
        first_try * 4 >= seeds * 3,
        "only {first_try} of {seeds} were valid at once"
    );
}

#[tokio::test]
async fn four_concurrent_requests_are_batched_and_all_answered() {
    let _lock = model_lock().await;
    let Some(engine) = engine(true) else { return };
    let llm = llm(&engine);
    let calls: Vec<_> = (0..4u32)
        .map(|i| {
            let llm = llm.clone();
            tokio::spawn(async move {
                let question = [
                    "What is a p-value?",
                    "What is a cohort study?",
                    "What is blinding?",
                    "What is a confounder?",
                ];
                llm.complete(
                    ask("Answer in one sentence.", question[i as usize], sampling(0.7, i, 48)),
                    CallControl::default(),
                )
                .await
            })
        })
        .collect();
    for call in calls {
        let answer = call.await.expect("task").expect("answer");
        assert!(words(&answer.text) >= 3, "{:?}", answer.text);
    }
    let stats = engine.stats();
    assert_eq!(stats.requests, 4);
    assert!(stats.max_sequences_in_a_batch >= 2, "decoded one by one: {stats:?}");
}

#[tokio::test]
async fn a_reused_prefix_gives_the_greedy_answer_a_cold_prompt_gives() {
    let _lock = model_lock().await;
    let Some(warm_engine) = engine(true) else { return };
    let Some(cold_engine) = engine(false) else { return };
    let system = format!(
        "You review claims against the evidence.\n{}",
        (0..30)
            .map(|i| format!("[e{i}] Study {i} found that the intervention changed the primary outcome."))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let warm = llm(&warm_engine);
    let first = warm
        .complete(
            ask(&system, "Which studies found an effect?", sampling(0.0, 0, 8)),
            CallControl::default(),
        )
        .await
        .expect("first");
    let reused = warm
        .complete(
            ask(&system, "Summarise the evidence.", sampling(0.0, 0, 24)),
            CallControl::default(),
        )
        .await
        .expect("reused");
    let cold = llm(&cold_engine)
        .complete(
            ask(&system, "Summarise the evidence.", sampling(0.0, 0, 24)),
            CallControl::default(),
        )
        .await
        .expect("cold");
    assert!(
        reused.usage.cached_prompt_tokens + 20 >= first.usage.prompt_tokens,
        "the shared prefix was not reused: {:?}",
        reused.usage
    );
    assert_eq!(cold.usage.cached_prompt_tokens, 0);
    assert_eq!(reused.text, cold.text, "a reused prefix changed the greedy answer");
}

#[tokio::test]
async fn cancelling_a_long_answer_stops_it_and_the_engine_serves_on() {
    let _lock = model_lock().await;
    let Some(engine) = engine(true) else { return };
    let llm = llm(&engine);
    let long = ask(
        "Write at length.",
        "Tell the history of statistics.",
        sampling(1.0, 3, 2000),
    );
    support::cancel_after_the_first_piece(&llm, long).await;
    let after = llm
        .complete(
            ask("Be brief.", "Still there?", sampling(0.0, 0, 8)),
            CallControl::default(),
        )
        .await
        .expect("the engine serves on");
    assert!(matches!(after.finish, FinishReason::Stop | FinishReason::Length));
    assert!(engine.stats().generated_tokens < 2000, "{:?}", engine.stats());
}
