//! arXiv's Atom API: `query?search_query=…&start=…&max_results=…` and `id_list=…`.

use hypatia_core::PaperRecord;

use crate::text::clean;
use crate::{FetchedPaper, SearchQuery, SourceError, SourceKind};

const ATOM: &str = "http://www.w3.org/2005/Atom";
const OPENSEARCH: &str = "http://a9.com/-/spec/opensearch/1.1/";
const ARXIV: &str = "http://arxiv.org/schemas/atom";
/// arXiv returns at most this many entries per request (it asks for slices of 2,000 at most; small
/// pages keep the first results quick).
pub const PAGE: usize = 100;

/// One page of a feed.
#[derive(Debug)]
pub struct Feed {
    pub papers: Vec<FetchedPaper>,
    pub total: Option<u64>,
    /// Entries in the page, usable or not: paging moves on by this many.
    pub entries: usize,
}

/// `search_query` for words a person typed: each word a term of `all:`, all required. Characters
/// that are query syntax in arXiv's language are dropped, so typed text cannot change the query.
pub fn search_query(query: &SearchQuery) -> String {
    let words: Vec<String> = query
        .text
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '-')
                .collect::<String>()
        })
        .filter(|w| !w.is_empty() && !matches!(w.as_str(), "AND" | "OR" | "ANDNOT"))
        .map(|w| format!("all:{w}"))
        .collect();
    let mut text = words.join(" AND ");
    if let Some((from, to)) = query.years {
        text.push_str(&format!(" AND submittedDate:[{from}01010000 TO {to}12312359]"));
    }
    text
}

/// Parses a page of arXiv's Atom feed. An error entry (`…/api/errors#…`) becomes the error it reports.
pub fn parse_feed(body: &[u8], url: &str) -> Result<Feed, SourceError> {
    let malformed = |detail: String| SourceError::Malformed {
        source_name: SourceKind::Arxiv,
        url: url.to_owned(),
        expected: "Atom XML",
        detail,
    };
    let text = std::str::from_utf8(body).map_err(|e| malformed(format!("not UTF-8: {e}")))?;
    let document = roxmltree::Document::parse(text).map_err(|e| malformed(e.to_string()))?;
    let feed = document.root_element();
    if !feed.has_tag_name((ATOM, "feed")) {
        return Err(malformed(format!(
            "the root element is <{}>, not an Atom <feed>",
            feed.tag_name().name()
        )));
    }
    let total = child_text(feed, OPENSEARCH, "totalResults").and_then(|t| t.trim().parse::<u64>().ok());
    let mut papers = Vec::new();
    let mut entries = 0;
    for entry in feed.children().filter(|n| n.has_tag_name((ATOM, "entry"))) {
        entries += 1;
        let id = child_text(entry, ATOM, "id").unwrap_or_default();
        if id.contains("/api/errors") {
            return Err(SourceError::Refused {
                source_name: SourceKind::Arxiv,
                url: url.to_owned(),
                status: 400,
                body: clean(child_text(entry, ATOM, "summary").as_deref()).unwrap_or_else(|| id.clone()),
            });
        }
        let Some(arxiv_id) = arxiv_id_of(&id) else {
            tracing::warn!(%url, %id, "arXiv entry without an arXiv id: skipped");
            continue;
        };
        let Some(title) = clean(child_text(entry, ATOM, "title").as_deref()) else {
            continue;
        };
        let authors = entry
            .children()
            .filter(|n| n.has_tag_name((ATOM, "author")))
            .filter_map(|author| clean(child_text(author, ATOM, "name").as_deref()))
            .collect();
        let year =
            child_text(entry, ATOM, "published").and_then(|date| date.get(..4).and_then(|y| y.parse::<i32>().ok()));
        papers.push(FetchedPaper {
            source: SourceKind::Arxiv,
            source_id: arxiv_id.clone(),
            record: PaperRecord {
                title,
                abstract_text: clean(child_text(entry, ATOM, "summary").as_deref()),
                authors,
                year,
                venue: clean(child_text(entry, ARXIV, "journal_ref").as_deref()),
                doi: clean(child_text(entry, ARXIV, "doi").as_deref()),
                arxiv_id: Some(arxiv_id.clone()),
                url: Some(format!("https://arxiv.org/abs/{arxiv_id}")),
            },
        });
    }
    Ok(Feed { papers, total, entries })
}

fn child_text(node: roxmltree::Node<'_, '_>, namespace: &str, name: &str) -> Option<String> {
    let child = node.children().find(|n| n.has_tag_name((namespace, name)))?;
    Some(
        child
            .descendants()
            .filter(|d| d.is_text())
            .filter_map(|d| d.text())
            .collect(),
    )
}

/// `http://arxiv.org/abs/nucl-ex/0408020v1` → `nucl-ex/0408020`; `…/abs/2101.00001v2` → `2101.00001`.
fn arxiv_id_of(id: &str) -> Option<String> {
    let (_, rest) = id.split_once("/abs/")?;
    let rest = rest.trim().trim_end_matches('/');
    let without_version = match rest.rfind('v') {
        Some(at) if at > 0 && rest[at + 1..].chars().all(|c| c.is_ascii_digit()) && at + 1 < rest.len() => &rest[..at],
        _ => rest,
    };
    (!without_version.is_empty()).then(|| without_version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_lose_their_version_and_queries_their_syntax() {
        assert_eq!(
            arxiv_id_of("http://arxiv.org/abs/nucl-ex/0408020v1").as_deref(),
            Some("nucl-ex/0408020")
        );
        assert_eq!(
            arxiv_id_of("https://arxiv.org/abs/2101.00001v12").as_deref(),
            Some("2101.00001")
        );
        assert_eq!(
            arxiv_id_of("https://arxiv.org/abs/2101.00001").as_deref(),
            Some("2101.00001")
        );
        assert_eq!(arxiv_id_of("no id"), None);
        let query = SearchQuery {
            text: "graph (neural) AND \"networks\" ti:x".into(),
            max: 5,
            years: Some((2020, 2021)),
        };
        assert_eq!(
            search_query(&query),
            "all:graph AND all:neural AND all:networks AND all:tix AND submittedDate:[202001010000 TO 202112312359]"
        );
    }

    #[test]
    fn garbage_is_an_error_naming_the_request() {
        let error = parse_feed(b"<feed><entry>", "http://x/api/query?q").expect_err("truncated");
        let text = error.to_string();
        assert!(
            text.contains("arXiv") && text.contains("http://x/api/query?q") && text.contains("Atom"),
            "{text}"
        );
        let error = parse_feed(b"{\"json\": true}", "u").expect_err("not XML");
        assert!(matches!(error, SourceError::Malformed { .. }), "{error}");
    }
}
