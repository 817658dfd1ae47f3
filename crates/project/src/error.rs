use std::path::PathBuf;

use hypatia_index::IndexError;
use hypatia_ingest::IngestError;
use hypatia_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(
        "not inside a Hypatia project (looked for hypatia.toml in {searched} and every folder above it)\n\
         create one with `hypatia init`, or point to one with --project DIR or HYPATIA_PROJECT"
    )]
    NotFound { searched: PathBuf },
    #[error("{path} is not a Hypatia project: it has no hypatia.toml (create one with `hypatia init {path}`)")]
    NotAProject { path: PathBuf },
    #[error("{path} is already a Hypatia project")]
    AlreadyExists { path: PathBuf },
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("run {run_id} is being worked on by another process")]
    RunBusy { run_id: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} was stored, but indexing it failed: {source}; run `hypatia reindex`")]
    NotIndexed {
        path: PathBuf,
        #[source]
        source: Box<ProjectError>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Zotero(#[from] hypatia_zotero::ZoteroError),
    #[error("passage vectors: {0}")]
    Vectors(#[from] hypatia_vectors::VectorError),
    #[error("the embedding model: {0}")]
    Embedding(#[from] hypatia_llm::LlmError),
    #[error(
        "--mode {mode} needs an embedding model: --embedding-model FILE.gguf, HYPATIA_EMBEDDING_MODEL, or [embedding] \
         in hypatia.toml (`hypatia models convert` makes one from a sentence-transformers folder)"
    )]
    NoEmbedder { mode: crate::SearchMode },
}

impl ProjectError {
    /// The file itself cannot be read (binary, not UTF-8, malformed, an unreadable PDF): what
    /// `--skip-invalid` steps over, unlike a failing disk or database.
    pub fn is_unreadable_file(&self) -> bool {
        matches!(
            self,
            ProjectError::Ingest(
                IngestError::Binary { .. }
                    | IngestError::NotUtf8 { .. }
                    | IngestError::UnknownFormat { .. }
                    | IngestError::Malformed { .. }
                    | IngestError::Pdf { .. }
            )
        )
    }

    /// A failure a retry may get past: an embedding server that is busy or unreachable.
    pub fn is_transient(&self) -> bool {
        matches!(self, ProjectError::Embedding(model) if model.is_retryable())
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ProjectError {
        let path = path.into();
        move |source| ProjectError::Io { path, source }
    }
}
