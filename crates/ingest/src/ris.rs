//! RIS (Zotero, EndNote, Mendeley, Scopus, Google Scholar), through the
//! `biblib` crate, one record at a time so a bad record is located and the
//! others can still be stored.

use biblib::{CitationParser, RisParser};
use hypatia_core::PaperRecord;

use crate::{InvalidRecord, ParseResult, Parsed};

pub(crate) fn parse(text: &str) -> ParseResult {
    let mut parsed = Parsed::default();
    let records = split_records(text);
    if !text.trim().is_empty() && !records.iter().any(|(_, chunk)| chunk.trim_start().starts_with("TY  -")) {
        return Err((
            "line 1".into(),
            "no RIS records found (a record starts with a line like `TY  - JOUR`)".into(),
        ));
    }
    let parser = RisParser::new();
    for (line, chunk) in records {
        let location = format!("record at line {line}");
        if !chunk.trim_start().starts_with("TY  -") {
            parsed.invalid.push(InvalidRecord {
                location,
                reason: "a record must start with a `TY  - ` line".into(),
            });
            continue;
        }
        let citation = match parser.parse(&chunk) {
            Ok(mut citations) if citations.len() == 1 => citations.remove(0),
            Ok(citations) => {
                parsed.invalid.push(InvalidRecord {
                    location,
                    reason: format!("expected one record, read {}", citations.len()),
                });
                continue;
            }
            Err(e) => {
                let reason = match e.line {
                    Some(l) => format!("line {}: {}", line + l - 1, e.error),
                    None => e.error.to_string(),
                };
                parsed.invalid.push(InvalidRecord { location, reason });
                continue;
            }
        };
        let arxiv_id = citation.urls.iter().find(|u| u.contains("arxiv.org/abs/")).cloned();
        let record = PaperRecord {
            title: citation.title,
            abstract_text: citation.abstract_text,
            authors: citation
                .authors
                .iter()
                .map(|a| {
                    [a.given_name.as_deref(), a.middle_name.as_deref(), Some(a.name.as_str())]
                        .into_iter()
                        .flatten()
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect(),
            year: citation.date.map(|d| d.year),
            venue: citation.journal.or(citation.journal_abbr),
            doi: citation.doi,
            arxiv_id,
            url: citation.urls.into_iter().next(),
        };
        parsed.records.push((record, location.clone(), location));
    }
    Ok(parsed)
}

/// Records with the line each starts on: from a `TY` line to its `ER` line.
fn split_records(text: &str) -> Vec<(usize, String)> {
    let mut records = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start_matches('\u{feff}').trim();
        if trimmed.is_empty() && current.is_none() {
            continue;
        }
        let (_, body) = current.get_or_insert_with(|| (index + 1, String::new()));
        body.push_str(line);
        body.push('\n');
        if trimmed == "ER  -" || trimmed.starts_with("ER  - ") || trimmed == "ER -" {
            records.extend(current.take());
        }
    }
    // A record without its `ER` line is still read: many exports omit the last one.
    records.extend(current.filter(|(_, body)| !body.trim().is_empty()));
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "TY  - JOUR\nTI  - First paper\nAU  - Curie, Marie\nPY  - 1903\nJO  - Annales\nDO  - 10.1000/one\nAB  - About radium.\nER  - \n\nTY  - CONF\nT1  - Second paper\nUR  - https://arxiv.org/abs/2301.01234\nER  - \n";

    #[test]
    fn reads_records() {
        let parsed = parse(TWO).expect("valid");
        assert!(parsed.invalid.is_empty(), "{:?}", parsed.invalid);
        let first = &parsed.records[0].0;
        assert_eq!(first.title, "First paper");
        assert_eq!(first.authors, vec!["Marie Curie"]);
        assert_eq!(first.year, Some(1903));
        assert_eq!(first.venue.as_deref(), Some("Annales"));
        assert_eq!(parsed.records[1].2, "record at line 10");
        assert!(parsed.records[1].0.arxiv_id.is_some());
    }

    #[test]
    fn a_record_without_ty_is_invalid() {
        let parsed = parse("TI  - Orphan\nER  - \nTY  - JOUR\nTI  - Fine\nER  - \n").expect("readable");
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.invalid[0].location, "record at line 1");
    }

    #[test]
    fn text_without_records_is_refused() {
        assert!(parse("hello world\n").is_err());
    }
}
