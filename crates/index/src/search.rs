//! Ranking papers and passages for a query: BM25 over several fields with
//! boosts, phrases required, year and author filters.

use std::ops::{Bound, Range};
use std::str::FromStr;

use hypatia_core::{PaperId, PassageId, PassageLocation};
use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, TantivyDocument, Term};

use crate::query::parse_query;
use crate::schema::PassageFields;
use crate::{IndexError, LiteratureIndex};

/// An inclusive range of publication years; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct YearRange {
    pub from: Option<i32>,
    pub to: Option<i32>,
}

impl FromStr for YearRange {
    type Err = String;

    /// `2020..2024`, `2020..`, `..2024` or `2021`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let year = |part: &str| -> Result<Option<i32>, String> {
            let part = part.trim();
            if part.is_empty() {
                return Ok(None);
            }
            part.parse::<i32>()
                .map(Some)
                .map_err(|_| format!("`{part}` is not a year"))
        };
        let range = match text.split_once("..") {
            Some((from, to)) => YearRange {
                from: year(from)?,
                to: year(to.trim_start_matches('='))?,
            },
            None => {
                let single = year(text)?;
                YearRange {
                    from: single,
                    to: single,
                }
            }
        };
        match range {
            YearRange { from: None, to: None } => Err(format!("`{text}` gives no year (try 2020..2024)")),
            YearRange {
                from: Some(a),
                to: Some(b),
            } if a > b => Err(format!("`{text}` ends before it starts")),
            range => Ok(range),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct SearchRequest<'a> {
    pub query: &'a str,
    pub limit: usize,
    pub years: Option<YearRange>,
    pub author: Option<&'a str>,
    /// Compute highlighted snippets (costs a little per hit).
    pub snippets: bool,
}

impl<'a> SearchRequest<'a> {
    pub fn new(query: &'a str, limit: usize) -> Self {
        SearchRequest {
            query,
            limit,
            years: None,
            author: None,
            snippets: false,
        }
    }
}

/// A piece of text with the byte ranges that matched the query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Highlighted {
    pub text: String,
    pub highlights: Vec<Range<usize>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaperHit {
    pub paper_id: PaperId,
    pub score: f32,
    pub title: String,
    pub year: Option<i32>,
    pub authors: Vec<String>,
    pub venue: Option<String>,
    pub snippet: Option<Highlighted>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PassageHit {
    pub passage_id: PassageId,
    pub paper_id: PaperId,
    pub score: f32,
    pub year: Option<i32>,
    pub text: Highlighted,
    /// Section, pages and offsets of a full-text passage; `None` for the abstract.
    pub location: Option<PassageLocation>,
}

/// Field weights for paper search. The default was chosen on SciFact's
/// train queries (BENCHMARKS.md); the eval command can try others.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldBoosts {
    pub title: f32,
    pub abstract_text: f32,
    pub contents: f32,
    pub authors: f32,
}

impl Default for FieldBoosts {
    fn default() -> Self {
        FieldBoosts {
            title: 0.25,
            abstract_text: 0.0,
            contents: 1.0,
            authors: 0.3,
        }
    }
}

const SNIPPET_CHARS: usize = 240;
/// The most hits one search returns: tantivy reserves room for the limit in
/// every segment, so an absurd limit must not reach it.
pub const MAX_LIMIT: usize = 10_000;

impl LiteratureIndex {
    /// Whether the query has any word the index keeps: a query of stop
    /// words only ("the of") can match nothing.
    pub fn has_searchable_words(&self, query: &str) -> Result<bool, IndexError> {
        let parsed = parse_query(query);
        let text = format!("{} {}", parsed.words, parsed.phrases.join(" "));
        Ok(!analyze(&self.papers, self.paper_fields.contents, &text)?.is_empty())
    }

