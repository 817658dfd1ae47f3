//! Responses on disk, by request: a re-run or a resumed review asks no API twice for the same thing.
//! Only successful responses are kept; a key (an API key header) is never part of what is hashed.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::SourceError;

#[derive(Debug, Clone)]
pub struct ResponseCache {
    dir: PathBuf,
}

impl ResponseCache {
    pub fn new(dir: impl Into<PathBuf>) -> ResponseCache {
        ResponseCache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, source: &str, request: &str) -> PathBuf {
        let digest = Sha256::digest(request.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(source).join(format!("{hex}.body"))
    }

    pub fn get(&self, source: &str, request: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(source, request)).ok()
    }

    /// Written to a temporary name and renamed, so a reader never sees half a response.
    pub fn put(&self, source: &str, request: &str, body: &[u8]) -> Result<(), SourceError> {
        let path = self.path(source, request);
        let error = |detail: std::io::Error| SourceError::Cache {
            path: path.display().to_string(),
            detail: detail.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(error)?;
        }
        let partial = path.with_extension(format!("part{}", std::process::id()));
        std::fs::write(&partial, body).map_err(error)?;
        std::fs::rename(&partial, &path).map_err(error)
    }
}
