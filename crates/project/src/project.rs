use std::path::{Path, PathBuf};

use std::sync::Arc;

use hypatia_core::{Paper, PaperId, Passage, PassageId};
use hypatia_index::{IndexError, LiteratureIndex, PaperHit, PassageHit, SearchRequest};
use hypatia_llm::EmbeddingBackend;
use hypatia_store::{RelationRow, Store};

use crate::embedding::{self, Dense, EmbedProgress, EmbedSummary};
use crate::hybrid::{dense_pool, merge};
use crate::retrieval::{DEFAULT_FUSION, Fusion, SearchMode, query_sentence};
use crate::{CONFIG_FILE, DATA_DIR, FieldBoosts, ProjectConfig, ProjectError, sync};

const DATABASE_FILE: &str = "hypatia.db";
const INDEX_DIR: &str = "index";
const VECTORS_DIR: &str = "vectors";

/// An open project: config, store and index, with the index caught up to
/// the store.
pub struct Project {
    root: PathBuf,
    config: ProjectConfig,
    pub(crate) store: Store,
    pub(crate) index: LiteratureIndex,
    /// The embedding model and its vectors, once attached.
    dense: Option<Dense>,
}

/// Counts from both sides, to see that they agree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProjectStatus {
    pub root: PathBuf,
    pub papers: i64,
    pub passages: i64,
    pub sources: i64,
    pub indexed_papers: u64,
    pub indexed_passages: u64,
    pub change_seq: i64,
    pub indexed_seq: i64,
    pub analyzer: String,
    pub journal_mode: String,
    /// The latest ingested files, newest first: the audit trail.
    pub recent_ingests: Vec<hypatia_store::IngestLog>,
}

impl Project {
    /// Creates a project in `dir` (made if missing): hypatia.toml and a
    /// `.hypatia/` folder with the database and the index.
    pub async fn init(dir: &Path, name: Option<&str>) -> Result<Project, ProjectError> {
        Project::init_with(dir, name, |_| {}).await
    }

    /// As `init`, with the default settings adjusted by `configure` first.
    pub async fn init_with(
        dir: &Path,
        name: Option<&str>,
        configure: impl FnOnce(&mut ProjectConfig),
    ) -> Result<Project, ProjectError> {
        std::fs::create_dir_all(dir).map_err(ProjectError::io(dir))?;
        let root = dir.canonicalize().map_err(ProjectError::io(dir))?;
        let config_path = root.join(CONFIG_FILE);
        if config_path.exists() {
            return Err(ProjectError::AlreadyExists { path: root });
        }
        let name = name
            .map(str::to_owned)
            .or_else(|| root.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "hypatia".to_owned());
        let data = root.join(DATA_DIR);
        std::fs::create_dir_all(&data).map_err(ProjectError::io(&data))?;
        // The data folder is rebuilt or re-ingested, never committed.
        let ignore = data.join(".gitignore");
        std::fs::write(&ignore, "*\n").map_err(ProjectError::io(&ignore))?;
        // Written last: a folder with hypatia.toml is a project, so a failed
        // init leaves no half-made project behind.
        let mut config = ProjectConfig::new(&name);
        configure(&mut config);
        let project = Project::open_parts(&root, config).await?;
        std::fs::write(&config_path, project.config.to_toml()).map_err(ProjectError::io(&config_path))?;
        Ok(project)
    }

    /// Opens the project at `root`, applying migrations and bringing the
    /// index up to date with the store.
    pub async fn open(root: &Path) -> Result<Project, ProjectError> {
        let config_path = root.join(CONFIG_FILE);
        if !config_path.is_file() {
            return Err(ProjectError::NotAProject { path: root.to_owned() });
        }
        let config = ProjectConfig::load(&config_path)?;
        Project::open_parts(root, config).await
    }

    async fn open_parts(root: &Path, config: ProjectConfig) -> Result<Project, ProjectError> {
        let data = root.join(DATA_DIR);
        std::fs::create_dir_all(&data).map_err(ProjectError::io(&data))?;
        let store = Store::open(&data.join(DATABASE_FILE)).await?;
        let index_dir = data.join(INDEX_DIR);
        let analyzer = config.index.analyzer;
        let index = match LiteratureIndex::open(&index_dir, analyzer) {
            Ok(index) => index,
            Err(IndexError::AnalyzerMismatch { found, .. }) => {
                tracing::info!(%found, wanted = %analyzer, "analyzer changed: rebuilding the index from the store");
                // Never delete an index another process is writing: take its lock first.
                // An index of an older schema (same analyzer, fields since added) cannot be
                // opened to take its lock; no current process can be writing it either.
                if let Ok(old) = found.parse::<hypatia_index::Analyzer>()
                    && let Ok(previous) = LiteratureIndex::open(&index_dir, old)
                {
                    drop(previous.writer()?);
                }
                LiteratureIndex::recreate(&index_dir, analyzer)?
            }
            Err(other) => return Err(other.into()),
        };
        let project = Project {
            root: root.to_owned(),
            config,
            store,
            index,
            dense: None,
        };
        match sync::catch_up(&project.store, &project.index, &|_| {}).await {
            // Another process is writing the index and will bring it up to date;
            // reading the index as it is is what that process's users see too.
            Err(ProjectError::Index(IndexError::Busy(dir))) => {
                tracing::warn!(dir = %dir.display(), "index busy in another process; searching it as it is");
            }
            other => {
                other?;
            }
        }
        Ok(project)
    }

