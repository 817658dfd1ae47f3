//! Cutting the body into passages: runs of whole sentences within one
//! section, each with the page (or pages) it spans and its offsets there.

use hypatia_core::{FullTextPassage, PassageLocation};
use unicode_segmentation::UnicodeSegmentation;

use crate::layout::{Paragraph, Part};

/// Passage size: see BENCHMARKS.md ("PDF passages") for the measurement
/// behind these numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSize {
    /// A passage is closed once it has at least this many characters.
    pub target_chars: usize,
    /// Sentences carried over from the end of one passage to the start of
    /// the next in the same section, so a claim split across the cut is
    /// whole in one of them.
    pub overlap_sentences: usize,
}

impl Default for ChunkSize {
    fn default() -> Self {
        ChunkSize {
            target_chars: 500,
            overlap_sentences: 1,
        }
    }
}

/// Sentences shorter than this are not cut from a table or caption soup as
/// passages of their own: a section of only such crumbs gives none.
const MIN_PASSAGE_CHARS: usize = 40;

#[derive(Debug, Clone)]
struct Sentence {
    text: String,
    page: u32,
    start: u32,
    end: u32,
}

/// The passages of the body (abstract, front matter, headings and
/// references excluded), in reading order.
pub(crate) fn body_passages(paragraphs: &[Paragraph], size: ChunkSize) -> Vec<FullTextPassage> {
    let mut passages = Vec::new();
    let mut section: Option<String> = None;
    let mut pending: Vec<Sentence> = Vec::new();
    for paragraph in paragraphs {
        let Part::Body(name) = &paragraph.part else {
            if !matches!(paragraph.part, Part::Heading) {
                flush(&mut pending, section.as_deref(), &mut passages);
            }
            continue;
        };
        if section.as_ref() != Some(name) {
            flush(&mut pending, section.as_deref(), &mut passages);
            section = Some(name.clone());
        }
        for sentence in sentences(paragraph) {
            pending.push(sentence);
            if chars_in(&pending) >= size.target_chars {
                let keep = size.overlap_sentences.min(pending.len().saturating_sub(1));
                let carried = pending[pending.len() - keep..].to_vec();
                flush(&mut pending, section.as_deref(), &mut passages);
                pending = carried;
            }
        }
    }
    flush(&mut pending, section.as_deref(), &mut passages);
    passages
}

fn chars_in(sentences: &[Sentence]) -> usize {
    sentences.iter().map(|s| s.text.chars().count() + 1).sum()
}

fn flush(pending: &mut Vec<Sentence>, section: Option<&str>, passages: &mut Vec<FullTextPassage>) {
    let sentences = std::mem::take(pending);
    let (Some(first), Some(last), Some(section)) = (sentences.first(), sentences.last(), section) else {
        return;
    };
    // The page's own text with its white space collapsed: sentences that
    // touched on the page ("said....Asa") still touch.
    let mut text = String::new();
    for (index, sentence) in sentences.iter().enumerate() {
        let touches = index > 0 && {
            let before = &sentences[index - 1];
            before.page == sentence.page && before.end == sentence.start
        };
        if index > 0 && !touches {
            text.push(' ');
        }
        text.push_str(&sentence.text);
    }
    if text.chars().count() < MIN_PASSAGE_CHARS {
        return;
    }
    // A passage that is only the carried-over overlap says nothing new.
    if let Some(previous) = passages.last()
        && previous.text.ends_with(&text)
    {
        return;
    }
    passages.push(FullTextPassage {
        text,
        location: PassageLocation {
            section: section.to_owned(),
            page: first.page,
            page_end: last.page,
            start: first.start,
            end: last.end,
        },
    });
}

/// A paragraph's sentences with their offsets on its page.
fn sentences(paragraph: &Paragraph) -> Vec<Sentence> {
    let mut sentences = Vec::new();
    let mut offset = paragraph.start;
    for piece in paragraph.text.split_sentence_bounds() {
        let length = u32::try_from(piece.chars().count()).unwrap_or(u32::MAX);
        let leading = u32::try_from(piece.chars().take_while(|c| c.is_whitespace()).count()).unwrap_or(0);
        let trimmed = piece.trim();
        if !trimmed.is_empty() {
            let start = offset + leading;
            let end = start + u32::try_from(trimmed.chars().count()).unwrap_or(u32::MAX);
            sentences.push(Sentence {
                text: trimmed.to_owned(),
                page: paragraph.page,
                start,
                end,
            });
        }
        offset = offset.saturating_add(length);
    }
    sentences
}
