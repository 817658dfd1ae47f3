//! A paper's full text as read from a PDF: its pages, the passages cut from
//! its body, and its reference list, kept apart from the evidence.

use serde::{Deserialize, Serialize};

/// Where a full-text passage sits in its document: the section it belongs
/// to and the pages it spans, with character offsets (Unicode scalar values)
/// into the stored text of its first and last page, so a quoted passage can
/// be shown on its page.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PassageLocation {
    /// The section heading it falls under, as the paper names it ("Results").
    pub section: String,
    /// 1-based page the passage starts on.
    pub page: u32,
    /// 1-based page it ends on: the same as `page` unless it runs over.
    pub page_end: u32,
    /// Offset of its first character in the text of `page`.
    pub start: u32,
    /// Offset just past its last character in the text of `page_end`.
    pub end: u32,
}

impl PassageLocation {
    /// "p. 4", or "pp. 4–5" for a passage that runs over a page break.
    pub fn pages_label(&self) -> String {
        pages_label(self.page, self.page_end)
    }

    /// "4" or "4-5": the form BibTeX and CSL put in a `page` field.
    pub fn page_range(&self) -> String {
        if self.page_end > self.page {
            format!("{}-{}", self.page, self.page_end)
        } else {
            self.page.to_string()
        }
    }
}

/// "p. 4", or "pp. 4–5" when `page_end` is past `page`: a locator as a reader (and pandoc) reads it.
pub fn pages_label(page: u32, page_end: u32) -> String {
    if page_end > page {
        format!("pp. {page}–{page_end}")
    } else {
        format!("p. {page}")
    }
}

/// One passage of a paper's body, ready to be stored under a stable id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullTextPassage {
    pub text: String,
    pub location: PassageLocation,
}

/// One entry of a paper's reference list. Not evidence: it says what the
/// paper cites, not what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceEntry {
    pub text: String,
    /// Normalised DOI when the entry carries one: a citation edge.
    pub doi: Option<String>,
    /// Normalised arXiv id when the entry names one.
    pub arxiv_id: Option<String>,
    pub page: u32,
}

/// Everything a document contributes beyond its metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullText {
    /// SHA-256 of the file: the same file read twice is the same version.
    pub sha256: String,
    /// Which extractor read it, for the record and for reproducing it.
    pub extractor: String,
    /// The cleaned text of each page; passage offsets point into these.
    pub pages: Vec<String>,
    pub passages: Vec<FullTextPassage>,
    pub references: Vec<ReferenceEntry>,
}
