//! `hypatia models pull`: an HTTP download that survives interruption (the partial file is resumed
//! with a Range request), is checked (SHA-256 when given, and always that it is a GGUF file), and
//! appears under its final name only when complete (atomic rename).

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// A download that receives nothing for this long is interrupted (and resumed, up to `ATTEMPTS`).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const ATTEMPTS: u32 = 4;
const PART_SUFFIX: &str = ".part";

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSource {
    pub url: String,
    pub file_name: String,
    /// Send `HF_TOKEN` as a bearer token (only to the Hugging Face endpoint).
    pub hugging_face: bool,
}

impl PullSource {
    /// An `http(s)://` URL, or Hugging Face shorthand `OWNER/REPO/FILE` (FILE may contain folders;
    /// `OWNER/REPO@REVISION/FILE` picks a revision). `hf_endpoint` is `HF_ENDPOINT` when set.
    pub fn parse(text: &str, hf_endpoint: Option<&str>) -> Result<PullSource, PullError> {
        let text = text.trim();
        if text.starts_with("http://") || text.starts_with("https://") {
            let path = text.split(['?', '#']).next().unwrap_or(text);
            let file_name = path.rsplit('/').next().unwrap_or_default().to_string();
            if file_name.is_empty() {
                return Err(PullError::Source(format!(
                    "{text}: the URL does not end with a file name"
                )));
            }
            return Ok(PullSource {
                url: text.to_string(),
                file_name,
                hugging_face: false,
            });
        }
        let parts: Vec<&str> = text.split('/').collect();
        if parts.len() < 3 || parts.iter().any(|part| part.is_empty() || *part == "..") {
            return Err(PullError::Source(format!(
                "`{text}` is neither a URL nor Hugging Face shorthand OWNER/REPO/FILE (e.g. \
                 Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf)"
            )));
        }
        let (repo, revision) = match parts[1].split_once('@') {
            Some((repo, revision)) => (repo, revision),
            None => (parts[1], "main"),
        };
        let file = parts[2..].join("/");
        let endpoint = hf_endpoint.unwrap_or("https://huggingface.co").trim_end_matches('/');
        Ok(PullSource {
            url: format!("{endpoint}/{}/{repo}/resolve/{revision}/{file}", parts[0]),
            file_name: parts[parts.len() - 1].to_string(),
            hugging_face: true,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{0}")]
    Source(String),
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: checksum mismatch: expected sha256 {expected}, got {actual}; the download was deleted")]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{url}: the download is not a GGUF model ({reason}); it was deleted")]
    NotAModel { url: String, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullOutcome {
    Downloaded {
        path: PathBuf,
        bytes: u64,
        resumed_from: u64,
        sha256: String,
    },
    /// The file was already there (and matched the checksum, when one was given).
    AlreadyPresent { path: PathBuf, sha256: String },
}

/// Progress reports: bytes so far (including a resumed part) and the total when the server says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullProgress {
    pub downloaded: u64,
    pub total: Option<u64>,
}

pub async fn pull(
    source: &PullSource,
    dest_dir: &Path,
    expected_sha256: Option<&str>,
    hf_token: Option<&str>,
    progress: &(dyn Fn(PullProgress) + Send + Sync),
) -> Result<PullOutcome, PullError> {
    let expected = expected_sha256.map(|hex| hex.trim().to_ascii_lowercase());
    if let Some(hex) = &expected
        && (hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(PullError::Source(format!(
            "--sha256 `{hex}` is not 64 hexadecimal digits"
        )));
    }
    tokio::fs::create_dir_all(dest_dir).await.map_err(io_error(dest_dir))?;
    let final_path = dest_dir.join(&source.file_name);
    if final_path.exists() {
        let sha256 = hash_file(&final_path).await?;
        if let Some(hex) = &expected
            && *hex != sha256
        {
            // An existing file is the user's: report the mismatch, never delete it.
            return Err(PullError::Source(format!(
                "{} already exists and its sha256 is {sha256}, not {hex}; move it away to download again",
                final_path.display()
            )));
        }
        return Ok(PullOutcome::AlreadyPresent {
            path: final_path,
            sha256,
        });
    }
    let part_path = dest_dir.join(format!("{}{PART_SUFFIX}", source.file_name));
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(IDLE_TIMEOUT)
        .build()
        .map_err(|error| PullError::Http {
            url: source.url.clone(),
            message: error.to_string(),
        })?;
    let resumed_from = file_len(&part_path).await;
    let mut last_error = None;
    for attempt in 1..=ATTEMPTS {
        match download(&client, source, &part_path, hf_token, progress).await {
            Ok(()) => {
                last_error = None;
                break;
            }
            Err(Failure::Fatal(error)) => return Err(error),
            Err(Failure::Retry(error)) => {
                tracing::warn!(attempt, %error, "download interrupted; resuming");
                last_error = Some(error);
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            }
        }
    }
    if let Some(error) = last_error {
        return Err(error);
    }
    let sha256 = hash_file(&part_path).await?;
    if let Some(hex) = expected
        && hex != sha256
    {
        let _ = tokio::fs::remove_file(&part_path).await;
        return Err(PullError::Checksum {
            path: final_path,
            expected: hex,
            actual: sha256,
        });
    }
    if let Err(error) = hypatia_gguf::read_info(&part_path) {
        let _ = tokio::fs::remove_file(&part_path).await;
        return Err(PullError::NotAModel {
            url: source.url.clone(),
            reason: error.to_string(),
        });
    }
    let bytes = file_len(&part_path).await;
    tokio::fs::rename(&part_path, &final_path)
        .await
        .map_err(io_error(&final_path))?;
    Ok(PullOutcome::Downloaded {
        path: final_path,
        bytes,
        resumed_from,
        sha256,
    })
}

enum Failure {
    Retry(PullError),
    Fatal(PullError),
}

/// Downloads into `part_path`, continuing from its current length when the server supports ranges.
async fn download(
    client: &reqwest::Client,
    source: &PullSource,
    part_path: &Path,
    hf_token: Option<&str>,
    progress: &(dyn Fn(PullProgress) + Send + Sync),
) -> Result<(), Failure> {
    let http = |message: String| PullError::Http {
        url: source.url.clone(),
        message,
    };
    let have = file_len(part_path).await;
    let mut request = client.get(&source.url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    if source.hugging_face
        && let Some(token) = hf_token
    {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|error| Failure::Retry(http(describe(&error))))?;
    let status = response.status();
    let append = match status.as_u16() {
        206 => true,
        200 => false,
        // The part file already holds everything the server has.
        416 if have > 0 => return Ok(()),
        401 | 403 => {
            return Err(Failure::Fatal(http(format!(
                "HTTP {status}: access denied{}",
                if source.hugging_face {
                    " (a gated model needs HF_TOKEN)"
                } else {
                    ""
                }
            ))));
        }
        code if code == 429 || code >= 500 => return Err(Failure::Retry(http(format!("HTTP {status}")))),
        _ => return Err(Failure::Fatal(http(format!("HTTP {status}")))),
    };
    let start = if append { have } else { 0 };
    let total = response.content_length().map(|length| length + start);
    let mut file = if append {
        tokio::fs::OpenOptions::new().append(true).open(part_path).await
    } else {
        tokio::fs::File::create(part_path).await
    }
    .map_err(|error| {
        Failure::Fatal(PullError::Io {
            path: part_path.to_path_buf(),
            source: error,
        })
    })?;
    let mut downloaded = start;
    progress(PullProgress { downloaded, total });
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| Failure::Retry(http(format!("interrupted: {}", describe(&error)))))?;
        file.write_all(&chunk).await.map_err(|error| {
            Failure::Fatal(PullError::Io {
                path: part_path.to_path_buf(),
                source: error,
            })
        })?;
        downloaded += chunk.len() as u64;
        progress(PullProgress { downloaded, total });
    }
    file.flush().await.map_err(|error| {
        Failure::Fatal(PullError::Io {
            path: part_path.to_path_buf(),
            source: error,
        })
    })?;
    if let Some(total) = total
        && downloaded < total
    {
        return Err(Failure::Retry(http(format!(
            "the connection closed after {downloaded} of {total} bytes"
        ))));
    }
    Ok(())
}

fn describe(error: &reqwest::Error) -> String {
    use std::error::Error;
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

async fn file_len(path: &Path) -> u64 {
    tokio::fs::metadata(path).await.map(|meta| meta.len()).unwrap_or(0)
}

async fn hash_file(path: &Path) -> Result<String, PullError> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await.map_err(io_error(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer).await.map_err(io_error(path))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect())
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PullError + '_ {
    move |source| PullError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugging_face_shorthand_expands_to_its_download_url() {
        let source = PullSource::parse(
            "Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf",
            None,
        )
        .expect("shorthand");
        assert_eq!(
            source.url,
            "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf"
        );
        assert_eq!(source.file_name, "qwen2.5-0.5b-instruct-q4_k_m.gguf");
        assert!(source.hugging_face);

        let source = PullSource::parse("o/r@v1.0/sub/m.gguf", Some("http://127.0.0.1:9/")).expect("revision");
        assert_eq!(source.url, "http://127.0.0.1:9/o/r/resolve/v1.0/sub/m.gguf");
        assert_eq!(source.file_name, "m.gguf");
    }

    #[test]
    fn urls_keep_their_file_name_and_bad_sources_are_explained() {
        let source = PullSource::parse("https://example.org/files/m.gguf?download=1", None).expect("url");
        assert_eq!(source.file_name, "m.gguf");
        assert!(!source.hugging_face);
        for bad in ["model.gguf", "a/b", "a//b/c", "a/../b/c", "https://example.org/"] {
            assert!(PullSource::parse(bad, None).is_err(), "{bad}");
        }
    }
}
