//! A project's vectors: the log on disk, the matrix in memory, and the change counter they reflect.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::VectorError;
use crate::exact::{ExactSearch, VectorSearch};
use crate::log::{self, Record};

const LOG_FILE: &str = "vectors.log";
const META_FILE: &str = "meta.json";
const LOCK_FILE: &str = "write.lock";

/// Which model made the vectors: a model's name and a fingerprint of its weights, and the length of
/// its vectors. Vectors are comparable only with a query embedded by the same identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelIdentity {
    pub model: String,
    pub dimensions: usize,
}

/// What a row is: a passage of a paper, and a hash of the text that was embedded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassageVector {
    pub paper: String,
    pub passage: String,
    pub text_hash: u64,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    identity: ModelIdentity,
    embedded_seq: i64,
}

/// One project's passage vectors for one model.
pub struct VectorIndex {
    dir: PathBuf,
    identity: ModelIdentity,
    embedded_seq: i64,
    search: Box<dyn VectorSearch>,
    rows: Vec<PassageVector>,
    row_of: HashMap<String, usize>,
    /// Each paper's passages that have vectors.
    passages_of_paper: HashMap<String, std::collections::BTreeSet<String>>,
    papers: Vec<String>,
    paper_number: HashMap<String, u32>,
    /// Appends go here; `None` when another process holds the write lock (read-only).
    writer: Option<BufWriter<File>>,
    _lock: Option<File>,
    records_in_log: usize,
    /// Set when the file held another model's vectors, which were dropped.
    replaced: Option<ModelIdentity>,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dir", &self.dir)
            .field("identity", &self.identity)
            .field("rows", &self.rows.len())
            .field("embedded_seq", &self.embedded_seq)
            .finish()
    }
}

