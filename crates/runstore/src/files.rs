//! Writing exports: whole files or none, so a reader (or a crash) never sees half a report.

use std::path::{Path, PathBuf};

use hypatia_report::{ExportDocument, Format};

/// Written beside the target, synced, and renamed over it.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?
        .to_string_lossy();
    let temporary = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&temporary, text)
        .and_then(|()| std::fs::File::open(&temporary)?.sync_all())
        .and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Renders every format first, then writes `RUN.<ext>` for each into `dir` (created if missing).
pub fn export_to_dir(document: &ExportDocument, formats: &[Format], dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let rendered: Vec<(Format, String)> = formats.iter().map(|f| (*f, f.render(document))).collect();
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (format, text) in rendered {
        let file = dir.join(format!("{}.{}", document.run_id, format.extension()));
        write_atomically(&file, &text)?;
        written.push(file);
    }
    Ok(written)
}
