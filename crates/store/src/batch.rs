//! Storing a chunk of records with a handful of statements: one query for
//! every stored paper that could match, matching and merging in memory,
//! then bulk inserts through `json_each`. Per-record statements cost a
//! round trip to SQLite's worker thread each, which dominated ingest time.

use std::collections::{HashMap, HashSet};

use hypatia_core::{PaperId, PaperRecord, normalize_title, split_passages, title_is_distinctive};
use serde_json::json;
use sqlx::{Row, Sqlite, Transaction};

use crate::papers::paper_from_row;
use crate::{RecordOutcome, SourceFile, StoreError};

/// A paper as matching sees it: stored before this chunk, or new in it.
#[derive(Debug, Clone, PartialEq)]
struct Slot {
    id: PaperId,
    title: String,
    norm_title: String,
    abstract_text: Option<String>,
    authors: Vec<String>,
    year: Option<i32>,
    venue: Option<String>,
    doi: Option<String>,
    arxiv_id: Option<String>,
    url: Option<String>,
    /// `None` for a paper new in this chunk; else the stored abstract, to
    /// know whether passages must be made when one is filled in.
    stored_abstract: Option<Option<String>>,
    dirty: bool,
}

/// Papers of this chunk, findable by each identity key.
#[derive(Default)]
struct Slots {
    slots: Vec<Slot>,
    by_doi: HashMap<String, usize>,
    by_arxiv: HashMap<String, usize>,
    by_title: HashMap<String, Vec<usize>>,
    ids: HashSet<PaperId>,
}

impl Slots {
    fn add(&mut self, slot: Slot) -> usize {
        let index = self.slots.len();
        self.index(index, &slot);
        self.ids.insert(slot.id.clone());
        self.slots.push(slot);
        index
    }

    fn index(&mut self, index: usize, slot: &Slot) {
        if let Some(doi) = &slot.doi {
            self.by_doi.entry(doi.clone()).or_insert(index);
        }
        if let Some(arxiv) = &slot.arxiv_id {
            self.by_arxiv.entry(arxiv.clone()).or_insert(index);
        }
        let titles = self.by_title.entry(slot.norm_title.clone()).or_default();
        if !titles.contains(&index) {
            titles.push(index);
        }
    }

    /// DOI, then arXiv id, then a distinctive title with no conflicting
    /// facts. `known` holds the papers this very record of this file became
    /// before: re-reading a file finds its papers even when their titles
    /// are too generic to match on their own ("Mask R-CNN").
    fn find(&self, record: &PaperRecord, norm_title: &str, known: &[&PaperId]) -> Option<usize> {
        if let Some(&i) = record.doi.as_ref().and_then(|d| self.by_doi.get(d)) {
            return Some(i);
        }
        if let Some(&i) = record.arxiv_id.as_ref().and_then(|a| self.by_arxiv.get(a)) {
            return Some(i);
        }
        let distinctive = title_is_distinctive(norm_title);
        // Oldest first: stored papers were loaded in creation order.
        self.by_title.get(norm_title)?.iter().copied().find(|&i| {
            let slot = &self.slots[i];
            let same_record = known.contains(&&slot.id) && !abstracts_conflict(slot, record);
            (distinctive || same_record) && compatible(slot, record)
        })
    }
}

/// Same title, but is it the same paper? Different DOIs, different arXiv
/// ids, years more than one apart (preprint vs. journal), or different
/// first authors say no.
fn compatible(slot: &Slot, record: &PaperRecord) -> bool {
    let differ = |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if a != b);
    let years_apart = matches!((slot.year, record.year), (Some(a), Some(b)) if a.abs_diff(b) > 1);
    let authors_differ = first_authors_differ(&slot.authors, &record.authors);
    !differ(&slot.doi, &record.doi) && !differ(&slot.arxiv_id, &record.arxiv_id) && !years_apart && !authors_differ
}

