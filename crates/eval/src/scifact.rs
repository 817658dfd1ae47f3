//! SciFact in its original format (`claims_<split>.jsonl`, `corpus.jsonl`): every claim paired with
//! each abstract it cites, labelled as SciFact's annotators did — SUPPORT, CONTRADICT, or not enough
//! information (a cited abstract with no rationale), which is Hypatia's `unrelated`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hypatia_research::Support;
use serde::Deserialize;
use serde_json::Value;

use crate::EvalError;

/// One claim and one abstract it cites, with the annotators' label.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimExample {
    pub claim_id: u64,
    pub claim: String,
    pub doc_id: u64,
    pub title: String,
    /// The abstract's sentences joined.
    pub abstract_text: String,
    pub gold: Support,
}

#[derive(Deserialize)]
struct ClaimLine {
    id: u64,
    claim: String,
    evidence: Option<BTreeMap<String, Vec<Rationale>>>,
    cited_doc_ids: Option<Vec<u64>>,
}

#[derive(Deserialize)]
struct Rationale {
    label: String,
}

#[derive(Deserialize)]
struct CorpusLine {
    doc_id: u64,
    title: String,
    #[serde(rename = "abstract")]
    sentences: Vec<String>,
}

/// The labelled (claim, cited abstract) pairs of `split`, in the file's order.
pub fn load_claims(dir: &Path, split: &str) -> Result<Vec<ClaimExample>, EvalError> {
    let claims_path = dir.join(format!("claims_{split}.jsonl"));
    let data = |path: &Path, message: String| EvalError::Data {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(&claims_path).map_err(|e| data(&claims_path, e.to_string()))?;
    let mut claims = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let claim: ClaimLine = serde_json::from_str(line)
            .map_err(|e| data(&claims_path, format!("line {}: not a SciFact claim: {e}", number + 1)))?;
        let (Some(evidence), Some(cited)) = (claim.evidence, claim.cited_doc_ids) else {
            return Err(data(
                &claims_path,
                format!(
                    "line {}: claim {} has no labels (SciFact keeps the test split's labels private; \
                     evaluate `dev` or `train`)",
                    number + 1,
                    claim.id
                ),
            ));
        };
        let mut labelled = Vec::new();
        for doc_id in cited {
            let gold = match evidence.get(&doc_id.to_string()).and_then(|r| r.first()) {
                None => Support::Unrelated,
                Some(rationale) => match rationale.label.as_str() {
                    "SUPPORT" => Support::Supports,
                    "CONTRADICT" => Support::Contradicts,
                    other => {
                        return Err(data(
                            &claims_path,
                            format!("line {}: label `{other}` is neither SUPPORT nor CONTRADICT", number + 1),
                        ));
                    }
                },
            };
            labelled.push((doc_id, gold));
        }
        claims.push((claim.id, claim.claim, labelled));
    }
    let wanted: BTreeSet<u64> = claims
        .iter()
        .flat_map(|(_, _, docs)| docs.iter().map(|(id, _)| *id))
        .collect();
    let corpus = read_corpus(&dir.join("corpus.jsonl"), &wanted)?;
    let mut examples = Vec::new();
    for (claim_id, claim, docs) in claims {
        for (doc_id, gold) in docs {
            let (title, abstract_text) = corpus.get(&doc_id).cloned().ok_or_else(|| {
                data(
                    &dir.join("corpus.jsonl"),
                    format!("claim {claim_id} cites document {doc_id}, which the corpus lacks"),
                )
            })?;
            examples.push(ClaimExample {
                claim_id,
                claim: claim.clone(),
                doc_id,
                title,
                abstract_text,
                gold,
            });
        }
    }
    Ok(examples)
}

/// Title and abstract of the documents in `wanted`.
fn read_corpus(path: &Path, wanted: &BTreeSet<u64>) -> Result<BTreeMap<u64, (String, String)>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::Data {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let mut corpus = BTreeMap::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let located = |e: serde_json::Error| EvalError::Data {
            path: path.to_owned(),
            message: format!("line {}: not a SciFact document: {e}", number + 1),
        };
        // Only the documents a claim cites are read whole.
        let id = serde_json::from_str::<Value>(line).map_err(located)?["doc_id"].as_u64();
        if id.is_some_and(|id| wanted.contains(&id)) {
            let doc: CorpusLine = serde_json::from_str(line).map_err(located)?;
            corpus.insert(doc.doc_id, (doc.title, doc.sentences.join(" ")));
        }
    }
    Ok(corpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(claims: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("claims_dev.jsonl"), claims).expect("write");
        std::fs::write(
            dir.path().join("corpus.jsonl"),
            "{\"doc_id\": 10, \"title\": \"T10\", \"abstract\": [\"One.\", \"Two.\"]}\n\
             {\"doc_id\": 20, \"title\": \"T20\", \"abstract\": [\"Three.\"]}\n",
        )
        .expect("write");
        dir
    }

    #[test]
    fn every_cited_abstract_is_an_example_and_one_without_rationale_is_unrelated() {
        let dir = folder(
            "{\"id\": 1, \"claim\": \"A\", \"evidence\": {\"10\": [{\"sentences\": [0], \"label\": \"CONTRADICT\"}]}, \"cited_doc_ids\": [10, 20]}\n\
             {\"id\": 2, \"claim\": \"B\", \"evidence\": {}, \"cited_doc_ids\": [20]}\n",
        );
        let examples = load_claims(dir.path(), "dev").expect("load");
        let labels: Vec<(u64, u64, Support)> = examples.iter().map(|e| (e.claim_id, e.doc_id, e.gold)).collect();
        assert_eq!(
            labels,
            vec![
                (1, 10, Support::Contradicts),
                (1, 20, Support::Unrelated),
                (2, 20, Support::Unrelated)
            ]
        );
        assert_eq!(examples[0].abstract_text, "One. Two.");
    }

    #[test]
    fn unlabelled_claims_and_missing_documents_are_refused_by_line() {
        let dir = folder("{\"id\": 7, \"claim\": \"No labels here.\"}\n");
        let error = load_claims(dir.path(), "dev").expect_err("unlabelled").to_string();
        assert!(error.contains("line 1: claim 7 has no labels"), "{error}");
        let dir = folder("{\"id\": 1, \"claim\": \"A\", \"evidence\": {}, \"cited_doc_ids\": [99]}\n");
        let error = load_claims(dir.path(), "dev")
            .expect_err("missing document")
            .to_string();
        assert!(error.contains("cites document 99"), "{error}");
    }
}