    /// Papers ranked for the request, best first.
    pub fn search_papers(&self, request: &SearchRequest<'_>) -> Result<Vec<PaperHit>, IndexError> {
        let f = self.paper_fields;
        let boosts = self.boosts;
        let scored: Vec<(Field, f32)> = [
            (f.title, boosts.title),
            (f.abstract_text, boosts.abstract_text),
            (f.contents, boosts.contents),
            (f.authors, boosts.authors),
        ]
        .into_iter()
        .filter(|(_, boost)| *boost > 0.0)
        .collect();
        let phrase_fields = [f.title, f.abstract_text];
        let Some(query) = build_query(&self.papers, request, &scored, &phrase_fields, f.year, f.authors)? else {
            return Ok(Vec::new());
        };
        let searcher = self.papers_reader.searcher();
        let top = searcher.search(
            &*query,
            &TopDocs::with_limit(request.limit.clamp(1, MAX_LIMIT)).order_by_score(),
        )?;
        let snippets = if request.snippets {
            Some(self.abstract_snippets(&searcher, request, &*query)?)
        } else {
            None
        };
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            hits.push(self.paper_hit(&doc, score, snippets.as_ref())?);
        }
        Ok(hits)
    }

    /// Passages ranked for the request, best first: the evidence agents cite.
    pub fn search_passages(&self, request: &SearchRequest<'_>) -> Result<Vec<PassageHit>, IndexError> {
        let f = self.passage_fields;
        let scored = [(f.text, 1.0), (f.title, 0.3)];
        let Some(query) = build_query(&self.passages, request, &scored, &[f.text], f.year, f.authors)? else {
            return Ok(Vec::new());
        };
        let searcher = self.passages_reader.searcher();
        let top = searcher.search(
            &*query,
            &TopDocs::with_limit(request.limit.clamp(1, MAX_LIMIT)).order_by_score(),
        )?;
        let mut generator = SnippetGenerator::create(&searcher, &*query, f.text)?;
        // A passage is short: highlight within all of it.
        generator.set_max_num_chars(usize::MAX / 2);
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            hits.push(passage_hit(&doc, &f, score, request.snippets.then_some(&generator))?);
        }
        Ok(hits)
    }

    /// The papers `ids` as hits, in the order given, leaving out those the request's filters (years,
    /// author) exclude and those not indexed; each scores 0 (the caller ranks them). For ranking by
    /// another signal (vectors) with the index's metadata, filters and snippets.
    pub fn lookup_papers(&self, ids: &[PaperId], request: &SearchRequest<'_>) -> Result<Vec<PaperHit>, IndexError> {
        let f = self.paper_fields;
        let terms = ids.iter().map(|id| Term::from_field_text(f.paper_id, id.as_str()));
        let phrase_fields = [f.title, f.abstract_text];
        let Some(query) = restricted(&self.papers, request, terms, &phrase_fields, f.year, f.authors)? else {
            return Ok(Vec::new());
        };
        let searcher = self.papers_reader.searcher();
        let found = searcher.search(&*query, &TopDocs::with_limit(ids.len().max(1)).order_by_score())?;
        let snippets = if request.snippets {
            Some(self.abstract_snippets(&searcher, request, &*query)?)
        } else {
            None
        };
        let mut by_id = std::collections::HashMap::new();
        for (_, address) in found {
            let doc: TantivyDocument = searcher.doc(address)?;
            let hit = self.paper_hit(&doc, 0.0, snippets.as_ref())?;
            by_id.insert(hit.paper_id.clone(), hit);
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// The passages `ids` as hits, in the order given, as [`LiteratureIndex::lookup_papers`].
    pub fn lookup_passages(
        &self,
        ids: &[PassageId],
        request: &SearchRequest<'_>,
    ) -> Result<Vec<PassageHit>, IndexError> {
        let f = self.passage_fields;
        let terms = ids
            .iter()
            .map(|id| Term::from_field_text(f.passage_id, &id.to_string()));
        let Some(query) = restricted(&self.passages, request, terms, &[f.text], f.year, f.authors)? else {
            return Ok(Vec::new());
        };
        let searcher = self.passages_reader.searcher();
        let found = searcher.search(&*query, &TopDocs::with_limit(ids.len().max(1)).order_by_score())?;
        let words = build_query(
            &self.passages,
            &SearchRequest {
                author: None,
                years: None,
                ..*request
            },
            &[(f.text, 1.0)],
            &[f.text],
            f.year,
            f.authors,
        )?;
        let generator = match &words {
            Some(words) if request.snippets => {
                let mut generator = SnippetGenerator::create(&searcher, &**words, f.text)?;
                generator.set_max_num_chars(usize::MAX / 2);
                Some(generator)
            }
            _ => None,
        };
        let mut by_id = std::collections::HashMap::new();
        for (_, address) in found {
            let doc: TantivyDocument = searcher.doc(address)?;
            let hit = passage_hit(&doc, &f, 0.0, generator.as_ref())?;
            by_id.insert(hit.passage_id.clone(), hit);
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Highlights the query's words in the abstract whatever the field weights are.
    fn abstract_snippets(
        &self,
        searcher: &tantivy::Searcher,
        request: &SearchRequest<'_>,
        fallback: &dyn Query,
    ) -> Result<SnippetGenerator, IndexError> {
        let f = self.paper_fields;
        let snippet_request = SearchRequest {
            author: None,
            years: None,
            ..*request
        };
        let snippet_query = build_query(
            &self.papers,
            &snippet_request,
            &[(f.abstract_text, 1.0)],
            &[f.title, f.abstract_text],
            f.year,
            f.authors,
        )?
        .unwrap_or(fallback.box_clone());
        let mut generator = SnippetGenerator::create(searcher, &*snippet_query, f.abstract_text)?;
        generator.set_max_num_chars(SNIPPET_CHARS);
        Ok(generator)
    }

    fn paper_hit(
        &self,
        doc: &TantivyDocument,
        score: f32,
        snippets: Option<&SnippetGenerator>,
    ) -> Result<PaperHit, IndexError> {
        let f = self.paper_fields;
        let snippet = snippets.map(|generator| {
            let snippet = generator.snippet_from_doc(doc);
            if snippet.is_empty() {
                Highlighted {
                    text: leading_text(&text_of(doc, f.abstract_text)),
                    highlights: Vec::new(),
                }
            } else {
                Highlighted {
                    text: snippet.fragment().to_owned(),
                    highlights: snippet.highlighted().to_vec(),
                }
            }
        });
        Ok(PaperHit {
            paper_id: paper_id_of(doc, f.paper_id)?,
            score,
            title: text_of(doc, f.title),
            year: year_of(doc, f.year),
            authors: doc
                .get_all(f.authors)
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            venue: Some(text_of(doc, f.venue)).filter(|v| !v.is_empty()),
            snippet,
        })
    }
}

fn passage_hit(
    doc: &TantivyDocument,
    f: &PassageFields,
    score: f32,
    highlight: Option<&SnippetGenerator>,
) -> Result<PassageHit, IndexError> {
    let text = text_of(doc, f.text);
    let highlights = match highlight {
        Some(generator) => {
            let snippet = generator.snippet(&text);
            let offset = snippet.fragment_range().start;
            snippet
                .highlighted()
                .iter()
                .map(|r| r.start + offset..r.end + offset)
                .collect()
        }
        None => Vec::new(),
    };
    let passage_id = text_of(doc, f.passage_id);
    Ok(PassageHit {
        passage_id: passage_id
            .parse()
            .map_err(|e| corrupt(format!("passage id {passage_id}: {e}")))?,
        paper_id: paper_id_of(doc, f.paper_id)?,
        score,
        year: year_of(doc, f.year),
        text: Highlighted { text, highlights },
        location: location_of(doc, f),
    })
}

/// Documents whose id is one of `terms`, within the request's filters and with its quoted phrases
/// (a phrase must appear, whatever ranked the document); `None` when the filters can match nothing
/// (an author name of stop words only).
fn restricted(
    index: &Index,
    request: &SearchRequest<'_>,
    terms: impl Iterator<Item = Term>,
    phrase_fields: &[Field],
    year_field: Field,
    authors_field: Field,
) -> Result<Option<Box<dyn Query>>, IndexError> {
    let mut clauses: Vec<Clause> = vec![(Occur::Must, Box::new(TermSetQuery::new(terms)))];
    for phrase in &parse_query(request.query).phrases {
        let mut alternatives: Vec<Clause> = Vec::new();
        for &field in phrase_fields {
            if let Some(query) = phrase_query(index, field, phrase)? {
                alternatives.push((Occur::Should, query));
            }
        }
        if !alternatives.is_empty() {
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
        }
    }
    match filter_clauses(index, request, year_field, authors_field)? {
        Some(filters) => clauses.extend(filters),
        None => return Ok(None),
    }
    Ok(Some(Box::new(BooleanQuery::new(clauses))))
}

/// The tantivy query for a request, or `None` when nothing in it can match
/// (only stop words, say).
fn build_query(
    index: &Index,
    request: &SearchRequest<'_>,
    scored_fields: &[(Field, f32)],
    phrase_fields: &[Field],
    year_field: Field,
    authors_field: Field,
) -> Result<Option<Box<dyn Query>>, IndexError> {
    let parsed = parse_query(request.query);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();

    let mut word_clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for &(field, boost) in scored_fields {
        for token in analyze(index, field, &parsed.words)? {
            let term = TermQuery::new(Term::from_field_text(field, &token), IndexRecordOption::WithFreqs);
            word_clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(term), boost))));
        }
    }
    let has_words = !word_clauses.is_empty();

    for phrase in &parsed.phrases {
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for &field in phrase_fields {
            if let Some(query) = phrase_query(index, field, phrase)? {
                alternatives.push((Occur::Should, query));
            }
        }
        if alternatives.is_empty() {
            continue;
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
    }
    let has_phrases = !clauses.is_empty();
    let has_filters = request.years.is_some() || request.author.is_some();
    if has_words {
        let occur = if has_phrases { Occur::Should } else { Occur::Must };
        clauses.push((occur, Box::new(BooleanQuery::new(word_clauses))));
    } else if !has_phrases {
        if !has_filters {
            return Ok(None);
        }
        // Filters alone ("every paper by Gomes in 2023") match with equal scores.
        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0))));
    }

    match filter_clauses(index, request, year_field, authors_field)? {
        Some(filters) => clauses.extend(filters),
        None => return Ok(None),
    }
    Ok(Some(Box::new(BooleanQuery::new(clauses))))
}

