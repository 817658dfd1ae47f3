//! Text from papers and models is data in every format: each format's escaping lives here.

/// White space (newlines included) collapsed to single spaces, so no text can start a new block.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// HTML text and attribute values.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Markdown inline text that renders as itself in CommonMark, GitHub, Obsidian and pandoc: every
/// character that could open markup, raw HTML, math or a pandoc citation (`@key`) is backslash-escaped.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '@' | '|' | '#' | '~' | '$' | '^' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A BibTeX field value inside braces: LaTeX's special characters escaped, braces balanced.
pub fn bibtex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            '&' | '%' | '$' | '#' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            c => out.push(c),
        }
    }
    out
}

/// A Graphviz double-quoted string.
pub fn dot(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, cut at a word where possible, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    let text = one_line(text);
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > cut.len() / 2 => cut[..space].to_owned(),
        _ => cut,
    };
    format!("{}…", cut.trim_end())
}

/// A URL a report may link to: http(s) only (never `javascript:` or `data:`), with characters that
/// break out of an attribute or a Markdown link percent-encoded.
pub fn safe_url(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return None;
    }
    Some(percent_encode_unsafe(url))
}

pub fn doi_url(doi: &str) -> String {
    format!("https://doi.org/{}", percent_encode_unsafe(doi))
}

pub fn arxiv_url(id: &str) -> String {
    format!("https://arxiv.org/abs/{}", percent_encode_unsafe(id))
}

fn percent_encode_unsafe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte <= b' ' || byte >= 0x7f || matches!(byte, b'"' | b'\'' | b'<' | b'>' | b'\\' | b'(' | b')' | b'`') {
            out.push_str(&format!("%{byte:02X}"));
        } else {
            out.push(byte as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            html("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn markdown_escapes_what_would_render_as_markup() {
        assert_eq!(
            markdown("a *b*\n# c [@key] <x>"),
            "a \\*b\\* \\# c \\[\\@key\\] \\<x\\>"
        );
        assert_eq!(markdown("plain words, 3.5%"), "plain words, 3.5%");
    }

    #[test]
    fn bibtex_escapes_latex_specials() {
        assert_eq!(
            bibtex("50% of {A} & B_1 #2 $x$ ~ ^ \\"),
            "50\\% of \\{A\\} \\& B\\_1 \\#2 \\$x\\$ \\textasciitilde{} \\textasciicircum{} \\textbackslash{}"
        );
    }

    #[test]
    fn dot_escapes_quotes_and_backslashes() {
        assert_eq!(dot("say \"hi\"\\n\nnext"), "say \\\"hi\\\"\\\\n next");
    }

    #[test]
    fn urls_are_http_only_and_cannot_break_out() {
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(safe_url("data:text/html,x"), None);
        assert_eq!(
            safe_url("https://example.org/a b\"><script>").as_deref(),
            Some("https://example.org/a%20b%22%3E%3Cscript%3E")
        );
        assert_eq!(doi_url("10.1000/x(1)"), "https://doi.org/10.1000/x%281%29");
    }

    #[test]
    fn truncation_respects_characters_and_words() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("one two three four", 12), "one two…");
        assert_eq!(truncate("ééééééééééé", 5), "éééé…");
    }
}
