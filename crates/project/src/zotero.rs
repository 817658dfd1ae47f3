//! Importing a Zotero library: every item's metadata (Zotero's, which the
//! researcher curated) and the full text of its attached PDF, with a PDF
//! already stored recognised by its hash and not read again, so a second
//! import adds only what changed.

use std::path::{Path, PathBuf};

use hypatia_core::{PaperRecord, SourceFormat};
use hypatia_ingest::{PdfOptions, parse_bytes_with, sha256_hex};
use hypatia_store::{RecordOutcome, SourceFile};
use hypatia_zotero::{ZoteroItem, ZoteroLibrary};

use crate::{IngestProgress, Project, ProjectError, sync};

/// What importing a Zotero library did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ZoteroSummary {
    pub library: PathBuf,
    pub collection: Option<String>,
    pub items: usize,
    pub added: usize,
    pub merged: usize,
    pub unchanged: usize,
    /// PDFs read and stored as full text.
    pub pdfs_read: usize,
    /// PDFs already stored (same file): not read again.
    pub pdfs_known: usize,
    /// `item: why`, for an attached PDF that is missing or could not be read (the item's
    /// metadata was stored all the same), and for items skipped.
    pub warnings: Vec<String>,
}

impl Project {
    /// Imports `library` (or one collection of it) into the project.
    pub async fn ingest_zotero(
        &self,
        library: &ZoteroLibrary,
        collection: Option<&str>,
        progress: &(dyn Fn(IngestProgress<'_>) + Sync),
    ) -> Result<ZoteroSummary, ProjectError> {
        let items = library.items(collection).await?;
        let database = library.dir().join(hypatia_zotero::DATABASE_FILE);
        let database = database.canonicalize().unwrap_or(database);
        let source = SourceFile {
            path: database.to_string_lossy().into_owned(),
            format: SourceFormat::Zotero,
            sha256: sha256_hex(
                items
                    .iter()
                    .map(|i| format!("{}@{}\n", i.id, i.date_modified))
                    .collect::<String>()
                    .as_bytes(),
            ),
        };
        let mut summary = ZoteroSummary {
            library: library.dir().to_owned(),
            collection: collection.map(str::to_owned),
            items: items.len(),
            ..ZoteroSummary::default()
        };
        let mut metadata_only: Vec<(PaperRecord, String)> = Vec::new();
        for (number, item) in items.iter().enumerate() {
            progress(IngestProgress::Storing {
                path: Path::new(&item.id),
                records: number + 1,
            });
            for why in &item.missing {
                summary.warnings.push(format!("{}: attached PDF {why}", item.id));
            }
            match self.store_item_with_pdf(&source, item, &mut summary).await? {
                Some(outcome) => count(&mut summary, &outcome),
                None => {
                    let (record, dropped) = item.record.clone().normalized();
                    summary
                        .warnings
                        .extend(dropped.into_iter().map(|w| format!("{}: {w}", item.id)));
                    if record.title.is_empty() {
                        summary
                            .warnings
                            .push(format!("{}: skipped, it has no title and no readable PDF", item.id));
                        continue;
                    }
                    metadata_only.push((record, item.id.clone()));
                }
            }
        }
        if !metadata_only.is_empty() {
            let stored = self.store.store_file(&source, &metadata_only, 0).await?;
            for outcome in &stored.outcomes {
                count(&mut summary, outcome);
            }
        }
        sync::catch_up(&self.store, &self.index, &|papers| {
            progress(IngestProgress::Indexing { papers })
        })
        .await?;
        Ok(summary)
    }

    /// Stores an item with the full text of its first readable PDF; `None`
    /// when it has none (or its PDF is already stored), for the caller to
    /// store its metadata with the rest.
    async fn store_item_with_pdf(
        &self,
        source: &SourceFile,
        item: &ZoteroItem,
        summary: &mut ZoteroSummary,
    ) -> Result<Option<RecordOutcome>, ProjectError> {
        for pdf in &item.pdfs {
            let bytes = match std::fs::read(pdf) {
                Ok(bytes) => bytes,
                Err(error) => {
                    summary
                        .warnings
                        .push(format!("{}: {}: {error}", item.id, pdf.display()));
                    continue;
                }
            };
            if self.store.has_document(&sha256_hex(&bytes)).await? {
                summary.pdfs_known += 1;
                // The full text is stored; the item's metadata goes with the rest.
                if !item.record.title.trim().is_empty() {
                    return Ok(None);
                }
            }
            let parsed = match parse_bytes_with(pdf, &bytes, Some(SourceFormat::Pdf), &PdfOptions::default()) {
                Ok(parsed) => parsed,
                Err(error) => {
                    summary.warnings.push(format!("{}: {error}", item.id));
                    continue;
                }
            };
            let Some(from_pdf) = parsed.records.into_iter().next() else {
                continue;
            };
            let Some(fulltext) = from_pdf.fulltext else { continue };
            let (record, dropped) = curated(item.record.clone(), &from_pdf.record).normalized();
            summary
                .warnings
                .extend(dropped.into_iter().map(|w| format!("{}: {w}", item.id)));
            let stored = self.store.store_document(source, &record, &item.id, &fulltext).await?;
            if stored.new_version {
                summary.pdfs_read += 1;
            }
            return Ok(Some(stored.outcome));
        }
        Ok(None)
    }
}

/// Zotero's metadata, which the researcher curated, with what it lacks
/// taken from the PDF's first page.
fn curated(mut zotero: PaperRecord, pdf: &PaperRecord) -> PaperRecord {
    if zotero.title.trim().is_empty() {
        zotero.title = pdf.title.clone();
    }
    if zotero.authors.is_empty() {
        zotero.authors = pdf.authors.clone();
    }
    zotero.abstract_text = zotero.abstract_text.or_else(|| pdf.abstract_text.clone());
    zotero.year = zotero.year.or(pdf.year);
    zotero.doi = zotero.doi.or_else(|| pdf.doi.clone());
    zotero.arxiv_id = zotero.arxiv_id.or_else(|| pdf.arxiv_id.clone());
    zotero
}

fn count(summary: &mut ZoteroSummary, outcome: &RecordOutcome) {
    match outcome {
        RecordOutcome::Added(_) => summary.added += 1,
        RecordOutcome::Merged(_) => summary.merged += 1,
        RecordOutcome::Unchanged(_) => summary.unchanged += 1,
    }
}
