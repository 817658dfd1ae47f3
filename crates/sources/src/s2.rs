//! Semantic Scholar's Graph API: paper search, details, references, citations and batch lookups.

use hypatia_core::PaperRecord;
use serde::Deserialize;
use serde_json::Value;

use crate::text::clean;
use crate::{FetchedPaper, SourceError, SourceKind};

/// The fields asked for every paper.
pub const FIELDS: &str = "paperId,externalIds,title,abstract,year,venue,authors,url";
pub const PAGE: usize = 100;

#[derive(Debug, Deserialize)]
pub struct S2Paper {
    #[serde(rename = "paperId")]
    pub paper_id: Option<String>,
    #[serde(rename = "externalIds")]
    pub external_ids: Option<serde_json::Map<String, Value>>,
    pub title: Option<String>,
    #[serde(rename = "abstract")]
    pub abstract_text: Option<String>,
    pub year: Option<i32>,
    pub venue: Option<String>,
    pub authors: Option<Vec<S2Author>>,
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct S2Author {
    pub name: Option<String>,
}

/// `{"total", "offset", "next", "data": [paper]}` (search) and `{"offset", "next", "data": [{"citedPaper"}]}`.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    pub total: Option<u64>,
    pub next: Option<u64>,
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub struct Reference {
    #[serde(rename = "citedPaper")]
    pub cited: Option<S2Paper>,
}

#[derive(Debug, Deserialize)]
pub struct Citation {
    #[serde(rename = "citingPaper")]
    pub citing: Option<S2Paper>,
}

pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8], url: &str) -> Result<T, SourceError> {
    crate::text::parse_json(SourceKind::SemanticScholar, "Semantic Scholar JSON", body, url)
}

impl S2Paper {
    fn external(&self, name: &str) -> Option<String> {
        match self.external_ids.as_ref()?.get(name)? {
            Value::String(text) => clean(Some(text)),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    }

    pub fn doi(&self) -> Option<String> {
        self.external("DOI")
    }

    pub fn arxiv_id(&self) -> Option<String> {
        self.external("ArXiv")
    }

    /// The paper as a record, if it has a title.
    pub fn into_fetched(self) -> Option<FetchedPaper> {
        let title = clean(self.title.as_deref())?;
        let (doi, arxiv_id) = (self.doi(), self.arxiv_id());
        let source_id = self
            .paper_id
            .clone()
            .or_else(|| doi.clone())
            .unwrap_or_else(|| title.clone());
        Some(FetchedPaper {
            source: SourceKind::SemanticScholar,
            source_id,
            record: PaperRecord {
                title,
                abstract_text: clean(self.abstract_text.as_deref()),
                authors: self
                    .authors
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|a| clean(a.name.as_deref()))
                    .collect(),
                year: self.year,
                venue: clean(self.venue.as_deref()),
                doi,
                arxiv_id,
                url: clean(self.url.as_deref()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_nulls_in_external_ids_are_taken_or_left() {
        let paper: S2Paper = serde_json::from_str(
            r#"{"paperId": null, "externalIds": {"DOI": "10.1/X", "CorpusId": 7, "ArXiv": null}, "title": " T "}"#,
        )
        .expect("parses");
        assert_eq!(paper.doi().as_deref(), Some("10.1/X"));
        assert_eq!(paper.external("CorpusId").as_deref(), Some("7"));
        assert_eq!(paper.arxiv_id(), None);
        let fetched = paper.into_fetched().expect("titled");
        assert_eq!(
            (fetched.record.title.as_str(), fetched.source_id.as_str()),
            ("T", "10.1/X")
        );
    }
}
