//! Crossref's REST API: `/works/{doi}` and `/works?query=`; JATS abstracts as plain text.

use hypatia_core::PaperRecord;
use serde::Deserialize;

use crate::text::{clean, strip_markup};
use crate::{FetchedPaper, SourceError, SourceKind};

pub const PAGE: usize = 100;
/// Crossref refuses offsets past this; deeper paging needs cursors, more than a fetch wants.
pub const MAX_OFFSET: usize = 10_000;

#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub message: T,
}

#[derive(Debug, Deserialize)]
pub struct List {
    #[serde(rename = "total-results")]
    pub total: Option<u64>,
    #[serde(default)]
    pub items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
pub struct Item {
    #[serde(rename = "DOI")]
    pub doi: Option<String>,
    #[serde(default)]
    pub title: Vec<String>,
    #[serde(rename = "container-title", default)]
    pub container_title: Vec<String>,
    #[serde(rename = "abstract")]
    pub abstract_text: Option<String>,
    pub author: Option<Vec<Person>>,
    pub issued: Option<DateParts>,
    pub published: Option<DateParts>,
    #[serde(rename = "URL")]
    pub url: Option<String>,
    #[serde(default)]
    pub reference: Vec<Reference>,
}

#[derive(Debug, Deserialize)]
pub struct Person {
    pub given: Option<String>,
    pub family: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DateParts {
    #[serde(rename = "date-parts", default)]
    pub parts: Vec<Vec<Option<i64>>>,
}

#[derive(Debug, Deserialize)]
pub struct Reference {
    #[serde(rename = "DOI")]
    pub doi: Option<String>,
    #[serde(rename = "article-title")]
    pub article_title: Option<String>,
}

pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8], url: &str) -> Result<T, SourceError> {
    crate::text::parse_json(SourceKind::Crossref, "Crossref JSON", body, url)
}

impl DateParts {
    fn year(&self) -> Option<i32> {
        let year = (*self.parts.first()?.first()?)?;
        i32::try_from(year).ok().filter(|y| (1000..=3000).contains(y))
    }
}

impl Item {
    pub fn into_fetched(self) -> Option<FetchedPaper> {
        let title = self.title.iter().find_map(|t| clean(Some(&strip_markup(t))))?;
        let doi = clean(self.doi.as_deref());
        let authors = self
            .author
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| match (clean(p.given.as_deref()), clean(p.family.as_deref())) {
                (Some(given), Some(family)) => Some(format!("{given} {family}")),
                (None, Some(family)) => Some(family),
                _ => clean(p.name.as_deref()),
            })
            .collect();
        let year = self
            .issued
            .as_ref()
            .and_then(DateParts::year)
            .or_else(|| self.published.as_ref().and_then(DateParts::year));
        Some(FetchedPaper {
            source: SourceKind::Crossref,
            source_id: doi.clone().unwrap_or_else(|| title.clone()),
            record: PaperRecord {
                title,
                abstract_text: self
                    .abstract_text
                    .as_deref()
                    .map(strip_markup)
                    .filter(|a| !a.is_empty()),
                authors,
                year,
                venue: self.container_title.iter().find_map(|t| clean(Some(t))),
                doi,
                arxiv_id: None,
                url: clean(self.url.as_deref()),
            },
        })
    }
}
