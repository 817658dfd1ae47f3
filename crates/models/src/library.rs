use std::path::{Path, PathBuf};

use hypatia_gguf::GgufInfo;
use serde::Serialize;

/// A `.gguf` file in the models folder: what it is, or why it cannot be read.
#[derive(Debug, Clone, Serialize)]
pub struct ModelEntry {
    pub path: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<GgufInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every `.gguf` file in `dir` (and one level of subfolders, as Hugging Face downloads are often kept),
/// sorted by path. A missing folder is an empty list; an unreadable file is listed with its error.
pub fn list_models(dir: &Path) -> std::io::Result<Vec<ModelEntry>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = Vec::new();
    collect(dir, 1, &mut files)?;
    files.sort();
    Ok(files
        .into_iter()
        .map(|path| match hypatia_gguf::read_info(&path) {
            Ok(info) => ModelEntry {
                path,
                info: Some(info),
                error: None,
            },
            Err(error) => ModelEntry {
                path,
                info: None,
                error: Some(error.to_string()),
            },
        })
        .collect())
}

fn collect(dir: &Path, depth: u32, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() && depth > 0 {
            collect(&path, depth - 1, files)?;
        } else if path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("gguf")) {
            files.push(path);
        }
    }
    Ok(())
}
