use serde_json::{Value, json};

/// A hypothesis rests on at most this many passages.
pub const MAX_CITATIONS: usize = 4;

/// The answer's schema. Citations are an enum of the given passage ids, so
/// a grammar-constrained model cannot produce any other.
pub fn hypothesis_schema(allowed_ids: &[String]) -> Value {
    let text = |min: u32, max: u32| json!({ "type": "string", "minLength": min, "maxLength": max });
    json!({
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
    })
}
