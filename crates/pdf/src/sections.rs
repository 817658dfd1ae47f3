//! Recognising section headings and what part of a paper they open.

/// What a heading opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Opens {
    Abstract,
    /// A body section, named as the paper names it.
    Body(String),
    /// The reference list: kept apart, never evidence.
    References,
    /// An appendix: body again after the references.
    Appendix(String),
}

const KNOWN: [&str; 37] = [
    "abstract",
    "introduction",
    "background",
    "related work",
    "related works",
    "prior work",
    "preliminaries",
    "method",
    "methods",
    "methodology",
    "materials and methods",
    "methods and materials",
    "approach",
    "datasets",
    "experiments",
    "experimental setup",
    "experimental results",
    "evaluation",
    "results",
    "results and discussion",
    "discussion",
    "analysis",
    "conclusion",
    "conclusions",
    "conclusion and future work",
    "conclusions and future work",
    "limitations",
    "future work",
    "ethics statement",
    "ethical considerations",
    "broader impact",
    "acknowledgments",
    "acknowledgements",
    "acknowledgment",
    "acknowledgement",
    "appendix",
    "appendices",
];

const REFERENCES: [&str; 5] = [
    "references",
    "bibliography",
    "works cited",
    "literature cited",
    "reference",
];

/// Longest a heading line can be.
const MAX_HEADING_CHARS: usize = 80;
const MAX_HEADING_WORDS: usize = 9;

/// Whether `line` is a section heading, and what it opens. `larger` says the
/// line is set larger than body text; `after_gap` that white space came
/// before it. Numbered headings ("3.2 Training Data") need one of the two;
/// the usual names ("Results", "REFERENCES") are recognised as they are.
pub(crate) fn heading(line: &str, larger: bool, after_gap: bool, in_references: bool) -> Option<Opens> {
    let line = line.trim();
    if line.chars().count() > MAX_HEADING_CHARS || line.split_whitespace().count() > MAX_HEADING_WORDS {
        return None;
    }
    let (numbering, name) = split_numbering(line);
    let name = name.trim_end_matches([':', '.']).trim();
    if name.is_empty() || !name.chars().any(char::is_alphabetic) {
        return None;
    }
    let key = name.to_lowercase();
    if REFERENCES.contains(&key.as_str()) {
        return Some(Opens::References);
    }
    let titled = title_case(name);
    if key == "abstract" {
        return Some(Opens::Abstract);
    }
    if key.starts_with("appendix") || key == "appendices" || key.starts_with("supplementary") {
        return Some(Opens::Appendix(titled));
    }
    if KNOWN.contains(&key.as_str()) {
        return Some(if in_references {
            Opens::Appendix(titled)
        } else {
            Opens::Body(titled)
        });
    }
    let starts_upper = name.chars().next().is_some_and(char::is_uppercase);
    let looks_like_sentence = line.ends_with('.') && !line.ends_with("..") && numbering.is_none();
    let set_apart = larger || after_gap;
    match numbering {
        Some(Numbering::Arabic) if starts_upper && set_apart && !looks_like_sentence && !has_math(name) => {
            Some(if in_references {
                Opens::Appendix(titled)
            } else {
                Opens::Body(titled)
            })
        }
        // "A Annotation Guidelines": lettered headings are appendices, and
        // only trusted after the references.
        Some(Numbering::Letter) if in_references && starts_upper && set_apart => Some(Opens::Appendix(titled)),
        _ => None,
    }
}

/// A line that opens the abstract with its first words on it:
/// "Abstract—We study …", "Abstract. We …", "Abstract: …".
pub(crate) fn inline_abstract(line: &str) -> Option<&str> {
    let rest = line
        .trim()
        .strip_prefix("Abstract")
        .or_else(|| line.trim().strip_prefix("ABSTRACT"))?;
    let rest = rest.strip_prefix(['—', '–', '-', '.', ':'])?;
    let rest = rest.trim();
    (!rest.is_empty()).then_some(rest)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numbering {
    Arabic,
    Letter,
}

/// "3.2 Training" → (Arabic, "Training"); "IV. RESULTS" → (Arabic, "RESULTS");
/// "A.1 Prompts" → (Letter, "Prompts").
fn split_numbering(line: &str) -> (Option<Numbering>, &str) {
    let Some((first, rest)) = line.split_once(' ') else {
        return (None, line);
    };
    let label = first.trim_end_matches('.');
    let arabic = !label.is_empty()
        && label
            .split('.')
            .all(|part| !part.is_empty() && part.len() <= 2 && part.bytes().all(|b| b.is_ascii_digit()));
    let roman =
        !label.is_empty() && label.len() <= 5 && label.chars().all(|c| "IVX".contains(c)) && first.ends_with('.');
    let letter = {
        let mut parts = label.split('.');
        let head = parts.next().unwrap_or_default();
        head.len() == 1
            && head.chars().all(|c| c.is_ascii_uppercase())
            && parts.all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    };
    if arabic || roman {
        (Some(Numbering::Arabic), rest.trim())
    } else if letter {
        (Some(Numbering::Letter), rest.trim())
    } else {
        (None, line)
    }
}

/// Equations and table rows are not headings.
fn has_math(text: &str) -> bool {
    text.chars().any(|c| "=<>±×∑∫√≤≥%".contains(c)) || text.chars().filter(char::is_ascii_digit).count() > 3
}

/// "RELATED WORK" → "Related Work"; mixed case is kept as written.
fn title_case(name: &str) -> String {
    if name.chars().any(char::is_lowercase) {
        return name.to_owned();
    }
    name.split_whitespace()
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(name: &str) -> Option<Opens> {
        Some(Opens::Body(name.to_owned()))
    }

    #[test]
    fn usual_and_numbered_headings_are_recognised() {
        assert_eq!(heading("1 Introduction", false, false, false), body("Introduction"));
        assert_eq!(heading("INTRODUCTION", false, false, false), body("Introduction"));
        assert_eq!(heading("3.2 Training Data", false, true, false), body("Training Data"));
        assert_eq!(
            heading("IV. EXPERIMENTAL RESULTS", false, false, false),
            body("Experimental Results")
        );
        assert_eq!(heading("ABSTRACT", false, false, false), Some(Opens::Abstract));
        assert_eq!(heading("References", false, false, false), Some(Opens::References));
        assert_eq!(heading("7 REFERENCES", false, false, false), Some(Opens::References));
        assert_eq!(
            heading("A Annotation Guidelines", true, true, true),
            Some(Opens::Appendix("Annotation Guidelines".to_owned()))
        );
    }

    #[test]
    fn body_lines_are_not_headings() {
        assert_eq!(heading("3.2 Training Data", false, false, false), None, "not set apart");
        assert_eq!(
            heading(
                "2 We propose a new model for this task and evaluate it carefully",
                true,
                true,
                false
            ),
            None
        );
        assert_eq!(heading("1 0.53 0.61 0.72", true, true, false), None);
        assert_eq!(
            heading("A Survey of Methods", true, true, false),
            None,
            "lettered before references"
        );
        assert_eq!(heading("The results are shown below.", true, true, false), None);
        assert_eq!(heading("4 x = y + 2", true, true, false), None);
    }

    #[test]
    fn inline_abstracts_give_their_first_words() {
        assert_eq!(inline_abstract("Abstract—We study cats."), Some("We study cats."));
        assert_eq!(inline_abstract("Abstract. We study cats."), Some("We study cats."));
        assert_eq!(inline_abstract("Abstracts are short."), None);
        assert_eq!(inline_abstract("Abstract"), None);
    }
}
