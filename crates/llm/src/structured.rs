use serde_json::Value;

use crate::LlmError;
use crate::think::strip_reasoning;

/// A JSON schema checked once and then used to validate every answer given against it.
pub struct CompiledSchema {
    schema: Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSchema").field("schema", &self.schema).finish()
    }
}

/// How many violations an error message lists; the rest are counted.
const SHOWN_VIOLATIONS: usize = 3;

impl CompiledSchema {
    pub fn new(schema: &Value) -> Result<Self, LlmError> {
        let validator = jsonschema::validator_for(schema)
            .map_err(|error| LlmError::Permanent(format!("the JSON schema is not valid: {error}")))?;
        Ok(CompiledSchema {
            schema: schema.clone(),
            validator,
        })
    }

    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// `Err` lists where the value breaks the schema, e.g. `/score: 7 is greater than the maximum of 5`.
    pub fn validate(&self, value: &Value) -> Result<(), String> {
        let mut problems = Vec::new();
        let mut total = 0usize;
        for error in self.validator.iter_errors(value) {
            total += 1;
            if problems.len() < SHOWN_VIOLATIONS {
                let path = error.instance_path().to_string();
                let at = if path.is_empty() {
                    "the answer".to_string()
                } else {
                    path
                };
                problems.push(format!("{at}: {error}"));
            }
        }
        if total == 0 {
            return Ok(());
        }
        let mut message = problems.join("; ");
        if total > problems.len() {
            message.push_str(&format!("; and {} more", total - problems.len()));
        }
        Err(message)
    }

    /// Parses an answer and validates it: the only way a model's JSON becomes a value.
    pub fn parse_answer(&self, text: &str) -> Result<Value, String> {
        let value = extract_json(text)?;
        self.validate(&value)?;
        Ok(value)
    }
}

/// Finds the JSON value in a model's answer: the whole answer, a fenced ```json block, or the first
/// value that starts at a `{` or `[` (models sometimes add a sentence before or after it).
pub fn extract_json(text: &str) -> Result<Value, String> {
    let answer = strip_reasoning(text);
    let answer = answer.trim();
    if answer.is_empty() {
        return Err("the answer is empty".into());
    }
    let whole_error = match serde_json::from_str::<Value>(answer) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    // Some servers' JSON modes let raw control characters (a newline, a tab) into strings. JSON
    // forbids them, but what they mean is unambiguous: read them as their escapes.
    if let Some(escaped) = escape_raw_controls_in_strings(answer)
        && let Ok(value) = extract_json(&escaped)
    {
        return Ok(value);
    }
    if let Some(fenced) = fenced_block(answer)
        && let Ok(value) = serde_json::from_str::<Value>(fenced.trim())
    {
        return Ok(value);
    }
    if let Some(start) = answer.find(['{', '['])
        && let Some(Ok(value)) = serde_json::Deserializer::from_str(&answer[start..])
            .into_iter::<Value>()
            .next()
    {
        return Ok(value);
    }
    Err(format!("it is not JSON ({whole_error})"))
}

/// `text` with every raw control character inside a JSON string replaced by its escape, or `None`
/// when there was none to replace.
fn escape_raw_controls_in_strings(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    let mut replaced = false;
    for c in text.chars() {
        if in_string && !escaped && u32::from(c) < 0x20 {
            replaced = true;
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                other => out.push_str(&format!("\\u{:04x}", u32::from(other))),
            }
            continue;
        }
        out.push(c);
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
    }
    replaced.then_some(out)
}

fn fenced_block(text: &str) -> Option<&str> {
    let start = text.find("```")?;
    let after = &text[start + 3..];
    let body_start = after.find('\n')? + 1;
    let body = &after[body_start..];
    let end = body.find("```")?;
    Some(&body[..end])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn score_schema() -> CompiledSchema {
        let schema = json!({
            "type": "object",
            "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5}, "why": {"type": "string"}},
            "required": ["score", "why"],
            "additionalProperties": false
        });
        CompiledSchema::new(&schema).expect("valid schema")
    }

    #[test]
    fn accepts_valid_answers_in_the_shapes_models_write() {
        let schema = score_schema();
        for text in [
            r#"{"score": 3, "why": "ok"}"#,
            "<think>let me see</think>{\"score\": 3, \"why\": \"ok\"}",
            "```json\n{\"score\": 3, \"why\": \"ok\"}\n```",
            "Here it is: {\"score\": 3, \"why\": \"ok\"} Hope that helps.",
        ] {
            assert_eq!(
                schema.parse_answer(text),
                Ok(json!({"score": 3, "why": "ok"})),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_violations_with_their_location() {
        let schema = score_schema();
        let error = schema
            .parse_answer(r#"{"score": 9, "why": "ok"}"#)
            .expect_err("out of range");
        assert!(error.starts_with("/score:"), "{error}");
        assert!(error.contains('9'), "{error}");
        let error = schema.parse_answer(r#"{"score": 2}"#).expect_err("missing field");
        assert!(error.contains("why"), "{error}");
    }

    #[test]
    fn raw_control_characters_inside_strings_are_read_as_their_escapes() {
        let schema = score_schema();
        // As llama-cpp-python's JSON mode sends them: a raw newline and tab inside a string.
        let text = "{\"score\": 3, \"why\": \"first line\nsecond\tcolumn \\\"quoted\\\"\"}";
        assert_eq!(
            schema.parse_answer(text),
            Ok(json!({"score": 3, "why": "first line\nsecond\tcolumn \"quoted\""}))
        );
        // Between tokens they are whitespace, already valid; nothing to repair there.
        assert_eq!(escape_raw_controls_in_strings("{\n\"score\": 3}"), None);
        assert_eq!(
            escape_raw_controls_in_strings("[\"a\u{1}b\"]").as_deref(),
            Some("[\"a\\u0001b\"]")
        );
    }

    #[test]
    fn rejects_numbers_no_json_parser_accepts() {
        let schema = score_schema();
        let error = schema
            .parse_answer(r#"{"score": 9e327397769, "why": "x"}"#)
            .expect_err("overflow");
        assert!(error.contains("not JSON"), "{error}");
    }

    #[test]
    fn rejects_text_that_is_not_json() {
        let schema = score_schema();
        assert!(schema.parse_answer("I think the score is three.").is_err());
        assert_eq!(schema.parse_answer("   "), Err("the answer is empty".to_string()));
    }

    #[test]
    fn invalid_schema_is_a_permanent_error() {
        let error = CompiledSchema::new(&json!({"type": "no-such-type"})).expect_err("invalid");
        assert_eq!(error.kind(), crate::ErrorKind::Permanent);
    }
}