/// Two first authors are different people only when their names share no
/// word longer than an initial: "Ada Lovelace", "Lovelace, Ada" and
/// "Lovelace A" are one person whichever way a source writes names.
fn first_authors_differ(a: &[String], b: &[String]) -> bool {
    let words = |authors: &[String]| -> Option<HashSet<String>> {
        let name = normalize_title(authors.first()?);
        let words: HashSet<String> = name
            .split(' ')
            .filter(|w| w.chars().count() > 1)
            .map(str::to_owned)
            .collect();
        (!words.is_empty()).then_some(words)
    };
    match (words(a), words(b)) {
        (Some(a), Some(b)) => a.is_disjoint(&b),
        _ => false,
    }
}

/// An edited file can put another text under the same record key and a
/// generic title: both abstracts present and different is not the same paper.
fn abstracts_conflict(slot: &Slot, record: &PaperRecord) -> bool {
    matches!((&slot.abstract_text, &record.abstract_text), (Some(a), Some(b)) if a != b)
}

pub(crate) async fn store_chunk(
    tx: &mut Transaction<'_, Sqlite>,
    file: &SourceFile,
    records: &[(PaperRecord, String)],
    change_seq: i64,
) -> Result<Vec<RecordOutcome>, StoreError> {
    let norm_titles: Vec<String> = records.iter().map(|(r, _)| normalize_title(&r.title)).collect();
    let mut slots = load_candidates(tx, records, &norm_titles).await?;
    let known_sources = load_sources(tx, file, records).await?;
    let taken = load_taken_ids(tx, records).await?;

    let mut outcomes = Vec::with_capacity(records.len());
    // One key can name several papers (an edited record became a new paper).
    let mut known_by_key: HashMap<&str, Vec<&PaperId>> = HashMap::new();
    for (id, key) in &known_sources {
        known_by_key.entry(key.as_str()).or_default().push(id);
    }
    for ((record, key), norm_title) in records.iter().zip(&norm_titles) {
        let outcome = match slots.find(
            record,
            norm_title,
            known_by_key.get(key.as_str()).map_or(&[], Vec::as_slice),
        ) {
            Some(index) => {
                let changed = merge(&mut slots, index, record);
                let id = slots.slots[index].id.clone();
                if changed || !known_sources.contains(&(id.clone(), key.clone())) {
                    RecordOutcome::Merged(id)
                } else {
                    RecordOutcome::Unchanged(id)
                }
            }
            None => {
                let id = fresh_id(tx, &slots, &taken, &record.identity_key()).await?;
                slots.add(Slot {
                    id: id.clone(),
                    title: record.title.clone(),
                    norm_title: norm_title.clone(),
                    abstract_text: record.abstract_text.clone(),
                    authors: record.authors.clone(),
                    year: record.year,
                    venue: record.venue.clone(),
                    doi: record.doi.clone(),
                    arxiv_id: record.arxiv_id.clone(),
                    url: record.url.clone(),
                    stored_abstract: None,
                    dirty: true,
                });
                RecordOutcome::Added(id)
            }
        };
        outcomes.push(outcome);
    }
    write(tx, &slots, file, records, &outcomes, change_seq).await?;
    Ok(outcomes)
}

/// Fills the slot's missing fields from the record; returns whether any
/// changed. Set fields are kept: passages must not change under their ids.
fn merge(slots: &mut Slots, index: usize, record: &PaperRecord) -> bool {
    // A DOI or arXiv id owned by another paper is not this one's to take.
    let doi_free = record
        .doi
        .as_ref()
        .is_none_or(|d| slots.by_doi.get(d).is_none_or(|&i| i == index));
    let arxiv_free = record
        .arxiv_id
        .as_ref()
        .is_none_or(|a| slots.by_arxiv.get(a).is_none_or(|&i| i == index));
    let slot = &mut slots.slots[index];
    let before = slot.clone();
    let fill = |field: &mut Option<String>, new: &Option<String>| {
        if field.is_none() {
            field.clone_from(new);
        }
    };
    fill(&mut slot.abstract_text, &record.abstract_text);
    fill(&mut slot.venue, &record.venue);
    fill(&mut slot.url, &record.url);
    if doi_free {
        fill(&mut slot.doi, &record.doi);
    }
    if arxiv_free {
        fill(&mut slot.arxiv_id, &record.arxiv_id);
    }
    slot.year = slot.year.or(record.year);
    if slot.authors.is_empty() {
        slot.authors.clone_from(&record.authors);
    }
    let changed = *slot != before;
    slot.dirty |= changed;
    let slot = slot.clone();
    if changed {
        slots.index(index, &slot);
    }
    changed
}

