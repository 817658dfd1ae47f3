use std::fmt;
use std::path::PathBuf;

use hypatia_core::SourceFormat;

/// A record that could not be read, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRecord {
    /// `line 12`, `entry smith2020 (line 40)`, `item 3 (id "x")`.
    pub location: String,
    pub reason: String,
}

impl fmt::Display for InvalidRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is a binary file, not text (found a NUL byte at byte {offset})")]
    Binary { path: PathBuf, offset: usize },
    #[error("{path} is not UTF-8 text: invalid byte at line {line}, column {column}; re-save it as UTF-8")]
    NotUtf8 { path: PathBuf, line: usize, column: usize },
    #[error("cannot tell the format of {path}; name it with --format (text, beir, jsonl, bibtex, ris, csljson, pdf)")]
    UnknownFormat { path: PathBuf },
    #[error("{path} is not valid {format}: {location}: {reason}")]
    Malformed {
        path: PathBuf,
        format: SourceFormat,
        location: String,
        reason: String,
    },
    #[error("{path}: {error}")]
    Pdf {
        path: PathBuf,
        error: hypatia_pdf::PdfError,
    },
    #[error("{path} has {} invalid record{}; nothing from it was stored (use --skip-invalid to store the valid ones):\n{}",
        invalid.len(), if invalid.len() == 1 { "" } else { "s" }, list_invalid(invalid))]
    InvalidRecords { path: PathBuf, invalid: Vec<InvalidRecord> },
}

fn list_invalid(invalid: &[InvalidRecord]) -> String {
    const SHOWN: usize = 10;
    let mut lines: Vec<String> = invalid.iter().take(SHOWN).map(|r| format!("  {r}")).collect();
    if invalid.len() > SHOWN {
        lines.push(format!("  … and {} more", invalid.len() - SHOWN));
    }
    lines.join("\n")
}