/// One clause of a boolean query.
type Clause = (Occur, Box<dyn Query>);

/// The request's year and author filters as required clauses; `None` when they can match nothing.
fn filter_clauses(
    index: &Index,
    request: &SearchRequest<'_>,
    year_field: Field,
    authors_field: Field,
) -> Result<Option<Vec<Clause>>, IndexError> {
    let mut clauses: Vec<Clause> = Vec::new();
    if let Some(years) = request.years {
        let bound = |year: Option<i32>| match year {
            Some(y) => Bound::Included(Term::from_field_i64(year_field, i64::from(y))),
            None => Bound::Unbounded,
        };
        let range = RangeQuery::new(bound(years.from), bound(years.to));
        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(range), 0.0))));
    }
    if let Some(author) = request.author {
        // The name's words in order within one author ("Li Wang" does not
        // match a paper by "Li Chen" and "Wei Wang": authors are separate
        // values), in either order, so "Lovelace, Ada" finds "Ada Lovelace".
        let reversed: Vec<&str> = author.split([',', ' ']).filter(|w| !w.is_empty()).rev().collect();
        let mut names: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for spelling in [author.to_owned(), reversed.join(" ")] {
            if let Some(name) = phrase_query(index, authors_field, &spelling)? {
                names.push((Occur::Should, name));
            }
        }
        if names.is_empty() {
            return Ok(None);
        }
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(names)), 0.0)),
        ));
    }
    Ok(Some(clauses))
}

