/// The answer text of one request as its tokens arrive: bytes completed into UTF-8, stop strings
/// found and cut, and the part safe to stream (text that could still become a stop string is held back).
#[derive(Debug, Default)]
pub(crate) struct AnswerText {
    text: String,
    pending: Vec<u8>,
    stops: Vec<String>,
    streamed: usize,
    stopped: bool,
}

impl AnswerText {
    pub(crate) fn new(stops: Vec<String>) -> Self {
        let stops = stops.into_iter().filter(|stop| !stop.is_empty()).collect();
        AnswerText {
            stops,
            ..AnswerText::default()
        }
    }

    /// Whether adding these bytes keeps the answer valid UTF-8 (an unfinished character is fine).
    /// llama.cpp's grammar decoder lets overlong forms and surrogates through; Rust's does not.
    pub(crate) fn accepts(&self, piece: &[u8]) -> bool {
        let mut bytes = self.pending.clone();
        bytes.extend_from_slice(piece);
        match std::str::from_utf8(&bytes) {
            Ok(_) => true,
            Err(error) => error.error_len().is_none(),
        }
    }

    /// Adds a token's bytes; returns true when a stop string has appeared (the text is cut before it).
    pub(crate) fn push(&mut self, piece: &[u8]) -> bool {
        if self.stopped {
            return true;
        }
        self.pending.extend_from_slice(piece);
        let valid_up_to = match std::str::from_utf8(&self.pending) {
            Ok(text) => text.len(),
            Err(error) if error.error_len().is_some() => {
                // Invalid bytes (not just an unfinished character) become U+FFFD rather than stalling.
                let lossy = String::from_utf8_lossy(&self.pending).into_owned();
                self.pending.clear();
                self.append(&lossy);
                return self.stopped;
            }
            Err(error) => error.valid_up_to(),
        };
        let complete: Vec<u8> = self.pending.drain(..valid_up_to).collect();
        let complete = String::from_utf8_lossy(&complete).into_owned();
        self.append(&complete);
        self.stopped
    }

    fn append(&mut self, fresh: &str) {
        let longest_stop = self.stops.iter().map(String::len).max().unwrap_or(0);
        // A stop string can straddle the old text and the new piece.
        let mut search_from = self.text.len().saturating_sub(longest_stop.saturating_sub(1));
        while !self.text.is_char_boundary(search_from) {
            search_from -= 1;
        }
        self.text.push_str(fresh);
        let cut = self
            .stops
            .iter()
            .filter_map(|stop| self.text[search_from..].find(stop.as_str()))
            .min();
        if let Some(offset) = cut {
            self.text.truncate(search_from + offset);
            self.stopped = true;
        }
    }

    /// Text not yet streamed that can no longer turn into a stop string.
    pub(crate) fn take_streamable(&mut self) -> Option<String> {
        let mut safe_end = self.text.len();
        if !self.stopped {
            for stop in &self.stops {
                for prefix_len in (1..stop.len()).rev() {
                    if stop.is_char_boundary(prefix_len) && self.text.ends_with(&stop[..prefix_len]) {
                        safe_end = safe_end.min(self.text.len() - prefix_len);
                        break;
                    }
                }
            }
        }
        if safe_end <= self.streamed {
            return None;
        }
        let piece = self.text[self.streamed..safe_end].to_string();
        self.streamed = safe_end;
        Some(piece)
    }

    /// Ends the answer: any unfinished character becomes U+FFFD.
    pub(crate) fn finish(&mut self) -> Option<String> {
        if !self.pending.is_empty() && !self.stopped {
            let rest = String::from_utf8_lossy(&self.pending).into_owned();
            self.pending.clear();
            self.append(&rest);
        }
        self.stopped = true;
        self.take_streamable()
    }

    pub(crate) fn into_text(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::AnswerText;

    #[test]
    fn joins_characters_split_across_tokens() {
        let mut answer = AnswerText::new(vec![]);
        let bytes = "é∑".as_bytes();
        for byte in bytes {
            answer.push(&[*byte]);
        }
        assert_eq!(answer.finish(), Some("é∑".to_string()));
        assert_eq!(answer.into_text(), "é∑");
    }

    #[test]
    fn stop_string_across_pieces_is_cut_and_never_streamed() {
        let mut answer = AnswerText::new(vec!["END".into()]);
        let mut streamed = String::new();
        for piece in ["Hello E", "N", "D and more"] {
            let stopped = answer.push(piece.as_bytes());
            if let Some(text) = answer.take_streamable() {
                streamed.push_str(&text);
            }
            if stopped {
                break;
            }
        }
        if let Some(text) = answer.finish() {
            streamed.push_str(&text);
        }
        assert_eq!(streamed, "Hello ");
        assert_eq!(answer.into_text(), "Hello ");
    }

    #[test]
    fn held_back_text_is_released_when_it_is_not_a_stop() {
        let mut answer = AnswerText::new(vec!["\n\n".into()]);
        answer.push(b"a\n");
        assert_eq!(answer.take_streamable(), Some("a".to_string()));
        answer.push(b"b");
        assert_eq!(answer.take_streamable(), Some("\nb".to_string()));
    }

    #[test]
    fn only_bytes_that_can_still_form_utf8_are_accepted() {
        let mut answer = AnswerText::new(vec![]);
        assert!(answer.accepts(&[0xe2]), "the start of a three-byte character");
        answer.push(&[0xe2]);
        assert!(answer.accepts(&[0x88]));
        assert!(!answer.accepts(b"a"), "a character cut short");
        assert!(!AnswerText::new(vec![]).accepts(&[0xc0, 0x80]), "overlong form");
        assert!(!AnswerText::new(vec![]).accepts(&[0xed, 0xa0, 0x80]), "surrogate");
        assert!(!AnswerText::new(vec![]).accepts(&[0xff]));
    }

    #[test]
    fn invalid_bytes_do_not_stall_the_text() {
        let mut answer = AnswerText::new(vec![]);
        answer.push(&[0xff, b'a']);
        assert_eq!(answer.take_streamable(), Some("\u{fffd}a".to_string()));
    }
}
