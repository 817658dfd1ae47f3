use std::path::PathBuf;

/// Why a GGUF file could not be read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("{path} does not exist; check the model path or download the model first")]
    NotFound { path: PathBuf },
    #[error("cannot {action} {path}: {source}")]
    Io {
        path: PathBuf,
        /// `read`, `write`, `rename`: what was being done to the file.
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a GGUF model file: it {found}")]
    NotGguf {
        path: PathBuf,
        /// `is empty`, `starts with `PK\x03\x04``.
        found: String,
    },
    #[error("{path} is GGUF version {version}{}, which is not supported (versions 2 and 3 are); convert it with a recent llama.cpp",
        big_endian_hint(*version))]
    UnsupportedVersion { path: PathBuf, version: u32 },
    #[error("{path} is truncated: {what} needs {expected} bytes but the file has {actual}; download it again")]
    Truncated {
        path: PathBuf,
        what: String,
        expected: u64,
        actual: u64,
    },
    #[error("{path} is not a valid GGUF file (corrupt or truncated) at byte {offset}: {what}")]
    Malformed { path: PathBuf, offset: u64, what: String },
    #[error("cannot write a model to {path}: {reason}")]
    InvalidSpec { path: PathBuf, reason: String },
}

/// A big-endian GGUF file reads its version with the bytes swapped: say so rather than print 50331648.
fn big_endian_hint(version: u32) -> &'static str {
    if (1..=3).contains(&version.swap_bytes()) {
        " (a big-endian file)"
    } else {
        ""
    }
}