/// The derived id, or a salted one if another paper holds it already (two
/// papers titled "Summary" share their identity key, say).
async fn fresh_id(
    tx: &mut Transaction<'_, Sqlite>,
    slots: &Slots,
    taken: &HashSet<PaperId>,
    key: &str,
) -> Result<PaperId, StoreError> {
    let first = PaperId::derive(key);
    if !slots.ids.contains(&first) && !taken.contains(&first) {
        return Ok(first);
    }
    let mut salt = 1;
    loop {
        let candidate = PaperId::derive_with_salt(key, salt);
        if !slots.ids.contains(&candidate) {
            let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM papers WHERE id = ?")
                .bind(candidate.as_str())
                .fetch_optional(&mut **tx)
                .await?;
            if taken.is_none() {
                return Ok(candidate);
            }
        }
        salt += 1;
    }
}

fn json_array<T: serde::Serialize>(values: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(values).map_err(|e| StoreError::corrupt("batch parameters", e))
}

/// Every stored paper sharing a DOI, arXiv id or normalised title with a
/// record of the chunk.
async fn load_candidates(
    tx: &mut Transaction<'_, Sqlite>,
    records: &[(PaperRecord, String)],
    norm_titles: &[String],
) -> Result<Slots, StoreError> {
    let dois: Vec<&str> = records.iter().filter_map(|(r, _)| r.doi.as_deref()).collect();
    let arxiv: Vec<&str> = records.iter().filter_map(|(r, _)| r.arxiv_id.as_deref()).collect();
    let rows = sqlx::query(
        "SELECT id, title, norm_title, abstract, authors, year, venue, doi, arxiv_id, url FROM papers
         WHERE id IN (SELECT id FROM papers WHERE doi IN (SELECT value FROM json_each(?1))
                      UNION SELECT id FROM papers WHERE arxiv_id IN (SELECT value FROM json_each(?2))
                      UNION SELECT id FROM papers WHERE norm_title IN (SELECT value FROM json_each(?3)))
         ORDER BY created_at, rowid",
    )
    .bind(json_array(&dois)?)
    .bind(json_array(&arxiv)?)
    .bind(json_array(norm_titles)?)
    .fetch_all(&mut **tx)
    .await?;
    let mut slots = Slots::default();
    for row in &rows {
        let paper = paper_from_row(row)?;
        slots.add(Slot {
            id: paper.id,
            title: paper.title,
            norm_title: row.try_get("norm_title")?,
            stored_abstract: Some(paper.abstract_text.clone()),
            abstract_text: paper.abstract_text,
            authors: paper.authors,
            year: paper.year,
            venue: paper.venue,
            doi: paper.doi,
            arxiv_id: paper.arxiv_id,
            url: paper.url,
            dirty: false,
        });
    }
    Ok(slots)
}

/// Which of the records' first-choice ids the store already uses.
async fn load_taken_ids(
    tx: &mut Transaction<'_, Sqlite>,
    records: &[(PaperRecord, String)],
) -> Result<HashSet<PaperId>, StoreError> {
    let ids: Vec<String> = records
        .iter()
        .map(|(r, _)| PaperId::derive(&r.identity_key()).to_string())
        .collect();
    let rows: Vec<String> = sqlx::query_scalar("SELECT id FROM papers WHERE id IN (SELECT value FROM json_each(?1))")
        .bind(json_array(&ids)?)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|id| id.parse().map_err(|e| StoreError::corrupt("papers.id", e)))
        .collect()
}

