//! The first load of a model file happens in a child process.
//!
//! llama.cpp is native code: a file or a CPU it mishandles can kill the process with a signal (a
//! real Q4_K_M file did, in ggml's AMX path), and a dead process says nothing. So before a file is
//! loaded in process for the first time, a child (`hypatia models probe FILE`) loads it and decodes a
//! few tokens. If the child dies, the error names the file and the signal, and the caller's process,
//! its terminal and its run journal are untouched. A file that passed is remembered (by path, size,
//! modification time and the engine build) and not probed again.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// How the child is started: the executable and the arguments before the file's path.
#[derive(Debug, Clone)]
pub struct ProbeCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// Set by tests to prove that a crashing trial is reported, not fatal: the trial aborts after loading.
const FAULT_ENV: &str = "HYPATIA_PROBE_FAULT";

/// The trial itself, run by the child: load `model` with a small context and greedily generate a few
/// tokens. Returns how many were generated.
pub async fn trial(model: &Path, threads: Option<u32>) -> Result<u32, hypatia_llm::LlmError> {
    use hypatia_llm::{CallControl, ChatBackend, ChatMessage, ChatRequest, LlmError, Sampling};
    let mut settings = hypatia_llama::LlamaSettings::new(model);
    settings.threads = threads;
    settings.context_tokens = Some(512);
    settings.max_sequences = 1;
    settings.prefix_cache = false;
    let engine = tokio::task::spawn_blocking(move || hypatia_llama::LlamaEngine::load(settings))
        .await
        .map_err(|error| LlmError::Permanent(format!("the model loader stopped: {error}")))??;
    if std::env::var(FAULT_ENV).as_deref() == Ok("abort") {
        std::process::abort();
    }
    let request = ChatRequest::new(vec![ChatMessage::user("Say hello.")]).with_sampling(Sampling {
        temperature: 0.0,
        max_tokens: 4,
        ..Sampling::default()
    });
    let completion = engine.chat(request, CallControl::default()).await?;
    Ok(completion.usage.completion_tokens)
}

/// The trial of an embedding model: load it and embed one sentence. Returns the vector's length.
pub async fn trial_embedding(model: &Path, threads: Option<u32>) -> Result<usize, hypatia_llm::LlmError> {
    use hypatia_llm::{EmbedRole, EmbeddingBackend, LlmError};
    let mut settings = hypatia_llama::EmbedderSettings::new(model);
    settings.threads = threads;
    settings.batch_tokens = 512;
    settings.max_sequences = 1;
    let embedder = tokio::task::spawn_blocking(move || hypatia_llama::LlamaEmbedder::load(settings))
        .await
        .map_err(|error| LlmError::Permanent(format!("the model loader stopped: {error}")))??;
    if std::env::var(FAULT_ENV).as_deref() == Ok("abort") {
        std::process::abort();
    }
    let vectors = embedder
        .embed(vec!["A trial sentence.".to_owned()], EmbedRole::Document)
        .await?;
    Ok(vectors.first().map_or(0, Vec::len))
}

/// A probe longer than this (a model far too large for the machine, swapping) is ended and reported.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Lines of the child's stderr quoted in the error.
const QUOTED_LINES: usize = 12;

static COMMAND: OnceLock<ProbeCommand> = OnceLock::new();

/// Called once by the binary: from then on, unknown model files are probed in a child process.
/// Libraries and tests that never call it load files directly.
pub fn install(command: ProbeCommand) {
    let _ = COMMAND.set(command);
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(
        "llama.cpp crashed ({signal}) while a trial process loaded and ran {path}, so it was not loaded here. \
         This file cannot run with this build on this CPU; try another quantization of the model, or report \
         the file and `hypatia models info` for it.{stderr}"
    )]
    Crashed {
        path: PathBuf,
        signal: String,
        stderr: String,
    },
    #[error("{path} cannot be used: {message}")]
    Failed { path: PathBuf, message: String },
    #[error("a trial load of {path} did not finish within {} minutes and was stopped", PROBE_TIMEOUT.as_secs() / 60)]
    TimedOut { path: PathBuf },
    #[error("cannot start the trial process for {path}: {source}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Probes `model` in a child unless it passed before (marker in `cache_dir`) or probing is not
/// installed. Blocking: call it from a blocking thread.
pub fn ensure_runs(model: &Path, cache_dir: &Path, threads: Option<u32>) -> Result<(), ProbeError> {
    ensure(model, cache_dir, threads, Trial::Generate)
}

/// As [`ensure_runs`], for an embedding model: the child embeds instead of generating.
pub fn ensure_embeds(model: &Path, cache_dir: &Path, threads: Option<u32>) -> Result<(), ProbeError> {
    ensure(model, cache_dir, threads, Trial::Embed)
}

#[derive(Clone, Copy, PartialEq)]
enum Trial {
    Generate,
    Embed,
}

fn ensure(model: &Path, cache_dir: &Path, threads: Option<u32>, trial: Trial) -> Result<(), ProbeError> {
    let Some(command) = COMMAND.get() else {
        return Ok(());
    };
    let marker = marker_path(model, cache_dir, trial);
    if marker.as_ref().is_some_and(|marker| marker.exists()) {
        return Ok(());
    }
    let started = Instant::now();
    run_child(command, model, threads, trial)?;
    tracing::info!(model = %model.display(), ms = started.elapsed().as_millis() as u64, "trial load passed");
    if let Some(marker) = marker {
        // Only a cache: failing to write it means probing again next time.
        if let Some(dir) = marker.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(&marker, model.to_string_lossy().as_bytes());
    }
    Ok(())
}

