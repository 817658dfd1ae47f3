//! Full text from PDF papers: each page's text in reading order (ligatures
//! and hyphenation undone, running headers and footers dropped), the
//! sections, passages with the pages they sit on, the reference list kept
//! apart, and what the first page says about the paper.
//!
//! Pure apart from the extractor, and guarded: a PDF that panics the
//! extractor, runs too long or is too big is an error naming why, never a
//! crash or a hang of the caller.

mod chunk;
mod clean;
mod extract;
mod guard;
mod layout;
mod metadata;
mod references;
mod repair;
mod sections;

use std::sync::Arc;
use std::time::Duration;

use hypatia_core::{FullTextPassage, ReferenceEntry};

pub use chunk::ChunkSize;
pub use extract::{PdfExtract, RawLine, RawPage, TextExtractor};
pub use guard::EXTRACTOR_THREAD;
pub use metadata::PdfMetadata;

/// How much one PDF may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_pages: usize,
    /// What the compressed streams the reader decodes (page contents, fonts, forms) may inflate to
    /// in all: a few megabytes of deflate can expand to gigabytes.
    pub max_inflated_bytes: u64,
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 100 * 1024 * 1024,
            max_pages: 2_000,
            max_inflated_bytes: 512 * 1024 * 1024,
            timeout: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    #[error("it is not a PDF (a PDF starts with `%PDF-`)")]
    NotPdf,
    #[error("it is {bytes} bytes, over the {limit}-byte limit for one PDF")]
    TooLarge { bytes: u64, limit: u64 },
    #[error("it has {pages} pages, over the {limit}-page limit for one PDF")]
    TooManyPages { pages: usize, limit: usize },
    #[error(
        "its compressed streams inflate to more than {limit} bytes (a decompression bomb, or far more than a paper holds)"
    )]
    InflatesTooLarge { limit: u64 },
    #[error("it is encrypted and needs a password; save an unprotected copy and ingest that")]
    Encrypted,
    #[error("it cannot be read as a PDF: {0}")]
    Unreadable(String),
    #[error("it has no text layer ({pages} pages, {chars} characters of text): a scan needs OCR first")]
    NoTextLayer { pages: usize, chars: usize },
    #[error("the PDF reader failed on it ({0}); nothing was read from it")]
    ExtractorPanicked(String),
    #[error("reading it took longer than {0:?}; it was abandoned")]
    TimedOut(Duration),
}

/// A PDF read as a paper.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfPaper {
    pub metadata: PdfMetadata,
    /// The text under the Abstract heading, if the paper has one.
    pub abstract_text: Option<String>,
    /// The cleaned text of each page; passage offsets point into these.
    pub pages: Vec<String>,
    pub passages: Vec<FullTextPassage>,
    pub references: Vec<ReferenceEntry>,
    /// Pages that could not be read, each with why; the rest were.
    pub page_errors: Vec<(u32, String)>,
    pub extractor: &'static str,
}

/// How PDFs are read: the limits on one file and the passage size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PdfOptions {
    pub limits: Limits,
    pub chunk: ChunkSize,
}

/// Below this many characters of text per page on average, a PDF is a scan.
const MIN_TEXT_CHARS_PER_PAGE: usize = 40;

/// Whether bytes are a PDF: `%PDF-` within the first KiB (some files carry
/// junk before the header, which readers accept).
pub fn is_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-")
}

/// Reads a PDF with the default extractor and passage size. A panic
/// anywhere in reading (a bug of ours on a strange file) is an error for
/// this file, not the end of the caller.
pub fn read_pdf(bytes: &[u8], limits: &Limits) -> Result<PdfPaper, PdfError> {
    read_pdf_options(
        bytes,
        &PdfOptions {
            limits: *limits,
            chunk: ChunkSize::default(),
        },
    )
}

/// [`read_pdf`] with a passage size of the caller's choosing.
pub fn read_pdf_options(bytes: &[u8], options: &PdfOptions) -> Result<PdfPaper, PdfError> {
    std::panic::catch_unwind(|| read_pdf_with(Arc::new(PdfExtract), bytes, &options.limits, options.chunk))
        .unwrap_or_else(|panic| Err(PdfError::ExtractorPanicked(guard::panic_message(panic.as_ref()))))
}

/// Reads a PDF with a given extractor and passage size. Only the extractor
/// is guarded (its panics and hangs become errors); the rest is Hypatia's
/// own code, which the fuzz tests hold to never panicking.
pub fn read_pdf_with(
    extractor: Arc<dyn TextExtractor>,
    bytes: &[u8],
    limits: &Limits,
    size: ChunkSize,
) -> Result<PdfPaper, PdfError> {
    if !is_pdf(bytes) {
        return Err(PdfError::NotPdf);
    }
    let length = bytes.len() as u64;
    if length > limits.max_bytes {
        return Err(PdfError::TooLarge {
            bytes: length,
            limit: limits.max_bytes,
        });
    }
    let name = extractor.name();
    let raw = guard::extract_guarded(extractor, bytes, limits)?;
    if raw.len() > limits.max_pages {
        return Err(PdfError::TooManyPages {
            pages: raw.len(),
            limit: limits.max_pages,
        });
    }
    if let Some(first_error) = raw.iter().find_map(|p| p.failed.clone())
        && raw.iter().all(|p| p.failed.is_some())
    {
        return Err(PdfError::Unreadable(first_error));
    }
    let page_errors = raw
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((u32::try_from(i + 1).ok()?, p.failed.clone()?)))
        .collect();

    let cleaned = clean::clean_pages(&raw);
    let chars: usize = cleaned.iter().flatten().map(|l| l.text.chars().count()).sum();
    if raw.is_empty() || chars < MIN_TEXT_CHARS_PER_PAGE * raw.len() {
        return Err(PdfError::NoTextLayer {
            pages: raw.len(),
            chars,
        });
    }
    let laid = layout::lay_out(&cleaned);
    let abstract_text = {
        let text: Vec<&str> = laid
            .paragraphs
            .iter()
            .filter(|p| p.part == layout::Part::Abstract)
            .map(|p| p.text.as_str())
            .collect();
        (!text.is_empty()).then(|| text.join(" "))
    };
    Ok(PdfPaper {
        metadata: metadata::read_metadata(&raw, &laid),
        abstract_text,
        passages: chunk::body_passages(&laid.paragraphs, size),
        references: references::reference_entries(&laid.paragraphs),
        pages: laid.pages,
        page_errors,
        extractor: name,
    })
}
