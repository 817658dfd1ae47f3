//! A PDF as one paper record with its full text.

use std::path::Path;

use hypatia_core::{FullText, PaperRecord, SourceFormat};
use hypatia_pdf::{PdfOptions, read_pdf_options};

use crate::decode::sha256_hex;
use crate::{IngestError, ParsedFile, ParsedRecord};

/// How the paper's sources name the record a PDF gives: the file is one paper.
pub const PDF_RECORD_KEY: &str = "document";

pub(crate) fn parse(path: &Path, bytes: &[u8], options: &PdfOptions) -> Result<ParsedFile, IngestError> {
    let paper = read_pdf_options(bytes, options).map_err(|error| IngestError::Pdf {
        path: path.to_owned(),
        error,
    })?;
    let mut warnings: Vec<String> = paper
        .page_errors
        .iter()
        .map(|(page, why)| format!("page {page} could not be read ({why}); the other pages were"))
        .collect();
    let title = match paper.metadata.title.clone() {
        Some(title) => title,
        None => {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            warnings.push(format!(
                "no title found on page 1; the paper is titled `{stem}` after its file (`hypatia enrich` can complete it from its DOI)"
            ));
            stem
        }
    };
    let record = PaperRecord {
        title,
        abstract_text: paper.abstract_text.clone(),
        authors: paper.metadata.authors.clone(),
        year: paper.metadata.year,
        venue: None,
        doi: paper.metadata.doi.clone(),
        arxiv_id: paper.metadata.arxiv_id.clone(),
        url: None,
    };
    let (record, dropped) = record.normalized();
    warnings.extend(dropped);
    let sha256 = sha256_hex(bytes);
    let fulltext = FullText {
        sha256: sha256.clone(),
        extractor: paper.extractor.to_owned(),
        pages: paper.pages,
        passages: paper.passages,
        references: paper.references,
    };
    Ok(ParsedFile {
        path: path.to_owned(),
        format: SourceFormat::Pdf,
        sha256,
        records: vec![ParsedRecord {
            record,
            key: PDF_RECORD_KEY.to_owned(),
            warnings,
            fulltext: Some(Box::new(fulltext)),
        }],
        invalid: Vec::new(),
    })
}