/// The (paper, record key) pairs this file already gave the store.
async fn load_sources(
    tx: &mut Transaction<'_, Sqlite>,
    file: &SourceFile,
    records: &[(PaperRecord, String)],
) -> Result<HashSet<(PaperId, String)>, StoreError> {
    let keys: Vec<&str> = records.iter().map(|(_, k)| k.as_str()).collect();
    let rows = sqlx::query(
        "SELECT paper_id, record FROM paper_sources WHERE path = ?1 AND record IN (SELECT value FROM json_each(?2))",
    )
    .bind(&file.path)
    .bind(json_array(&keys)?)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| {
            let paper: String = row.try_get("paper_id")?;
            let paper = paper
                .parse()
                .map_err(|e| StoreError::corrupt("paper_sources.paper_id", e))?;
            Ok((paper, row.try_get("record")?))
        })
        .collect()
}

async fn write(
    tx: &mut Transaction<'_, Sqlite>,
    slots: &Slots,
    file: &SourceFile,
    records: &[(PaperRecord, String)],
    outcomes: &[RecordOutcome],
    change_seq: i64,
) -> Result<(), StoreError> {
    let mut new_papers = Vec::new();
    let mut passages = Vec::new();
    for slot in slots.slots.iter().filter(|s| s.dirty) {
        let authors = json_array(&slot.authors)?;
        match &slot.stored_abstract {
            None => new_papers.push(json!({
                "id": slot.id.as_str(), "title": slot.title, "norm_title": slot.norm_title,
                "abstract": slot.abstract_text, "authors": authors, "year": slot.year, "venue": slot.venue,
                "doi": slot.doi, "arxiv_id": slot.arxiv_id, "url": slot.url,
            })),
            Some(_) => {
                sqlx::query(
                    "UPDATE papers SET abstract = ?, authors = ?, year = ?, venue = ?, doi = ?, arxiv_id = ?, url = ?,
                            change_seq = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                     WHERE id = ?",
                )
                .bind(&slot.abstract_text)
                .bind(authors)
                .bind(slot.year)
                .bind(&slot.venue)
                .bind(&slot.doi)
                .bind(&slot.arxiv_id)
                .bind(&slot.url)
                .bind(change_seq)
                .bind(slot.id.as_str())
                .execute(&mut **tx)
                .await?;
            }
        }
        // Passages are made once, when a paper first has an abstract.
        let had_abstract = matches!(slot.stored_abstract, Some(Some(_)));
        if let (false, Some(text)) = (had_abstract, &slot.abstract_text) {
            for (ordinal, passage) in split_passages(text).into_iter().enumerate() {
                let ordinal = ordinal as u32;
                passages.push(json!([
                    slot.id.passage(ordinal).as_str(),
                    slot.id.as_str(),
                    ordinal,
                    passage
                ]));
            }
        }
    }
    if !new_papers.is_empty() {
        sqlx::query(
            "INSERT INTO papers (id, title, norm_title, abstract, authors, year, venue, doi, arxiv_id, url, change_seq)
             SELECT value ->> 'id', value ->> 'title', value ->> 'norm_title', value ->> 'abstract', value ->> 'authors',
                    value ->> 'year', value ->> 'venue', value ->> 'doi', value ->> 'arxiv_id', value ->> 'url', ?2
             FROM json_each(?1)",
        )
        .bind(json_array(&new_papers)?)
        .bind(change_seq)
        .execute(&mut **tx)
        .await?;
    }
    if !passages.is_empty() {
        sqlx::query(
            "INSERT INTO passages (id, paper_id, ordinal, text)
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?1)",
        )
        .bind(json_array(&passages)?)
        .execute(&mut **tx)
        .await?;
    }
    let sources: Vec<_> = outcomes
        .iter()
        .zip(records)
        .map(|(outcome, (_, key))| json!([outcome.paper_id().as_str(), key]))
        .collect();
    sqlx::query(
        "INSERT OR IGNORE INTO paper_sources (paper_id, path, format, record)
         SELECT value ->> 0, ?2, ?3, value ->> 1 FROM json_each(?1)",
    )
    .bind(json_array(&sources)?)
    .bind(&file.path)
    .bind(file.format.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
