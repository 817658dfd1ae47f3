//! The user's query language: free words, plus "quoted phrases" that must
//! appear. Nothing else is syntax, so a claim such as `IL-6 (p<0.05): +3%`
//! searches as the words it contains instead of failing to parse.

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedQuery {
    /// Text outside quotes, scored word by word.
    pub words: String,
    /// Text inside quotes: each must appear as a phrase.
    pub phrases: Vec<String>,
}

pub fn parse_query(text: &str) -> ParsedQuery {
    let mut parsed = ParsedQuery::default();
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        parsed.words.push_str(&rest[..open]);
        parsed.words.push(' ');
        let after = &rest[open + 1..];
        match after.find('"') {
            Some(close) => {
                let phrase = after[..close].trim();
                if !phrase.is_empty() {
                    parsed.phrases.push(phrase.to_owned());
                }
                rest = &after[close + 1..];
            }
            // An unclosed quote: the rest is plain words.
            None => {
                rest = after;
                break;
            }
        }
    }
    parsed.words.push_str(rest);
    parsed.words = parsed.words.split_whitespace().collect::<Vec<_>>().join(" ");
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_taken_out_of_the_words() {
        let parsed = parse_query(r#"llm "hypothesis generation" chemistry "" "#);
        assert_eq!(parsed.words, "llm chemistry");
        assert_eq!(parsed.phrases, vec!["hypothesis generation"]);
    }

    #[test]
    fn unclosed_quote_is_plain_text() {
        let parsed = parse_query(r#"protein "folding"#);
        assert_eq!(parsed.words, "protein folding");
        assert!(parsed.phrases.is_empty());
    }

    #[test]
    fn operators_are_just_characters() {
        let parsed = parse_query("IL-6 (p<0.05): +3% title:x");
        assert_eq!(parsed.words, "IL-6 (p<0.05): +3% title:x");
    }
}
