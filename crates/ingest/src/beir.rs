//! BEIR `corpus.jsonl`: `{"_id": "...", "title": "...", "text": "..."}` per line.

use hypatia_core::PaperRecord;
use serde::Deserialize;

use crate::{InvalidRecord, ParseResult, Parsed};

#[derive(Deserialize)]
struct BeirDoc {
    #[serde(rename = "_id")]
    id: serde_json::Value,
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
}

/// Words of the text used as a title when a BEIR document has none.
const FALLBACK_TITLE_WORDS: usize = 12;

pub(crate) fn parse(text: &str) -> ParseResult {
    let mut parsed = Parsed::default();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let location = format!("line {}", index + 1);
        let doc: BeirDoc = match serde_json::from_str(line) {
            Ok(doc) => doc,
            Err(e) => {
                parsed.invalid.push(InvalidRecord {
                    location,
                    reason: format!("not a BEIR document: {e}"),
                });
                continue;
            }
        };
        let id = match &doc.id {
            serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                parsed.invalid.push(InvalidRecord {
                    location,
                    reason: "`_id` must be a non-empty string or a number".into(),
                });
                continue;
            }
        };
        let title = if doc.title.trim().is_empty() {
            let words: Vec<&str> = doc.text.split_whitespace().take(FALLBACK_TITLE_WORDS).collect();
            words.join(" ")
        } else {
            doc.title
        };
        let record = PaperRecord {
            title,
            abstract_text: Some(doc.text),
            ..PaperRecord::default()
        };
        parsed.records.push((record, id, location));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_documents_and_locates_bad_lines() {
        let parsed = parse(
            "{\"_id\": \"7\", \"title\": \"T\", \"text\": \"A\"}\n{\"_id\": 8, \"text\": \"only text here\"}\n{oops}\n{\"title\": \"no id\"}\n",
        )
        .expect("readable");
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[0].1, "7");
        assert_eq!(parsed.records[1].1, "8");
        assert_eq!(parsed.records[1].0.title, "only text here");
        let locations: Vec<_> = parsed.invalid.iter().map(|r| r.location.as_str()).collect();
        assert_eq!(locations, vec!["line 3", "line 4"]);
    }
}
