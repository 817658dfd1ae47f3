//! Bounds that make a structured answer close within its token budget.
//!
//! A grammar keeps an answer's syntax valid but cannot make a model stop: a free string lets a small
//! model ramble until `max_tokens` cuts it, and a cut answer is no JSON at all. So every string the
//! schema leaves unbounded gets a `maxLength`, and every unbounded array a `maxItems`, sized so that
//! the whole answer fits the budget. Only the schema sent to the model is bounded; answers are
//! validated against the caller's schema.

use serde_json::{Map, Value};

/// Characters a token holds at the least, in the tokenizers we meet (English prose averages ~4).
const CHARS_PER_TOKEN: u64 = 2;
/// Tokens set aside for the JSON around the strings (keys, quotes, brackets).
const STRUCTURE_TOKENS: u64 = 48;
/// Items an unbounded array may hold.
const DEFAULT_MAX_ITEMS: u64 = 8;
/// Never bound a string below this: a budget too small for it fails the same either way.
const MIN_STRING_CHARS: u64 = 16;

/// `schema` with every unbounded string and array bounded so the answer fits `max_tokens`, and the
/// bounds it has scaled down when together they would not fit.
pub fn bounded_for_budget(schema: &Value, max_tokens: u32) -> Value {
    let mut bounded = schema.clone();
    bound_arrays(&mut bounded);
    let budget_chars = u64::from(max_tokens).saturating_sub(STRUCTURE_TOKENS) * CHARS_PER_TOKEN;
    let free_strings = count_free_strings(&bounded, 1);
    // What the bounded strings leave is shared by the free ones.
    let left = budget_chars.saturating_sub(longest_text(&bounded, 1));
    if let Some(per_string) = left.checked_div(free_strings) {
        bound_strings(&mut bounded, per_string.max(MIN_STRING_CHARS));
    }
    let longest = longest_text(&bounded, 1);
    if longest > budget_chars {
        scale_bounds(&mut bounded, budget_chars as f64 / longest as f64);
    }
    bounded
}

/// The most characters the schema's strings can hold together.
fn longest_text(schema: &Value, weight: u64) -> u64 {
    weighted_sum(schema, weight, &|object| {
        object.get("maxLength").and_then(Value::as_u64).unwrap_or(0)
    })
}

fn scale_bounds(schema: &mut Value, factor: f64) {
    let Value::Object(object) = schema else { return };
    if let Some(max) = object.get("maxLength").and_then(Value::as_u64) {
        let min = object.get("minLength").and_then(Value::as_u64).unwrap_or(0);
        let scaled = ((max as f64 * factor).floor() as u64).max(MIN_STRING_CHARS).max(min);
        object.insert("maxLength".into(), scaled.min(max).into());
    }
    for child in children_mut(object) {
        scale_bounds(child, factor);
    }
}

fn is_free_string(object: &Map<String, Value>) -> bool {
    let is_string = object.get("type").is_some_and(|t| t == "string");
    is_string
        && !["maxLength", "enum", "const", "pattern", "format"]
            .iter()
            .any(|key| object.contains_key(*key))
}

/// Every subschema, depth first: `properties`, `items`, `anyOf`/`oneOf`/`allOf`, `$defs`/`definitions`.
fn children_mut(object: &mut Map<String, Value>) -> Vec<&mut Value> {
    let mut children = Vec::new();
    for (key, value) in object.iter_mut() {
        match key.as_str() {
            "properties" | "$defs" | "definitions" | "patternProperties" => {
                if let Value::Object(map) = value {
                    children.extend(map.values_mut());
                }
            }
            "items" | "additionalProperties" | "not" => children.push(value),
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                if let Value::Array(list) = value {
                    children.extend(list.iter_mut());
                }
            }
            _ => {}
        }
    }
    children
}

fn bound_arrays(schema: &mut Value) {
    let Value::Object(object) = schema else { return };
    if object.get("type").is_some_and(|t| t == "array") && !object.contains_key("maxItems") {
        let min = object.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        object.insert("maxItems".into(), DEFAULT_MAX_ITEMS.max(min).into());
    }
    for child in children_mut(object) {
        bound_arrays(child);
    }
}

