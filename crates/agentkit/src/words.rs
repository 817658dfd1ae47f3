//! Word overlap: how much of a claim a passage or paper covers. Cheap,
//! deterministic, and independent of the model, so a review's checks can be
//! reproduced exactly.

use std::collections::BTreeSet;

const STOP_WORDS: &[&str] = &[
    "about", "above", "after", "again", "also", "among", "and", "are", "based", "because", "been", "being", "between",
    "both", "but", "can", "could", "does", "doing", "during", "each", "either", "for", "from", "further", "had", "has",
    "have", "having", "here", "how", "into", "its", "itself", "may", "might", "more", "most", "much", "must", "not",
    "only", "other", "over", "same", "should", "some", "such", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "those", "through", "thus", "under", "until", "upon", "using", "very", "was", "were",
    "what", "when", "where", "whether", "which", "while", "who", "whose", "why", "will", "with", "within", "without",
    "would", "yet", "you", "your",
];

/// The distinct content words of a text: lower-case, three or more letters or digits, no stop words.
pub fn content_words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.chars().count() >= 3)
        .map(str::to_lowercase)
        .filter(|word| !STOP_WORDS.contains(&word.as_str()))
        .collect()
}

/// The share of `claim`'s content words that appear in `source` (0 when the claim has none).
pub fn coverage(claim: &BTreeSet<String>, source: &str) -> f64 {
    if claim.is_empty() {
        return 0.0;
    }
    let source = content_words(source);
    let shared = claim.iter().filter(|word| source.contains(*word)).count();
    shared as f64 / claim.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_counts_content_words_only() {
        let claim = content_words("The retrieval of passages improves the accuracy of answers.");
        assert_eq!(claim.len(), 5, "{claim:?}");
        assert_eq!(
            coverage(&claim, "Passages: retrieval improves ANSWERS and accuracy"),
            1.0
        );
        assert!((coverage(&claim, "retrieval of documents") - 0.2).abs() < 1e-12);
        assert_eq!(coverage(&content_words("the of a"), "anything"), 0.0);
    }
}
