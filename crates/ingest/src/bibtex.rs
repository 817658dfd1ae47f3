//! BibTeX and BibLaTeX, through the `biblatex` crate, which also resolves
//! LaTeX accents and strips protective braces.

use biblatex::{Bibliography, ChunksExt, DateValue, Entry, PermissiveType};
use hypatia_core::PaperRecord;

use crate::{InvalidRecord, ParseResult, Parsed, line_of};

pub(crate) fn parse(text: &str) -> ParseResult {
    crate::bibtex_strings::check(text)?;
    let text = &dotless_accents(text);
    let mut parsed = Parsed::default();
    match Bibliography::parse(text) {
        Ok(bibliography) => {
            for entry in bibliography.iter() {
                let location = entry_location(text, entry, None);
                push_entry(&mut parsed, entry, location);
            }
        }
        // Find which entries are at fault, and keep the others for --skip-invalid.
        Err(_) => parse_entry_by_entry(text, &mut parsed),
    }
    Ok(parsed)
}

fn push_entry(parsed: &mut Parsed, entry: &Entry, location: String) {
    match record_of(entry) {
        Ok(record) => parsed.records.push((record, entry.key.clone(), location)),
        Err(reason) => parsed.invalid.push(InvalidRecord { location, reason }),
    }
}

fn parse_entry_by_entry(text: &str, parsed: &mut Parsed) {
    let chunks = split_entries(text);
    let strings: String = chunks
        .iter()
        .filter(|(_, chunk)| chunk.get(1..7).is_some_and(|t| t.eq_ignore_ascii_case("string")))
        .map(|(_, chunk)| *chunk)
        .collect::<Vec<_>>()
        .join("\n");
    for (offset, chunk) in chunks {
        let line = line_of(text, offset);
        let source = format!("{strings}\n{chunk}");
        match Bibliography::parse(&source) {
            Ok(bibliography) => {
                for entry in bibliography.iter() {
                    let location = format!("entry {} (line {line})", entry.key);
                    push_entry(parsed, entry, location);
                }
            }
            Err(e) => {
                let error_offset = e.span.start.saturating_sub(strings.len() + 1);
                let error_line = line + line_of(chunk, error_offset) - 1;
                let key = entry_key(chunk).map(|k| format!("entry {k} ")).unwrap_or_default();
                parsed.invalid.push(InvalidRecord {
                    location: format!("{key}(line {line})"),
                    reason: format!("BibTeX syntax error at line {error_line}: {}", e.kind),
                });
            }
        }
    }
}

/// `{\'\i}` is how BibTeX writes í: an accent on a dotless i. The
/// biblatex crate resolves accents on letters but not on `\i`, so the
/// dotless i is turned into a plain one first. Byte offsets shift by one per
/// replacement; line numbers do not.
fn dotless_accents(text: &str) -> String {
    let mut out = text.to_owned();
    for accent in ['\'', '"', '`', '^', '~', '=', '.'] {
        for dotless in ["i", "j"] {
            out = out
                .replace(&format!("\\{accent}\\{dotless}"), &format!("\\{accent}{dotless}"))
                .replace(
                    &format!("\\{accent}{{\\{dotless}}}"),
                    &format!("\\{accent}{{{dotless}}}"),
                );
        }
    }
    out
}

/// Entries (with their byte offsets) split at each top-level `@`. An `@`
/// that starts a line also starts an entry, so one unbalanced brace spoils
/// only its own entry.
fn split_entries(text: &str) -> Vec<(usize, &str)> {
    let mut starts = Vec::new();
    let mut depth = 0i32;
    let mut line_start = true;
    for (offset, c) in text.char_indices() {
        match c {
            '@' if depth <= 0 || line_start => {
                starts.push(offset);
                depth = 0;
            }
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if c == '\n' {
            line_start = true;
        } else if !c.is_whitespace() {
            line_start = false;
        }
    }
    let mut chunks = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let chunk = &text[start..end];
        let kind = chunk[1..].split(['{', '(']).next().unwrap_or_default().trim();
        if !kind.eq_ignore_ascii_case("comment") && !kind.eq_ignore_ascii_case("preamble") {
            chunks.push((start, chunk));
        }
    }
    chunks
}

fn entry_key(chunk: &str) -> Option<&str> {
    let after_brace = chunk.split_once(['{', '('])?.1;
    let key = after_brace.split(',').next()?.trim();
    (!key.is_empty() && !key.contains(char::is_whitespace)).then_some(key)
}

