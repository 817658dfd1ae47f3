//! What the first page says about the paper: title, authors, DOI, arXiv id.

use crate::extract::{RawLine, RawPage};
use crate::layout::{Layout, Part};
use crate::references::{find_arxiv_id, find_doi};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PdfMetadata {
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub doi: Option<String>,
    pub arxiv_id: Option<String>,
    pub year: Option<i32>,
}

const TITLE_CHARS: std::ops::RangeInclusive<usize> = 8..=300;
/// Lines of page 1 searched for the title: it is near the top.
const TITLE_SEARCH_LINES: usize = 20;

pub(crate) fn read_metadata(raw: &[RawPage], layout: &Layout) -> PdfMetadata {
    let first_page: Vec<&RawLine> = raw.first().map(|p| p.lines.iter().collect()).unwrap_or_default();
    let stamp = first_page.iter().find(|line| crate::clean::is_arxiv_stamp(&line.text));
    let front: Vec<&RawLine> = layout
        .paragraphs
        .iter()
        .take_while(|p| p.page == 1 && matches!(p.part, Part::Front))
        .flat_map(|p| p.lines.iter())
        .collect();
    let (title, after_title) = title_of(&front);
    let page_one = layout.pages.first().map(String::as_str).unwrap_or_default();
    let before_references: String = layout
        .paragraphs
        .iter()
        .filter(|p| p.page <= 2 && p.part != Part::References)
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    // Without a title there is no telling where the authors are.
    let authors = if title.is_some() {
        authors_of(&front[after_title.min(front.len())..])
    } else {
        Vec::new()
    };
    PdfMetadata {
        title,
        authors,
        doi: find_doi(&before_references),
        arxiv_id: stamp.and_then(|line| find_arxiv_id(&line.text)),
        year: stamp
            .and_then(|line| year_in(&line.text))
            .or_else(|| copyright_year(page_one)),
    }
}

/// The run of largest-set lines near the top of the front matter, and the
/// index of the line after it.
fn title_of(front: &[&RawLine]) -> (Option<String>, usize) {
    let candidates = &front[..front.len().min(TITLE_SEARCH_LINES)];
    let largest = candidates.iter().map(|l| l.size).fold(0.0f32, f32::max);
    let Some(first) = candidates
        .iter()
        .position(|l| l.size >= largest * 0.97 && has_words(&l.text))
    else {
        return (None, 0);
    };
    let mut title = String::new();
    let mut end = first;
    while end < candidates.len() && candidates[end].size >= largest * 0.97 {
        crate::layout::join_line(&mut title, candidates[end].text.trim());
        end += 1;
    }
    let title = title.trim_end_matches(['*', '∗', '†']).trim().to_owned();
    let plausible = TITLE_CHARS.contains(&title.chars().count()) && !title.contains('@');
    (plausible.then_some(title), end)
}

fn has_words(text: &str) -> bool {
    text.split_whitespace()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .count()
        >= 2
}

/// Names from the lines after the title, up to the first affiliation or
/// e-mail line: split at commas and "and", footnote marks dropped, kept when
/// they look like names (2–4 capitalised words, no digits).
fn authors_of(lines: &[&RawLine]) -> Vec<String> {
    let mut authors = Vec::new();
    for line in lines.iter().take(6) {
        let text = line.text.as_str();
        let lower = text.to_lowercase();
        let affiliation = [
            "@",
            "university",
            "institute",
            "department",
            "laboratory",
            "school of",
            "college",
            "inc.",
            "research",
            "allen",
        ]
        .iter()
        .any(|marker| lower.contains(marker));
        if affiliation {
            break;
        }
        let cleaned: String = text
            .chars()
            .map(|c| {
                if c.is_alphabetic() || c == '-' || c == '\'' || c == '.' || c == ' ' || c == ',' {
                    c
                } else {
                    ','
                }
            })
            .collect();
        for piece in cleaned.split(',').flat_map(|p| p.split(" and ")) {
            let name = piece.trim().trim_start_matches("and ").trim();
            let words: Vec<&str> = name.split_whitespace().collect();
            let looks_like_name = (2..=4).contains(&words.len())
                && words.iter().all(|w| w.chars().next().is_some_and(char::is_uppercase))
                // "BIOBERT SCIBERT" is a table header, not a person.
                && words.iter().filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() > 1 && !w.chars().any(char::is_lowercase)).count() * 2 <= words.len();
            if looks_like_name && !authors.iter().any(|a: &String| a == name) {
                authors.push(name.to_owned());
            }
        }
    }
    authors
}

fn year_in(text: &str) -> Option<i32> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|t| t.len() == 4)
        .filter_map(|t| t.parse::<i32>().ok())
        .find(|y| (1900..=2100).contains(y))
}

fn copyright_year(text: &str) -> Option<i32> {
    let at = text.find('©')?;
    year_in(&text[at..text.len().min(at + 20)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, size: f32) -> RawLine {
        RawLine {
            text: text.to_owned(),
            size,
            after_gap: false,
        }
    }

    #[test]
    fn title_is_the_largest_run_and_authors_follow_it() {
        let lines = [
            line("Proceedings of the 17th Conference, pages 1–9", 9.0),
            line("LONGEVAL: Guidelines for Human Evaluation of", 15.0),
            line("Faithfulness in Long-form Summarization", 15.0),
            line("Kalpesh Krishna♠∗ Erin Bransom♢, Bailey Kuehl", 11.0),
            line("and Kyle Lo", 11.0),
            line("University of Massachusetts Amherst", 11.0),
            line("Mark Twain", 11.0),
        ];
        let front: Vec<&RawLine> = lines.iter().collect();
        let (title, end) = title_of(&front);
        assert_eq!(
            title.as_deref(),
            Some("LONGEVAL: Guidelines for Human Evaluation of Faithfulness in Long-form Summarization")
        );
        assert_eq!(end, 3);
        assert_eq!(
            authors_of(&front[end..]),
            ["Kalpesh Krishna", "Erin Bransom", "Bailey Kuehl", "Kyle Lo"]
        );
    }

    #[test]
    fn years_come_from_the_stamp_or_the_copyright_line() {
        assert_eq!(year_in("arXiv:2304.02623v1 [cs.CL] 5 Apr 2023"), Some(2023));
        assert_eq!(copyright_year("May 2-6, 2023 ©2023 Association"), Some(2023));
    }
}
