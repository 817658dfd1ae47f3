//! From extracted lines to clean lines: Unicode normalised (ligatures
//! unfolded), running headers, footers and page numbers dropped.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use crate::extract::{RawLine, RawPage};

/// How many lines at the top and at the bottom of a page can be a running
/// header or footer.
const EDGE_LINES: usize = 3;

/// Normalises every line and drops the running headers and footers: lines
/// near the top or bottom that recur (digits aside) on many pages, lone page
/// numbers, and the arXiv stamp in the margin of page 1.
pub(crate) fn clean_pages(pages: &[RawPage]) -> Vec<Vec<RawLine>> {
    let normalised: Vec<Vec<RawLine>> = pages
        .iter()
        .map(|page| {
            page.lines
                .iter()
                .filter_map(|line| {
                    let text = normalise(&line.text);
                    (!text.is_empty()).then(|| RawLine { text, ..line.clone() })
                })
                .collect()
        })
        .collect();

    let mut recurring: HashMap<String, usize> = HashMap::new();
    for lines in &normalised {
        let mut seen: Vec<String> = edge_indices(lines.len()).map(|i| shape(&lines[i].text)).collect();
        seen.sort();
        seen.dedup();
        for key in seen {
            *recurring.entry(key).or_default() += 1;
        }
    }
    let threshold = (pages.len() * 2).div_ceil(5).max(2);
    let runs_on = |text: &str| pages.len() >= 3 && recurring.get(&shape(text)).copied().unwrap_or(0) >= threshold;

    normalised
        .into_iter()
        .map(|lines| {
            let edges: Vec<usize> = edge_indices(lines.len()).collect();
            lines
                .into_iter()
                .enumerate()
                .filter(|(i, line)| {
                    let at_edge = edges.contains(i);
                    !(at_edge && (is_page_number(&line.text) || runs_on(&line.text))) && !is_arxiv_stamp(&line.text)
                })
                .map(|(_, line)| line)
                .collect()
        })
        .collect()
}

fn edge_indices(len: usize) -> impl Iterator<Item = usize> {
    let top = 0..len.min(EDGE_LINES);
    let bottom = len.saturating_sub(EDGE_LINES).max(len.min(EDGE_LINES))..len;
    top.chain(bottom)
}

/// A line's shape for recognising it on other pages: digits (page numbers,
/// dates) do not count.
fn shape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_ascii_digit() && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_page_number(text: &str) -> bool {
    let text = text.trim();
    let bare = text
        .trim_start_matches("Page")
        .trim_start_matches("page")
        .trim_start_matches(['-', '–', ' '])
        .trim_end_matches(['-', '–', ' ']);
    let (number, rest) = bare.split_once(" of ").unwrap_or((bare, "1"));
    let numeric = |t: &str| !t.is_empty() && t.len() <= 5 && t.bytes().all(|b| b.is_ascii_digit());
    let roman = |t: &str| !t.is_empty() && t.len() <= 6 && t.chars().all(|c| "ivxlcdm".contains(c));
    (numeric(number) || roman(number)) && numeric(rest.trim())
}

/// arXiv prints `arXiv:2304.02623v1 [cs.CL] 5 Apr 2023` up the margin of
/// the first page. The id is read from it before it is dropped.
pub(crate) fn is_arxiv_stamp(text: &str) -> bool {
    let text = text.trim();
    text.starts_with("arXiv:") && text.contains('[') && text.split_whitespace().count() <= 8
}

/// NFKC (so ﬁ becomes fi and full-width forms plain), control characters
/// and soft hyphens out, white space collapsed.
pub(crate) fn normalise(text: &str) -> String {
    let folded: String = text
        .nfkc()
        .filter(|c| *c != '\u{00AD}' && *c != '\u{FFFD}')
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(lines: &[&str]) -> RawPage {
        RawPage {
            lines: lines
                .iter()
                .map(|text| RawLine {
                    text: (*text).to_owned(),
                    size: 10.0,
                    after_gap: false,
                })
                .collect(),
            failed: None,
        }
    }

    fn texts(pages: &[Vec<RawLine>]) -> Vec<Vec<&str>> {
        pages
            .iter()
            .map(|p| p.iter().map(|l| l.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn running_headers_page_numbers_and_the_arxiv_stamp_are_dropped() {
        let words = ["one", "two", "three", "four"];
        let pages: Vec<RawPage> = (1..=4)
            .map(|n| {
                let number = n.to_string();
                let header = format!("Proceedings of ACL 2023, pages 1{n}0–1{n}9");
                let first = format!("Body text of page {}.", words[n - 1]);
                let second = format!("More body text, {}.", words[n - 1]);
                page(&[
                    &header,
                    "arXiv:2304.02623v1 [cs.CL] 5 Apr 2023",
                    &first,
                    &second,
                    &number,
                ])
            })
            .collect();
        let cleaned = clean_pages(&pages);
        for (lines, word) in texts(&cleaned).into_iter().zip(words) {
            assert_eq!(
                lines,
                [format!("Body text of page {word}."), format!("More body text, {word}.")]
            );
        }
    }

    #[test]
    fn a_short_document_keeps_its_edges() {
        let cleaned = clean_pages(&[page(&["Title", "Body."]), page(&["Title", "Body."])]);
        assert_eq!(texts(&cleaned), [["Title", "Body."], ["Title", "Body."]]);
    }

    #[test]
    fn ligatures_and_control_characters_are_normalised() {
        assert_eq!(normalise("e\u{FB03}cient  \u{0007}de\u{00AD}fine"), "efficient define");
        assert!(is_page_number("12"));
        assert!(is_page_number("Page 3 of 10"));
        assert!(is_page_number("xii"));
        assert!(!is_page_number("2023 was a year"));
    }
}
