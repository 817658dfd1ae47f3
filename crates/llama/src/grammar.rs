use hypatia_llm::LlmError;
use serde_json::Value;

/// llama.cpp's schema converter lets a number carry an exponent of up to 16 digits, so a random or
/// confused model can emit `9e327397769`, which no JSON parser accepts. Numbers here are decimals with
/// at most 16 digits either side of the point: always parseable, always finite.
const UNBOUNDED_EXPONENT: &str = r#"([eE] [-+]? integral-part)?"#;

/// Converts a JSON schema to a GBNF grammar (root rule `root`) whose every sentence parses as JSON.
pub fn schema_to_grammar(schema: &Value) -> Result<String, LlmError> {
    let grammar = llama_cpp_2::json_schema_to_grammar(&schema.to_string()).map_err(|error| {
        LlmError::Permanent(format!(
            "llama.cpp cannot turn this JSON schema into a grammar: {error}"
        ))
    })?;
    Ok(bound_numbers(&grammar))
}

/// The converter's integers allow `-0`, which serde_json reads as the float -0.0, so it does not
/// deserialize into an integer type. A minus sign must be followed by a non-zero digit.
const SIGNED_INTEGER: &str = r#"("-"? integral-part)"#;
const SIGNED_INTEGER_WITHOUT_MINUS_ZERO: &str = r#"("-" [1-9] [0-9]{0,15} | integral-part)"#;

fn bound_numbers(grammar: &str) -> String {
    grammar
        .lines()
        .map(|line| {
            if line.starts_with("number ::=") {
                line.replace(UNBOUNDED_EXPONENT, "").trim_end().to_string()
            } else if line.starts_with("integer ::=") {
                line.replace(SIGNED_INTEGER, SIGNED_INTEGER_WITHOUT_MINUS_ZERO)
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_in_the_grammar_have_no_exponent() {
        let grammar = schema_to_grammar(&json!({
            "type": "object",
            "properties": {"x": {"type": "number"}, "n": {"type": "integer"}},
            "required": ["x", "n"]
        }))
        .expect("grammar");
        let number = grammar
            .lines()
            .find(|line| line.starts_with("number ::="))
            .expect("a number rule");
        assert!(!number.contains("[eE]"), "{number}");
        assert!(number.contains("integral-part"), "{number}");
        let integer = grammar
            .lines()
            .find(|line| line.starts_with("integer ::="))
            .expect("an integer rule");
        assert!(integer.contains(SIGNED_INTEGER_WITHOUT_MINUS_ZERO), "{integer}");
    }

    #[test]
    fn unsupported_schema_is_a_permanent_error() {
        let error = schema_to_grammar(&json!({"$ref": "#/definitions/missing"})).expect_err("bad ref");
        assert_eq!(error.kind(), hypatia_llm::ErrorKind::Permanent);
    }
}
