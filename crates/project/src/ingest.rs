//! Ingesting files: read, store in one transaction per file, index.

use std::path::{Path, PathBuf};

use hypatia_core::SourceFormat;
use hypatia_index::IndexError;
use hypatia_ingest::{InvalidRecord, is_ingestible_extension, read_file_with};
use hypatia_store::{RecordOutcome, SourceFile};

use crate::{Project, ProjectError, sync};

#[derive(Debug, Clone, Copy, Default)]
pub struct IngestOptions {
    /// `None`: detect each file's format from its name and content.
    pub format: Option<SourceFormat>,
    /// Store a file's valid records even if some are invalid.
    pub skip_invalid: bool,
    /// How PDFs are read (limits, passage size).
    pub pdf: hypatia_ingest::PdfOptions,
}

/// What ingesting one file did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestSummary {
    pub path: PathBuf,
    pub format: SourceFormat,
    pub added: usize,
    pub merged: usize,
    pub unchanged: usize,
    #[serde(serialize_with = "serialize_invalid")]
    pub skipped: Vec<InvalidRecord>,
    /// `location: what was dropped`, e.g. a malformed DOI.
    pub warnings: Vec<String>,
    /// The full text stored from a PDF.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<DocumentSummary>,
}

/// What a PDF added: which paper, which full-text version, how much.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DocumentSummary {
    pub paper_id: String,
    pub version: u32,
    /// `false` when this very file was already stored: nothing changed.
    pub new_version: bool,
    pub pages: usize,
    pub passages: usize,
    pub references: usize,
    pub references_with_doi: usize,
}

impl DocumentSummary {
    fn of(stored: &hypatia_store::StoredDocument, fulltext: &hypatia_core::FullText) -> DocumentSummary {
        DocumentSummary {
            paper_id: stored.outcome.paper_id().to_string(),
            version: stored.version,
            new_version: stored.new_version,
            pages: fulltext.pages.len(),
            passages: fulltext.passages.len(),
            references: fulltext.references.len(),
            references_with_doi: fulltext.references.iter().filter(|r| r.doi.is_some()).count(),
        }
    }
}

impl IngestSummary {
    fn of(
        path: &Path,
        format: SourceFormat,
        stored: &hypatia_store::StoredFile,
        skipped: Vec<InvalidRecord>,
        warnings: Vec<String>,
    ) -> IngestSummary {
        let count = |pred: fn(&RecordOutcome) -> bool| stored.outcomes.iter().filter(|o| pred(o)).count();
        IngestSummary {
            path: path.to_owned(),
            format,
            added: count(|o| matches!(o, RecordOutcome::Added(_))),
            merged: count(|o| matches!(o, RecordOutcome::Merged(_))),
            unchanged: count(|o| matches!(o, RecordOutcome::Unchanged(_))),
            skipped,
            warnings,
            documents: Vec::new(),
        }
    }
}

fn serialize_invalid<S: serde::Serializer>(invalid: &[InvalidRecord], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(invalid.iter().map(|r| r.to_string()))
}