fn entry_location(text: &str, entry: &Entry, line: Option<usize>) -> String {
    let line = line.or_else(|| {
        entry
            .get("title")
            .and_then(|chunks| chunks.first())
            .filter(|chunk| !chunk.is_detached() && chunk.span.start <= text.len())
            .map(|chunk| line_of(text, chunk.span.start))
    });
    match line {
        Some(line) => format!("entry {} (line {line})", entry.key),
        None => format!("entry {}", entry.key),
    }
}

fn field(entry: &Entry, name: &str) -> Option<String> {
    entry
        .get(name)
        .map(|chunks| chunks.format_verbatim())
        .filter(|v| !v.trim().is_empty())
}

fn record_of(entry: &Entry) -> Result<PaperRecord, String> {
    let title = field(entry, "title").ok_or_else(|| "it has no title field".to_owned())?;
    let authors = entry
        .author()
        .map(|people| {
            people
                .iter()
                .map(|p| {
                    [
                        p.given_name.as_str(),
                        p.prefix.as_str(),
                        p.name.as_str(),
                        p.suffix.as_str(),
                    ]
                    .iter()
                    .filter(|part| !part.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ")
                })
                .collect()
        })
        .unwrap_or_default();
    let year = match entry.date() {
        Ok(PermissiveType::Typed(date)) => Some(match date.value {
            DateValue::At(d) | DateValue::After(d) | DateValue::Before(d) | DateValue::Between(d, _) => d.year,
        }),
        _ => field(entry, "year").and_then(|y| y.trim().get(..4).and_then(|y| y.parse().ok())),
    };
    let venue = field(entry, "journaltitle")
        .or_else(|| field(entry, "journal"))
        .or_else(|| field(entry, "booktitle"));
    let eprint_type = field(entry, "eprinttype")
        .or_else(|| field(entry, "archiveprefix"))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let arxiv_id = if eprint_type == "arxiv" {
        field(entry, "eprint")
    } else {
        None
    }
    // Google Scholar writes "arXiv preprint arXiv:2301.01234" as the journal.
    .or_else(|| {
        let venue = venue.as_deref()?;
        let at = venue.find("arXiv:")?;
        venue[at..].split_whitespace().next().map(str::to_owned)
    });
    Ok(PaperRecord {
        title,
        abstract_text: field(entry, "abstract"),
        authors,
        year,
        venue,
        doi: field(entry, "doi"),
        arxiv_id,
        url: field(entry, "url"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_latex_and_reads_fields() {
        let parsed = parse(
            r#"@string{nat = "Nature"}
@article{muller2020,
  title = {The {CRISPR} Effect on Caf\'{e} Culture},
  author = {M{\"u}ller, J{\"o}rg and van der Berg, Anna},
  journal = nat,
  year = {2020},
  doi = {10.1038/XYZ},
  abstract = {We study things.},
}
@misc{gs, title={Scholar style}, journal={arXiv preprint arXiv:2301.01234}, year={2023}}
"#,
        )
        .expect("valid");
        assert!(parsed.invalid.is_empty(), "{:?}", parsed.invalid);
        let (record, key, location) = &parsed.records[0];
        assert_eq!(key, "muller2020");
        assert_eq!(location, "entry muller2020 (line 3)");
        assert_eq!(record.title, "The CRISPR Effect on Café Culture");
        assert_eq!(record.authors, vec!["Jörg Müller", "Anna van der Berg"]);
        assert_eq!(record.venue.as_deref(), Some("Nature"));
        assert_eq!(record.year, Some(2020));
        assert_eq!(record.doi.as_deref(), Some("10.1038/XYZ"));
        assert_eq!(parsed.records[1].0.arxiv_id.as_deref(), Some("arXiv:2301.01234"));
    }

    #[test]
    fn a_broken_entry_is_located_and_the_others_survive() {
        let parsed = parse(
            "@article{good1, title={First good}, year={2020}}\n\n@article{bad, title={Unclosed, year={2021}\n\n@article{good2, title={Second good}}\n",
        )
        .expect("readable");
        let keys: Vec<_> = parsed.records.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(keys, vec!["good1", "good2"]);
        assert_eq!(parsed.invalid.len(), 1);
        assert!(
            parsed.invalid[0].location.contains("bad") && parsed.invalid[0].location.contains("line 3"),
            "{:?}",
            parsed.invalid
        );
    }

    #[test]
    fn an_entry_without_title_is_invalid() {
        let parsed = parse("@article{k, author={A B}}").expect("readable");
        assert_eq!(parsed.invalid.len(), 1);
        assert_eq!(parsed.invalid[0].reason, "it has no title field");
    }
}
