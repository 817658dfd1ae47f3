//! `@string` macros checked before the `biblatex` crate expands them: it expands recursively, so a
//! macro defined through itself (`@string{a = b} @string{b = a}`) or a chain of thousands of macros
//! would overflow the stack and abort the process. Such a file is refused with the macros named.

use std::collections::BTreeMap;

use crate::line_of;

/// Macros may refer to macros this deep; real files use one or two levels.
const MAX_DEPTH: usize = 64;

/// `Err((location, reason))` when the file's macros loop or nest too deep.
pub(crate) fn check(text: &str) -> Result<(), (String, String)> {
    let macros = definitions(text);
    let mut depth = BTreeMap::new();
    for name in macros.keys() {
        walk(name, &macros, &mut depth, &mut Vec::new())?;
    }
    Ok(())
}

/// One `@string` definition: where it is and the macros its value refers to (lowercased, as BibTeX
/// compares macro names).
struct Definition {
    line: usize,
    refers_to: Vec<String>,
}

/// Depth-first, remembering each macro's depth; `path` is the chain being expanded.
fn walk(
    name: &str,
    macros: &BTreeMap<String, Definition>,
    depth: &mut BTreeMap<String, usize>,
    path: &mut Vec<String>,
) -> Result<usize, (String, String)> {
    if let Some(&known) = depth.get(name) {
        return Ok(known);
    }
    let Some(definition) = macros.get(name) else {
        // Not an @string of this file: a month name, or undefined (biblatex reports that).
        return Ok(0);
    };
    if let Some(start) = path.iter().position(|seen| seen == name) {
        let mut cycle = path[start..].to_vec();
        cycle.push(name.to_owned());
        return Err((
            format!("line {}", definition.line),
            format!(
                "the @string macros refer to each other in a loop ({}), so they can never be expanded",
                cycle.join(" → ")
            ),
        ));
    }
    let too_deep = || {
        Err((
            format!("line {}", definition.line),
            format!("@string macros refer to macros more than {MAX_DEPTH} levels deep"),
        ))
    };
    // Bounds this walk's own recursion as well as the expansion's.
    if path.len() >= MAX_DEPTH {
        return too_deep();
    }
    path.push(name.to_owned());
    let mut deepest = 0;
    for reference in &definition.refers_to {
        deepest = deepest.max(walk(reference, macros, depth, path)? + 1);
    }
    path.pop();
    if deepest > MAX_DEPTH {
        return too_deep();
    }
    depth.insert(name.to_owned(), deepest);
    Ok(deepest)
}

/// Every `@string{name = value}` (or with parentheses), by lowercased name; the first definition of a
/// name counts. Values are read as BibTeX reads them: `"…"` and `{…}` are text, `#` joins, a bare
/// word is a macro.
fn definitions(text: &str) -> BTreeMap<String, Definition> {
    let mut macros = BTreeMap::new();
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("@string") {
        let at = from + found;
        from = at + "@string".len();
        let rest = &text[from..];
        let opened = rest.trim_start();
        let close = match opened.chars().next() {
            Some('{') => '}',
            Some('(') => ')',
            _ => continue,
        };
        let body = &opened[1..];
        let Some(equals) = body.find('=') else { continue };
        let name = body[..equals].trim();
        if name.is_empty() || !name.chars().all(is_name_char) {
            continue;
        }
        macros.entry(name.to_lowercase()).or_insert_with(|| Definition {
            line: line_of(text, at),
            refers_to: references(&body[equals + 1..], close),
        });
    }
    macros
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || "_-:.+/'".contains(c)
}

/// The bare words of a value up to its closing `close` at depth 0.
fn references(value: &str, close: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = value.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        match c {
            c if c == close => break,
            '"' => {
                let mut depth = 0i32;
                for (_, c) in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        '"' if depth <= 0 => break,
                        _ => {}
                    }
                }
            }
            '{' => {
                let mut depth = 1i32;
                for (_, c) in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                }
            }
            c if c.is_alphabetic() => {
                let mut end = index + c.len_utf8();
                while let Some(&(next, c)) = chars.peek() {
                    if is_name_char(c) {
                        end = next + c.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                words.push(value[index..end].to_lowercase());
            }
            _ => {}
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_that_refer_to_each_other_are_refused_naming_them() {
        let (location, reason) = check("@string{a = b}\n@string{b = a}\n@article{k, title = a}").expect_err("a loop");
        assert!(reason.contains("a → b → a") || reason.contains("b → a → b"), "{reason}");
        assert!(location.starts_with("line "), "{location}");
        let (_, reason) = check("@string(self = \"x\" # SELF)").expect_err("a macro through itself");
        assert!(reason.contains("loop"), "{reason}");
    }

    #[test]
    fn ordinary_macros_and_text_pass() {
        let text = "@string{jan = \"January\"}\n@string{conf = \"Proc. of \" # {the {B}est} # jan}\n\
                    @article{k, title = {A {B} c}, journal = conf, month = feb}";
        assert_eq!(check(text), Ok(()));
        assert_eq!(check("no macros at all"), Ok(()));
    }

    #[test]
    fn a_chain_deeper_than_the_limit_is_refused() {
        let mut text = String::from("@string{m0 = \"x\"}\n");
        for i in 1..=MAX_DEPTH + 5 {
            text.push_str(&format!("@string{{m{i} = m{}}}\n", i - 1));
        }
        let (_, reason) = check(&text).expect_err("too deep");
        assert!(reason.contains("levels deep"), "{reason}");
    }
}