/// Free strings, each weighted by how many times it can occur (the `maxItems` of enclosing arrays).
fn count_free_strings(schema: &Value, weight: u64) -> u64 {
    weighted_sum(schema, weight, &|object| u64::from(is_free_string(object)))
}

/// `own` of every subschema, each times how many times it can occur in an answer (the `maxItems` of
/// the arrays around it); of alternatives (`anyOf`, `oneOf`) only the largest counts.
fn weighted_sum(schema: &Value, weight: u64, own: &dyn Fn(&Map<String, Value>) -> u64) -> u64 {
    let Value::Object(object) = schema else { return 0 };
    let items = object.get("maxItems").and_then(Value::as_u64).unwrap_or(1).max(1);
    let mut total = own(object).saturating_mul(weight);
    for (key, value) in object {
        let inner = if key == "items" {
            weight.saturating_mul(items)
        } else {
            weight
        };
        let sum = |child: &Value| weighted_sum(child, inner, own);
        total += match (key.as_str(), value) {
            ("properties" | "$defs" | "definitions" | "patternProperties", Value::Object(map)) => {
                map.values().map(sum).sum::<u64>()
            }
            ("items" | "additionalProperties" | "not", child) => sum(child),
            ("anyOf" | "oneOf", Value::Array(list)) => list.iter().map(sum).max().unwrap_or(0),
            ("allOf" | "prefixItems", Value::Array(list)) => list.iter().map(sum).sum::<u64>(),
            _ => 0,
        };
    }
    total
}

fn bound_strings(schema: &mut Value, max_chars: u64) {
    let Value::Object(object) = schema else { return };
    if is_free_string(object) {
        let min = object.get("minLength").and_then(Value::as_u64).unwrap_or(0);
        object.insert("maxLength".into(), max_chars.max(min).into());
    }
    for child in children_mut(object) {
        bound_strings(child, max_chars);
    }
}

/// Tokens of whitespace counted per key or item: a grammar lets a model indent and break lines
/// between them, and small models do.
const WHITESPACE_TOKENS: u64 = 3;
/// Characters counted for a value whose length the schema cannot bound (a number, say).
const SCALAR_CHARS: u64 = 12;

/// The most tokens an answer satisfying `schema` can take, at one token per character (the worst a
/// tokenizer does on text that is not prose: a small model rambling in punctuation, or keys of ids)
/// with its keys, quotes, brackets and whitespace. A call whose `max_tokens` is this can be cut off by
/// nothing but the schema's own bounds, so its answer is never cut into invalid JSON. A string without
/// `maxLength` counts as the shortest bound [`bounded_for_budget`] gives one: bound the strings that
/// matter before asking.
pub fn answer_token_ceiling(schema: &Value) -> u32 {
    u32::try_from(ceiling_chars(schema)).unwrap_or(u32::MAX)
}

