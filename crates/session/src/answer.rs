//! A quick cited answer: the library's passages on a question, a few sentences citing them, each
//! citation checked against what it is cited for — or a plain statement that the library holds no
//! evidence for an answer, never an answer from the model's memory.
//!
//! Two steps, so the model is loaded only when there is something to answer from:
//! [`gather_evidence`] (search, no model) and [`compose_answer`] (the model writes, then judges).

use std::collections::BTreeSet;

use hypatia_agentkit::{
    PROMPT_PASSAGE_CHARS, ProseCheck, Thinker, content_words, coverage, evidence_items, judge_support, task_seed,
};
use hypatia_core::{PaperId, PassageId, PassageLocation};
use hypatia_project::{Project, ProjectError, SearchMode, SearchRequest};
use hypatia_research::{AgentFailure, CallUsage, EvidencePassage, Support};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// A passage bears on the question when it holds at least this share of the question's content words.
pub const RELEVANT_COVERAGE: f64 = 0.34;
const MAX_CITATIONS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("searching the library: {0}")]
    Search(#[from] ProjectError),
    #[error("{0}")]
    Model(String),
    #[error(
        "the answer cites passage {0}, which was not among the passages it was given or is no longer stored \
         as given: nothing was printed"
    )]
    Integrity(PassageId),
}

impl From<AgentFailure> for AnswerError {
    fn from(failure: AgentFailure) -> AnswerError {
        AnswerError::Model(failure.message)
    }
}

#[derive(Debug, Clone)]
pub struct AnswerOptions {
    /// Passages searched for; those that bear on the question are given to the model.
    pub passages: usize,
    /// `None`: the project's default (hybrid with an embedding model, else bm25).
    pub mode: Option<SearchMode>,
    pub seed: u64,
}

impl Default for AnswerOptions {
    fn default() -> AnswerOptions {
        AnswerOptions {
            passages: 8,
            mode: None,
            seed: 1,
        }
    }
}

