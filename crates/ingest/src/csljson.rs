//! CSL-JSON, as Zotero ("Better CSL JSON"), Mendeley and citeproc tools
//! export it: an array of items.

use hypatia_core::PaperRecord;
use serde_json::Value;

use crate::{InvalidRecord, ParseResult, Parsed};

pub(crate) fn parse(text: &str) -> ParseResult {
    let value: Value =
        serde_json::from_str(text).map_err(|e| (format!("line {}, column {}", e.line(), e.column()), e.to_string()))?;
    let items = match value {
        Value::Array(items) => items,
        item @ Value::Object(_) => vec![item],
        _ => return Err(("line 1".into(), "expected an array of CSL-JSON items".into())),
    };
    let mut parsed = Parsed::default();
    for (index, item) in items.iter().enumerate() {
        let id = match item.get("id") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let location = match &id {
            Some(id) => format!("item {} (id \"{id}\")", index + 1),
            None => format!("item {}", index + 1),
        };
        match record_of(item) {
            Ok(record) => parsed
                .records
                .push((record, id.unwrap_or_else(|| location.clone()), location)),
            Err(reason) => parsed.invalid.push(InvalidRecord { location, reason }),
        }
    }
    Ok(parsed)
}

fn string(item: &Value, key: &str) -> Result<Option<String>, String> {
    match item.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        // Some exporters write container-title as a list of alternatives.
        Some(Value::Array(list)) => Ok(list.iter().find_map(|v| v.as_str().map(str::to_owned))),
        Some(other) => Err(format!("`{key}` must be text, found {}", kind(other))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn record_of(item: &Value) -> Result<PaperRecord, String> {
    if !item.is_object() {
        return Err(format!("expected an object, found {}", kind(item)));
    }
    let title = string(item, "title")?.ok_or("it has no `title`")?;
    let authors = match item.get("author") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(people)) => people.iter().map(person).collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("`author` must be a list, found {}", kind(other))),
    };
    let url = string(item, "URL")?;
    let doi = string(item, "DOI")?;
    let number = string(item, "number")?;
    let arxiv_id = [url.as_deref(), number.as_deref()]
        .into_iter()
        .flatten()
        .find(|v| v.contains("arxiv.org/abs/") || v.to_ascii_lowercase().starts_with("arxiv:"))
        .map(str::to_owned);
    Ok(PaperRecord {
        title,
        abstract_text: string(item, "abstract")?,
        authors,
        year: year(item)?,
        venue: string(item, "container-title")?.or(string(item, "event-title")?),
        doi,
        arxiv_id,
        url,
    })
}

fn person(value: &Value) -> Result<String, String> {
    if let Some(literal) = value.get("literal").and_then(Value::as_str) {
        return Ok(literal.to_owned());
    }
    let part = |key| value.get(key).and_then(Value::as_str).unwrap_or_default();
    let name = [
        part("given"),
        part("non-dropping-particle"),
        part("family"),
        part("suffix"),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    if name.is_empty() {
        Err("an author has neither `family`, `given` nor `literal`".into())
    } else {
        Ok(name)
    }
}

/// `issued`: `{"date-parts": [[2020, 5]]}`, or `{"raw": "2020-05"}`, or
/// `{"literal": "2020"}`.
fn year(item: &Value) -> Result<Option<i32>, String> {
    let Some(issued) = item.get("issued") else {
        return Ok(None);
    };
    if let Some(first) = issued.get("date-parts").and_then(|p| p.get(0)).and_then(|p| p.get(0)) {
        let year = match first {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        return year
            .and_then(|y| i32::try_from(y).ok())
            .map(Some)
            .ok_or_else(|| format!("`issued.date-parts` must start with a year, found {first}"));
    }
    let text = string(issued, "raw")?.or(string(issued, "literal")?);
    Ok(text.and_then(|t| t.trim().get(..4).and_then(|y| y.parse().ok())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_items() {
        let parsed = parse(
            r#"[{"id": "a1", "type": "article-journal", "title": "Alpha", "author": [{"family": "Doe", "given": "Jane"}, {"literal": "The Consortium"}],
                 "issued": {"date-parts": [[2021, 3]]}, "container-title": "Cell", "DOI": "10.1016/x", "abstract": "Text."},
                {"id": 2, "title": "Beta", "number": "arXiv:2301.01234", "issued": {"raw": "2023-01"}}]"#,
        )
        .expect("valid");
        assert!(parsed.invalid.is_empty(), "{:?}", parsed.invalid);
        let alpha = &parsed.records[0].0;
        assert_eq!(alpha.authors, vec!["Jane Doe", "The Consortium"]);
        assert_eq!(alpha.year, Some(2021));
        assert_eq!(alpha.venue.as_deref(), Some("Cell"));
        assert_eq!(parsed.records[1].1, "2");
        assert_eq!(parsed.records[1].0.year, Some(2023));
        assert_eq!(parsed.records[1].0.arxiv_id.as_deref(), Some("arXiv:2301.01234"));
    }

    #[test]
    fn bad_items_are_located() {
        let parsed =
            parse(r#"[{"id": "x", "title": 5.5e0}, {"id": "y"}, {"title": "ok", "author": "Doe"}]"#).expect("readable");
        assert_eq!(parsed.records.len(), 1, "a number title is read as text");
        let locations: Vec<_> = parsed.invalid.iter().map(|r| r.location.as_str()).collect();
        assert_eq!(locations, vec!["item 2 (id \"y\")", "item 3"]);
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse("[\n{\"title\": }\n]").expect_err("bad json");
        assert!(err.0.starts_with("line 2, column"), "{err:?}");
    }
}
