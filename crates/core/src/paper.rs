use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::PaperId;
use crate::normalize::{clean_text, normalize_arxiv_id, normalize_doi, normalize_title};

/// The file formats papers can be ingested from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// A title line then its abstract line, repeated.
    Text,
    /// BEIR `corpus.jsonl`: `{"_id", "title", "text"}` per line.
    Beir,
    /// Hypatia's own JSON Lines record format.
    Jsonl,
    Bibtex,
    Ris,
    Csljson,
    /// A paper's PDF: its full text, with metadata from its first page.
    Pdf,
    /// Fetched from a scholarly API, not read from a file.
    Arxiv,
    SemanticScholar,
    OpenAlex,
    Crossref,
    /// An item of a Zotero library, read from its `zotero.sqlite`.
    Zotero,
}

impl SourceFormat {
    /// The APIs papers are fetched from.
    pub const ONLINE: [SourceFormat; 4] = [
        SourceFormat::Arxiv,
        SourceFormat::SemanticScholar,
        SourceFormat::OpenAlex,
        SourceFormat::Crossref,
    ];

    /// The file formats.
    pub const ALL: [SourceFormat; 7] = [
        SourceFormat::Text,
        SourceFormat::Beir,
        SourceFormat::Jsonl,
        SourceFormat::Bibtex,
        SourceFormat::Ris,
        SourceFormat::Csljson,
        SourceFormat::Pdf,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Text => "text",
            SourceFormat::Beir => "beir",
            SourceFormat::Jsonl => "jsonl",
            SourceFormat::Bibtex => "bibtex",
            SourceFormat::Ris => "ris",
            SourceFormat::Csljson => "csljson",
            SourceFormat::Pdf => "pdf",
            SourceFormat::Arxiv => "arxiv",
            SourceFormat::SemanticScholar => "s2",
            SourceFormat::OpenAlex => "openalex",
            SourceFormat::Crossref => "crossref",
            SourceFormat::Zotero => "zotero",
        }
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        SourceFormat::ALL
            .into_iter()
            .chain(SourceFormat::ONLINE)
            .chain([SourceFormat::Zotero])
            .find(|format| format.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<_> = SourceFormat::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown format `{text}` (expected one of {})", names.join(", "))
            })
    }
}

/// Where a paper record came from: a file, its format, and the record in it
/// (a citation key, a BEIR `_id`, or `line N`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Provenance {
    pub path: String,
    pub format: SourceFormat,
    pub record: String,
}

/// One paper as read from a file, before it is matched against the store.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PaperRecord {
    pub title: String,
    pub abstract_text: Option<String>,
    pub authors: Vec<String>,
    pub year: Option<i32>,
    pub venue: Option<String>,
    pub doi: Option<String>,
    pub arxiv_id: Option<String>,
    pub url: Option<String>,
}

impl PaperRecord {
    /// White space cleaned, empty strings turned into `None`, DOI and arXiv
    /// id normalised. Unrecognisable identifiers are returned as warnings
    /// and dropped rather than stored in a form dedup cannot use.
    pub fn normalized(self) -> (PaperRecord, Vec<String>) {
        let mut warnings = Vec::new();
        let non_empty = |text: Option<String>| text.map(|t| clean_text(&t)).filter(|t| !t.is_empty());
        let doi = non_empty(self.doi).and_then(|raw| {
            let doi = normalize_doi(&raw);
            if doi.is_none() {
                warnings.push(format!(
                    "ignored DOI `{raw}`: not a DOI (expected 10.<registrant>/<suffix>)"
                ));
            }
            doi
        });
        let url = non_empty(self.url);
        let arxiv_id = non_empty(self.arxiv_id)
            .and_then(|raw| {
                let id = normalize_arxiv_id(&raw);
                if id.is_none() {
                    warnings.push(format!("ignored arXiv id `{raw}`: not an arXiv identifier"));
                }
                id
            })
            // arXiv's own DOIs (10.48550/arXiv.<id>) and abstract URLs name the id too.
            .or_else(|| {
                doi.as_deref()?
                    .strip_prefix("10.48550/arxiv.")
                    .and_then(normalize_arxiv_id)
            })
            .or_else(|| {
                url.as_deref()
                    .filter(|u| u.contains("arxiv.org/abs/"))
                    .and_then(normalize_arxiv_id)
            });
        let record = PaperRecord {
            title: clean_text(&self.title),
            abstract_text: non_empty(self.abstract_text),
            authors: self
                .authors
                .iter()
                .map(|a| clean_text(a))
                .filter(|a| !a.is_empty())
                .collect(),
            year: self.year,
            venue: non_empty(self.venue),
            doi,
            arxiv_id,
            url,
        };
        (record, warnings)
    }

    /// The keys that identify this paper, strongest first. The first one
    /// derives the paper's id.
    pub fn identity_key(&self) -> String {
        if let Some(doi) = &self.doi {
            format!("doi:{doi}")
        } else if let Some(arxiv) = &self.arxiv_id {
            format!("arxiv:{arxiv}")
        } else {
            format!("title:{}", normalize_title(&self.title))
        }
    }
}

/// A stored paper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paper {
    pub id: PaperId,
    pub title: String,
    #[serde(rename = "abstract")]
    pub abstract_text: Option<String>,
    pub authors: Vec<String>,
    pub year: Option<i32>,
    pub venue: Option<String>,
    pub doi: Option<String>,
    pub arxiv_id: Option<String>,
    pub url: Option<String>,
    /// Where the paper came from; left empty (and out of JSON) in listings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Provenance>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_record_cleans_fields_and_warns_on_bad_ids() {
        let record = PaperRecord {
            title: "  A   title\n".into(),
            abstract_text: Some("   ".into()),
            authors: vec![" Ada  Lovelace ".into(), "".into()],
            doi: Some("https://doi.org/10.1000/ABC".into()),
            arxiv_id: Some("not an id".into()),
            ..PaperRecord::default()
        };
        let (record, warnings) = record.normalized();
        assert_eq!(record.title, "A title");
        assert_eq!(record.abstract_text, None);
        assert_eq!(record.authors, vec!["Ada Lovelace"]);
        assert_eq!(record.doi.as_deref(), Some("10.1000/abc"));
        assert_eq!(record.arxiv_id, None);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("not an id"));
        assert_eq!(record.identity_key(), "doi:10.1000/abc");
    }

    #[test]
    fn arxiv_id_is_derived_from_arxiv_doi_or_url() {
        let from_doi = PaperRecord {
            title: "t".into(),
            doi: Some("10.48550/arXiv.2301.01234".into()),
            ..Default::default()
        };
        assert_eq!(from_doi.normalized().0.arxiv_id.as_deref(), Some("2301.01234"));
        let from_url = PaperRecord {
            title: "t".into(),
            url: Some("https://arxiv.org/abs/2301.01234v2".into()),
            ..Default::default()
        };
        assert_eq!(from_url.normalized().0.arxiv_id.as_deref(), Some("2301.01234"));
    }

    #[test]
    fn formats_parse_from_their_names() {
        for format in SourceFormat::ALL {
            assert_eq!(format.as_str().parse::<SourceFormat>(), Ok(format));
        }
        assert!("docx".parse::<SourceFormat>().is_err());
    }
}
