//! Positions in a user's text, for error messages that name the line.

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

/// `line N: message` when the offset is known, else the message alone.
pub fn at_line(text: &str, offset: Option<usize>, message: &str) -> String {
    match offset {
        Some(offset) => format!("line {}: {message}", line_of(text, offset)),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_from_one_and_offsets_past_the_end_are_the_last_line() {
        let text = "a\nb\nc";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 2), 2);
        assert_eq!(line_of(text, 99), 3);
        assert_eq!(at_line(text, Some(4), "bad"), "line 3: bad");
        assert_eq!(at_line(text, None, "bad"), "bad");
    }
}
