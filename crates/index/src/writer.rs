//! Writing both indexes: update = delete by paper id + add, and one commit
//! that records the store change the indexes now reflect.

use hypatia_core::{Paper, Passage};
use tantivy::{IndexWriter, TantivyDocument, Term, doc};

use crate::{IndexError, LiteratureIndex};

/// Memory for each writer's indexing buffer; tantivy splits it among threads.
const WRITER_HEAP_BYTES: usize = 128 * 1024 * 1024;

/// Open writers on both indexes. Dropping it without `commit` discards
/// every change made through it.
pub struct IndexWriterSession<'a> {
    index: &'a LiteratureIndex,
    papers: IndexWriter<TantivyDocument>,
    passages: IndexWriter<TantivyDocument>,
}

impl LiteratureIndex {
    /// Takes the write lock of both indexes.
    pub fn writer(&self) -> Result<IndexWriterSession<'_>, IndexError> {
        let busy = |e: tantivy::TantivyError| match e {
            tantivy::TantivyError::LockFailure(..) => IndexError::Busy(self.dir.clone()),
            other => IndexError::Tantivy(other),
        };
        Ok(IndexWriterSession {
            index: self,
            papers: self.papers.writer(WRITER_HEAP_BYTES).map_err(busy)?,
            passages: self.passages.writer(WRITER_HEAP_BYTES / 2).map_err(busy)?,
        })
    }
}

impl IndexWriterSession<'_> {
    /// Adds a paper and its passages, replacing whatever the index held for it.
    pub fn upsert(&mut self, paper: &Paper, passages: &[Passage]) -> Result<(), IndexError> {
        let pf = self.index.paper_fields;
        let id = paper.id.as_str();
        self.papers.delete_term(Term::from_field_text(pf.paper_id, id));
        let abstract_text = paper.abstract_text.as_deref().unwrap_or_default();
        let mut document = doc!(
            pf.paper_id => id,
            pf.title => paper.title.as_str(),
            pf.abstract_text => abstract_text,
            pf.contents => format!("{} {}", paper.title, abstract_text),
        );
        // One value per author: tantivy leaves a position gap between values,
        // so a name phrase cannot run from one author into the next.
        for author in &paper.authors {
            document.add_text(pf.authors, author);
        }
        if let Some(year) = paper.year {
            document.add_i64(pf.year, i64::from(year));
        }
        if let Some(venue) = &paper.venue {
            document.add_text(pf.venue, venue);
        }
        self.papers.add_document(document)?;

        let sf = self.index.passage_fields;
        self.passages.delete_term(Term::from_field_text(sf.paper_id, id));
        for passage in passages {
            let mut document = doc!(
                sf.passage_id => passage.id.as_str(),
                sf.paper_id => id,
                sf.text => passage.text.as_str(),
                sf.title => paper.title.as_str(),
            );
            for author in &paper.authors {
                document.add_text(sf.authors, author);
            }
            if let Some(year) = paper.year {
                document.add_i64(sf.year, i64::from(year));
            }
            if let Some(at) = &passage.location {
                document.add_text(sf.section, &at.section);
                document.add_u64(sf.page, u64::from(at.page));
                document.add_u64(sf.page_end, u64::from(at.page_end));
                document.add_u64(sf.char_start, u64::from(at.start));
                document.add_u64(sf.char_end, u64::from(at.end));
            }
            self.passages.add_document(document)?;
        }
        Ok(())
    }

    /// Removes every document: the first step of a rebuild.
    pub fn clear(&mut self) -> Result<(), IndexError> {
        self.papers.delete_all_documents()?;
        self.passages.delete_all_documents()?;
        Ok(())
    }

    /// Makes every change durable and visible, recording that the indexes
    /// now reflect the store up to `change_seq`.
    pub fn commit(mut self, change_seq: i64) -> Result<(), IndexError> {
        let payload = change_seq.to_string();
        let mut prepared = self.papers.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        let mut prepared = self.passages.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        self.papers.wait_merging_threads()?;
        self.passages.wait_merging_threads()?;
        self.index.reload()
    }
}
