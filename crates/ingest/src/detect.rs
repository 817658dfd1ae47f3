use std::path::Path;

use hypatia_core::SourceFormat;

const EXTENSIONS: [&str; 9] = ["txt", "jsonl", "ndjson", "json", "bib", "bibtex", "ris", "csl", "pdf"];

/// Whether a file in a folder being ingested looks like one Hypatia reads.
pub fn is_ingestible_extension(path: &Path) -> bool {
    extension(path).is_some_and(|e| EXTENSIONS.contains(&e.as_str()))
}

fn extension(path: &Path) -> Option<String> {
    path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
}

/// The format of a file from its extension, then its first bytes.
pub fn detect_format(path: &Path, text: &str) -> Option<SourceFormat> {
    let start = text.trim_start();
    match extension(path).as_deref() {
        Some("bib" | "bibtex") => return Some(SourceFormat::Bibtex),
        Some("ris") => return Some(SourceFormat::Ris),
        Some("json" | "csl") => return Some(SourceFormat::Csljson),
        Some("jsonl" | "ndjson") => return Some(jsonl_flavour(start)),
        Some("txt") => return Some(SourceFormat::Text),
        _ => {}
    }
    if start.starts_with('@') {
        Some(SourceFormat::Bibtex)
    } else if start.starts_with("TY  -") {
        Some(SourceFormat::Ris)
    } else if start.starts_with('[') {
        Some(SourceFormat::Csljson)
    } else if start.starts_with('{') {
        Some(jsonl_flavour(start))
    } else {
        None
    }
}

/// BEIR corpus lines carry `_id`; Hypatia's own records do not.
fn jsonl_flavour(text: &str) -> SourceFormat {
    let first = text.lines().next().unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(first) {
        Ok(value) if value.get("_id").is_some() => SourceFormat::Beir,
        _ => SourceFormat::Jsonl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected_by_extension_then_content() {
        let p = Path::new;
        assert_eq!(detect_format(p("a.bib"), ""), Some(SourceFormat::Bibtex));
        assert_eq!(detect_format(p("a.RIS"), ""), Some(SourceFormat::Ris));
        assert_eq!(detect_format(p("a.txt"), ""), Some(SourceFormat::Text));
        assert_eq!(
            detect_format(p("corpus.jsonl"), "{\"_id\": \"1\"}\n"),
            Some(SourceFormat::Beir)
        );
        assert_eq!(
            detect_format(p("mine.jsonl"), "{\"title\": \"x\"}\n"),
            Some(SourceFormat::Jsonl)
        );
        assert_eq!(detect_format(p("export"), "\n@article{x,}"), Some(SourceFormat::Bibtex));
        assert_eq!(detect_format(p("export"), "TY  - JOUR\n"), Some(SourceFormat::Ris));
        assert_eq!(detect_format(p("export"), "[{}]"), Some(SourceFormat::Csljson));
        assert_eq!(detect_format(p("notes"), "hello"), None);
    }
}