    /// The project's store, for the crates that journal runs in it (the bus).
    pub fn store(&self) -> hypatia_store::Store {
        self.store.clone()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> &ProjectConfig {
        &self.config
    }

    /// Changes the field weights of paper search (evaluation only).
    pub fn set_boosts(&mut self, boosts: FieldBoosts) {
        self.index.set_boosts(boosts);
    }

    pub async fn status(&self) -> Result<ProjectStatus, ProjectError> {
        let counts = self.store.counts().await?;
        let (indexed_papers, indexed_passages) = self.index.counts();
        Ok(ProjectStatus {
            root: self.root.clone(),
            papers: counts.papers,
            passages: counts.passages,
            sources: counts.sources,
            indexed_papers,
            indexed_passages,
            change_seq: self.store.change_seq().await?,
            indexed_seq: self.index.indexed_seq()?,
            analyzer: self.index.analyzer().to_string(),
            journal_mode: self.store.journal_mode().await?,
            recent_ingests: self.store.ingest_log(5).await?,
        })
    }

    pub fn search_papers(&self, request: &SearchRequest<'_>) -> Result<Vec<PaperHit>, ProjectError> {
        Ok(self.index.search_papers(request)?)
    }

    /// Whether the query has any word the index keeps (not only stop words).
    pub fn has_searchable_words(&self, query: &str) -> Result<bool, ProjectError> {
        Ok(self.index.has_searchable_words(query)?)
    }

    pub fn search_passages(&self, request: &SearchRequest<'_>) -> Result<Vec<PassageHit>, ProjectError> {
        Ok(self.index.search_passages(request)?)
    }

    pub async fn paper(&self, id: &PaperId) -> Result<Option<(Paper, Vec<Passage>)>, ProjectError> {
        let Some(paper) = self.store.paper(id).await? else {
            return Ok(None);
        };
        let passages = self.store.passages(id).await?;
        Ok(Some((paper, passages)))
    }

    /// What `model` judged of two passages before, if it was asked (either order).
    pub async fn passage_relation(
        &self,
        a: &PassageId,
        b: &PassageId,
        model: &str,
    ) -> Result<Option<RelationRow>, ProjectError> {
        Ok(self.store.passage_relation(a.as_str(), b.as_str(), model).await?)
    }

    /// Keeps a judgement of two passages for later runs; returns the one the project keeps (an
    /// earlier judgement by the same model wins).
    pub async fn keep_passage_relation(&self, relation: &RelationRow) -> Result<RelationRow, ProjectError> {
        Ok(self.store.add_passage_relation(relation).await?)
    }

    /// Kept judgements, newest first; only those of `relation` (agree, contradict, unrelated) when given.
    pub async fn passage_relations(
        &self,
        relation: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RelationRow>, ProjectError> {
        Ok(self.store.passage_relations(relation, limit).await?)
    }

    /// Which paper each record of a format became, e.g. BEIR `_id`s.
    pub async fn records_of_format(
        &self,
        format: hypatia_core::SourceFormat,
    ) -> Result<Vec<(String, PaperId)>, ProjectError> {
        Ok(self.store.records_of_format(format.as_str()).await?)
    }

    pub async fn list_papers(&self, limit: u32, offset: u32) -> Result<Vec<Paper>, ProjectError> {
        Ok(self.store.list_papers(limit, offset).await?)
    }

    /// Rebuilds the index from the store. `progress` is told how many
    /// papers are indexed so far; returns how many there are.
    pub async fn reindex(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<u64, ProjectError> {
        sync::rebuild(&self.store, &self.index, progress).await
    }

    /// Attaches an embedding model: from now on dense and hybrid search are possible, over the
    /// vectors stored for this model (none yet, or the ones another model made are dropped).
    /// Embedding the passages that lack vectors is [`Project::embed_passages`].
    pub fn attach_embedder(&mut self, embedder: Arc<dyn EmbeddingBackend>) -> Result<(), ProjectError> {
        let dir = self.root.join(DATA_DIR).join(VECTORS_DIR);
        // The vectors of a model attached before hold the write lock: let it go first.
        self.dense = None;
        self.dense = Some(Dense::open(&dir, embedder)?);
        Ok(())
    }

    /// Searches by words alone again (the model and its vectors are let go).
    pub fn detach_embedder(&mut self) {
        self.dense = None;
    }

    /// The attached embedding model.
    pub fn embedder(&self) -> Option<&Arc<dyn EmbeddingBackend>> {
        self.dense.as_ref().map(|dense| &dense.embedder)
    }

    /// False when another process holds the vectors' write lock: this one searches them as they are.
    pub fn vectors_writable(&self) -> bool {
        self.dense.as_ref().is_some_and(|dense| dense.vectors().is_writable())
    }

    /// Passages with a vector, when an embedding model is attached.
    pub fn vector_count(&self) -> Option<usize> {
        self.dense.as_ref().map(|dense| dense.vectors().len())
    }

    /// Embeds every passage that lacks a vector for the attached model (new, changed, or all of them
    /// after a model change); `None` without a model. Cancelling keeps what was embedded, and the
    /// next call resumes from there.
    pub async fn embed_passages(
        &self,
        progress: &(dyn Fn(EmbedProgress) + Sync),
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<Option<EmbedSummary>, ProjectError> {
        match &self.dense {
            Some(dense) => Ok(Some(embedding::catch_up(&self.store, dense, progress, cancel).await?)),
            None => Ok(None),
        }
    }

    /// Drops every vector and embeds every passage again (`hypatia reindex`).
    pub async fn reembed_passages(
        &self,
        progress: &(dyn Fn(EmbedProgress) + Sync),
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<Option<EmbedSummary>, ProjectError> {
        if let Some(dense) = &self.dense {
            dense.vectors().clear()?;
        }
        self.embed_passages(progress, cancel).await
    }

    /// How searches run, for a run's provenance: `bm25`, or hybrid with the embedding model's
    /// identity and the fusion.
    pub fn retrieval_description(&self) -> String {
        match &self.dense {
            Some(dense) => {
                let identity = dense.embedder.identity();
                format!(
                    "hybrid ({DEFAULT_FUSION}): bm25 + {} ({} dimensions)",
                    identity.key(),
                    identity.dimensions
                )
            }
            None => "bm25".to_owned(),
        }
    }

    /// Hybrid when an embedding model is attached, else BM25.
    pub fn default_mode(&self) -> SearchMode {
        if self.dense.is_some() {
            SearchMode::Hybrid
        } else {
            SearchMode::Bm25
        }
    }

    /// Papers for the request in `mode`, hybrid ones fused as every search fuses them.
    pub async fn find_papers(
        &self,
        request: &SearchRequest<'_>,
        mode: SearchMode,
    ) -> Result<Vec<PaperHit>, ProjectError> {
        self.find_papers_fused(request, mode, DEFAULT_FUSION).await
    }

    /// As [`Project::find_papers`] with another fusion (evaluation only).
    pub async fn find_papers_fused(
        &self,
        request: &SearchRequest<'_>,
        mode: SearchMode,
        fusion: Fusion,
    ) -> Result<Vec<PaperHit>, ProjectError> {
        let Some((dense, query)) = self.dense_query(request, mode).await? else {
            return self.search_papers(request);
        };
        let candidates = embedding::dense_papers(dense, &query, dense_pool(request));
        merge(
            request,
            mode,
            fusion,
            candidates,
            |r| self.search_papers(r),
            |ids, r| Ok(self.index.lookup_papers(ids, r)?),
        )
    }

    /// Passages for the request in `mode`: what agents cite.
    pub async fn find_passages(
        &self,
        request: &SearchRequest<'_>,
        mode: SearchMode,
    ) -> Result<Vec<PassageHit>, ProjectError> {
        let Some((dense, query)) = self.dense_query(request, mode).await? else {
            return self.search_passages(request);
        };
        let candidates = embedding::dense_passages(dense, &query, dense_pool(request));
        merge(
            request,
            mode,
            DEFAULT_FUSION,
            candidates,
            |r| self.search_passages(r),
            |ids, r| Ok(self.index.lookup_passages(ids, r)?),
        )
    }

    /// The embedding model and the query's vector, when `mode` needs them and the query has words;
    /// `None` means a BM25 search answers (a filters-only query has nothing to embed).
    async fn dense_query(
        &self,
        request: &SearchRequest<'_>,
        mode: SearchMode,
    ) -> Result<Option<(&Dense, Vec<f32>)>, ProjectError> {
        if !mode.is_dense() {
            return Ok(None);
        }
        let dense = self.dense.as_ref().ok_or(ProjectError::NoEmbedder { mode })?;
        if query_sentence(request.query).is_empty() {
            return Ok(None);
        }
        Ok(Some((dense, dense.embed_query(request.query).await?)))
    }

    /// Closes the database cleanly (checkpointing its WAL).
    pub async fn close(self) {
        self.store.close().await;
    }
}
