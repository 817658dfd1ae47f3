//! hypatia-llm-bench: the in-process engine's speed on a generated GGUF, beside llama-cpp-python.
//!
//! Three measurements, each printed and written as JSON:
//! 1. single request: prompt-processing and decode tokens/s (prefix cache off, so every prompt is cold);
//! 2. aggregate decode throughput with 1, 2, 4 and 8 concurrent requests;
//! 3. time to first token for a ~1,000-token prompt whose prefix is cached, against cold;
//! 4. with `--structured N`: schema-constrained against unconstrained decode tokens/s over N seeds,
//!    the share of constrained answers valid at the first try, and the re-asks `Llm` needed.
//!    The peer runs separately (`peer/llama_cpp_python_peer.py`) on the prompt file this writes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use hypatia_gguf::{TinyModelSpec, ensure_tiny_model};
use hypatia_llama::{LlamaEngine, LlamaSettings};
use hypatia_llm::{CallControl, ChatBackend, ChatMessage, ChatRequest, Completion, Sampling};
use serde_json::json;

#[derive(Debug, Parser)]
struct Args {
    /// A GGUF to measure; default: the generated model of --size.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Generated model size: tiny (3.6M parameters), small (~26M) or large (~206M).
    #[arg(long, default_value = "tiny")]
    size: String,
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// Words in the single-request prompt (about 3 tokens each with the generated vocabulary).
    #[arg(long, default_value_t = 170)]
    prompt_words: usize,
    #[arg(long, default_value_t = 128)]
    gen_tokens: u32,
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Flash attention: auto (llama.cpp decides), on or off. The peer is run with the same setting.
    #[arg(long, default_value = "auto")]
    flash_attn: String,
    /// KV cache size in tokens (shared by concurrent requests).
    #[arg(long, default_value_t = 8192)]
    context: u32,
    /// Sequences the engine serves at once (and keeps for prefix reuse).
    #[arg(long, default_value_t = 16)]
    max_sequences: u32,
    /// Where to write the ChatML prompt text for the peer.
    #[arg(long)]
    prompt_out: Option<PathBuf>,
    #[arg(long)]
    json: Option<PathBuf>,
    /// Only write the generated model (for quantizing it) and stop.
    #[arg(long)]
    write_model_only: bool,
    /// Seeds for the structured-output measurement (0: skip it).
    #[arg(long, default_value_t = 0)]
    structured: u32,
    /// Skip the concurrency and prefix-reuse measurements.
    #[arg(long)]
    single_only: bool,
}

