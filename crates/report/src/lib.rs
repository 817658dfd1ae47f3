//! Reports of review runs. [`ExportDocument::build`] turns a run's folded journal and the papers it
//! refers to into one document, refusing any citation that does not resolve to a stored passage (the
//! integrity gate); each format renders that document, and [`RunReport`] (what `review --json` and
//! `runs show` print) is a view of it. Pure: text in, text out; the binary reads
//! the store and writes the files.

mod bibliography;
mod charts;
mod document;
mod escape;
mod graph;
mod html;
mod keys;
mod markdown;
mod reproducibility;
mod summary;

use std::fmt;
use std::str::FromStr;

pub use document::{
    CitationEdge, CitationEntry, ClosePaperEntry, EvidenceEntry, ExportDocument, ExportError, HypothesisEntry, Library,
    MatchEntry, PaperEntry, Place, RatingPoint, RelationEntry, ReviewEntry, RoundEntry, RoundRating, RunMeta,
    SCHEMA_VERSION, StatementEntry, SteeringAction, SteeringEntry, SynthesisEntry, Timings, referenced_papers,
};
pub use graph::{Edge, EvidenceGraph, Node};
pub use keys::citation_keys;
pub use reproducibility::support_figure;
pub use summary::{CitationReport, HypothesisReport, RunReport, UsageReport};

/// The JSON Schema of the `json` export.
pub const JSON_SCHEMA: &str = include_str!("../schema/export.schema.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Markdown,
    Html,
    Json,
    Bibtex,
    CslJson,
    Dot,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Markdown,
        Format::Html,
        Format::Json,
        Format::Bibtex,
        Format::CslJson,
        Format::Dot,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Json => "json",
            Format::Bibtex => "bibtex",
            Format::CslJson => "csljson",
            Format::Dot => "dot",
        }
    }

    /// The file name's ending; the Markdown report's front matter names `RUN.bib`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Json => "json",
            Format::Bibtex => "bib",
            Format::CslJson => "csl.json",
            Format::Dot => "dot",
        }
    }

    pub fn render(self, doc: &ExportDocument) -> String {
        match self {
            Format::Markdown => markdown::render(doc),
            Format::Html => html::render(doc),
            Format::Json => {
                let mut text = serde_json::to_string_pretty(doc).unwrap_or_else(|_| "{}".to_owned());
                text.push('\n');
                text
            }
            Format::Bibtex => bibliography::render_bibtex(doc),
            Format::CslJson => bibliography::render_csl_json(doc),
            Format::Dot => graph::render_dot(doc),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim().to_ascii_lowercase();
        let aliases = [
            ("markdown", Format::Markdown),
            ("bib", Format::Bibtex),
            ("csl", Format::CslJson),
        ];
        Format::ALL
            .into_iter()
            .find(|f| f.name() == text)
            .or_else(|| aliases.iter().find(|(alias, _)| *alias == text).map(|(_, f)| *f))
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
                format!("unknown export format `{text}` (expected one of {})", names.join(", "))
            })
    }
}