/// Where a long ingest is, for a progress display.
#[derive(Debug, Clone, Copy)]
pub enum IngestProgress<'a> {
    Reading(&'a Path),
    Storing { path: &'a Path, records: usize },
    Indexing { papers: u64 },
}

impl Project {
    /// The files to ingest for the paths given: files as they are, folders
    /// searched recursively for files with a known extension, sorted.
    pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ProjectError> {
        let mut files = Vec::new();
        for path in paths {
            let metadata = std::fs::metadata(path).map_err(ProjectError::io(path))?;
            if metadata.is_dir() {
                let mut found = Vec::new();
                collect_files(path, &mut found)?;
                found.sort();
                files.extend(found);
            } else {
                files.push(path.clone());
            }
        }
        Ok(files)
    }

    /// Ingests one file. A file with invalid records is refused whole
    /// unless `skip_invalid`; nothing from a refused file is stored.
    pub async fn ingest_file(
        &self,
        path: &Path,
        options: IngestOptions,
        progress: &(dyn Fn(IngestProgress<'_>) + Sync),
    ) -> Result<IngestSummary, ProjectError> {
        progress(IngestProgress::Reading(path));
        let started = std::time::Instant::now();
        let parsed = read_file_with(path, options.format, &options.pdf)?.check(options.skip_invalid)?;
        let parsed_at = started.elapsed();
        // Canonical, so `../proj/refs.bib` and `refs.bib` are one source.
        let absolute = match path.canonicalize() {
            Ok(path) => path,
            // Pipes and other special files have no canonical path.
            Err(_) => std::path::absolute(path).map_err(ProjectError::io(path))?,
        };
        let source = SourceFile {
            path: absolute.to_string_lossy().into_owned(),
            format: parsed.format,
            sha256: parsed.sha256.clone(),
        };
        let mut warnings = Vec::new();
        let mut records = Vec::with_capacity(parsed.records.len());
        let mut fulltexts = Vec::new();
        for record in parsed.records {
            for warning in &record.warnings {
                warnings.push(format!("{}: {warning}", record.key));
            }
            if let Some(fulltext) = record.fulltext {
                fulltexts.push((record.record, record.key, fulltext));
            } else {
                records.push((record.record, record.key));
            }
        }
        progress(IngestProgress::Storing {
            path,
            records: records.len() + fulltexts.len(),
        });
        let mut stored = if records.is_empty() && !fulltexts.is_empty() {
            hypatia_store::StoredFile {
                outcomes: Vec::new(),
                change_seq: 0,
            }
        } else {
            self.store.store_file(&source, &records, parsed.invalid.len()).await?
        };
        let mut documents = Vec::new();
        for (record, key, fulltext) in &fulltexts {
            let document = self.store.store_document(&source, record, key, fulltext).await?;
            stored.outcomes.push(document.outcome.clone());
            stored.change_seq = stored.change_seq.max(document.change_seq);
            documents.push(DocumentSummary::of(&document, fulltext));
        }
        let stored_at = started.elapsed();
        self.index_stored(path, &mut warnings, progress).await?;
        tracing::info!(
            path = %path.display(),
            records = records.len(),
            parse_ms = parsed_at.as_millis(),
            store_ms = (stored_at - parsed_at).as_millis(),
            index_ms = (started.elapsed() - stored_at).as_millis(),
            "ingested"
        );

        let mut summary = IngestSummary::of(path, parsed.format, &stored, parsed.invalid, warnings);
        summary.documents = documents;
        Ok(summary)
    }
}

impl Project {
    /// Stores records fetched from a scholarly API as one source (`label`, e.g. `s2:search "…"`), with
    /// the same dedup as a file's records, and indexes them.
    pub async fn store_fetched(
        &self,
        label: &str,
        format: SourceFormat,
        records: Vec<(hypatia_core::PaperRecord, String)>,
        progress: &(dyn Fn(IngestProgress<'_>) + Sync),
    ) -> Result<IngestSummary, ProjectError> {
        use sha2::{Digest, Sha256};
        let mut warnings = Vec::new();
        let mut normalized = Vec::with_capacity(records.len());
        let mut digest = Sha256::new();
        for (record, key) in records {
            let (record, dropped) = record.normalized();
            for warning in dropped {
                warnings.push(format!("{key}: {warning}"));
            }
            if record.title.is_empty() {
                warnings.push(format!("{key}: skipped, it has no title"));
                continue;
            }
            digest.update(key.as_bytes());
            normalized.push((record, key));
        }
        let source = SourceFile {
            path: label.to_owned(),
            format,
            sha256: digest.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        };
        let shown = Path::new(label);
        progress(IngestProgress::Storing {
            path: shown,
            records: normalized.len(),
        });
        let stored = self.store.store_file(&source, &normalized, 0).await?;
        self.index_stored(shown, &mut warnings, progress).await?;
        Ok(IngestSummary::of(shown, format, &stored, Vec::new(), warnings))
    }

    /// Brings the index up to what was just stored. An index another process holds catches up the
    /// next time the project is opened (a warning says so).
    async fn index_stored(
        &self,
        path: &Path,
        warnings: &mut Vec<String>,
        progress: &(dyn Fn(IngestProgress<'_>) + Sync),
    ) -> Result<(), ProjectError> {
        let indexing = sync::catch_up(&self.store, &self.index, &|papers| {
            progress(IngestProgress::Indexing { papers })
        })
        .await;
        match indexing {
            Ok(_) => Ok(()),
            Err(ProjectError::Index(IndexError::Busy(dir))) => {
                tracing::warn!(dir = %dir.display(), "stored but not yet indexed: index busy");
                warnings.push(format!(
                    "stored, but not yet searchable: another Hypatia process is writing the index in {}; \
                     it will be indexed the next time the project is opened",
                    dir.display()
                ));
                Ok(())
            }
            Err(error) => Err(ProjectError::NotIndexed {
                path: path.to_owned(),
                source: Box::new(error),
            }),
        }
    }
}

fn collect_files(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), ProjectError> {
    for entry in std::fs::read_dir(dir).map_err(ProjectError::io(dir))? {
        let entry = entry.map_err(ProjectError::io(dir))?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(ProjectError::io(&path))?;
        if kind.is_dir() {
            collect_files(&path, found)?;
        } else if kind.is_file() && is_ingestible_extension(&path) {
            found.push(path);
        }
    }
    Ok(())
}
