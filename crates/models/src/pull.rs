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
            if !is_plain_file_name(&file_name) {
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
        if parts.len() < 3 || !parts.iter().all(|part| is_plain_file_name(part)) {
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

/// One normal path component: a download cannot land outside the models folder.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['\\', '/', '\0'])
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
    // A part file is resumed only for the URL (and, by ETag, the version) it was started from.
    let origin_path = dest_dir.join(format!("{}{PART_SUFFIX}.origin", source.file_name));
    let origin = tokio::fs::read_to_string(&origin_path).await.unwrap_or_default();
    if file_len(&part_path).await > 0 && origin.lines().next() != Some(source.url.as_str()) {
        let _ = tokio::fs::remove_file(&part_path).await;
    }
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(IDLE_TIMEOUT)
        .build()
        .map_err(|error| PullError::Http {
            url: source.url.clone(),
            message: describe(error),
        })?;
    let files = PartFiles {
        part: &part_path,
        origin: &origin_path,
    };
    let mut resumed_from = None;
    let mut last_error = None;
    for attempt in 1..=ATTEMPTS {
        match download(&client, source, files, hf_token, progress).await {
            Ok(started_at) => {
                resumed_from = resumed_from.or(Some(started_at));
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
    let discard = || async {
        let _ = tokio::fs::remove_file(&part_path).await;
        let _ = tokio::fs::remove_file(&origin_path).await;
    };
    let sha256 = hash_file(&part_path).await?;
    if let Some(hex) = expected
        && hex != sha256
    {
        discard().await;
        return Err(PullError::Checksum {
            path: final_path,
            expected: hex,
            actual: sha256,
        });
    }
    if let Err(error) = hypatia_gguf::read_info(&part_path) {
        discard().await;
        return Err(PullError::NotAModel {
            url: source.url.clone(),
            reason: error.to_string(),
        });
    }
    let bytes = file_len(&part_path).await;
    tokio::fs::rename(&part_path, &final_path)
        .await
        .map_err(io_error(&final_path))?;
    let _ = tokio::fs::remove_file(&origin_path).await;
    Ok(PullOutcome::Downloaded {
        path: final_path,
        bytes,
        resumed_from: resumed_from.unwrap_or(0),
        sha256,
    })
}

enum Failure {
    Retry(PullError),
    Fatal(PullError),
}

#[derive(Clone, Copy)]
struct PartFiles<'a> {
    part: &'a Path,
    /// The URL and ETag the part file came from, one per line.
    origin: &'a Path,
}

/// Downloads into the part file, continuing from its current length when the server can; returns the
/// byte offset this attempt started at (0 when the server sent the whole file).
async fn download(
    client: &reqwest::Client,
    source: &PullSource,
    files: PartFiles<'_>,
    hf_token: Option<&str>,
    progress: &(dyn Fn(PullProgress) + Send + Sync),
) -> Result<u64, Failure> {
    let http = |message: String| PullError::Http {
        url: source.url.clone(),
        message,
    };
    let io = |error: std::io::Error| {
        Failure::Fatal(PullError::Io {
            path: files.part.to_path_buf(),
            source: error,
        })
    };
    let have = file_len(files.part).await;
    let mut request = client.get(&source.url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
        // If the file changed upstream, the server sends all of it (200) rather than a stale tail.
        let origin = tokio::fs::read_to_string(files.origin).await.unwrap_or_default();
        if let Some(etag) = origin.lines().nth(1).filter(|etag| !etag.is_empty()) {
            request = request.header(reqwest::header::IF_RANGE, etag);
        }
    }
    if source.hugging_face
        && let Some(token) = hf_token
    {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|error| Failure::Retry(http(describe(error))))?;
    let status = response.status();
    let content_range = response
        .headers()
        .get(reqwest::header::CONTENT_RANGE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let append = match status.as_u16() {
        // Only a range that starts where the part file ends continues it.
        206 if content_range.as_deref().and_then(range_start) == Some(have) => true,
        206 => {
            let _ = tokio::fs::remove_file(files.part).await;
            let message = format!("the server resumed at the wrong place ({content_range:?}); starting again");
            return Err(Failure::Retry(http(message)));
        }
        200 => false,
        // `bytes */N` with N the part's length: it already holds the whole file.
        416 if have > 0 && content_range.as_deref().and_then(complete_length) == Some(have) => return Ok(have),
        416 => {
            let _ = tokio::fs::remove_file(files.part).await;
            return Err(Failure::Retry(http(
                "the server refused to resume; starting again".into(),
            )));
        }
        401 | 403 => {
            let hint = if source.hugging_face {
                " (a gated model needs HF_TOKEN)"
            } else {
                ""
            };
            return Err(Failure::Fatal(http(format!("HTTP {status}: access denied{hint}"))));
        }
        code if code == 429 || code >= 500 => return Err(Failure::Retry(http(format!("HTTP {status}")))),
        _ => return Err(Failure::Fatal(http(format!("HTTP {status}")))),
    };
    let start = if append { have } else { 0 };
    if !append {
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        tokio::fs::write(files.origin, format!("{}\n{etag}\n", source.url))
            .await
            .map_err(io)?;
    }
    let total = response.content_length().map(|length| length + start);
    let mut file = if append {
        tokio::fs::OpenOptions::new().append(true).open(files.part).await
    } else {
        tokio::fs::File::create(files.part).await
    }
    .map_err(io)?;
    let mut downloaded = start;
    progress(PullProgress { downloaded, total });
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| Failure::Retry(http(format!("interrupted: {}", describe(error)))))?;
        file.write_all(&chunk).await.map_err(io)?;
        downloaded += chunk.len() as u64;
        progress(PullProgress { downloaded, total });
    }
    // On disk before it can be renamed into place: a crash must not leave the final name over lost data.
    file.sync_all().await.map_err(io)?;
    if let Some(total) = total
        && downloaded < total
    {
        return Err(Failure::Retry(http(format!(
            "the connection closed after {downloaded} of {total} bytes"
        ))));
    }
    Ok(start)
}

/// `bytes START-END/TOTAL` → START.
fn range_start(content_range: &str) -> Option<u64> {
    content_range
        .strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// `bytes */TOTAL` → TOTAL.
fn complete_length(content_range: &str) -> Option<u64> {
    content_range.strip_prefix("bytes */")?.trim().parse().ok()
}

/// The error without its URL: after a redirect that is a signed download link.
fn describe(error: reqwest::Error) -> String {
    use std::error::Error;
    let error = error.without_url();
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

/// A model file's size and SHA-256 (hex): what a report names it by, since a file name can be reused.
pub async fn fingerprint(path: &Path) -> Result<(u64, String), PullError> {
    let size = tokio::fs::metadata(path).await.map_err(io_error(path))?.len();
    Ok((size, hash_file(path).await?))
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
        for bad in [
            "model.gguf",
            "a/b",
            "a//b/c",
            "a/../b/c",
            "https://example.org/",
            "https://e.org/..",
            "o/r/a\\b.gguf",
        ] {
            assert!(PullSource::parse(bad, None).is_err(), "{bad}");
        }
    }
}