/// The terms the field's analyzer makes of `text`, in order.
fn analyze(index: &Index, field: Field, text: &str) -> Result<Vec<String>, IndexError> {
    Ok(analyze_with_positions(index, field, text)?
        .into_iter()
        .map(|(_, t)| t)
        .collect())
}

/// Terms with their positions. Stop words are removed but leave their
/// position behind, so "theory of mind" is `theori`@0 and `mind`@2.
fn analyze_with_positions(index: &Index, field: Field, text: &str) -> Result<Vec<(usize, String)>, IndexError> {
    let mut analyzer = index.tokenizer_for_field(field)?;
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        let token = stream.token();
        tokens.push((token.position, token.text.clone()));
    }
    Ok(tokens)
}

/// A phrase as the field indexed it: positions kept relative to the first
/// term, so stop words inside the phrase are gaps, not mismatches. `None`
/// when nothing of it is indexed (only stop words).
fn phrase_query(index: &Index, field: Field, text: &str) -> Result<Option<Box<dyn Query>>, IndexError> {
    let tokens = analyze_with_positions(index, field, text)?;
    let Some(&(first, _)) = tokens.first() else {
        return Ok(None);
    };
    let terms: Vec<(usize, Term)> = tokens
        .iter()
        .map(|(position, t)| (position - first, Term::from_field_text(field, t)))
        .collect();
    Ok(Some(if terms.len() == 1 {
        let (_, term) = terms.into_iter().next().expect("one term");
        Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
    } else {
        Box::new(PhraseQuery::new_with_offset(terms))
    }))
}

