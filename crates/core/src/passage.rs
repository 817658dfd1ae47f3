use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::fulltext::PassageLocation;
use crate::ids::{PaperId, PassageId};

/// A citable piece of a paper's text. Agents cite passages by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    pub id: PassageId,
    pub paper_id: PaperId,
    /// Sort order among the paper's passages (see `PassageId::ordinal`).
    pub ordinal: u64,
    pub text: String,
    /// Section and pages of a full-text passage; `None` for the abstract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<PassageLocation>,
}

/// Sentences shorter than this are joined to a neighbour: a fragment such as
/// "Methods." or "(2) We" is not worth citing alone.
const MIN_PASSAGE_CHARS: usize = 60;
/// Longer sentences (run-on abstracts without full stops) are cut at a word
/// boundary so one passage stays quotable.
const MAX_PASSAGE_CHARS: usize = 1200;

/// Splits text into sentence-level passages (Unicode sentence boundaries),
/// joining fragments and cutting run-ons. Concatenating the passages with
/// spaces gives back the text with its white space collapsed.
pub fn split_passages(text: &str) -> Vec<String> {
    let mut passages: Vec<String> = Vec::new();
    let mut pending = String::new();
    for sentence in text.unicode_sentences() {
        let sentence = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
        if sentence.is_empty() {
            continue;
        }
        if !pending.is_empty() {
            pending.push(' ');
        }
        pending.push_str(&sentence);
        if pending.chars().count() >= MIN_PASSAGE_CHARS {
            passages.extend(cut_long(&pending));
            pending.clear();
        }
    }
    if !pending.is_empty() {
        match passages.last_mut() {
            Some(last) if last.chars().count() + pending.chars().count() < MAX_PASSAGE_CHARS => {
                last.push(' ');
                last.push_str(&pending);
            }
            _ => passages.extend(cut_long(&pending)),
        }
    }
    passages
}

fn cut_long(sentence: &str) -> Vec<String> {
    if sentence.chars().count() <= MAX_PASSAGE_CHARS {
        return vec![sentence.to_owned()];
    }
    let mut pieces = Vec::new();
    let mut current = String::new();
    for word in sentence.split(' ') {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > MAX_PASSAGE_CHARS {
            pieces.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_sentences_and_keeps_all_text() {
        let text = "Large language models can propose hypotheses. We test this on chemistry, \
                    e.g. reaction yields, with 3.5 times more candidates.  Short one. \
                    Results show that grounded generation outperforms ungrounded baselines.";
        let passages = split_passages(text);
        assert_eq!(passages.len(), 2, "{passages:?}");
        // The short first sentence joins the next; "e.g." and "3.5" do not end sentences.
        assert!(passages[0].starts_with("Large language models"));
        assert!(passages[0].ends_with("3.5 times more candidates."), "{passages:?}");
        assert!(passages[1].starts_with("Short one. Results show"), "{passages:?}");
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(passages.join(" "), collapsed);
    }

    #[test]
    fn trailing_fragment_joins_previous_passage() {
        let passages = split_passages("This sentence is long enough to stand alone as a passage by itself. Done.");
        assert_eq!(
            passages,
            vec!["This sentence is long enough to stand alone as a passage by itself. Done."]
        );
    }

    #[test]
    fn run_on_text_is_cut_at_word_boundaries() {
        let text = "word ".repeat(1000);
        let passages = split_passages(&text);
        assert!(passages.len() >= 4);
        assert!(passages.iter().all(|p| p.chars().count() <= MAX_PASSAGE_CHARS));
        assert_eq!(passages.join(" "), text.trim_end());
    }

    #[test]
    fn empty_text_has_no_passages() {
        assert!(split_passages("   ").is_empty());
    }
}
