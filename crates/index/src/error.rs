use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("another Hypatia process is writing to the index in {0}; wait for it to finish, then try again")]
    Busy(PathBuf),
    #[error(
        "the index in {path} was built with the `{found}` analyzer, but this project uses `{wanted}`; run `hypatia reindex`"
    )]
    AnalyzerMismatch {
        path: PathBuf,
        found: String,
        wanted: String,
    },
    #[error("cannot create the index folder {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}
