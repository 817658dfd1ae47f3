//! What a schema cannot check in a model's answer: that its prose fields are prose.
//!
//! A grammar-valid answer can still be empty of meaning: a statement that is a passage id
//! (`p3977f41517b5#0`), a prediction that is a number (`08012101615`), a critique of two words, a
//! statement copied from an abstract. [`ProseCheck`] refuses those with a reason the model is re-asked
//! with, as for invalid JSON, so none of them reaches the journal.

use serde_json::Value;

/// A shared run of this many words with a passage is a copy, however long the field.
const COPIED_RUN_WORDS: usize = 12;
/// ... and so is a field of which this share, in one run, is a passage's words.
const COPIED_SHARE: f64 = 0.8;
/// Fields shorter than this are not tested for the share (a short phrase may recur legitimately).
const SHARE_MIN_WORDS: usize = 6;

/// One prose field: where it is in the answer and how many words it needs at least.
#[derive(Debug, Clone)]
struct Field {
    /// Path of object keys; `*` stands for every element of an array (or value of an object).
    path: Vec<&'static str>,
    min_words: usize,
    /// Whether it must not copy the evidence.
    own_words: bool,
}

/// The prose rules for one kind of answer, and the passages it must not copy.
#[derive(Debug, Clone, Default)]
pub struct ProseCheck {
    fields: Vec<Field>,
    sources: Vec<(String, Vec<String>)>,
}

impl ProseCheck {
    pub fn new() -> ProseCheck {
        ProseCheck::default()
    }

    /// The string at `path` (keys joined by `/`, `*` for every array element) must hold at least
    /// `min_words` words and no passage id.
    pub fn field(mut self, path: &'static str, min_words: usize) -> ProseCheck {
        self.fields.push(Field {
            path: path.split('/').collect(),
            min_words,
            own_words: false,
        });
        self
    }

    /// Like [`ProseCheck::field`], and it must be in the model's own words, not a passage's.
    pub fn own_words(mut self, path: &'static str, min_words: usize) -> ProseCheck {
        self = self.field(path, min_words);
        if let Some(field) = self.fields.last_mut() {
            field.own_words = true;
        }
        self
    }