fn ceiling_chars(schema: &Value) -> u64 {
    let Value::Object(object) = schema else {
        return SCALAR_CHARS;
    };
    if let Some(Value::Array(values)) = object.get("enum") {
        return values
            .iter()
            .map(|v| v.to_string().chars().count() as u64)
            .max()
            .unwrap_or(0);
    }
    let alternatives = ["anyOf", "oneOf"]
        .iter()
        .filter_map(|key| object.get(*key).and_then(Value::as_array))
        .flat_map(|list| list.iter().map(ceiling_chars))
        .max();
    if let Some(longest) = alternatives {
        return longest;
    }
    let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "string" => {
            2 + object
                .get("maxLength")
                .and_then(Value::as_u64)
                .unwrap_or(MIN_STRING_CHARS)
        }
        "array" => {
            let items = object
                .get("maxItems")
                .and_then(Value::as_u64)
                .unwrap_or(DEFAULT_MAX_ITEMS);
            let item = object.get("items").map_or(SCALAR_CHARS, ceiling_chars);
            2 + items.saturating_mul(item + 1 + WHITESPACE_TOKENS)
        }
        "object" => {
            let properties = object.get("properties").and_then(Value::as_object);
            2 + properties.map_or(0, |map| {
                map.iter()
                    .map(|(key, value)| key.chars().count() as u64 + 4 + WHITESPACE_TOKENS + ceiling_chars(value))
                    .sum()
            })
        }
        _ => SCALAR_CHARS,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn free_strings_share_the_budget_and_bounded_ones_are_left_alone() {
        let schema = json!({
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "summary": {"type": "string", "minLength": 3},
                "label": {"type": "string", "enum": ["a", "b"]},
                "short": {"type": "string", "maxLength": 10},
            },
        });
        let bounded = bounded_for_budget(&schema, 248);
        // (248 - 48) tokens × 2 characters, less the 10 bounded ones, shared by two free strings.
        assert_eq!(bounded["properties"]["title"]["maxLength"], 195);
        assert_eq!(bounded["properties"]["summary"]["maxLength"], 195);
        assert_eq!(bounded["properties"]["summary"]["minLength"], 3);
        assert!(bounded["properties"]["label"].get("maxLength").is_none());
        assert_eq!(bounded["properties"]["short"]["maxLength"], 10);
    }

    #[test]
    fn arrays_get_an_item_bound_that_weighs_their_strings() {
        let schema = json!({"type": "array", "items": {"type": "string"}});
        let bounded = bounded_for_budget(&schema, 448);
        assert_eq!(bounded["maxItems"], DEFAULT_MAX_ITEMS);
        assert_eq!(bounded["items"]["maxLength"], 100);
        let at_least = bounded_for_budget(&json!({"type": "array", "minItems": 12}), 100);
        assert_eq!(at_least["maxItems"], 12);
    }

    #[test]
    fn a_tiny_budget_still_leaves_a_usable_string() {
        let bounded = bounded_for_budget(&json!({"type": "string"}), 10);
        assert_eq!(bounded["maxLength"], MIN_STRING_CHARS);
    }

    #[test]
    fn bounds_that_cannot_all_fit_the_budget_are_scaled_down() {
        let text = json!({"type": "string", "minLength": 10, "maxLength": 300});
        let schema = json!({
            "type": "object",
            "properties": {"a": text, "b": text, "c": text, "tags": {"type": "array", "maxItems": 2,
                "items": {"type": "string", "maxLength": 50}}},
        });
        // 3 × 300 + 2 × 50 = 1000 characters against (400 - 48) × 2 = 704.
        let bounded = bounded_for_budget(&schema, 400);
        assert_eq!(bounded["properties"]["a"]["maxLength"], 211);
        assert_eq!(bounded["properties"]["a"]["minLength"], 10);
        assert_eq!(bounded["properties"]["tags"]["items"]["maxLength"], 35);
        assert!(longest_text(&bounded, 1) <= 704);
        // With room to spare nothing changes.
        assert_eq!(bounded_for_budget(&schema, 2000), schema);
    }

    #[test]
    fn a_bounded_schema_is_unchanged() {
        let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}}});
        assert_eq!(bounded_for_budget(&schema, 100), schema);
    }

    #[test]
    fn the_ceiling_counts_every_character_an_answer_can_hold() {
        let schema = json!({
            "type": "object",
            "properties": {
                "label": {"type": "string", "enum": ["supports", "unrelated"]},
                "reason": {"type": "string", "maxLength": 100},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "string", "maxLength": 10}},
            },
        });
        // {} + "label": "unrelated" + "reason": 100 + 2 quotes + "tags": [2 × (12 + comma)] + whitespace.
        let label = 5 + 4 + 3 + 11;
        let reason = 6 + 4 + 3 + 102;
        let tags = 4 + 4 + 3 + 2 + 2 * (12 + 1 + 3);
        assert_eq!(answer_token_ceiling(&schema), 2 + label + reason + tags);
        // Every answer the schema allows fits; a longer reason raises the ceiling by as much.
        let longest =
            json!({"label": "unrelated", "reason": "x".repeat(100), "tags": ["y".repeat(10), "z".repeat(10)]});
        // Pretty-printed, each run of whitespace one token (as tokenizers merge them).
        let pretty = serde_json::to_string_pretty(&longest).expect("JSON");
        let tokens = pretty
            .split_whitespace()
            .map(|word| word.chars().count() + 1)
            .sum::<usize>();
        assert!(tokens as u32 <= answer_token_ceiling(&schema), "{tokens}");
    }
}