fn run_child(command: &ProbeCommand, model: &Path, threads: Option<u32>, trial: Trial) -> Result<(), ProbeError> {
    let mut child = Command::new(&command.program);
    child.args(&command.args).arg(model);
    if trial == Trial::Embed {
        child.arg("--embedding");
    }
    if let Some(threads) = threads {
        child.args(["--threads", &threads.to_string()]);
    }
    let stderr_file = tempfile_for_stderr(model)?;
    let stderr = stderr_file.reopen().map_err(|source| spawn_error(model, source))?;
    let mut child = child
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|source| spawn_error(model, source))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > PROBE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ProbeError::TimedOut {
                    path: model.to_path_buf(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(source) => return Err(spawn_error(model, source)),
        }
    };
    if status.success() {
        return Ok(());
    }
    let stderr = std::fs::read_to_string(stderr_file.path()).unwrap_or_default();
    match signal_of(&status) {
        Some(signal) => Err(ProbeError::Crashed {
            path: model.to_path_buf(),
            signal,
            stderr: quoted_tail(&stderr),
        }),
        None => Err(ProbeError::Failed {
            path: model.to_path_buf(),
            message: last_error_line(&stderr).unwrap_or_else(|| format!("the trial process exited with {status}")),
        }),
    }
}

fn tempfile_for_stderr(model: &Path) -> Result<tempfile::NamedTempFile, ProbeError> {
    tempfile::NamedTempFile::new().map_err(|source| spawn_error(model, source))
}

fn spawn_error(model: &Path, source: std::io::Error) -> ProbeError {
    ProbeError::Spawn {
        path: model.to_path_buf(),
        source,
    }
}

#[cfg(unix)]
fn signal_of(status: &std::process::ExitStatus) -> Option<String> {
    use std::os::unix::process::ExitStatusExt;
    let signal = status.signal()?;
    let name = match signal {
        4 => "SIGILL, an illegal instruction",
        6 => "SIGABRT, an abort",
        7 => "SIGBUS, a bus error",
        8 => "SIGFPE, an arithmetic fault",
        9 => "SIGKILL: killed, perhaps for lack of memory",
        11 => "SIGSEGV, a segmentation fault",
        _ => return Some(format!("signal {signal}")),
    };
    Some(format!("signal {signal}, {name}"))
}

#[cfg(not(unix))]
fn signal_of(_status: &std::process::ExitStatus) -> Option<String> {
    None
}

/// The child's own `error: …` line, without the prefix.
fn last_error_line(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("error: "))
        .map(str::to_owned)
}

fn quoted_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail = &lines[lines.len().saturating_sub(QUOTED_LINES)..];
    format!("\nThe trial process's last words:\n  {}", tail.join("\n  "))
}

/// Where a passed probe of this file, as it is now, with this engine build, is remembered.
fn marker_path(model: &Path, cache_dir: &Path, trial: Trial) -> Option<PathBuf> {
    let canonical = std::fs::canonicalize(model).ok()?;
    let metadata = std::fs::metadata(&canonical).ok()?;
    let modified = metadata.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos();
    let engine = hypatia_llama::system_info().unwrap_or_default();
    let digest = Sha256::new()
        .chain_update(canonical.to_string_lossy().as_bytes())
        .chain_update(metadata.len().to_le_bytes())
        .chain_update(modified.to_le_bytes())
        .chain_update(engine.as_bytes())
        .chain_update(env!("CARGO_PKG_VERSION").as_bytes())
        .chain_update(if trial == Trial::Embed {
            b"embed".as_slice()
        } else {
            b"".as_slice()
        })
        .finalize();
    let hex: String = digest.iter().take(16).map(|byte| format!("{byte:02x}")).collect();
    Some(cache_dir.join(".probed").join(hex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_childs_own_error_is_passed_on() {
        let stderr = "loading\nerror: llama.cpp could not load x.gguf: bad tensor\n";
        assert_eq!(
            last_error_line(stderr).as_deref(),
            Some("llama.cpp could not load x.gguf: bad tensor")
        );
        assert_eq!(last_error_line("nothing"), None);
    }

    #[test]
    fn the_marker_changes_with_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let model = dir.path().join("m.gguf");
        std::fs::write(&model, b"one").expect("write");
        let first = marker_path(&model, dir.path(), Trial::Generate).expect("marker");
        assert_ne!(Some(&first), marker_path(&model, dir.path(), Trial::Embed).as_ref());
        std::fs::write(&model, b"other bytes").expect("write");
        let second = marker_path(&model, dir.path(), Trial::Generate).expect("marker");
        assert_ne!(first, second);
        assert!(first.starts_with(dir.path().join(".probed")));
        assert_eq!(
            marker_path(&dir.path().join("missing.gguf"), dir.path(), Trial::Generate),
            None
        );
    }

    #[test]
    fn the_quoted_tail_keeps_the_last_lines() {
        let stderr: String = (0..30).map(|n| format!("line {n}\n")).collect();
        let quoted = quoted_tail(&stderr);
        assert!(quoted.contains("line 29") && quoted.contains("line 18") && !quoted.contains("line 17\n"));
        assert_eq!(quoted_tail(""), "");
    }
}