    /// The passages (id, text) that [`ProseCheck::own_words`] fields must not copy.
    pub fn sources<'a>(mut self, passages: impl IntoIterator<Item = (&'a str, &'a str)>) -> ProseCheck {
        self.sources = passages
            .into_iter()
            .map(|(id, text)| (id.to_owned(), words(text)))
            .collect();
        self
    }

    /// `Err` says what is wrong and what to do instead, addressed to the model.
    pub fn check(&self, answer: &Value) -> Result<(), String> {
        let mut problems = Vec::new();
        for field in &self.fields {
            let mut found = Vec::new();
            collect(answer, &field.path, String::new(), &mut found);
            for (name, text) in found {
                if let Err(problem) = self.check_text(field, &name, text) {
                    problems.push(problem);
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    fn check_text(&self, field: &Field, name: &str, text: &str) -> Result<(), String> {
        if let Some(id) = passage_id_in(text) {
            return Err(format!(
                "`{name}` contains the passage id `{id}`: write it as sentences, and cite passages only in `citations`"
            ));
        }
        let counted = prose_words(text);
        if counted < field.min_words {
            let shown: String = text.chars().take(60).collect();
            return Err(format!(
                "`{name}` is \"{shown}\", {counted} word(s) of prose; it needs a sentence of at least {} words",
                field.min_words
            ));
        }
        if field.own_words {
            let own = words(text);
            for (id, source) in &self.sources {
                let run = longest_shared_run(&own, source);
                let share = run as f64 / own.len().max(1) as f64;
                if run >= COPIED_RUN_WORDS || (own.len() >= SHARE_MIN_WORDS && share >= COPIED_SHARE) {
                    return Err(format!(
                        "`{name}` copies {run} words of passage {id} word for word: say it in your own words"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Every string at `path` in `value`, with a readable name (`sub_questions[1].question`).
fn collect<'v>(value: &'v Value, path: &[&str], name: String, out: &mut Vec<(String, &'v str)>) {
    let Some((first, rest)) = path.split_first() else {
        if let Some(text) = value.as_str() {
            out.push((name, text));
        }
        return;
    };
    if *first == "*" {
        if let Some(items) = value.as_array() {
            for (index, item) in items.iter().enumerate() {
                collect(item, rest, format!("{name}[{index}]"), out);
            }
        } else if let Some(fields) = value.as_object() {
            // An object keyed by id (one judgement per cited passage): every value.
            for (key, item) in fields {
                collect(item, rest, format!("{name}.{key}"), out);
            }
        }
    } else if let Some(child) = value.get(*first) {
        let name = if name.is_empty() {
            (*first).to_owned()
        } else {
            format!("{name}.{first}")
        };
        collect(child, rest, name, out);
    }
}

/// Words that are prose: whitespace-separated, with at least two letters (not ids, numbers or marks).
fn prose_words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|word| !word.contains('#') && word.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .filter(|word| !is_slug(word))
        .count()
}

/// `some_slug-like-this` or `camelCaseThing123`: a name, not a word of prose.
fn is_slug(word: &str) -> bool {
    let joined = word.chars().filter(|c| *c == '_' || *c == '-').count();
    let digits = word.chars().filter(char::is_ascii_digit).count();
    joined >= 2 || (digits >= 3 && word.chars().any(char::is_alphabetic))
}

/// A passage id (`p` + 12 hex digits + `#` + digits) anywhere in `text`.
fn passage_id_in(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    for (start, _) in text.match_indices('p') {
        let hex = bytes.get(start + 1..start + 13)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) || bytes.get(start + 13) != Some(&b'#') {
            continue;
        }
        let digits = bytes[start + 14..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && (start == 0 || !bytes[start - 1].is_ascii_alphanumeric()) {
            return text.get(start..start + 14 + digits);
        }
    }
    None
}

/// Lowercase alphanumeric words, for comparing texts regardless of case and punctuation.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The longest run of consecutive words the two texts share.
fn longest_shared_run(a: &[String], b: &[String]) -> usize {
    let mut best = 0;
    let mut previous = vec![0usize; b.len() + 1];
    let mut current = vec![0usize; b.len() + 1];
    for word in a {
        for (j, other) in b.iter().enumerate() {
            current[j + 1] = if word == other { previous[j] + 1 } else { 0 };
            best = best.max(current[j + 1]);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    best
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ABSTRACT: &str = "Large language models can generate novel research hypotheses when they are \
        given inspiration papers from distant fields, and experts rated the best of them as publishable.";

    fn hypothesis_check() -> ProseCheck {
        ProseCheck::new()
            .own_words("statement", 6)
            .own_words("prediction", 5)
            .field("rationale", 6)
            .sources([("p3977f41517b5#0", ABSTRACT)])
    }

    fn answer(statement: &str, prediction: &str) -> Value {
        json!({
            "statement": statement,
            "prediction": prediction,
            "rationale": "Both cited papers observe the same effect in different settings.",
        })
    }

    #[test]
    fn a_star_reaches_every_value_of_an_object_keyed_by_id() {
        let check = ProseCheck::new().field("support/*/reason", 2);
        assert!(
            check
                .check(&json!({"support": {"a#0": {"reason": "It shows it."}}}))
                .is_ok()
        );
        let problem = check
            .check(&json!({"support": {"a#0": {"reason": "It shows it."}, "b#1": {"reason": "x"}}}))
            .expect_err("one reason is not prose");
        assert!(problem.contains("support.b#1.reason"), "{problem}");
    }

    #[test]
    fn prose_in_the_models_own_words_passes() {
        let good = answer(
            "Pairing papers from unrelated fields raises the novelty of generated hypotheses.",
            "Hypotheses from cross-field pairs will receive higher expert novelty ratings.",
        );
        assert_eq!(hypothesis_check().check(&good), Ok(()));
    }

    #[test]
    fn the_answers_a_real_small_model_gave_are_refused_with_reasons() {
        // Seen from Gemma 3 270M in a real review: a bare passage id, a number, a copied abstract.
        let id = hypothesis_check().check(&answer("p3977f41517b5#0", "Novelty ratings rise with distance."));
        assert!(
            id.as_ref()
                .is_err_and(|e| e.contains("`statement` contains the passage id `p3977f41517b5#0`")),
            "{id:?}"
        );
        let number = hypothesis_check().check(&answer(
            "Pairing papers from unrelated fields raises hypothesis novelty.",
            "08012101615",
        ));
        assert!(
            number
                .as_ref()
                .is_err_and(|e| e.contains("`prediction`") && e.contains("0 word(s)")),
            "{number:?}"
        );
        let copied = hypothesis_check().check(&answer(
            "Large language models can generate novel research hypotheses when they are given inspiration papers.",
            "Novelty ratings rise with the distance between fields.",
        ));
        assert!(
            copied
                .as_ref()
                .is_err_and(|e| e.contains("copies 14 words of passage p3977f41517b5#0")),
            "{copied:?}"
        );
        let slug = hypothesis_check().check(&answer(
            "cross_field_inspiration_pairs",
            "Ratings rise with distance, clearly.",
        ));
        assert!(slug.is_err(), "{slug:?}");
    }

    #[test]
    fn a_short_shared_phrase_is_not_a_copy() {
        let quoting = answer(
            "Because language models can generate novel research ideas, domain distance should matter.",
            "Hypotheses from distant pairs will be rated more novel by experts.",
        );
        assert_eq!(hypothesis_check().check(&quoting), Ok(()));
    }

    #[test]
    fn array_fields_are_named_by_their_place() {
        let check = ProseCheck::new().field("sub_questions/*/question", 3);
        let plan = json!({"sub_questions": [{"question": "What do models propose?"}, {"question": "x1"}]});
        let problem = check.check(&plan).expect_err("the second is not prose");
        assert!(
            problem.starts_with("`sub_questions[1].question` is \"x1\""),
            "{problem}"
        );
    }

    #[test]
    fn passage_ids_are_found_only_whole() {
        assert_eq!(passage_id_in("see p3977f41517b5#12."), Some("p3977f41517b5#12"));
        assert_eq!(passage_id_in("step3977f41517b5#1"), None);
        assert_eq!(passage_id_in("p3977f41517b5 #1"), None);
        assert_eq!(passage_id_in("pp"), None);
    }
}
