//! A title line, then its abstract line, repeated; blank lines are ignored.

use hypatia_core::PaperRecord;

use crate::{InvalidRecord, ParseResult, Parsed};

/// A "title" longer than this is almost certainly an abstract: the file's
/// lines are out of step (a title or abstract missing above).
const MAX_TITLE_CHARS: usize = 600;

pub(crate) fn parse(text: &str) -> ParseResult {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty())
        .collect();
    let mut parsed = Parsed::default();
    for pair in lines.chunks(2) {
        let (line, title) = pair[0];
        let location = format!("line {line}");
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err((
                location,
                format!(
                    "expected a title line but found {} characters of text; \
                     is a title or an abstract missing above it? (the format is a title line, then its abstract line)",
                    title.chars().count()
                ),
            ));
        }
        let Some(&(_, abstract_text)) = pair.get(1) else {
            parsed.invalid.push(InvalidRecord {
                location,
                reason: format!("title `{title}` has no abstract line after it"),
            });
            continue;
        };
        let record = PaperRecord {
            title: title.to_owned(),
            abstract_text: Some(abstract_text.to_owned()),
            ..PaperRecord::default()
        };
        parsed.records.push((record, location.clone(), location));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_lines_and_skips_blank_ones() {
        let parsed = parse("T1\nA1\n\n  T2 \nA2\n").expect("valid");
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[1].0.title, "T2");
        assert_eq!(parsed.records[1].1, "line 4");
        assert!(parsed.invalid.is_empty());
    }

    #[test]
    fn dangling_title_is_an_invalid_record() {
        let parsed = parse("T1\nA1\nT2\n").expect("readable");
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.invalid[0].location, "line 3");
    }

    #[test]
    fn abstract_in_title_position_refuses_the_file() {
        let long = "x".repeat(700);
        let err = parse(&format!("{long}\nT2\n")).expect_err("out of step");
        assert_eq!(err.0, "line 1");
    }
}
