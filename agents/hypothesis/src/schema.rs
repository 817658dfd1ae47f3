use serde_json::{Value, json};

/// A hypothesis rests on at most this many passages.
pub const MAX_CITATIONS: usize = 4;

/// What the model answers for `gap` when its hypothesis addresses none of the gaps given.
pub const NO_GAP: &str = "none";

/// The answer's schema. Citations are an enum of the given passage ids, so
/// a grammar-constrained model cannot produce any other; when gaps are given, `gap` is one of their
/// ids or `none`, required.
pub fn hypothesis_schema(allowed_ids: &[String], gap_ids: &[&str]) -> Value {
    let text = |min: u32, max: u32| json!({ "type": "string", "minLength": min, "maxLength": max });
    let mut schema = json!({
        "type": "object",
        "properties": {
            "statement": text(10, 300),
            "rationale": text(10, 400),
            "prediction": text(10, 300),
            "experiment": text(10, 300),
            "citations": {
                "type": "array",
                "items": { "type": "string", "enum": allowed_ids },
                "minItems": 1,
                "maxItems": MAX_CITATIONS.min(allowed_ids.len().max(1)),
            },
        },
        "required": ["statement", "rationale", "prediction", "experiment", "citations"],
        "additionalProperties": false,
    });
    if !gap_ids.is_empty() {
        let mut choices: Vec<&str> = gap_ids.to_vec();
        choices.push(NO_GAP);
        schema["properties"]["gap"] = json!({ "type": "string", "enum": choices });
        if let Some(required) = schema["required"].as_array_mut() {
            required.push("gap".into());
        }
    }
    schema
}
