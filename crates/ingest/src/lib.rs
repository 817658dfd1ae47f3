//! Reading papers from files: Hypatia's text and JSONL formats, BEIR, and
//! what reference managers export (BibTeX, RIS, CSL-JSON).
//!
//! Pure: bytes in, records or located errors out. Storing is the store's job.

mod beir;
mod bibtex;
mod bibtex_strings;
mod csljson;
mod decode;

pub use decode::sha256_hex;
mod detect;
mod error;
mod jsonl;
mod pdf;
mod ris;
mod text;

use std::path::{Path, PathBuf};

use hypatia_core::{FullText, PaperRecord, SourceFormat};

pub use detect::{detect_format, is_ingestible_extension};
pub use error::{IngestError, InvalidRecord};
pub use hypatia_pdf::{ChunkSize, EXTRACTOR_THREAD as PDF_EXTRACTOR_THREAD, Limits as PdfLimits, PdfError, PdfOptions};
pub use jsonl::JsonlRecord;
pub use pdf::PDF_RECORD_KEY;

/// One valid record of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRecord {
    pub record: PaperRecord,
    /// How the file names this record: a citation key, a BEIR `_id`, or `line N`.
    pub key: String,
    /// Things that were dropped on the way in, such as a malformed DOI.
    pub warnings: Vec<String>,
    /// The paper's full text, for a record read from a PDF.
    pub fulltext: Option<Box<FullText>>,
}

/// Everything read from one file: its valid and its invalid records.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    pub path: PathBuf,
    pub format: SourceFormat,
    pub sha256: String,
    pub records: Vec<ParsedRecord>,
    pub invalid: Vec<InvalidRecord>,
}

impl ParsedFile {
    /// Refuses the file if any record is invalid, unless `skip_invalid`.
    pub fn check(self, skip_invalid: bool) -> Result<ParsedFile, IngestError> {
        if self.invalid.is_empty() || skip_invalid {
            Ok(self)
        } else {
            Err(IngestError::InvalidRecords {
                path: self.path,
                invalid: self.invalid,
            })
        }
    }
}

/// Reads and parses one file. `format: None` detects it from the file's
/// name and content.
pub fn read_file(path: &Path, format: Option<SourceFormat>) -> Result<ParsedFile, IngestError> {
    read_file_with(path, format, &PdfOptions::default())
}

/// [`read_file`], reading a PDF with `pdf`.
pub fn read_file_with(path: &Path, format: Option<SourceFormat>, pdf: &PdfOptions) -> Result<ParsedFile, IngestError> {
    let bytes = std::fs::read(path).map_err(|source| IngestError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_bytes_with(path, &bytes, format, pdf)
}

/// Parses a file's bytes; `path` is used for format detection and messages.
pub fn parse_bytes(path: &Path, bytes: &[u8], format: Option<SourceFormat>) -> Result<ParsedFile, IngestError> {
    parse_bytes_with(path, bytes, format, &PdfOptions::default())
}

/// As [`parse_bytes`], reading a PDF with `pdf` (limits, passage size).
pub fn parse_bytes_with(
    path: &Path,
    bytes: &[u8],
    format: Option<SourceFormat>,
    pdf: &PdfOptions,
) -> Result<ParsedFile, IngestError> {
    // A PDF is recognised by its content, whatever its name.
    if format == Some(SourceFormat::Pdf) || (format.is_none() && hypatia_pdf::is_pdf(bytes)) {
        return pdf::parse(path, bytes, pdf);
    }
    let text = decode::decode_text(path, bytes)?;
    let format = match format {
        Some(format) => format,
        None => detect_format(path, text).ok_or_else(|| IngestError::UnknownFormat { path: path.to_owned() })?,
    };
    let parsed = match format {
        SourceFormat::Text => text::parse(text),
        SourceFormat::Beir => beir::parse(text),
        SourceFormat::Jsonl => jsonl::parse(text),
        SourceFormat::Bibtex => bibtex::parse(text),
        SourceFormat::Ris => ris::parse(text),
        SourceFormat::Csljson => csljson::parse(text),
        SourceFormat::Pdf => return pdf::parse(path, bytes, pdf),
        // Fetched records are not files: nothing to parse here.
        SourceFormat::Arxiv
        | SourceFormat::SemanticScholar
        | SourceFormat::OpenAlex
        | SourceFormat::Crossref
        | SourceFormat::Zotero => {
            return Err(IngestError::UnknownFormat { path: path.to_owned() });
        }
    }
    .map_err(|(location, reason)| IngestError::Malformed {
        path: path.to_owned(),
        format,
        location,
        reason,
    })?;
    let mut records = Vec::with_capacity(parsed.records.len());
    let mut invalid = parsed.invalid;
    for (record, key, location) in parsed.records {
        let (record, warnings) = record.normalized();
        if record.title.is_empty() {
            invalid.push(InvalidRecord {
                location,
                reason: "it has no title".to_owned(),
            });
            continue;
        }
        records.push(ParsedRecord {
            record,
            key,
            warnings,
            fulltext: None,
        });
    }
    Ok(ParsedFile {
        path: path.to_owned(),
        format,
        sha256: sha256_hex(bytes),
        records,
        invalid,
    })
}

/// What a format parser returns: records with their key and location, and
/// the records it could not read. A file it cannot read at all is an
/// `Err((location, reason))`.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub records: Vec<(PaperRecord, String, String)>,
    pub invalid: Vec<InvalidRecord>,
}

pub(crate) type ParseResult = Result<Parsed, (String, String)>;

pub(crate) use hypatia_core::line_of;
