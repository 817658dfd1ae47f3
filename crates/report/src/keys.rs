//! Citation keys: `lovelace2023language`, shared by the Markdown (`[@key]`), BibTeX and CSL-JSON
//! exports so pandoc and Zotero resolve one to the other.

use std::collections::BTreeMap;

use hypatia_core::{Paper, PaperId};
use unicode_normalization::UnicodeNormalization;

/// Words skipped when a title's first word names a key.
const SKIPPED_TITLE_WORDS: &[&str] = &[
    "a", "an", "the", "on", "of", "in", "for", "and", "to", "with", "towards", "toward", "from", "by", "via", "is",
    "are", "do", "does", "can", "how", "what", "why", "when",
];

/// One key per paper, unique among them: family name of the first author, year and first significant
/// title word; papers that would share a key get `a`, `b`, … in paper-id order, so keys do not depend
/// on the order papers were listed in.
pub fn citation_keys(papers: &[&Paper]) -> BTreeMap<PaperId, String> {
    let mut by_base: BTreeMap<String, Vec<&PaperId>> = BTreeMap::new();
    for paper in papers {
        by_base.entry(base_key(paper)).or_default().push(&paper.id);
    }
    let mut keys = BTreeMap::new();
    for (base, mut ids) in by_base {
        ids.sort();
        ids.dedup();
        if ids.len() == 1 {
            keys.insert(ids[0].clone(), base);
            continue;
        }
        for (index, id) in ids.into_iter().enumerate() {
            keys.insert(id.clone(), format!("{base}{}", suffix(index)));
        }
    }
    keys
}

/// `a` … `z`, then `aa`, `ab`, …
fn suffix(index: usize) -> String {
    let mut index = index;
    let mut letters = Vec::new();
    loop {
        letters.push(b'a' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.iter().rev().map(|&b| b as char).collect()
}

fn base_key(paper: &Paper) -> String {
    let author = paper
        .authors
        .first()
        .map(|name| ascii_word(&family_name(name)))
        .unwrap_or_default();
    let title_word = paper
        .title
        .split(|c: char| !c.is_alphanumeric())
        .map(ascii_word)
        .find(|word| !word.is_empty() && !SKIPPED_TITLE_WORDS.contains(&word.as_str()))
        .unwrap_or_default();
    let year = paper.year.map_or_else(|| "nd".to_owned(), |y| y.to_string());
    let lead = if author.is_empty() { "anon".to_owned() } else { author };
    let mut key = format!("{lead}{year}{title_word}");
    key.truncate(48);
    key
}

/// The family name of `Lovelace, Ada` or `Ada Lovelace`.
pub fn family_name(name: &str) -> String {
    split_name(name).0
}

/// (family, given) of a name written `Family, Given` or `Given Family`.
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    if let Some((family, given)) = name.split_once(',') {
        return (family.trim().to_owned(), given.trim().to_owned());
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.split_last() {
        Some((family, given)) if !given.is_empty() => {
            // Particles stay with the family name: "Ludwig van Beethoven" → "van Beethoven".
            let particles = given
                .iter()
                .rev()
                .take_while(|w| {
                    matches!(
                        w.to_lowercase().as_str(),
                        "van" | "von" | "de" | "der" | "del" | "da" | "di" | "le" | "la"
                    )
                })
                .count();
            let split = given.len() - particles;
            let mut family_words: Vec<&str> = given[split..].to_vec();
            family_words.push(family);
            (family_words.join(" "), given[..split].join(" "))
        }
        Some((family, _)) => ((*family).to_owned(), String::new()),
        None => (String::new(), String::new()),
    }
}

/// A name as a reader expects it: `Kurt Gödel` for `Gödel, Kurt`.
pub fn display_name(name: &str) -> String {
    match split_name(name) {
        (family, given) if given.is_empty() => {
            if family.is_empty() {
                name.trim().to_owned()
            } else {
                family
            }
        }
        (family, given) => format!("{given} {family}"),
    }
}

/// Lower-case ASCII letters and digits only: accents dropped (`Gödel` → `godel`).
fn ascii_word(text: &str) -> String {
    text.nfd()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper(id: &str, title: &str, authors: &[&str], year: Option<i32>) -> Paper {
        Paper {
            id: PaperId::derive(id),
            title: title.into(),
            abstract_text: None,
            authors: authors.iter().map(|a| a.to_string()).collect(),
            year,
            venue: None,
            doi: None,
            arxiv_id: None,
            url: None,
            sources: Vec::new(),
        }
    }

    #[test]
    fn keys_name_author_year_and_title_word() {
        let a = paper("a", "The Analytical Engine", &["Ada Lovelace"], Some(1843));
        let b = paper("b", "Über formal unentscheidbare Sätze", &["Gödel, Kurt"], Some(1931));
        let c = paper("c", "On a Question", &[], None);
        let d = paper("d", "Music", &["Ludwig van Beethoven"], Some(1800));
        let keys = citation_keys(&[&a, &b, &c, &d]);
        assert_eq!(keys[&a.id], "lovelace1843analytical");
        assert_eq!(keys[&b.id], "godel1931uber");
        assert_eq!(keys[&c.id], "anonndquestion");
        assert_eq!(keys[&d.id], "vanbeethoven1800music");
    }

    #[test]
    fn colliding_keys_get_suffixes_independent_of_order() {
        let a = paper("a", "Language models", &["Ada Lovelace"], Some(2023));
        let b = paper("b", "Language agents", &["A. Lovelace"], Some(2023));
        let forward = citation_keys(&[&a, &b]);
        let backward = citation_keys(&[&b, &a]);
        assert_eq!(forward, backward);
        let mut values: Vec<&String> = forward.values().collect();
        values.sort();
        assert_eq!(values, ["lovelace2023languagea", "lovelace2023languageb"]);
        assert_eq!(suffix(25), "z");
        assert_eq!(suffix(26), "aa");
        assert_eq!(suffix(27), "ab");
    }

    #[test]
    fn names_split_into_family_and_given() {
        assert_eq!(split_name("Lovelace, Ada"), ("Lovelace".into(), "Ada".into()));
        assert_eq!(split_name("Ada King Lovelace"), ("Lovelace".into(), "Ada King".into()));
        assert_eq!(split_name("Plato"), ("Plato".into(), String::new()));
        assert_eq!(split_name("  "), (String::new(), String::new()));
    }
}