/// FNV-1a: a stable hash of the embedded text, so a passage whose text changed is embedded again.
pub fn text_hash(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

impl VectorIndex {
    /// Opens (or creates) the vectors in `dir` for `identity`. Vectors of another model are dropped
    /// ([`VectorIndex::replaced`] says which). When another process holds the write lock the index
    /// opens read-only, as that process left it.
    pub fn open(dir: &Path, identity: ModelIdentity) -> Result<VectorIndex, VectorError> {
        std::fs::create_dir_all(dir).map_err(VectorError::io(dir, "create"))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(VectorError::io(&lock_path, "open"))?;
        let lock = match lock.try_lock() {
            Ok(()) => Some(lock),
            Err(std::fs::TryLockError::WouldBlock) => None,
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(VectorError::Io {
                    path: lock_path,
                    action: "lock",
                    source,
                });
            }
        };
        let identity_json = serde_json::to_string(&identity).unwrap_or_default();
        let log_path = dir.join(LOG_FILE);
        let mut index = VectorIndex {
            dir: dir.to_owned(),
            search: Box::new(ExactSearch::new(identity.dimensions)),
            identity,
            embedded_seq: 0,
            rows: Vec::new(),
            row_of: HashMap::new(),
            passages_of_paper: HashMap::new(),
            papers: Vec::new(),
            paper_number: HashMap::new(),
            writer: None,
            _lock: None,
            records_in_log: 0,
            replaced: None,
        };
        let existing = match std::fs::read(&log_path) {
            Ok(bytes) => Some(bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(VectorError::Io {
                    path: log_path,
                    action: "read",
                    source,
                });
            }
        };
        let mut keep_len = None;
        let parsed = match existing.map(|bytes| log::parse(&log_path, &bytes)) {
            Some(Err(error)) => {
                // Derived data: a log that cannot be read is started again, not a dead end.
                tracing::warn!(%error, "the vector log is unreadable; every passage is embedded again");
                None
            }
            Some(Ok(parsed)) => Some(parsed),
            None => None,
        };
        if let Some(parsed) = parsed {
            let stored: Option<ModelIdentity> = serde_json::from_str(&parsed.identity_json).ok();
            if stored.as_ref() == Some(&index.identity) && parsed.dims == index.identity.dimensions {
                index.records_in_log = parsed.records.len();
                for record in parsed.records {
                    index.apply(record);
                }
                index.embedded_seq = index.read_meta();
                keep_len = Some(parsed.valid_len);
            } else {
                index.replaced = stored;
            }
        }
        if let Some(lock) = lock {
            index.writer = Some(match keep_len {
                Some(len) => {
                    let file = OpenOptions::new()
                        .write(true)
                        .open(&log_path)
                        .map_err(VectorError::io(&log_path, "open"))?;
                    // Cut a torn last record off before appending after it.
                    file.set_len(len as u64)
                        .map_err(VectorError::io(&log_path, "truncate"))?;
                    let mut file = file;
                    std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0))
                        .map_err(VectorError::io(&log_path, "seek"))?;
                    BufWriter::new(file)
                }
                None => index.fresh_log(&identity_json)?,
            });
            index._lock = Some(lock);
        } else if keep_len.is_none() {
            // Read-only and nothing of this model on disk: an empty index, not written.
            index.embedded_seq = 0;
        }
        Ok(index)
    }

    fn fresh_log(&mut self, identity_json: &str) -> Result<BufWriter<File>, VectorError> {
        let log_path = self.dir.join(LOG_FILE);
        // The counter goes first: an empty log under an old counter would never be filled.
        match std::fs::remove_file(self.dir.join(META_FILE)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(VectorError::Io {
                    path: self.dir.join(META_FILE),
                    action: "remove",
                    source: error,
                });
            }
            _ => {}
        }
        log::write_atomically(&log_path, &log::header(self.identity.dimensions, identity_json))?;
        self.records_in_log = 0;
        let file = OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(VectorError::io(&log_path, "open"))?;
        Ok(BufWriter::new(file))
    }

    fn read_meta(&self) -> i64 {
        let path = self.dir.join(META_FILE);
        std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Meta>(&bytes).ok())
            .filter(|meta| meta.identity == self.identity)
            .map_or(0, |meta| meta.embedded_seq)
    }

    pub fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    /// The other model whose vectors were found here and dropped on open.
    pub fn replaced(&self) -> Option<&ModelIdentity> {
        self.replaced.as_ref()
    }

    /// The store's change counter these vectors reflect.
    pub fn embedded_seq(&self) -> i64 {
        self.embedded_seq
    }

    /// False when another process holds the write lock.
    pub fn is_writable(&self) -> bool {
        self.writer.is_some()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The passage's text hash, when it has a vector.
    pub fn text_hash_of(&self, passage: &str) -> Option<u64> {
        self.row_of.get(passage).map(|&row| self.rows[row].text_hash)
    }

    /// The passages of `paper` that have vectors.
    pub fn passages_of(&self, paper: &str) -> Vec<&PassageVector> {
        self.passages_of_paper
            .get(paper)
            .into_iter()
            .flatten()
            .filter_map(|passage| self.row_of.get(passage).map(|&row| &self.rows[row]))
            .collect()
    }

    /// Adds (or replaces) a passage's vector. Written to the log's buffer; [`VectorIndex::flush`]
    /// makes it durable.
    pub fn put(&mut self, passage: PassageVector, vector: &[f32]) -> Result<(), VectorError> {
        if vector.len() != self.identity.dimensions {
            return Err(VectorError::Dimensions {
                expected: self.identity.dimensions,
                found: vector.len(),
            });
        }
        let record = Record::Put {
            paper: passage.paper,
            passage: passage.passage,
            text_hash: passage.text_hash,
            vector: vector.to_vec(),
        };
        self.append(&record)?;
        self.apply(record);
        Ok(())
    }

    /// Removes a passage's vector, if it has one.
    pub fn remove(&mut self, paper: &str, passage: &str) -> Result<(), VectorError> {
        if !self.row_of.contains_key(passage) {
            return Ok(());
        }
        let record = Record::Remove {
            paper: paper.to_owned(),
            passage: passage.to_owned(),
        };
        self.append(&record)?;
        self.apply(record);
        Ok(())
    }

    fn append(&mut self, record: &Record) -> Result<(), VectorError> {
        let path = self.dir.join(LOG_FILE);
        let writer = self.writer.as_mut().ok_or_else(|| VectorError::Io {
            path: path.clone(),
            action: "write (another process holds its lock)",
            source: std::io::Error::from(std::io::ErrorKind::WouldBlock),
        })?;
        let mut bytes = Vec::new();
        log::encode(record, &mut bytes);
        writer.write_all(&bytes).map_err(VectorError::io(&path, "append to"))?;
        self.records_in_log += 1;
        Ok(())
    }

    fn apply(&mut self, record: Record) {
        match record {
            Record::Put {
                paper,
                passage,
                text_hash,
                vector,
            } => {
                if vector.len() != self.identity.dimensions {
                    return;
                }
                if let Some(&row) = self.row_of.get(&passage) {
                    self.remove_row(row);
                }
                let number = match self.paper_number.get(&paper) {
                    Some(&n) => n,
                    None => {
                        let n = self.papers.len() as u32;
                        self.papers.push(paper.clone());
                        self.paper_number.insert(paper.clone(), n);
                        n
                    }
                };
                self.search.push(number, &vector);
                self.row_of.insert(passage.clone(), self.rows.len());
                self.passages_of_paper
                    .entry(paper.clone())
                    .or_default()
                    .insert(passage.clone());
                self.rows.push(PassageVector {
                    paper,
                    passage,
                    text_hash,
                });
            }
            Record::Remove { passage, .. } => {
                if let Some(&row) = self.row_of.get(&passage) {
                    self.remove_row(row);
                }
            }
        }
    }

    fn remove_row(&mut self, row: usize) {
        let removed = self.rows.swap_remove(row);
        self.row_of.remove(&removed.passage);
        if let Some(passages) = self.passages_of_paper.get_mut(&removed.paper) {
            passages.remove(&removed.passage);
            if passages.is_empty() {
                self.passages_of_paper.remove(&removed.paper);
            }
        }
        self.search.swap_remove(row);
        if let Some(moved) = self.rows.get(row) {
            self.row_of.insert(moved.passage.clone(), row);
        }
    }

    /// Writes buffered records to the file.
    pub fn flush(&mut self) -> Result<(), VectorError> {
        let path = self.dir.join(LOG_FILE);
        if let Some(writer) = self.writer.as_mut() {
            writer.flush().map_err(VectorError::io(&path, "write"))?;
        }
        Ok(())
    }

    /// Records that the vectors now reflect the store's change `seq`: the log is flushed (and
    /// compacted when mostly superseded records), then the counter written.
    pub fn set_embedded_seq(&mut self, seq: i64) -> Result<(), VectorError> {
        self.flush()?;
        if self.records_in_log > 2 * self.rows.len() + 10_000 {
            self.compact()?;
        }
        if let Some(writer) = self.writer.as_mut() {
            writer
                .get_ref()
                .sync_data()
                .map_err(VectorError::io(&self.dir.join(LOG_FILE), "sync"))?;
        }
        let meta = Meta {
            identity: self.identity.clone(),
            embedded_seq: seq,
        };
        let bytes = serde_json::to_vec(&meta).unwrap_or_default();
        log::write_atomically(&self.dir.join(META_FILE), &bytes)?;
        self.embedded_seq = seq;
        Ok(())
    }

    /// Drops every vector (for `hypatia reindex`).
    pub fn clear(&mut self) -> Result<(), VectorError> {
        let identity_json = serde_json::to_string(&self.identity).unwrap_or_default();
        if self.writer.is_some() {
            self.writer = Some(self.fresh_log(&identity_json)?);
        }
        self.search = Box::new(ExactSearch::new(self.identity.dimensions));
        self.rows.clear();
        self.row_of.clear();
        self.passages_of_paper.clear();
        self.papers.clear();
        self.paper_number.clear();
        self.embedded_seq = 0;
        Ok(())
    }

    /// Rewrites the log with only the live vectors.
    fn compact(&mut self) -> Result<(), VectorError> {
        let identity_json = serde_json::to_string(&self.identity).unwrap_or_default();
        let mut bytes = log::header(self.identity.dimensions, &identity_json);
        for (row, passage) in self.rows.iter().enumerate() {
            log::encode(
                &Record::Put {
                    paper: passage.paper.clone(),
                    passage: passage.passage.clone(),
                    text_hash: passage.text_hash,
                    vector: self.search.vector(row).to_vec(),
                },
                &mut bytes,
            );
        }
        let path = self.dir.join(LOG_FILE);
        log::write_atomically(&path, &bytes)?;
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(VectorError::io(&path, "open"))?;
        self.writer = Some(BufWriter::new(file));
        self.records_in_log = self.rows.len();
        Ok(())
    }

    /// The `limit` passages nearest `query` (a unit vector of this model), best first.
    pub fn search_passages(&self, query: &[f32], limit: usize) -> Vec<(&PassageVector, f32)> {
        self.search
            .top_rows(query, limit)
            .into_iter()
            .map(|hit| (&self.rows[hit.row], hit.score))
            .collect()
    }

    /// The `limit` papers whose best passage is nearest `query`, best first, with that passage.
    pub fn search_papers(&self, query: &[f32], limit: usize) -> Vec<(&PassageVector, f32)> {
        self.search
            .top_papers(query, limit)
            .into_iter()
            .map(|hit| (&self.rows[hit.best_row], hit.score))
            .collect()
    }
}

#[cfg(test)]
mod tests;
