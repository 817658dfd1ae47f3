//! Hypatia's own record format: one JSON object per line.
//!
//! ```json
//! {"title": "…", "abstract": "…", "authors": ["Ada Lovelace"], "year": 2024,
//!  "venue": "…", "doi": "10.…", "arxiv_id": "2401.00001", "url": "https://…", "id": "my-key"}
//! ```
//! Only `title` is required. Unknown fields are an error, so a misspelt
//! field name is caught instead of silently dropped.

use hypatia_core::PaperRecord;
use serde::{Deserialize, Serialize};

use crate::{InvalidRecord, ParseResult, Parsed};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonlRecord {
    /// Your own key for the record (kept as its source record id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub title: String,
    #[serde(default, rename = "abstract", skip_serializing_if = "Option::is_none")]
    pub abstract_text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arxiv_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

pub(crate) fn parse(text: &str) -> ParseResult {
    let mut parsed = Parsed::default();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let location = format!("line {}", index + 1);
        let record: JsonlRecord = match serde_json::from_str(line) {
            Ok(record) => record,
            Err(e) => {
                parsed.invalid.push(InvalidRecord {
                    location,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let key = record
            .id
            .clone()
            .filter(|k| !k.trim().is_empty())
            .unwrap_or_else(|| location.clone());
        let paper = PaperRecord {
            title: record.title,
            abstract_text: record.abstract_text,
            authors: record.authors,
            year: record.year,
            venue: record.venue,
            doi: record.doi,
            arxiv_id: record.arxiv_id,
            url: record.url,
        };
        parsed.records.push((paper, key, location));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_records_and_rejects_unknown_fields() {
        let parsed = parse(
            "{\"title\": \"T\", \"authors\": [\"A B\"], \"year\": 2020, \"id\": \"k1\"}\n\n{\"title\": \"U\", \"yaer\": 2020}\n{\"title\": \"V\", \"year\": \"soon\"}\n",
        )
        .expect("readable");
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.records[0].1, "k1");
        assert_eq!(parsed.invalid.len(), 2);
        assert_eq!(parsed.invalid[0].location, "line 3");
        assert!(
            parsed.invalid[0].reason.contains("yaer"),
            "{}",
            parsed.invalid[0].reason
        );
        assert_eq!(parsed.invalid[1].location, "line 4");
    }
}