fn text_of(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

fn year_of(doc: &TantivyDocument, field: Field) -> Option<i32> {
    doc.get_first(field)
        .and_then(|v| v.as_i64())
        .and_then(|y| i32::try_from(y).ok())
}

fn location_of(doc: &TantivyDocument, f: &PassageFields) -> Option<PassageLocation> {
    let number = |field: Field| {
        doc.get_first(field)
            .and_then(|v| v.as_u64())
            .and_then(|n| u32::try_from(n).ok())
    };
    Some(PassageLocation {
        section: text_of(doc, f.section),
        page: number(f.page)?,
        page_end: number(f.page_end)?,
        start: number(f.char_start)?,
        end: number(f.char_end)?,
    })
}

fn paper_id_of(doc: &TantivyDocument, field: Field) -> Result<PaperId, IndexError> {
    let text = text_of(doc, field);
    text.parse().map_err(|e| corrupt(format!("paper id {text}: {e}")))
}

fn corrupt(detail: String) -> IndexError {
    IndexError::Tantivy(tantivy::TantivyError::InternalError(format!(
        "bad stored value: {detail}"
    )))
}

/// The start of a text, cut at a word boundary.
fn leading_text(text: &str) -> String {
    if text.len() <= SNIPPET_CHARS {
        return text.to_owned();
    }
    let mut end = SNIPPET_CHARS;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = text[..end].rfind(' ').unwrap_or(end);
    format!("{}…", &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_ranges_parse() {
        assert_eq!(
            "2020..2024".parse(),
            Ok(YearRange {
                from: Some(2020),
                to: Some(2024)
            })
        );
        assert_eq!(
            "2020..".parse(),
            Ok(YearRange {
                from: Some(2020),
                to: None
            })
        );
        assert_eq!(
            "..2024".parse(),
            Ok(YearRange {
                from: None,
                to: Some(2024)
            })
        );
        assert_eq!(
            "2021".parse(),
            Ok(YearRange {
                from: Some(2021),
                to: Some(2021)
            })
        );
        assert!("2024..2020".parse::<YearRange>().is_err());
        assert!("..".parse::<YearRange>().is_err());
        assert!("twenty".parse::<YearRange>().is_err());
    }

    #[test]
    fn leading_text_cuts_at_a_word() {
        let text = "word ".repeat(100);
        let cut = leading_text(&text);
        assert!(cut.ends_with("word…"));
        assert!(cut.len() <= SNIPPET_CHARS + '…'.len_utf8());
    }
}
