//! The reference list: split into entries, DOIs and arXiv ids read from them.

use hypatia_core::{ReferenceEntry, normalize_arxiv_id, normalize_doi};

use crate::layout::{Paragraph, Part, join_line};

/// The entries of the reference list, in order.
pub(crate) fn reference_entries(paragraphs: &[Paragraph]) -> Vec<ReferenceEntry> {
    let mut entries: Vec<(String, u32)> = Vec::new();
    let mut previous_ended = true;
    for paragraph in paragraphs.iter().filter(|p| p.part == Part::References) {
        for line in &paragraph.lines {
            let text = line.text.trim();
            let starts_entry = entries.is_empty()
                || numbered(text)
                || (line.after_gap && previous_ended)
                || (previous_ended && author_start(text) && !numbered_style(&entries));
            if starts_entry {
                entries.push((text.to_owned(), paragraph.page));
            } else if let Some((entry, _)) = entries.last_mut() {
                join_line(entry, text);
            }
            previous_ended = text.ends_with('.') || text.ends_with(']') || text.ends_with(')');
        }
    }
    entries
        .into_iter()
        .map(|(text, page)| ReferenceEntry {
            doi: find_doi(&text),
            arxiv_id: find_arxiv_id(&text),
            text,
            page,
        })
        .collect()
}

/// "[12] …" or "12. …".
fn numbered(text: &str) -> bool {
    let bracketed = text
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .is_some_and(|(n, _)| !n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_alphanumeric()));
    let dotted = text
        .split_once(". ")
        .is_some_and(|(n, _)| !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()));
    bracketed || dotted
}

fn numbered_style(entries: &[(String, u32)]) -> bool {
    entries.first().is_some_and(|(text, _)| numbered(text))
}

/// "Surname, I." or "Surname Initial" at a line's start, after an entry ended.
fn author_start(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or_default();
    let mut chars = first.chars();
    chars.next().is_some_and(char::is_uppercase)
        && chars.clone().next().is_some_and(char::is_lowercase)
        && text.chars().take(40).any(|c| c == ',')
}

/// The first DOI in a text: `10.<registrant>/<suffix>` up to white space,
/// trailing punctuation off.
pub(crate) fn find_doi(text: &str) -> Option<String> {
    let mut from = 0;
    while let Some(found) = text[from..].find("10.") {
        let start = from + found;
        let preceded_ok = text[..start].chars().last().is_none_or(|c| !c.is_ascii_alphanumeric());
        let candidate: String = text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
        let candidate = candidate.trim_end_matches(['.', ',', ';', ')', ']', '}', '>', '"', '\'']);
        if preceded_ok && let Some(doi) = normalize_doi(candidate) {
            return Some(doi);
        }
        from = start + 3;
    }
    None
}

/// An arXiv id named as such: `arXiv:2304.02623`, `arXiv preprint
/// arXiv:1810.04805`, `arxiv.org/abs/…`.
pub(crate) fn find_arxiv_id(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    for marker in ["arxiv:", "arxiv.org/abs/", "arxiv.org/pdf/"] {
        let mut from = 0;
        while let Some(found) = lower[from..].find(marker) {
            let start = from + found + marker.len();
            let candidate: String = text[start..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-'))
                .collect();
            if let Some(id) = normalize_arxiv_id(candidate.trim_end_matches('.')) {
                return Some(id);
            }
            from = start;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::RawLine;

    fn references(lines: &[(&str, bool)]) -> Vec<Paragraph> {
        vec![Paragraph {
            page: 9,
            start: 0,
            end: 0,
            text: String::new(),
            part: Part::References,
            lines: lines
                .iter()
                .map(|(text, after_gap)| RawLine {
                    text: (*text).to_owned(),
                    size: 9.0,
                    after_gap: *after_gap,
                })
                .collect(),
        }]
    }

    #[test]
    fn numbered_entries_split_and_carry_their_dois() {
        let entries = reference_entries(&references(&[
            (
                "[1] I. Beltagy, K. Lo, and A. Cohan. SciBERT. In EMNLP. https://doi.org/10.18653/v1/D19-",
                false,
            ),
            ("1371.", false),
            (
                "[2] J. Devlin et al. BERT. arXiv preprint arXiv:1810.04805, 2018.",
                false,
            ),
        ]));
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!(entries[0].doi.as_deref(), Some("10.18653/v1/d19-1371"));
        assert_eq!(entries[0].page, 9);
        assert_eq!(entries[1].arxiv_id.as_deref(), Some("1810.04805"));
        assert_eq!(entries[1].doi, None);
    }

    #[test]
    fn author_year_entries_split_where_one_ends_and_a_name_begins() {
        let entries = reference_entries(&references(&[
            (
                "Iz Beltagy, Kyle Lo, and Arman Cohan. 2019. SciBERT: A pretrained language",
                false,
            ),
            ("model for scientific text. In EMNLP.", false),
            (
                "Jacob Devlin, Ming-Wei Chang, Kenton Lee, and Kristina Toutanova. 2019.",
                false,
            ),
            ("BERT: Pre-training of deep bidirectional transformers.", false),
        ]));
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert!(entries[0].text.ends_with("In EMNLP."));
    }

    #[test]
    fn dois_are_found_and_trimmed() {
        assert_eq!(
            find_doi("see doi:10.1000/xyz.123)."),
            Some("10.1000/xyz.123".to_owned())
        );
        assert_eq!(find_doi("version 10.5 of 110.1000/x"), None);
    }
}
