use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use hypatia_gguf::GgufInfo;
use hypatia_models::ModelFlags;
use hypatia_models::{PullOutcome, PullSource, list_models, pull};

use crate::cli::ModelsCommand;

pub async fn run(project: Option<&Path>, command: ModelsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ModelsCommand::List { json } => {
            let config = super::model_config(project, &ModelFlags::default())?;
            let dir = &config.models_dir;
            let entries =
                list_models(dir).with_context(|| format!("cannot read the models folder {}", dir.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
                return Ok(ExitCode::SUCCESS);
            }
            if entries.is_empty() {
                println!("No GGUF files in {}.", dir.display());
                println!("Download one with: hypatia models pull OWNER/REPO/FILE.gguf");
                return Ok(ExitCode::SUCCESS);
            }
            println!("Models in {}:", dir.display());
            for entry in &entries {
                let name = entry.path.strip_prefix(dir).unwrap_or(&entry.path).display();
                match (&entry.info, &entry.error) {
                    (Some(info), _) => println!("  {name}  {}", one_line(info)),
                    (None, Some(error)) => println!("  {name}  unreadable: {error}"),
                    (None, None) => println!("  {name}"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Info { path, json } => {
            let info = hypatia_gguf::read_info(&path)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&info)?);
            } else {
                print_info(&info);
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Probe {
            path,
            threads,
            embedding: false,
        } => probe(&path, threads).await,
        ModelsCommand::Probe {
            path,
            threads,
            embedding: true,
        } => {
            let dimensions = hypatia_models::probe::trial_embedding(&path, threads).await?;
            println!("{} embeds: {dimensions} dimensions", path.display());
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Convert {
            dir,
            out,
            outtype,
            json,
        } => {
            let summary = hypatia_gguf::convert_sentence_transformers(&dir, &out, outtype)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                println!(
                    "Wrote {} ({} MB, {}): {} {} layers, {} dimensions, {} pooling, {} tokens of context, {} tokens in the vocabulary",
                    summary.output.display(),
                    summary.bytes / 1_000_000,
                    serde_json::to_value(summary.output_type)?.as_str().unwrap_or_default(),
                    summary.architecture,
                    summary.layers,
                    summary.dimensions,
                    summary.pooling,
                    summary.context_length,
                    summary.vocabulary,
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Engine { json } => engine_build(json),
        ModelsCommand::Pull { source, sha256 } => {
            let config = super::model_config(project, &ModelFlags::default())?;
            match pull_with_progress(&source, &config.models_dir, sha256.as_deref()).await? {
                PullOutcome::Downloaded {
                    path,
                    bytes,
                    resumed_from,
                    sha256,
                } => {
                    let resumed = if resumed_from > 0 {
                        format!(", resumed at {resumed_from} bytes")
                    } else {
                        String::new()
                    };
                    println!(
                        "Downloaded {} ({bytes} bytes{resumed})\nsha256 {sha256}",
                        path.display()
                    );
                }
                PullOutcome::AlreadyPresent { path, sha256 } => {
                    println!("Already present: {}\nsha256 {sha256}", path.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `hypatia models probe`: what the trial process runs. A crash here is what the parent reports.
async fn probe(path: &Path, threads: Option<u32>) -> anyhow::Result<ExitCode> {
    let generated = hypatia_models::probe::trial(path, threads).await?;
    println!("{} runs: {generated} tokens generated", path.display());
    Ok(ExitCode::SUCCESS)
}

fn engine_build(json: bool) -> anyhow::Result<ExitCode> {
    let info = hypatia_models::engine_system_info()?;
    let amx = hypatia_models::engine_uses_amx()?;
    if json {
        println!("{}", serde_json::json!({ "system_info": info.trim(), "amx": amx }));
    } else {
        println!("llama.cpp: {}", info.trim());
        println!(
            "AMX: {}",
            if amx {
                "compiled in (unsafe with K-quants)"
            } else {
                "left out"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn one_line(info: &GgufInfo) -> String {
    format!(
        "{} {} params, {}, context {}, {}",
        info.architecture.as_deref().unwrap_or("unknown-arch"),
        human_count(info.parameter_count),
        info.quantization.as_deref().unwrap_or("unknown quantization"),
        info.context_length.map_or("unknown".to_string(), |n| n.to_string()),
        match info.chat_format.builtin_template() {
            None => "chat template".to_string(),
            Some(template) => format!("no chat template ({template} format will be used)"),
        },
    )
}

fn print_info(info: &GgufInfo) {
    println!("file:           {}", info.path.display());
    println!("name:           {}", info.name.as_deref().unwrap_or("-"));
    println!("architecture:   {}", info.architecture.as_deref().unwrap_or("-"));
    println!(
        "parameters:     {} ({})",
        human_count(info.parameter_count),
        info.parameter_count
    );
    println!("quantization:   {}", info.quantization.as_deref().unwrap_or("-"));
    println!(
        "context length: {}",
        info.context_length.map_or("-".to_string(), |n| n.to_string())
    );
    println!("chat template:  {}", if info.has_chat_template { "yes" } else { "no" });
    println!("chat format:    {}", info.chat_format.describe());
    println!("tensors:        {}", info.tensor_count);
    println!("file size:      {} bytes, GGUF v{}", info.file_size, info.version);
}

fn human_count(count: u64) -> String {
    let count = count as f64;
    if count >= 1e9 {
        format!("{:.1}B", count / 1e9)
    } else if count >= 1e6 {
        format!("{:.1}M", count / 1e6)
    } else if count >= 1e3 {
        format!("{:.1}K", count / 1e3)
    } else {
        format!("{count}")
    }
}

/// Downloads a GGUF into `models_dir` with a progress bar on a terminal (`HF_ENDPOINT`, `HF_TOKEN` honoured).
pub async fn pull_with_progress(
    source: &str,
    models_dir: &std::path::Path,
    sha256: Option<&str>,
) -> anyhow::Result<PullOutcome> {
    let endpoint = std::env::var("HF_ENDPOINT").ok();
    let source = PullSource::parse(source, endpoint.as_deref())?;
    let token = std::env::var("HF_TOKEN").ok().filter(|token| !token.is_empty());
    let bar = super::progress_bar(1);
    bar.set_message(format!("downloading {}", source.file_name));
    let report = |progress: hypatia_models::PullProgress| {
        if let Some(total) = progress.total {
            bar.set_length(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
        }
        bar.set_position(progress.downloaded);
    };
    let outcome = pull(&source, models_dir, sha256, token.as_deref(), &report).await;
    bar.finish_and_clear();
    Ok(outcome?)
}
