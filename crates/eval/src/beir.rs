//! Reading a BEIR dataset folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {message}")]
    Data { path: PathBuf, message: String },
    #[error(transparent)]
    Project(#[from] hypatia_project::ProjectError),
    #[error("cannot create a scratch project: {0}")]
    Scratch(std::io::Error),
    #[error("cancelled")]
    Cancelled,
}

/// Queries and relevance judgments of one split; the corpus stays on disk.
#[derive(Debug, Clone)]
pub struct BeirDataset {
    pub corpus: PathBuf,
    /// Query id → text, for the queries judged in the split, sorted by id.
    pub queries: BTreeMap<String, String>,
    /// Query id → (document id → relevance grade).
    pub qrels: HashMap<String, HashMap<String, i32>>,
}

impl BeirDataset {
    pub fn load(dir: &Path, split: &str) -> Result<BeirDataset, EvalError> {
        let corpus = dir.join("corpus.jsonl");
        if !corpus.is_file() {
            return Err(EvalError::Data {
                path: corpus,
                message: "missing: a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/".into(),
            });
        }
        let qrels_path = dir.join("qrels").join(format!("{split}.tsv"));
        let qrels = read_qrels(&qrels_path)?;
        let queries_path = dir.join("queries.jsonl");
        let all_queries = read_queries(&queries_path)?;
        let mut queries = BTreeMap::new();
        for id in qrels.keys() {
            let text = all_queries.get(id).ok_or_else(|| EvalError::Data {
                path: queries_path.clone(),
                message: format!("query {id} is judged in {} but not listed here", qrels_path.display()),
            })?;
            queries.insert(id.clone(), text.clone());
        }
        Ok(BeirDataset { corpus, queries, qrels })
    }
}

fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|e| EvalError::Data {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn read_qrels(path: &Path) -> Result<HashMap<String, HashMap<String, i32>>, EvalError> {
    let text = read(path)?;
    let mut qrels: HashMap<String, HashMap<String, i32>> = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        if line.trim().is_empty() || (index == 0 && fields.first() == Some(&"query-id")) {
            continue;
        }
        let bad = |what: &str| EvalError::Data {
            path: path.to_owned(),
            message: format!("line {}: {what}", index + 1),
        };
        let [query, doc, grade] = fields[..] else {
            return Err(bad("expected query-id, corpus-id and score separated by tabs"));
        };
        let grade: i32 = grade.parse().map_err(|_| bad("the score is not a whole number"))?;
        qrels.entry(query.to_owned()).or_default().insert(doc.to_owned(), grade);
    }
    Ok(qrels)
}

fn read_queries(path: &Path) -> Result<HashMap<String, String>, EvalError> {
    #[derive(serde::Deserialize)]
    struct Query {
        #[serde(rename = "_id")]
        id: serde_json::Value,
        text: String,
    }
    let text = read(path)?;
    let mut queries = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let query: Query = serde_json::from_str(line).map_err(|e| EvalError::Data {
            path: path.to_owned(),
            message: format!("line {}: {e}", index + 1),
        })?;
        queries.insert(id_text(query.id), query.text);
    }
    Ok(queries)
}

/// A BEIR `_id` as text: a string as it is, a number as written.
pub(crate) fn id_text(id: serde_json::Value) -> String {
    match id {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}
