use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    #[error("{path}: cannot {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("a vector of {found} dimensions given to an index of {expected}")]
    Dimensions { expected: usize, found: usize },
}

impl VectorError {
    pub(crate) fn io(path: &std::path::Path, action: &'static str) -> impl FnOnce(std::io::Error) -> VectorError {
        let path = path.to_owned();
        move |source| VectorError::Io { path, action, source }
    }
}
