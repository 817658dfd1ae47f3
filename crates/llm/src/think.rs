/// Removes reasoning a model wrote before its answer: `<think>…</think>` blocks (DeepSeek-R1, Qwen3,
/// QwQ), and an unterminated `<think>` at the start (the answer was cut off while still reasoning).
/// Servers that separate reasoning into `reasoning_content` never reach this: backends drop that field.
pub fn strip_reasoning(text: &str) -> String {
    const OPEN: &str = "<think>";
    const CLOSE: &str = "</think>";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Some chat templates open the think block in the prompt, so the answer starts inside it.
    if !rest.contains(OPEN)
        && let Some(end) = rest.find(CLOSE)
    {
        rest = &rest[end + CLOSE.len()..];
    }
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        match rest[start..].find(CLOSE) {
            Some(end) => rest = &rest[start + end + CLOSE.len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::strip_reasoning;

    #[test]
    fn removes_think_blocks_and_keeps_the_answer() {
        assert_eq!(strip_reasoning("<think>hmm, 2+2</think>\n\n{\"a\": 4}"), "{\"a\": 4}");
        assert_eq!(strip_reasoning("A <think>x</think>B<think>y</think> C"), "A B C");
        assert_eq!(strip_reasoning("plain answer"), "plain answer");
    }

    #[test]
    fn answer_that_begins_inside_a_think_block() {
        assert_eq!(strip_reasoning("reasoning only here</think>The answer."), "The answer.");
    }

    #[test]
    fn unterminated_reasoning_leaves_nothing() {
        assert_eq!(strip_reasoning("<think>still going"), "");
    }
}
