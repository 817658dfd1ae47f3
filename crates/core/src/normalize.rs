//! Identifier and title normalisation used for deduplication.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Collapses runs of white space (including newlines) to one space, drops
/// control characters, trims, and composes accents (NFC) so that "é" is one
/// character whichever way the source spelled it.
pub fn clean_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().filter(|c| !c.is_control()));
    }
    out.nfc().collect()
}

/// `10.1000/ABC`, `doi:10.1000/abc` and `https://doi.org/10.1000/abc` all
/// become `10.1000/abc`. Anything that is not a DOI gives `None`.
pub fn normalize_doi(text: &str) -> Option<String> {
    let lowered = text.trim().to_lowercase();
    let mut rest = lowered.as_str();
    for prefix in [
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi.org/",
        "doi:",
    ] {
        if let Some(stripped) = rest.strip_prefix(prefix) {
            rest = stripped.trim_start();
            break;
        }
    }
    let rest = rest.trim_end_matches(['.', ',', ';']);
    let (registrant, suffix) = rest.split_once('/')?;
    let registrant_ok = registrant.starts_with("10.")
        && registrant.len() > 3
        && registrant[3..].bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if !registrant_ok || suffix.is_empty() || rest.contains(char::is_whitespace) {
        return None;
    }
    Some(rest.to_owned())
}

/// `arXiv:2301.01234v2`, `https://arxiv.org/abs/2301.01234` and
/// `hep-th/9901001v1` become `2301.01234` and `hep-th/9901001`: the version
/// is dropped because every version is the same paper.
pub fn normalize_arxiv_id(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let lowered = trimmed.to_lowercase();
    let mut rest = lowered.as_str();
    for prefix in [
        "https://arxiv.org/abs/",
        "http://arxiv.org/abs/",
        "https://arxiv.org/pdf/",
        "http://arxiv.org/pdf/",
        "arxiv.org/abs/",
        "arxiv:",
    ] {
        if let Some(stripped) = rest.strip_prefix(prefix) {
            rest = stripped.trim_start();
            break;
        }
    }
    let rest = rest.trim_end_matches(".pdf").trim_end_matches('/');
    let without_version = match rest.rfind('v') {
        Some(pos)
            if pos + 1 < rest.len()
                && rest[pos + 1..].bytes().all(|b| b.is_ascii_digit())
                && rest[..pos].ends_with(|c: char| c.is_ascii_digit()) =>
        {
            &rest[..pos]
        }
        _ => rest,
    };
    if is_new_style_arxiv(without_version) || is_old_style_arxiv(without_version) {
        Some(without_version.to_owned())
    } else {
        None
    }
}

/// `2301.01234` or `0704.0001`.
fn is_new_style_arxiv(id: &str) -> bool {
    let Some((yymm, number)) = id.split_once('.') else {
        return false;
    };
    yymm.len() == 4
        && yymm.bytes().all(|b| b.is_ascii_digit())
        && (4..=5).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// `hep-th/9901001` or `math.ag/0101001`.
fn is_old_style_arxiv(id: &str) -> bool {
    let Some((archive, number)) = id.split_once('/') else {
        return false;
    };
    !archive.is_empty()
        && archive
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'.')
        && number.len() == 7
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Lower case, accents removed, punctuation turned into spaces, white space
/// collapsed: "The Café—Effect." and "the cafe effect" are equal.
pub fn normalize_title(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut pending_space = false;
    for c in title.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Whether a normalised title is specific enough to identify a paper on its
/// own. "Summary" or "Corresponding author" appear on many different papers
/// and must never merge them.
pub fn title_is_distinctive(normalized_title: &str) -> bool {
    normalized_title.split(' ').count() >= 3 && normalized_title.len() >= 20
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dois_normalise_from_every_common_spelling() {
        for input in [
            "10.1000/ABC.1",
            "doi:10.1000/abc.1",
            " https://doi.org/10.1000/abc.1 ",
            "http://dx.doi.org/10.1000/abc.1.",
        ] {
            assert_eq!(normalize_doi(input).as_deref(), Some("10.1000/abc.1"), "{input}");
        }
        for input in ["", "abc", "10.1000", "11.1000/x", "10.1000/", "10.10 00/x"] {
            assert_eq!(normalize_doi(input), None, "{input}");
        }
    }

    #[test]
    fn arxiv_ids_lose_prefixes_and_versions() {
        for (input, expected) in [
            ("arXiv:2301.01234v2", "2301.01234"),
            ("https://arxiv.org/abs/2301.01234", "2301.01234"),
            ("https://arxiv.org/pdf/2301.01234v3.pdf", "2301.01234"),
            ("0704.0001", "0704.0001"),
            ("hep-th/9901001v1", "hep-th/9901001"),
            ("math.AG/0101001", "math.ag/0101001"),
        ] {
            assert_eq!(normalize_arxiv_id(input).as_deref(), Some(expected), "{input}");
        }
        for input in ["", "2301.1", "v2", "arxiv:abc", "12345.67890"] {
            assert_eq!(normalize_arxiv_id(input), None, "{input}");
        }
    }

    #[test]
    fn titles_normalise_accents_case_and_punctuation() {
        assert_eq!(
            normalize_title("The Café—Effect: a {Study}."),
            "the cafe effect a study"
        );
        assert_eq!(normalize_title("  "), "");
        assert!(title_is_distinctive("large language models as hypothesis generators"));
        assert!(!title_is_distinctive("summary"));
        assert!(!title_is_distinctive("corresponding author"));
    }

    #[test]
    fn clean_text_collapses_whitespace_and_controls() {
        assert_eq!(clean_text("  a\n\tb \u{7}c  "), "a b c");
        assert_eq!(clean_text("cafe\u{301}"), "caf\u{e9}");
    }
}
