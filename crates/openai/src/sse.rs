//! Server-sent events, as far as chat completion streams use them: `data:` lines (several make one
//! event, joined by newlines), `event:` names, `:` comments, events ended by a blank line. Bytes may
//! arrive split anywhere, even inside a UTF-8 character.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if any (chat streams send none; some servers name errors `error`).
    pub event: Option<String>,
    pub data: String,
}

impl SseEvent {
    /// The `data: [DONE]` sentinel that ends an OpenAI stream.
    pub fn is_done(&self) -> bool {
        self.data.trim() == "[DONE]"
    }
}

#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the current, unfinished line.
    line: Vec<u8>,
    /// A `\r` ended the last line; a `\n` right after it belongs to the same line break.
    after_cr: bool,
    data: String,
    has_data: bool,
    event: Option<String>,
}

impl SseParser {
    pub fn new() -> Self {
        SseParser::default()
    }

    /// Feeds bytes as they arrive; returns the events they completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &byte in bytes {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    continue;
                }
            }
            match byte {
                b'\n' => self.end_line(&mut events),
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut events);
                }
                _ => self.line.push(byte),
            }
        }
        events
    }

    /// The stream ended. A last event without its closing blank line (or even its final newline) is
    /// still dispatched: servers that close right after `data: [DONE]` are common.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let mut events = Vec::new();
        if !self.line.is_empty() {
            self.end_line(&mut events);
        }
        self.end_line(&mut events);
        events.pop()
    }

    fn end_line(&mut self, events: &mut Vec<SseEvent>) {
        if self.line.is_empty() {
            if self.has_data {
                let mut data = std::mem::take(&mut self.data);
                if data.ends_with('\n') {
                    data.pop();
                }
                events.push(SseEvent {
                    event: self.event.take(),
                    data,
                });
            }
            self.has_data = false;
            self.event = None;
            return;
        }
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match field {
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            // `id` and `retry` only matter for reconnecting, which a chat stream never does.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|event| event.data.as_str()).collect()
    }

    #[test]
    fn data_lines_and_blank_line_separators() {
        let mut parser = SseParser::new();
        let events = parser.push(b"data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n");
        assert_eq!(data(&events), ["{\"a\":1}", "{\"a\":2}", "[DONE]"]);
        assert!(events[2].is_done());
        assert_eq!(parser.finish(), None);
    }

    #[test]
    fn several_data_lines_make_one_event() {
        let mut parser = SseParser::new();
        let events = parser.push(b"data: {\"a\":\ndata: 1}\n\n");
        assert_eq!(data(&events), ["{\"a\":\n1}"]);
    }

    #[test]
    fn comments_event_names_and_unknown_fields() {
        let mut parser = SseParser::new();
        let events = parser.push(b": keep-alive\n\nid: 7\nretry: 100\nevent: error\ndata:{\"x\":1}\n\n");
        assert_eq!(
            events,
            [SseEvent {
                event: Some("error".into()),
                data: "{\"x\":1}".into()
            }]
        );
    }

    #[test]
    fn a_comment_only_block_dispatches_nothing() {
        let mut parser = SseParser::new();
        assert!(parser.push(b":ping\n\n:ping\n\n").is_empty());
    }

    #[test]
    fn crlf_and_cr_line_endings() {
        let mut parser = SseParser::new();
        let events = parser.push(b"data: one\r\n\r\ndata: two\r\rdata: three\n\n");
        assert_eq!(data(&events), ["one", "two", "three"]);
    }

    #[test]
    fn bytes_split_anywhere_even_inside_a_character_or_a_crlf() {
        let text = "data: {\"c\":\"héllo wörld\"}\r\n\r\ndata: [DONE]\r\n\r\n".as_bytes();
        for split in 0..text.len() {
            let mut parser = SseParser::new();
            let mut events = parser.push(&text[..split]);
            events.extend(parser.push(&text[split..]));
            assert_eq!(data(&events), ["{\"c\":\"héllo wörld\"}", "[DONE]"], "split at {split}");
        }
    }

    #[test]
    fn the_last_event_may_lack_its_blank_line_or_newline() {
        let mut parser = SseParser::new();
        assert_eq!(data(&parser.push(b"data: a\n\ndata: [DONE]")), ["a"]);
        assert_eq!(parser.finish().map(|event| event.data), Some("[DONE]".into()));
        let mut parser = SseParser::new();
        assert!(parser.push(b"data: b\n").is_empty());
        assert_eq!(parser.finish().map(|event| event.data), Some("b".into()));
    }

    #[test]
    fn an_empty_data_field_is_an_empty_event() {
        let mut parser = SseParser::new();
        let events = parser.push(b"data\n\ndata:\n\n");
        assert_eq!(data(&events), ["", ""]);
    }
}