const SYSTEM: &str = "You review scientific claims against the evidence given.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let model = match &args.model {
        Some(path) => path.clone(),
        None => generated_model(&args.size)?,
    };
    println!("model {} threads {}", model.display(), args.threads);
    if args.write_model_only {
        return Ok(());
    }

    let user = evidence_words(args.prompt_words);
    // 1. One request at a time, cold prompt.
    let engine = Arc::new(load(&model, &args, false)?);
    if let Some(path) = &args.prompt_out {
        // The peer gets the very text this engine renders, in the model's own chat format.
        let prompt = engine
            .render_prompt(vec![ChatMessage::system(SYSTEM), ChatMessage::user(user.clone())])
            .await?;
        std::fs::write(path, prompt.text).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut prompt_rates = Vec::new();
    let mut decode_rates = Vec::new();
    let mut prompt_tokens = 0;
    let mut generated = Vec::new();
    for repeat in 0..args.repeats {
        let answer = call(&engine, &user, "Judge the claim.", args.gen_tokens, repeat as u32).await?;
        prompt_tokens = answer.usage.prompt_tokens;
        let first_token = answer.usage.time_to_first_token.unwrap_or(answer.usage.total_time);
        prompt_rates.push(f64::from(answer.usage.prompt_tokens) / first_token.as_secs_f64());
        decode_rates.push(answer.usage.tokens_per_second());
        generated.push(answer.usage.completion_tokens);
    }
    let single = json!({
        "prompt_tokens": prompt_tokens,
        "generated_tokens": generated,
        "prompt_tokens_per_second": median(&mut prompt_rates),
        "decode_tokens_per_second": median(&mut decode_rates),
    });
    println!("single request: {single}");
    let structured = if args.structured > 0 {
        Some(structured_decode(&engine, args.structured).await?)
    } else {
        None
    };
    drop(engine);
    if args.single_only {
        let report = json!({
            "model": model.display().to_string(),
            "threads": args.threads,
            "single": single,
            "structured": structured,
        });
        if let Some(path) = &args.json {
            std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        }
        return Ok(());
    }

    // 2. Aggregate throughput with concurrent requests (distinct questions, short shared system prompt).
    let mut concurrency = Vec::new();
    for parallel in [1usize, 2, 4, 8] {
        let engine = Arc::new(load(&model, &args, true)?);
        let mut rates = Vec::new();
        for repeat in 0..args.repeats.min(3) {
            let start = Instant::now();
            let calls: Vec<_> = (0..parallel)
                .map(|i| {
                    let engine = Arc::clone(&engine);
                    let seed = (repeat * 100 + i) as u32;
                    let gen_tokens = args.gen_tokens;
                    tokio::spawn(async move {
                        call(
                            &engine,
                            &format!("Claim {seed}: does the intervention help?"),
                            "Be brief.",
                            gen_tokens,
                            seed,
                        )
                        .await
                    })
                })
                .collect();
            let mut tokens = 0u32;
            for handle in calls {
                tokens += handle.await??.usage.completion_tokens;
            }
            rates.push(f64::from(tokens) / start.elapsed().as_secs_f64());
        }
        let rate = median(&mut rates);
        println!("{parallel} concurrent: {rate:.1} tokens/s aggregate");
        concurrency.push(json!({ "concurrent": parallel, "tokens_per_second": rate }));
    }

    // 3. Time to first token with a ~1,000-token prefix cached, against cold.
    let prefix = evidence_words(320);
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut cached_tokens = 0;
    let mut long_prompt_tokens = 0;
    for repeat in 0..args.repeats {
        let engine = load(&model, &args, true)?;
        let first = call(&engine, &format!("{prefix}\nQuestion A{repeat}?"), SYSTEM, 1, 1).await?;
        let second = call(&engine, &format!("{prefix}\nQuestion B{repeat}?"), SYSTEM, 1, 1).await?;
        let first_token = |usage: &hypatia_llm::Usage| usage.time_to_first_token.unwrap_or(usage.total_time);
        cold.push(first_token(&first.usage).as_secs_f64() * 1000.0);
        warm.push(first_token(&second.usage).as_secs_f64() * 1000.0);
        cached_tokens = second.usage.cached_prompt_tokens;
        long_prompt_tokens = second.usage.prompt_tokens;
    }
    let (cold, warm) = (median(&mut cold), median(&mut warm));
    let prefix_reuse = json!({
        "prompt_tokens": long_prompt_tokens,
        "cached_tokens": cached_tokens,
        "cold_ttft_ms": cold,
        "cached_ttft_ms": warm,
        "ratio": warm / cold,
    });
    println!("prefix reuse: {prefix_reuse}");

    let report = json!({
        "model": model.display().to_string(),
        "threads": args.threads,
        "single": single,
        "concurrency": concurrency,
        "prefix_reuse": prefix_reuse,
        "structured": structured,
    });
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    Ok(())
}

/// The answer shape agents ask for: four prose fields and a choice, strings bounded as agents bound them.
fn structured_schema() -> serde_json::Value {
    let text = json!({ "type": "string", "minLength": 10, "maxLength": 300 });
    json!({
        "type": "object",
        "properties": {
            "statement": text, "rationale": text, "prediction": text,
            "verdict": { "type": "string", "enum": ["supports", "refutes", "unclear"] },
            "confidence": { "type": "integer", "minimum": 1, "maximum": 5 },
        },
        "required": ["statement", "rationale", "prediction", "verdict", "confidence"],
        "additionalProperties": false,
    })
}

