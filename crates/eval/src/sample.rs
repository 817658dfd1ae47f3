//! A smaller evaluation than the whole dataset, for quick checks (CI, a slow embedding model): the
//! first queries by id, and a corpus cut to a number of documents that always keeps every document
//! judged for those queries. Figures on a sample are not comparable with published ones; the report
//! says it was sampled.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use crate::{BeirDataset, EvalError};

/// How much of a dataset to evaluate; `None` is all of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// The first N queries of the split, by id.
    pub queries: Option<usize>,
    /// N documents of the corpus: the judged ones, then the others in file order.
    pub documents: Option<usize>,
}

impl Sample {
    pub fn is_whole(&self) -> bool {
        self.queries.is_none() && self.documents.is_none()
    }
}

/// Keeps the first `limit` queries (by id) and their judgments.
pub(crate) fn limit_queries(dataset: &mut BeirDataset, limit: usize) {
    let dropped: Vec<String> = dataset.queries.keys().skip(limit).cloned().collect();
    for id in dropped {
        dataset.queries.remove(&id);
        dataset.qrels.remove(&id);
    }
}

/// Writes to `out` the corpus lines of the judged documents and, in file order, enough others to make
/// `documents` (more when more are judged). Returns how many documents the whole corpus holds.
pub(crate) fn write_sampled_corpus(dataset: &BeirDataset, documents: usize, out: &Path) -> Result<usize, EvalError> {
    #[derive(serde::Deserialize)]
    struct Document {
        #[serde(rename = "_id")]
        id: serde_json::Value,
    }
    let corpus = &dataset.corpus;
    let failed = |message: String| EvalError::Data {
        path: corpus.clone(),
        message,
    };
    let judged: std::collections::HashSet<&str> = dataset
        .qrels
        .values()
        .flat_map(|docs| docs.keys().map(String::as_str))
        .collect();
    let file = std::fs::File::open(corpus).map_err(|e| failed(e.to_string()))?;
    // A first pass counts the judged documents present, so the others fill exactly what is left.
    let mut lines = Vec::new();
    let mut judged_present = 0;
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| failed(format!("line {}: {e}", index + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let document: Document = serde_json::from_str(&line).map_err(|e| failed(format!("line {}: {e}", index + 1)))?;
        let is_judged = judged.contains(crate::beir::id_text(document.id).as_str());
        judged_present += usize::from(is_judged);
        lines.push((is_judged, line));
    }
    let mut others_left = documents.saturating_sub(judged_present);
    let write_failed = |e: std::io::Error| EvalError::Data {
        path: out.to_owned(),
        message: e.to_string(),
    };
    let mut writer = BufWriter::new(std::fs::File::create(out).map_err(write_failed)?);
    for (is_judged, line) in &lines {
        if !is_judged {
            if others_left == 0 {
                continue;
            }
            others_left -= 1;
        }
        writeln!(writer, "{line}").map_err(write_failed)?;
    }
    writer.flush().map_err(write_failed)?;
    Ok(lines.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    fn dataset(dir: &Path) -> BeirDataset {
        let corpus = dir.join("corpus.jsonl");
        let lines: Vec<String> = (1..=6)
            .map(|i| format!(r#"{{"_id": "{i}", "title": "t{i}", "text": "x"}}"#))
            .collect();
        std::fs::write(&corpus, lines.join("\n")).expect("write");
        let queries = BTreeMap::from([("a".to_owned(), "qa".to_owned()), ("b".to_owned(), "qb".to_owned())]);
        let qrels = HashMap::from([
            ("a".to_owned(), HashMap::from([("5".to_owned(), 1)])),
            ("b".to_owned(), HashMap::from([("6".to_owned(), 1)])),
        ]);
        BeirDataset { corpus, queries, qrels }
    }

    fn ids(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .expect("read")
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("json")["_id"].to_string())
            .collect()
    }

    #[test]
    fn judged_documents_are_kept_and_others_fill_in_file_order() {
        let dir = tempfile::tempdir().expect("dir");
        let mut data = dataset(dir.path());
        limit_queries(&mut data, 1);
        assert_eq!(data.queries.keys().collect::<Vec<_>>(), ["a"]);
        assert!(!data.qrels.contains_key("b"));
        let out = dir.path().join("sample.jsonl");
        assert_eq!(write_sampled_corpus(&data, 3, &out).expect("sample"), 6);
        assert_eq!(ids(&out), [r#""1""#, r#""2""#, r#""5""#]);
        // Fewer documents than are judged still keeps every judged one.
        let data = dataset(dir.path());
        write_sampled_corpus(&data, 1, &out).expect("sample");
        assert_eq!(ids(&out), [r#""5""#, r#""6""#]);
    }

    #[test]
    fn a_line_that_is_not_json_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let data = dataset(dir.path());
        std::fs::write(&data.corpus, "{\"_id\": \"1\"}\nnot json\n").expect("write");
        let error = write_sampled_corpus(&data, 1, &dir.path().join("out")).expect_err("bad line");
        assert!(error.to_string().contains("line 2"), "{error}");
    }
}
