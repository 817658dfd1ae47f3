//! From clean lines to page texts and paragraphs: lines joined (hyphenation
//! at line ends undone), headings found, every paragraph placed on its page
//! with character offsets and assigned to a part of the paper.

use crate::extract::RawLine;
use crate::sections::{Opens, heading, inline_abstract};

/// The part of the paper a paragraph belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Title, authors, affiliations: before the first heading.
    Front,
    /// A heading line itself.
    Heading,
    Abstract,
    Body(String),
    References,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Paragraph {
    /// 1-based.
    pub page: u32,
    /// Character offsets into the page's text.
    pub start: u32,
    pub end: u32,
    pub text: String,
    pub part: Part,
    /// The lines it was made of, for reading metadata and references.
    pub lines: Vec<RawLine>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Layout {
    pub pages: Vec<String>,
    pub paragraphs: Vec<Paragraph>,
}

/// Set larger than body text by this factor: a heading or a title.
const LARGER: f32 = 1.08;
/// Set smaller than body text by this factor: a footnote or a caption.
const SMALLER: f32 = 0.92;

pub(crate) fn lay_out(pages: &[Vec<RawLine>]) -> Layout {
    let body_size = body_font_size(pages);
    let mut layout = Layout::default();
    let mut part = Part::Front;
    let mut saw_heading = false;
    for (index, lines) in pages.iter().enumerate() {
        let page = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let mut builder = PageBuilder::new(page);
        let mut in_footnote = false;
        for line in lines {
            let larger = body_size > 0.0 && line.size > body_size * LARGER;
            let in_references = part == Part::References;
            if let Some(opens) = heading(&line.text, larger, line.after_gap, in_references) {
                saw_heading = true;
                builder.finish_paragraph(&mut layout.paragraphs);
                builder.push_line(line, &Part::Heading);
                builder.finish_paragraph(&mut layout.paragraphs);
                part = match opens {
                    Opens::Abstract => Part::Abstract,
                    Opens::Body(name) | Opens::Appendix(name) => Part::Body(name),
                    Opens::References => Part::References,
                };
                continue;
            }
            if part == Part::Front
                && let Some(rest) = inline_abstract(&line.text)
            {
                saw_heading = true;
                builder.finish_paragraph(&mut layout.paragraphs);
                part = Part::Abstract;
                let rest = RawLine {
                    text: rest.to_owned(),
                    ..line.clone()
                };
                builder.push_line(&rest, &part);
                continue;
            }
            let small = body_size > 0.0 && line.size < body_size * SMALLER;
            in_footnote = part != Part::Front && (is_footnote(line, body_size) || (in_footnote && small));
            if in_footnote {
                continue;
            }
            // In the body a gap is a paragraph break; in the reference list
            // entries are split later, by their own shape.
            if line.after_gap && part != Part::References {
                builder.finish_paragraph(&mut layout.paragraphs);
            }
            builder.push_line(line, &part);
        }
        builder.finish_paragraph(&mut layout.paragraphs);
        layout.pages.push(builder.text);
    }
    if !saw_heading {
        // A document without a single heading (a report, a note): all of it is body.
        for paragraph in &mut layout.paragraphs {
            paragraph.part = Part::Body("Body".to_owned());
        }
    }
    layout
}

/// A footnote set small with its mark glued on ("1https://…", "*Work done
/// at …"): dropped, or it would run into the sentence it interrupts.
fn is_footnote(line: &RawLine, body_size: f32) -> bool {
    let small = body_size > 0.0 && line.size < body_size * SMALLER;
    let mut chars = line.text.chars();
    let marked = match (chars.next(), chars.next()) {
        (Some(mark), Some(next)) => {
            (mark.is_ascii_digit() || "*∗†‡§¶".contains(mark))
                && !next.is_whitespace()
                && !next.is_ascii_digit()
                && next != '.'
        }
        _ => false,
    };
    small && marked
}

/// The most common line size, weighted by characters: the body text's.
fn body_font_size(pages: &[Vec<RawLine>]) -> f32 {
    let mut weights: Vec<(i64, usize)> = Vec::new();
    for line in pages.iter().flatten() {
        let key = (line.size * 10.0).round() as i64;
        match weights.iter_mut().find(|(size, _)| *size == key) {
            Some((_, weight)) => *weight += line.text.len(),
            None => weights.push((key, line.text.len())),
        }
    }
    weights
        .iter()
        .max_by_key(|(_, weight)| *weight)
        .map_or(0.0, |(size, _)| *size as f32 / 10.0)
}

/// One page's text as it is built, paragraph by paragraph.
struct PageBuilder {
    page: u32,
    text: String,
    chars: u32,
    paragraph: String,
    paragraph_part: Option<Part>,
    paragraph_lines: Vec<RawLine>,
}

impl PageBuilder {
    fn new(page: u32) -> PageBuilder {
        PageBuilder {
            page,
            text: String::new(),
            chars: 0,
            paragraph: String::new(),
            paragraph_part: None,
            paragraph_lines: Vec::new(),
        }
    }

    fn push_line(&mut self, line: &RawLine, part: &Part) {
        // Every change of part comes with `finish_paragraph` first, so a
        // paragraph never mixes two parts.
        self.paragraph_part = Some(part.clone());
        join_line(&mut self.paragraph, &line.text);
        self.paragraph_lines.push(line.clone());
    }

    fn finish_paragraph(&mut self, paragraphs: &mut Vec<Paragraph>) {
        let Some(part) = self.paragraph_part.take() else { return };
        let text = std::mem::take(&mut self.paragraph);
        let lines = std::mem::take(&mut self.paragraph_lines);
        if text.is_empty() {
            return;
        }
        if !self.text.is_empty() {
            self.text.push_str("\n\n");
            self.chars += 2;
        }
        let start = self.chars;
        let length = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
        self.text.push_str(&text);
        self.chars = self.chars.saturating_add(length);
        paragraphs.push(Paragraph {
            page: self.page,
            start,
            end: self.chars,
            text,
            part,
            lines,
        });
    }
}

/// Appends a line to a paragraph, undoing the hyphenation of a word broken
/// at the line's end ("tech-" + "nology") but keeping real hyphens
/// ("state-of-the-" + "art" stays joined with its hyphen when the next part
/// is not lower case, and identifiers such as DOIs keep theirs).
pub(crate) fn join_line(paragraph: &mut String, line: &str) {
    if paragraph.is_empty() {
        paragraph.push_str(line);
        return;
    }
    if let Some(stem) = paragraph.strip_suffix('-') {
        let last_word = stem.rsplit(char::is_whitespace).next().unwrap_or_default();
        let word_breaks = last_word.chars().last().is_some_and(char::is_alphabetic)
            && !last_word.contains(['/', '.', '-', ':'])
            && line.chars().next().is_some_and(char::is_lowercase);
        if word_breaks {
            paragraph.pop();
        }
        paragraph.push_str(line);
        return;
    }
    paragraph.push(' ');
    paragraph.push_str(line);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, size: f32, after_gap: bool) -> RawLine {
        RawLine {
            text: text.to_owned(),
            size,
            after_gap,
        }
    }

    #[test]
    fn hyphenation_at_line_ends_is_undone_but_real_hyphens_stay() {
        let mut text = String::new();
        for part in [
            "a new tech-",
            "nology and state-of-the-",
            "art work; see doi 10.18653/v1/2020.acl-",
            "main.447 and x-",
            "Ray",
        ] {
            join_line(&mut text, part);
        }
        assert_eq!(
            text,
            "a new technology and state-of-the-art work; see doi 10.18653/v1/2020.acl-main.447 and x-Ray"
        );
    }

    #[test]
    fn paragraphs_know_their_page_part_and_offsets() {
        let pages = vec![
            vec![
                line("A Title Set Large", 17.0, false),
                line("Ada Lovelace, Charles Babbage", 11.0, true),
                line("Abstract", 12.0, true),
                line("We study engines of analy-", 10.0, true),
                line("sis.", 10.0, false),
                line("1 Introduction", 12.0, true),
                line("Engines compute.", 10.0, true),
            ],
            vec![
                line("They also weave.", 10.0, false),
                line("References", 12.0, true),
                line("[1] C. Babbage. 1864. Passages. doi:10.1000/xyz", 9.0, true),
            ],
        ];
        let layout = lay_out(&pages);
        let parts: Vec<(u32, &str, &Part)> = layout
            .paragraphs
            .iter()
            .map(|p| (p.page, p.text.as_str(), &p.part))
            .collect();
        let body = Part::Body("Introduction".to_owned());
        assert_eq!(
            parts,
            [
                (1, "A Title Set Large", &Part::Front),
                (1, "Ada Lovelace, Charles Babbage", &Part::Front),
                (1, "Abstract", &Part::Heading),
                (1, "We study engines of analysis.", &Part::Abstract),
                (1, "1 Introduction", &Part::Heading),
                (1, "Engines compute.", &body),
                (2, "They also weave.", &body),
                (2, "References", &Part::Heading),
                (2, "[1] C. Babbage. 1864. Passages. doi:10.1000/xyz", &Part::References),
            ]
        );
        for paragraph in &layout.paragraphs {
            let page: Vec<char> = layout.pages[paragraph.page as usize - 1].chars().collect();
            let slice: String = page[paragraph.start as usize..paragraph.end as usize].iter().collect();
            assert_eq!(slice, paragraph.text);
        }
    }
}
