//! Stored runs as the CLI and the terminal UI read them: the journal folded, the status as a
//! person should see it, and the checked export document.

use hypatia_bus::{BusError, RunJournal};
use hypatia_project::{Project, ProjectError};
use hypatia_report::{ExportDocument, ExportError, Library, RunMeta, RunReport, referenced_papers};
use hypatia_runs::RunRecord;
use hypatia_store::{RunRow, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("there is no run `{0}` in this project (`hypatia runs list` shows them)")]
    NoSuchRun(String),
    #[error("there is no paper `{0}` in this project (`hypatia search` shows paper ids)")]
    NoSuchPaper(String),
    #[error(transparent)]
    Steer(#[from] crate::SteerError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Journal(#[from] BusError),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// A run as the store lists it, and its journal folded.
pub async fn load_record(project: &Project, run_id: &str) -> Result<(RunRow, RunRecord), RunError> {
    let store = project.store();
    let Some(run) = store.run(run_id).await? else {
        return Err(RunError::NoSuchRun(run_id.to_owned()));
    };
    let record = RunJournal::new(store).record(run_id).await?;
    Ok((run, record))
}

/// A run marked running that no process holds was interrupted (killed, or Ctrl-C).
pub fn shown_status(project: &Project, run_id: &str, status: &str) -> String {
    if status == "running" && !project.run_is_active(run_id) {
        "interrupted".to_owned()
    } else {
        status.to_owned()
    }
}

/// The run's export document, with every paper it refers to read from the store (the integrity
/// gate checks citations against these).
pub async fn load_document(project: &Project, run_id: &str) -> Result<ExportDocument, RunError> {
    let (run, record) = load_record(project, run_id).await?;
    document_of(project, &run, &record).await
}

/// What `review --json` and `runs show` print: a view of the run's export document.
pub async fn load_report(project: &Project, run_id: &str) -> Result<RunReport, RunError> {
    Ok(RunReport::of(&load_document(project, run_id).await?))
}

/// The export document of a run already folded.
pub async fn document_of(project: &Project, run: &RunRow, record: &RunRecord) -> Result<ExportDocument, RunError> {
    let mut library = Library::default();
    for paper_id in referenced_papers(record) {
        if let Some((paper, passages)) = project.paper(&paper_id).await? {
            library.passages.extend(passages.into_iter().map(|p| (p.id, p.text)));
            library.papers.insert(paper_id, paper);
        }
    }
    // A passage of a full-text version since superseded is out of search but still stored: the run
    // cited it, and it resolves.
    let store = project.store();
    for passage in record.hypotheses.values().flat_map(|h| h.citations.iter()) {
        if !library.passages.contains_key(passage)
            && let Some(stored) = store.passage(passage).await?
        {
            library.passages.insert(stored.id, stored.text);
        }
    }
    // Citations between papers the report names, where the citation graph has them.
    let named: Vec<&hypatia_core::Paper> = library.papers.values().collect();
    library.citation_edges = hypatia_citations::citations_among(project, &named).await?;
    let meta = RunMeta {
        run_id: run.id.clone(),
        question: run.question.clone(),
        status: shown_status(project, &run.id, &run.status),
        detail: run.detail.clone(),
    };
    Ok(ExportDocument::build(record, &meta, &library)?)
}