/// Constrained against unconstrained decode on the same prompt and seeds, one request at a time.
async fn structured_decode(engine: &Arc<LlamaEngine>, seeds: u32) -> anyhow::Result<serde_json::Value> {
    use hypatia_llm::{CompiledSchema, Llm};
    let schema = structured_schema();
    let compiled = CompiledSchema::new(&schema)?;
    let llm = Llm::new(
        Arc::clone(engine) as Arc<dyn ChatBackend>,
        Arc::new(hypatia_prompts::Prompts::embedded()),
    );
    let instruction =
        hypatia_prompts::Prompts::embedded().render("json_answer", &json!({ "schema": schema.to_string() }))?;
    let system = format!("{SYSTEM}\n\n{instruction}");
    let user = "Claim: a daily walk lowers blood pressure in adults. State a hypothesis about it.";
    let request = |seed: u32, constrained: bool| {
        let sampling = Sampling {
            temperature: 0.8,
            top_p: 0.95,
            seed: Some(seed),
            max_tokens: 400,
            stop: vec![],
        };
        let request = ChatRequest::new(vec![ChatMessage::system(system.clone()), ChatMessage::user(user)])
            .with_sampling(sampling);
        // Held to the schema as `Llm` sends it: bounded to the budget.
        if constrained {
            request.with_schema(hypatia_llm::bounded_for_budget(&schema, 400))
        } else {
            request
        }
    };
    let (mut free_rates, mut constrained_rates) = (Vec::new(), Vec::new());
    let (mut valid_first, mut reasks, mut failed) = (0u32, 0u32, 0u32);
    for seed in 0..seeds {
        let free = engine.chat(request(seed, false), CallControl::default()).await?;
        free_rates.push(free.usage.tokens_per_second());
        let constrained = engine.chat(request(seed, true), CallControl::default()).await?;
        constrained_rates.push(constrained.usage.tokens_per_second());
        valid_first += u32::from(compiled.parse_answer(&constrained.text).is_ok());
        // The whole path agents take (bounded schema, validation, re-asks with the reason).
        let plain = ChatRequest::new(vec![ChatMessage::system(SYSTEM), ChatMessage::user(user)])
            .with_sampling(request(seed, true).sampling)
            .with_schema(schema.clone());
        match llm.complete_json(plain, CallControl::default()).await {
            Ok(answer) => reasks += answer.attempts - 1,
            Err(_) => failed += 1,
        }
    }
    let free = median(&mut free_rates);
    let constrained = median(&mut constrained_rates);
    let report = json!({
        "seeds": seeds,
        "unconstrained_decode_tokens_per_second": free,
        "constrained_decode_tokens_per_second": constrained,
        "ratio": constrained / free,
        "valid_at_first_try": valid_first,
        "reasks": reasks,
        "failed_after_reasks": failed,
    });
    println!("structured output: {report}");
    Ok(report)
}

fn generated_model(size: &str) -> anyhow::Result<PathBuf> {
    let spec = match size {
        "tiny" => TinyModelSpec::default(),
        "small" => TinyModelSpec {
            n_embd: 512,
            n_layer: 8,
            n_head: 8,
            n_head_kv: 8,
            n_ff: 1408,
            ..TinyModelSpec::default()
        },
        // Big enough that its weights do not fit in the CPU cache once quantized: memory-bound, like real models.
        "large" => TinyModelSpec {
            n_embd: 1024,
            n_layer: 16,
            n_head: 16,
            n_head_kv: 16,
            n_ff: 2816,
            ..TinyModelSpec::default()
        },
        other => anyhow::bail!("--size must be tiny, small or large, not {other}"),
    };
    let dir = PathBuf::from("target/bench-models");
    std::fs::create_dir_all(&dir)?;
    Ok(ensure_tiny_model(
        &dir.join(format!("{size}-{}.gguf", spec.seed)),
        &spec,
    )?)
}

fn load(model: &std::path::Path, args: &Args, prefix_cache: bool) -> anyhow::Result<LlamaEngine> {
    let mut settings = LlamaSettings::new(model);
    settings.threads = Some(args.threads);
    settings.flash_attention = match args.flash_attn.as_str() {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    };
    settings.context_tokens = Some(args.context);
    settings.max_sequences = args.max_sequences;
    settings.prefix_cache = prefix_cache;
    Ok(LlamaEngine::load(settings)?)
}

async fn call(
    engine: &LlamaEngine,
    user: &str,
    system: &str,
    max_tokens: u32,
    seed: u32,
) -> anyhow::Result<Completion> {
    let sampling = Sampling {
        temperature: 0.8,
        top_p: 0.95,
        seed: Some(seed),
        max_tokens,
        stop: vec![],
    };
    let request = ChatRequest::new(vec![ChatMessage::system(system), ChatMessage::user(user)]).with_sampling(sampling);
    Ok(engine.chat(request, CallControl::default()).await?)
}

fn evidence_words(words: usize) -> String {
    const VOCABULARY: [&str; 12] = [
        "the",
        "evidence",
        "shows",
        "that",
        "treatment",
        "reduced",
        "the",
        "measured",
        "outcome",
        "in",
        "patients",
        "significantly",
    ];
    (0..words)
        .map(|i| VOCABULARY[i % VOCABULARY.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}
