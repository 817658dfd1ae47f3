//! OpenAlex works: search (`/works?search=`) and lookup (`/works/{id}`), abstracts rebuilt from
//! `abstract_inverted_index`.

use std::collections::BTreeMap;

use hypatia_core::PaperRecord;
use serde::Deserialize;

use crate::text::clean;
use crate::{FetchedPaper, SourceError, SourceKind};

pub const PAGE: usize = 100;
/// An abstract longer than this many words is not an abstract: an untrusted index cannot make us
/// allocate without bound.
const MAX_ABSTRACT_WORDS: usize = 20_000;

#[derive(Debug, Deserialize)]
pub struct Work {
    pub id: Option<String>,
    pub doi: Option<String>,
    pub title: Option<String>,
    pub display_name: Option<String>,
    pub publication_year: Option<i32>,
    #[serde(default)]
    pub authorships: Vec<Authorship>,
    pub primary_location: Option<Location>,
    #[serde(default)]
    pub locations: Vec<Location>,
    pub abstract_inverted_index: Option<BTreeMap<String, Vec<usize>>>,
    #[serde(default)]
    pub referenced_works: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Authorship {
    pub author: Option<Author>,
}

#[derive(Debug, Deserialize)]
pub struct Author {
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Location {
    pub landing_page_url: Option<String>,
    pub source: Option<LocationSource>,
}

#[derive(Debug, Deserialize)]
pub struct LocationSource {
    pub display_name: Option<String>,
}

/// `{"meta": {"count", "page", "per_page"}, "results": [work]}`.
#[derive(Debug, Deserialize)]
pub struct List {
    pub meta: Meta,
    #[serde(default)]
    pub results: Vec<Work>,
}

#[derive(Debug, Deserialize)]
pub struct Meta {
    pub count: Option<u64>,
}

pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8], url: &str) -> Result<T, SourceError> {
    crate::text::parse_json(SourceKind::OpenAlex, "OpenAlex JSON", body, url)
}

/// The abstract OpenAlex keeps as word → positions, as text. Positions past the bound are dropped.
pub fn abstract_from_inverted_index(index: &BTreeMap<String, Vec<usize>>) -> Option<String> {
    let mut words: BTreeMap<usize, &str> = BTreeMap::new();
    for (word, positions) in index {
        for &position in positions {
            if position < MAX_ABSTRACT_WORDS {
                words.insert(position, word);
            }
        }
    }
    let text: Vec<&str> = words.into_values().collect();
    clean(Some(&text.join(" ")))
}

/// `https://openalex.org/W2741809807` → `W2741809807`.
pub fn short_id(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_owned()
}

impl Work {
    pub fn into_fetched(self) -> Option<FetchedPaper> {
        let title = clean(self.title.as_deref()).or_else(|| clean(self.display_name.as_deref()))?;
        let doi = self
            .doi
            .as_deref()
            .map(|d| d.trim_start_matches("https://doi.org/").to_owned());
        let arxiv_id = self
            .locations
            .iter()
            .filter_map(|l| l.landing_page_url.as_deref())
            .find_map(|url| url.split_once("arxiv.org/abs/").map(|(_, id)| id.to_owned()));
        let source_id = self.id.as_deref().map(short_id).unwrap_or_else(|| title.clone());
        Some(FetchedPaper {
            source: SourceKind::OpenAlex,
            source_id,
            record: PaperRecord {
                title,
                abstract_text: self
                    .abstract_inverted_index
                    .as_ref()
                    .and_then(abstract_from_inverted_index),
                authors: self
                    .authorships
                    .iter()
                    .filter_map(|a| clean(a.author.as_ref()?.display_name.as_deref()))
                    .collect(),
                year: self.publication_year,
                venue: self
                    .primary_location
                    .as_ref()
                    .and_then(|l| clean(l.source.as_ref()?.display_name.as_deref())),
                doi,
                arxiv_id,
                url: self.id.clone(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inverted_index_reads_back_in_order_and_stays_bounded() {
        let mut index = BTreeMap::new();
        index.insert("world".to_owned(), vec![1]);
        index.insert("hello".to_owned(), vec![0, 2]);
        index.insert("far".to_owned(), vec![usize::MAX]);
        assert_eq!(
            abstract_from_inverted_index(&index).as_deref(),
            Some("hello world hello")
        );
        assert_eq!(abstract_from_inverted_index(&BTreeMap::new()), None);
        assert_eq!(short_id("https://openalex.org/W2741809807"), "W2741809807");
    }
}
