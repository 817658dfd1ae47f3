//! Text from APIs: markup taken out, white space collapsed.

/// `<jats:p>Some <jats:italic>text</jats:italic></jats:p>` → `Some text`: tags dropped (a tag
/// boundary becomes a space), the five XML entities decoded, white space collapsed.
pub fn strip_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            _ => out.push(c),
        }
    }
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    let collapsed = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    // A space left where a tag closed before punctuation: "word </i>." → "word."
    collapsed
        .replace(" .", ".")
        .replace(" ,", ",")
        .replace(" ;", ";")
        .replace(" :", ":")
}

/// A JSON body as `T`, or an error naming the source, the request and what is wrong.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    source: crate::SourceKind,
    expected: &'static str,
    body: &[u8],
    url: &str,
) -> Result<T, crate::SourceError> {
    serde_json::from_slice(body).map_err(|error| crate::SourceError::Malformed {
        source_name: source,
        url: url.to_owned(),
        expected,
        detail: error.to_string(),
    })
}

/// Collapsed white space; `None` for nothing.
pub fn clean(text: Option<&str>) -> Option<String> {
    let text = text?.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jats_becomes_plain_text() {
        assert_eq!(
            strip_markup("<jats:p>Birds <jats:italic>fly</jats:italic>. A &amp; B &lt;3</jats:p>"),
            "Birds fly. A & B <3"
        );
        assert_eq!(strip_markup("no markup"), "no markup");
        assert_eq!(clean(Some("  a \n b ")), Some("a b".into()));
        assert_eq!(clean(Some("  ")), None);
    }
}
