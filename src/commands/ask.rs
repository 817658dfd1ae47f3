use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use hypatia_llm::{CallControl, ChatMessage, ChatRequest, FinishReason, LlmError, Usage};
use hypatia_models::BackendKind;
use hypatia_models::{BuiltModel, build_llm, default_sampling};
use serde_json::{Value, json};

use crate::cli::AskArgs;

pub async fn run(project: Option<&Path>, args: AskArgs) -> anyhow::Result<ExitCode> {
    let schema = args.schema.as_deref().map(read_schema).transpose()?;
    let config = super::model_config(project, &super::model_flags(&args.model))?;
    let BuiltModel {
        llm, backend, prompts, ..
    } = build_llm(&config).await?;
    let system = prompts.render("ask_system", &json!({ "json": schema.is_some() }))?;
    let mut sampling = default_sampling(&config.settings.generation);
    if let Some(max_tokens) = args.max_tokens {
        sampling.max_tokens = max_tokens;
    }
    if let Some(temperature) = args.temperature {
        sampling.temperature = temperature;
    }
    if args.seed.is_some() {
        sampling.seed = args.seed;
    }
    let mut request =
        ChatRequest::new(vec![ChatMessage::system(system), ChatMessage::user(args.prompt)]).with_sampling(sampling);
    let cancel = super::cancel_on_ctrl_c();
    let backend_name = match backend {
        BackendKind::Llama => "llama",
        BackendKind::Openai => "openai",
    };

    if let Some(schema) = schema {
        request = request.with_schema(schema);
        let control = CallControl { cancel, stream: None };
        let answer = llm.complete_json(request, control).await.map_err(explain)?;
        if args.json {
            let out = json!({
                "answer": answer.value, "usage": usage_json(&answer.usage), "model": answer.model,
                "backend": backend_name, "finish": "stop", "attempts": answer.attempts,
            });
            print_line(&serde_json::to_string_pretty(&out)?)?;
        } else {
            print_line(&serde_json::to_string_pretty(&answer.value)?)?;
            eprintln!("{}", usage_line(&answer.usage, &answer.model, backend_name));
        }
        return Ok(ExitCode::SUCCESS);
    }

    // Stream to a terminal, so a slow model shows progress; print whole answers otherwise.
    let stream_to_terminal = !args.json && std::io::stdout().is_terminal();
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<String>();
    let control = CallControl {
        cancel,
        stream: stream_to_terminal.then_some(sender),
    };
    let printer = tokio::spawn(async move {
        let mut stdout = std::io::stdout();
        while let Some(piece) = receiver.recv().await {
            let _ = stdout.write_all(piece.as_bytes());
            let _ = stdout.flush();
        }
    });
    let answer = llm.complete(request, control).await;
    let _ = printer.await;
    let answer = answer.map_err(explain)?;
    if args.json {
        let out = json!({
            "answer": answer.text, "usage": usage_json(&answer.usage), "model": answer.model,
            "backend": backend_name, "finish": answer.finish,
        });
        print_line(&serde_json::to_string_pretty(&out)?)?;
    } else {
        if stream_to_terminal {
            print_line("")?;
        } else {
            print_line(&answer.text)?;
        }
        if answer.finish == FinishReason::Length {
            eprintln!("(the answer reached the token limit; raise it with --max-tokens)");
        }
        eprintln!("{}", usage_line(&answer.usage, &answer.model, backend_name));
    }
    Ok(ExitCode::SUCCESS)
}

fn read_schema(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the schema {}", path.display()))?;
    let schema: Value = serde_json::from_str(&text).map_err(|error| {
        anyhow::anyhow!(
            "{}: not JSON (line {}, column {}): {error}",
            path.display(),
            error.line(),
            error.column()
        )
    })?;
    if !schema.is_object() && !schema.is_boolean() {
        bail!("{}: a JSON schema is an object (or true/false)", path.display());
    }
    hypatia_llm::CompiledSchema::new(&schema).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
    Ok(schema)
}

/// Adds what kind of failure it was, so the user knows whether trying again can help.
fn explain(error: LlmError) -> anyhow::Error {
    let hint = match error.kind() {
        hypatia_llm::ErrorKind::Transient => " (temporary: trying again later may work)",
        hypatia_llm::ErrorKind::ContextTooLong => " (shorten the prompt or raise context_tokens)",
        hypatia_llm::ErrorKind::InvalidOutput => " (the model could not produce a valid answer)",
        _ => "",
    };
    anyhow::anyhow!("{error}{hint}")
}

fn usage_json(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt_tokens,
        "cached_prompt_tokens": usage.cached_prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "time_to_first_token_ms": usage.time_to_first_token.map(|ttft| round(ttft.as_secs_f64() * 1000.0)),
        "total_ms": round(usage.total_time.as_secs_f64() * 1000.0),
        "tokens_per_second": round(usage.tokens_per_second()),
    })
}

fn usage_line(usage: &Usage, model: &str, backend: &str) -> String {
    let timing = match usage.time_to_first_token {
        Some(first) => format!(
            "first token {:.0} ms, {:.1} tokens/s",
            first.as_secs_f64() * 1000.0,
            usage.tokens_per_second()
        ),
        None => format!(
            "{:.0} ms in all, {:.1} tokens/s over the whole call",
            usage.total_time.as_secs_f64() * 1000.0,
            usage.tokens_per_second()
        ),
    };
    format!(
        "[{backend}: {model}] {} prompt tokens ({} cached), {} completion tokens, {timing}",
        usage.prompt_tokens, usage.cached_prompt_tokens, usage.completion_tokens,
    )
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// `println!` panics when stdout is closed (`hypatia ask … | head`); this returns the error instead.
fn print_line(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")?;
    stdout.flush()
}
