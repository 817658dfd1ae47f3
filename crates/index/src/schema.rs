//! Field handles and text analysis for both indexes.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, IndexSettings};

use crate::IndexError;

/// How titles, abstracts and queries are turned into terms. Chosen by
/// measurement on SciFact's train queries (see BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Analyzer {
    /// Lower case, accents folded, Lucene's English stop words, Porter2 stemming.
    #[default]
    English,
    /// As `English` but keeping stop words.
    EnglishKeepStopwords,
    /// Lower case and accents folded only.
    Plain,
}

impl Analyzer {
    pub const ALL: [Analyzer; 3] = [Analyzer::English, Analyzer::EnglishKeepStopwords, Analyzer::Plain];

    pub fn name(self) -> &'static str {
        match self {
            Analyzer::English => "english",
            Analyzer::EnglishKeepStopwords => "english-keep-stopwords",
            Analyzer::Plain => "plain",
        }
    }

    /// The tokenizer name recorded in the index schema: an index knows
    /// which analyzer built it.
    fn tokenizer_name(self) -> String {
        format!("hypatia-{}", self.name())
    }

    fn build(self) -> TextAnalyzer {
        let base = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(48))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter);
        match self {
            Analyzer::English => match StopWordFilter::new(Language::English) {
                Some(stop) => base.filter(stop).filter(Stemmer::new(Language::English)).build(),
                None => base.filter(Stemmer::new(Language::English)).build(),
            },
            Analyzer::EnglishKeepStopwords => base.filter(Stemmer::new(Language::English)).build(),
            Analyzer::Plain => base.build(),
        }
    }
}

impl fmt::Display for Analyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Analyzer {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Analyzer::ALL.into_iter().find(|a| a.name() == text).ok_or_else(|| {
            let names: Vec<_> = Analyzer::ALL.iter().map(|a| a.name()).collect();
            format!("unknown analyzer `{text}` (expected one of {})", names.join(", "))
        })
    }
}

/// Author names: no stemming or stop words ("Li", "He", "An" are names).
const NAMES_TOKENIZER: &str = "hypatia-names";

fn names_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

fn text_options(tokenizer: &str, stored: bool) -> TextOptions {
    let options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    if stored { options.set_stored() } else { options }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct PaperFields {
    pub paper_id: Field,
    pub title: Field,
    pub abstract_text: Field,
    /// Title and abstract as one field (BM25 "flat", as Anserini indexes BEIR).
    pub contents: Field,
    pub authors: Field,
    pub year: Field,
    pub venue: Field,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct PassageFields {
    pub passage_id: Field,
    pub paper_id: Field,
    pub text: Field,
    pub title: Field,
    pub authors: Field,
    pub year: Field,
    /// Section name of a full-text passage (stored only).
    pub section: Field,
    /// First and last page of a full-text passage, and its character
    /// offsets on them (stored only).
    pub page: Field,
    pub page_end: Field,
    pub char_start: Field,
    pub char_end: Field,
}

fn papers_schema(analyzer: Analyzer) -> (Schema, PaperFields) {
    let text = analyzer.tokenizer_name();
    let mut builder = Schema::builder();
    let fields = PaperFields {
        paper_id: builder.add_text_field("paper_id", STRING | STORED),
        title: builder.add_text_field("title", text_options(&text, true)),
        abstract_text: builder.add_text_field("abstract", text_options(&text, true)),
        contents: builder.add_text_field("contents", text_options(&text, false)),
        authors: builder.add_text_field("authors", text_options(NAMES_TOKENIZER, true)),
        year: builder.add_i64_field("year", INDEXED | FAST | STORED),
        venue: builder.add_text_field("venue", STORED),
    };
    (builder.build(), fields)
}

fn passages_schema(analyzer: Analyzer) -> (Schema, PassageFields) {
    let text = analyzer.tokenizer_name();
    let mut builder = Schema::builder();
    let fields = PassageFields {
        passage_id: builder.add_text_field("passage_id", STRING | STORED),
        paper_id: builder.add_text_field("paper_id", STRING | STORED),
        text: builder.add_text_field("text", text_options(&text, true)),
        title: builder.add_text_field("title", text_options(&text, false)),
        authors: builder.add_text_field("authors", text_options(NAMES_TOKENIZER, false)),
        year: builder.add_i64_field("year", INDEXED | FAST | STORED),
        section: builder.add_text_field("section", STORED),
        page: builder.add_u64_field("page", STORED),
        page_end: builder.add_u64_field("page_end", STORED),
        char_start: builder.add_u64_field("char_start", STORED),
        char_end: builder.add_u64_field("char_end", STORED),
    };
    (builder.build(), fields)
}

pub(crate) fn open_papers(dir: &Path, analyzer: Analyzer) -> Result<(Index, PaperFields), IndexError> {
    let (schema, fields) = papers_schema(analyzer);
    let index = open_index(dir, schema, analyzer, "title")?;
    Ok((index, fields))
}

pub(crate) fn open_passages(dir: &Path, analyzer: Analyzer) -> Result<(Index, PassageFields), IndexError> {
    let (schema, fields) = passages_schema(analyzer);
    let index = open_index(dir, schema, analyzer, "text")?;
    Ok((index, fields))
}

fn open_index(dir: &Path, schema: Schema, analyzer: Analyzer, text_field: &str) -> Result<Index, IndexError> {
    std::fs::create_dir_all(dir).map_err(|source| IndexError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let directory = MmapDirectory::open(dir).map_err(|e| IndexError::Tantivy(e.into()))?;
    let exists = Index::exists(&directory).map_err(|e| IndexError::Tantivy(e.into()))?;
    let index = if exists {
        let index = Index::open(directory)?;
        let existing = index.schema();
        let found_tokenizer = existing
            .get_field(text_field)
            .ok()
            .and_then(|field| match existing.get_field_entry(field).field_type() {
                tantivy::schema::FieldType::Str(options) => {
                    options.get_indexing_options().map(|i| i.tokenizer().to_owned())
                }
                _ => None,
            })
            .unwrap_or_else(|| "an older schema".to_owned());
        if found_tokenizer != analyzer.tokenizer_name() || index.schema() != schema {
            return Err(IndexError::AnalyzerMismatch {
                path: dir.to_owned(),
                found: found_tokenizer.trim_start_matches("hypatia-").to_owned(),
                wanted: analyzer.name().to_owned(),
            });
        }
        index
    } else {
        Index::create(directory, schema, IndexSettings::default())?
    };
    index
        .tokenizers()
        .register(&analyzer.tokenizer_name(), analyzer.build());
    index.tokenizers().register(NAMES_TOKENIZER, names_analyzer());
    Ok(index)
}
