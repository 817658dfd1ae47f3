//! The papers a report refers to, as BibTeX and as CSL-JSON (what Zotero, pandoc and citeproc read),
//! under the same keys as the Markdown report's `[@key]` citations.

use std::fmt::Write;

use serde_json::{Map, Value, json};

use crate::document::{ExportDocument, PaperEntry};
use crate::escape;
use crate::keys::split_name;

pub fn render_bibtex(doc: &ExportDocument) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "% Papers cited by Hypatia run {} ({}); keys match the Markdown report's [@key] citations.",
        doc.run_id, doc.generator
    );
    if let Some(notice) = &doc.notice {
        let _ = writeln!(out, "% {}", escape::one_line(notice));
    }
    for paper in &doc.papers {
        out.push('\n');
        out.push_str(&bibtex_entry(paper));
    }
    out
}

fn bibtex_entry(paper: &PaperEntry) -> String {
    let kind = if paper.venue.is_some() { "article" } else { "misc" };
    let mut fields: Vec<(&str, String)> = vec![("title", escape::bibtex(&paper.title))];
    if !paper.authors.is_empty() {
        let authors: Vec<String> = paper.authors.iter().map(|a| bibtex_name(a)).collect();
        fields.push(("author", authors.join(" and ")));
    }
    if let Some(year) = paper.year {
        fields.push(("year", year.to_string()));
    }
    if let Some(venue) = &paper.venue {
        fields.push(("journal", escape::bibtex(venue)));
    }
    if let Some(doi) = &paper.doi {
        fields.push(("doi", escape::bibtex(doi)));
    }
    if let Some(arxiv) = &paper.arxiv_id {
        fields.push(("eprint", escape::bibtex(arxiv)));
        fields.push(("archiveprefix", "arXiv".to_owned()));
    }
    if let Some(url) = link(paper) {
        fields.push(("url", escape::bibtex(&url)));
    }
    if let Some(text) = &paper.abstract_text {
        fields.push(("abstract", escape::bibtex(text)));
    }
    let mut entry = format!("@{kind}{{{},\n", paper.key);
    for (name, value) in fields {
        let _ = writeln!(entry, "  {name} = {{{value}}},");
    }
    entry.push_str("}\n");
    entry
}

/// `Family, Given`; a name BibTeX would misread (one containing the word "and", or a comma of its
/// own) is braced whole.
fn bibtex_name(name: &str) -> String {
    let (family, given) = split_name(name);
    let escaped = |s: &str| escape::bibtex(s);
    let risky = |s: &str| s.split_whitespace().any(|w| w.eq_ignore_ascii_case("and")) || s.contains(',');
    if risky(&family) || risky(&given) {
        return format!("{{{}}}", escaped(name));
    }
    match (family.is_empty(), given.is_empty()) {
        (true, _) => format!("{{{}}}", escaped(name)),
        (false, true) => escaped(&family),
        (false, false) => format!("{}, {}", escaped(&family), escaped(&given)),
    }
}

/// What a report's reference list shows of a paper, unescaped: each format escapes it its own way.
pub struct ReferenceParts {
    /// Up to six names, then "et al."; `None` without authors.
    pub authors: Option<String>,
    /// The year, or `n.d.`.
    pub year: String,
    /// (label, url): the DOI and arXiv pages, or else the paper's own http(s) link (label `None`).
    pub links: Vec<(Option<String>, String)>,
}

pub fn reference_parts(paper: &PaperEntry) -> ReferenceParts {
    let names: Vec<String> = paper.authors.iter().map(|a| crate::keys::display_name(a)).collect();
    let authors = match names.len() {
        0 => None,
        1..=6 => Some(names.join(", ")),
        _ => Some(format!("{} et al.", names[..6].join(", "))),
    };
    let mut links = Vec::new();
    if let Some(doi) = &paper.doi {
        links.push((Some(format!("doi:{doi}")), escape::doi_url(doi)));
    }
    if let Some(arxiv) = &paper.arxiv_id {
        links.push((Some(format!("arXiv:{arxiv}")), escape::arxiv_url(arxiv)));
    }
    if links.is_empty()
        && let Some(url) = paper.url.as_deref().and_then(escape::safe_url)
    {
        links.push((None, url));
    }
    ReferenceParts {
        authors,
        year: paper.year.map_or("n.d.".to_owned(), |y| y.to_string()),
        links,
    }
}

/// The paper's own link: its URL if it is http(s), else its DOI or arXiv page.
pub fn link(paper: &PaperEntry) -> Option<String> {
    paper
        .url
        .as_deref()
        .and_then(escape::safe_url)
        .or_else(|| paper.doi.as_deref().map(escape::doi_url))
        .or_else(|| paper.arxiv_id.as_deref().map(escape::arxiv_url))
}

pub fn render_csl_json(doc: &ExportDocument) -> String {
    let items: Vec<Value> = doc.papers.iter().map(csl_item).collect();
    let mut text = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".to_owned());
    text.push('\n');
    text
}

fn csl_item(paper: &PaperEntry) -> Value {
    let mut item = Map::new();
    item.insert("id".into(), json!(paper.key));
    let kind = match (&paper.venue, &paper.arxiv_id) {
        (Some(_), _) => "article-journal",
        (None, Some(_)) => "article",
        (None, None) => "document",
    };
    item.insert("type".into(), json!(kind));
    item.insert("title".into(), json!(escape::one_line(&paper.title)));
    if !paper.authors.is_empty() {
        let authors: Vec<Value> = paper
            .authors
            .iter()
            .map(|name| {
                let (family, given) = split_name(name);
                match (family.is_empty(), given.is_empty()) {
                    (true, _) => json!({ "literal": name }),
                    (false, true) => json!({ "family": family }),
                    (false, false) => json!({ "family": family, "given": given }),
                }
            })
            .collect();
        item.insert("author".into(), Value::Array(authors));
    }
    if let Some(year) = paper.year {
        item.insert("issued".into(), json!({ "date-parts": [[year]] }));
    }
    if let Some(venue) = &paper.venue {
        item.insert("container-title".into(), json!(venue));
    }
    if let Some(doi) = &paper.doi {
        item.insert("DOI".into(), json!(doi));
    }
    if let Some(arxiv) = &paper.arxiv_id {
        item.insert("number".into(), json!(format!("arXiv:{arxiv}")));
        if paper.venue.is_none() {
            item.insert("publisher".into(), json!("arXiv"));
        }
    }
    if let Some(url) = link(paper) {
        item.insert("URL".into(), json!(url));
    }
    if let Some(text) = &paper.abstract_text {
        item.insert("abstract".into(), json!(text));
    }
    Value::Object(item)
}

#[cfg(test)]
mod tests {
    use super::bibtex_name;

    #[test]
    fn names_are_written_family_first_and_risky_ones_braced() {
        assert_eq!(bibtex_name("Ada Lovelace"), "Lovelace, Ada");
        assert_eq!(bibtex_name("Lovelace, Ada"), "Lovelace, Ada");
        assert_eq!(bibtex_name("Plato"), "Plato");
        assert_eq!(
            bibtex_name("Research and Development Team"),
            "{Research and Development Team}"
        );
        assert_eq!(bibtex_name("Smith, J., Jr."), "{Smith, J., Jr.}");
    }
}
