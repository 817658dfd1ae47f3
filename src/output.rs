//! Terminal presentation: colour only on a terminal and without NO_COLOR.

use std::io::IsTerminal;
use std::ops::Range;

#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    pub fn for_stdout() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: std::io::stdout().is_terminal() && !no_color,
        }
    }

    /// The text with its matched ranges in bold yellow on a terminal, or
    /// between `**` (Markdown bold) when the output is not a terminal.
    pub fn highlight(&self, text: &str, ranges: &[Range<usize>]) -> String {
        let (open, close) = if self.color {
            ("\x1b[1;33m", "\x1b[0m")
        } else {
            ("**", "**")
        };
        let mut out = String::with_capacity(text.len() + ranges.len() * 8);
        let mut last = 0;
        for range in ranges {
            let valid = range.start >= last
                && range.start <= range.end
                && range.end <= text.len()
                && text.is_char_boundary(range.start)
                && text.is_char_boundary(range.end);
            if !valid {
                continue;
            }
            out.push_str(&text[last..range.start]);
            out.push_str(open);
            out.push_str(&text[range.clone()]);
            out.push_str(close);
            last = range.end;
        }
        out.push_str(&text[last..]);
        out
    }

    pub fn bold(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn dim(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[2m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// `A, B and C` or `A, B, C et al.` for long lists.
pub fn short_authors(authors: &[String]) -> String {
    match authors {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [a, b, c] => format!("{a}, {b} and {c}"),
        [a, b, c, ..] => format!("{a}, {b}, {c} et al."),
    }
}

/// An error and its causes on one line. Library errors often name their cause in their own message
/// already (`{path}: {source}`); a cause the line already says is not said twice.
pub fn describe(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        // As thiserror writes `#[error("{path}: {source}")]`: the cause in the message and as source.
        #[derive(Debug)]
        struct Read {
            path: String,
            source: std::io::Error,
        }
        impl std::fmt::Display for Read {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}: {}", self.path, self.source)
            }
        }
        impl std::error::Error for Read {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.source)
            }
        }
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let error = anyhow::Error::new(Read {
            path: "/m/config.json".into(),
            source: io,
        })
        .context("cannot convert /m");
        assert_eq!(
            super::describe(&error),
            "cannot convert /m: /m/config.json: No such file or directory"
        );
        let plain = anyhow::anyhow!("outer").context("context");
        assert_eq!(super::describe(&plain), "context: outer");
    }

    use super::*;

    #[test]
    fn highlights_ranges_and_ignores_bad_ones() {
        let plain = Style { color: false };
        assert_eq!(
            plain.highlight("large language models", &[0..5, 15..21]),
            "**large** language **models**"
        );
        // Ranges from a snippet can be out of step with the text: never slice badly.
        let reversed = Range { start: 2, end: 1 };
        assert_eq!(plain.highlight("abc", &[reversed, 1..9]), "abc");
    }
}
