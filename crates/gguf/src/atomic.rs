//! Writing a file so that readers see the old file or the whole new one, never a part.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::GgufError;

/// Writes `bytes` to a temporary file beside `path`, named uniquely for this process and call so
/// that racing writers never share one, then renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), GgufError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| GgufError::Io { path, action, source }
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io("create the folder of", path))?;
    }
    let temp = temp_path(path);
    if let Err(err) = fs::write(&temp, bytes).map_err(io("write", &temp)) {
        let _ = fs::remove_file(&temp);
        return Err(err);
    }
    fs::rename(&temp, path).map_err(|source| {
        let _ = fs::remove_file(&temp);
        GgufError::Io {
            path: path.to_path_buf(),
            action: "rename a temporary file to",
            source,
        }
    })
}

/// `model.gguf` → `model.gguf.<pid>-<n>.tmp`.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{}-{n}.tmp", std::process::id()));
    path.with_file_name(name)
}