/// What the library holds on the question.
#[derive(Debug, Clone)]
pub struct Gathered {
    pub question: String,
    /// Passages the search returned.
    pub searched: usize,
    /// Those that bear on the question, best first: the only ones the model sees.
    pub relevant: Vec<EvidencePassage>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnswerCitation {
    pub passage_id: PassageId,
    pub paper_id: PaperId,
    pub title: String,
    pub year: Option<i32>,
    pub section: Option<String>,
    pub page: Option<u32>,
    pub page_end: Option<u32>,
    /// The passage as stored.
    pub text: String,
    /// Whether the passage says what the answer cites it for.
    pub support: Support,
    pub support_reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CitedAnswer {
    pub question: String,
    /// The answer, or, when abstaining, what the library does and does not cover.
    pub answer: String,
    pub abstained: bool,
    /// Why there is no answer, when abstaining.
    pub abstain_reason: Option<String>,
    pub citations: Vec<AnswerCitation>,
    pub passages_searched: usize,
    pub passages_given: usize,
    /// What answered (never a key); `None` when no model was asked.
    pub model: Option<String>,
    pub model_calls: u32,
    pub usage: CallUsage,
}

impl CitedAnswer {
    fn abstain(gathered: &Gathered, reason: String, answer: String) -> CitedAnswer {
        CitedAnswer {
            question: gathered.question.clone(),
            answer,
            abstained: true,
            abstain_reason: Some(reason),
            citations: Vec::new(),
            passages_searched: gathered.searched,
            passages_given: gathered.relevant.len(),
            model: None,
            model_calls: 0,
            usage: CallUsage::default(),
        }
    }

    /// The abstention a library with nothing on the question gets, before any model is loaded.
    pub fn nothing_found(gathered: &Gathered) -> CitedAnswer {
        let reason = if gathered.searched == 0 {
            "no passage in the library matches the question".to_owned()
        } else {
            format!(
                "none of the {} passages the search found shares enough of the question's terms to bear on it",
                gathered.searched
            )
        };
        CitedAnswer::abstain(
            gathered,
            reason,
            "The library holds no evidence for an answer to this question.".to_owned(),
        )
    }
}

#[derive(Debug, Deserialize)]
struct ModelAnswer {
    answerable: bool,
    answer: String,
    citations: Vec<String>,
}

/// Searches the library for passages bearing on `question`. Needs no model.
pub async fn gather_evidence(
    project: &Project,
    question: &str,
    options: &AnswerOptions,
) -> Result<Gathered, AnswerError> {
    let mode = options.mode.unwrap_or_else(|| project.default_mode());
    // Quotes would make the question a phrase query; it is searched as words.
    let query = question.replace('"', " ");
    let hits = project
        .find_passages(&SearchRequest::new(&query, options.passages.max(1)), mode)
        .await?;
    let terms = content_words(question);
    let mut relevant = Vec::new();
    let mut seen = BTreeSet::new();
    for hit in &hits {
        if !seen.insert(hit.passage_id.clone()) || coverage(&terms, &hit.text.text) < RELEVANT_COVERAGE {
            continue;
        }
        let Some((paper, _)) = project.paper(&hit.paper_id).await? else {
            continue;
        };
        relevant.push(EvidencePassage {
            passage_id: hit.passage_id.clone(),
            paper_id: hit.paper_id.clone(),
            title: paper.title,
            year: hit.year,
            text: hit.text.text.clone(),
            score: f64::from(hit.score),
            location: hit.location.clone(),
        });
    }
    Ok(Gathered {
        question: question.to_owned(),
        searched: hits.len(),
        relevant,
    })
}

/// The model answers from `gathered.relevant` only, then judges each citation against its answer.
/// It abstains when the model says the passages do not answer, or no cited passage supports it.
pub async fn compose_answer(
    project: &Project,
    thinker: &Thinker,
    gathered: &Gathered,
    options: &AnswerOptions,
    cancel: &CancellationToken,
) -> Result<CitedAnswer, AnswerError> {
    if gathered.relevant.is_empty() {
        return Ok(CitedAnswer::nothing_found(gathered));
    }
    let ids: Vec<String> = gathered.relevant.iter().map(|p| p.passage_id.to_string()).collect();
    let context = json!({
        "question": hypatia_agentkit::escape_data(&gathered.question),
        "evidence": evidence_items(&gathered.relevant),
    });
    let written = thinker
        .ask_uncut(
            ("answer_system", "answer_user"),
            &context,
            answer_schema(&ids),
            &ProseCheck::new().field("answer", 5),
            task_seed(options.seed, "answer"),
            cancel,
        )
        .await?;
    let mut usage = written.usage.clone();
    let model: ModelAnswer = serde_json::from_value(written.value)
        .map_err(|error| AnswerError::Model(format!("the model's answer has the wrong shape: {error}")))?;
    let mut answer = CitedAnswer {
        question: gathered.question.clone(),
        answer: model.answer.trim().to_owned(),
        abstained: false,
        abstain_reason: None,
        citations: Vec::new(),
        passages_searched: gathered.searched,
        passages_given: gathered.relevant.len(),
        model: Some(thinker.describe()),
        model_calls: 1,
        usage: usage.clone(),
    };
    // Agents cite only what they were given: the schema enumerates the ids, and it is checked again.
    let mut cited: Vec<EvidencePassage> = Vec::new();
    for id in &model.citations {
        let passage = gathered
            .relevant
            .iter()
            .find(|p| p.passage_id.as_str() == id)
            .ok_or_else(|| AnswerError::Model(format!("the answer cites `{id}`, which it was not given")))?;
        if !cited.iter().any(|c| c.passage_id == passage.passage_id) {
            cited.push(passage.clone());
        }
    }
    if !model.answerable || cited.is_empty() {
        answer.abstained = true;
        answer.abstain_reason = Some(if model.answerable {
            "the model's answer cited no passage, and an answer must rest on the library".to_owned()
        } else {
            "the model found that the passages do not answer the question".to_owned()
        });
        return Ok(answer);
    }
    let (judged, judge_usage) = judge_support(
        thinker,
        &answer.answer,
        &cited,
        PROMPT_PASSAGE_CHARS,
        task_seed(options.seed, "answer.support"),
        cancel,
    )
    .await?;
    usage = usage.plus(&judge_usage);
    answer.model_calls += 1;
    answer.usage = usage;
    for (passage, judgement) in cited.iter().zip(judged) {
        answer
            .citations
            .push(stored_citation(project, passage, judgement.label, judgement.reason).await?);
    }
    if !answer.citations.iter().any(|c| c.support == Support::Supports) {
        answer.abstained = true;
        answer.abstain_reason = Some(
            "no passage the answer cites supports it, so it is not given as an answer (the citations and their \
             judgements are listed)"
                .to_owned(),
        );
    }
    Ok(answer)
}

/// The citation with the passage's stored text: a passage that is no longer stored as it was given
/// stops the answer (the same integrity gate as a report's).
async fn stored_citation(
    project: &Project,
    passage: &EvidencePassage,
    support: Support,
    support_reason: String,
) -> Result<AnswerCitation, AnswerError> {
    let stored = project
        .paper(&passage.paper_id)
        .await?
        .and_then(|(_, passages)| passages.into_iter().find(|p| p.id == passage.passage_id))
        .filter(|p| p.text == passage.text)
        .ok_or_else(|| AnswerError::Integrity(passage.passage_id.clone()))?;
    let (section, page, page_end) = place(passage.location.as_ref());
    Ok(AnswerCitation {
        passage_id: passage.passage_id.clone(),
        paper_id: passage.paper_id.clone(),
        title: passage.title.clone(),
        year: passage.year,
        section,
        page,
        page_end,
        text: stored.text,
        support,
        support_reason,
    })
}

fn place(location: Option<&PassageLocation>) -> (Option<String>, Option<u32>, Option<u32>) {
    match location {
        None => (None, None, None),
        Some(at) => (Some(at.section.clone()), Some(at.page), Some(at.page_end)),
    }
}

fn answer_schema(ids: &[String]) -> Value {
    json!({
        "type": "object",
        "properties": {
            "answerable": { "type": "boolean" },
            "answer": { "type": "string", "minLength": 10, "maxLength": 700 },
            "citations": {
                "type": "array",
                "items": { "type": "string", "enum": ids },
                "maxItems": MAX_CITATIONS,
            },
        },
        "required": ["answerable", "answer", "citations"],
        "additionalProperties": false,
    })
}
