//! The four sources behind one interface: searches that page until `max`, lookups by DOI, arXiv id
//! or source id, references and citations for the graph, and falling back to another source when one
//! is down or refusing.

use std::fmt;

use crate::http::{Http, Reply, Request};
use crate::{
    FetchProgress, FetchedPaper, ResponseCache, SearchQuery, SourceError, SourceKind, SourcesConfig, arxiv, crossref,
    openalex, s2,
};

/// A paper as a reference list names it: the key an edge is stored under, and the paper itself when
/// the source described it.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedPaper {
    /// `doi:…`, `arxiv:…`, `s2:…` or `openalex:…`, strongest first.
    pub key: String,
    pub title: Option<String>,
    pub paper: Option<FetchedPaper>,
}

/// What a paper is known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperRef {
    pub doi: Option<String>,
    pub arxiv_id: Option<String>,
    /// Semantic Scholar's paperId, for a paper fetched from it without a DOI or arXiv id.
    pub s2_id: Option<String>,
    pub title: String,
}

/// A search's papers, where they came from, and the sources that failed before.
#[derive(Debug)]
pub struct Fetched {
    pub papers: Vec<FetchedPaper>,
    pub source: SourceKind,
    pub failed: Vec<(SourceKind, SourceError)>,
}

/// Every source tried failed.
#[derive(Debug)]
pub struct FallbackFailed {
    pub failures: Vec<(SourceKind, SourceError)>,
}

impl fmt::Display for FallbackFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.failures.as_slice() {
            [] => f.write_str("no source could be asked"),
            [(_, only)] => write!(f, "{only}"),
            all => {
                write!(f, "every source failed:")?;
                for (_, error) in all {
                    write!(f, "\n  - {error}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for FallbackFailed {}

pub struct Sources {
    http: Http,
    config: SourcesConfig,
}

/// Characters left as they are in a path: ids such as `DOI:10.1000/x.y` stay readable.
fn encode_path(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b':' | b'(' | b')' | b';' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn years_ok(query: &SearchQuery, paper: &FetchedPaper) -> bool {
    match (query.years, paper.record.year) {
        (Some((from, to)), Some(year)) => (from..=to).contains(&year),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

impl Sources {
    pub fn new(config: SourcesConfig) -> Sources {
        let cache = config.cache_dir.clone().map(ResponseCache::new);
        Sources {
            http: Http::new(config.policy.clone(), cache),
            config,
        }
    }

    /// Ask the APIs again even for what the cache holds.
    pub fn refreshing(mut self) -> Sources {
        self.http = self.http.refreshing();
        self
    }

    pub fn config(&self) -> &SourcesConfig {
        &self.config
    }

    fn url(&self, kind: SourceKind, path: &str, query: &[(&str, String)]) -> Result<reqwest::Url, SourceError> {
        let base = &self.config.endpoint(kind).base_url;
        let mut url = reqwest::Url::parse(&format!("{base}{path}")).map_err(|error| SourceError::BadBaseUrl {
            source_name: kind,
            url: base.to_string(),
            detail: error.to_string(),
        })?;
        {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
            if matches!(kind, SourceKind::OpenAlex | SourceKind::Crossref)
                && let Some(mailto) = &self.config.mailto
            {
                pairs.append_pair("mailto", mailto);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }

    async fn get(
        &self,
        kind: SourceKind,
        url: reqwest::Url,
        body: Option<serde_json::Value>,
    ) -> Result<Reply, SourceError> {
        let mut request = Request::get(kind, url);
        request.body = body;
        if kind == SourceKind::SemanticScholar
            && let Some(key) = &self.config.s2_api_key
        {
            request.secret_header = Some(("x-api-key", key.clone()));
        }
        self.http.send(&request, self.config.endpoint(kind).interval).await
    }

    /// A 2xx body, or `NotFound` naming `what`.
    async fn found(
        &self,
        kind: SourceKind,
        url: reqwest::Url,
        body: Option<serde_json::Value>,
        what: impl FnOnce() -> String,
    ) -> Result<(Vec<u8>, String), SourceError> {
        let shown = url.to_string();
        match self.get(kind, url, body).await? {
            Reply::Found(bytes) => Ok((bytes, shown)),
            Reply::NotFound(_) => Err(SourceError::NotFound {
                source_name: kind,
                what: what(),
            }),
        }
    }

    /// Up to `query.max` papers from `kind`, page by page.
    pub async fn search(
        &self,
        kind: SourceKind,
        query: &SearchQuery,
        progress: &(dyn Fn(FetchProgress) + Sync),
    ) -> Result<Vec<FetchedPaper>, SourceError> {
        let mut papers: Vec<FetchedPaper> = Vec::new();
        let mut offset = 0usize;
        let mut page = 0u32;
        let what = || format!("results for `{}`", query.text);
        while papers.len() < query.max {
            page += 1;
            let wanted = query.max - papers.len();
            let (batch, total, advanced) = match kind {
                SourceKind::Arxiv => {
                    let size = wanted.min(arxiv::PAGE);
                    let url = self.url(
                        kind,
                        "query",
                        &[
                            ("search_query", arxiv::search_query(query)),
                            ("start", offset.to_string()),
                            ("max_results", size.to_string()),
                        ],
                    )?;
                    let (body, shown) = self.found(kind, url, None, what).await?;
                    let feed = arxiv::parse_feed(&body, &shown)?;
                    (feed.papers, feed.total, feed.entries)
                }
                SourceKind::SemanticScholar => {
                    let size = wanted.min(s2::PAGE);
                    let mut pairs = vec![
                        ("query", query.text.clone()),
                        ("fields", s2::FIELDS.to_owned()),
                        ("offset", offset.to_string()),
                        ("limit", size.to_string()),
                    ];
                    if let Some((from, to)) = query.years {
                        pairs.push(("year", format!("{from}-{to}")));
                    }
                    let url = self.url(kind, "paper/search", &pairs)?;
                    let (body, shown) = self.found(kind, url, None, what).await?;
                    let parsed: s2::Page<s2::S2Paper> = s2::parse(&body, &shown)?;
                    let advanced = match parsed.next {
                        Some(next) => (next as usize).saturating_sub(offset),
                        None => 0,
                    };
                    let count = parsed.data.len();
                    let papers = parsed.data.into_iter().filter_map(s2::S2Paper::into_fetched).collect();
                    (
                        papers,
                        parsed.total,
                        if advanced == 0 && parsed.next.is_some() {
                            count
                        } else {
                            advanced
                        },
                    )
                }
                SourceKind::OpenAlex => {
                    let size = wanted.min(openalex::PAGE);
                    let mut pairs = vec![
                        ("search", query.text.clone()),
                        ("per-page", size.to_string()),
                        ("page", (offset / size.max(1) + 1).to_string()),
                    ];
                    if let Some((from, to)) = query.years {
                        pairs.push(("filter", format!("publication_year:{from}-{to}")));
                    }
                    let url = self.url(kind, "works", &pairs)?;
                    let (body, shown) = self.found(kind, url, None, what).await?;
                    let list: openalex::List = openalex::parse(&body, &shown)?;
                    let count = list.results.len();
                    let papers = list
                        .results
                        .into_iter()
                        .filter_map(openalex::Work::into_fetched)
                        .collect();
                    (papers, list.meta.count, count)
                }
                SourceKind::Crossref => {
                    if offset >= crossref::MAX_OFFSET {
                        break;
                    }
                    let size = wanted.min(crossref::PAGE);
                    let mut pairs = vec![
                        ("query", query.text.clone()),
                        ("rows", size.to_string()),
                        ("offset", offset.to_string()),
                    ];
                    if let Some((from, to)) = query.years {
                        pairs.push(("filter", format!("from-pub-date:{from},until-pub-date:{to}")));
                    }
                    let url = self.url(kind, "works", &pairs)?;
                    let (body, shown) = self.found(kind, url, None, what).await?;
                    let list: crossref::Envelope<crossref::List> = crossref::parse(&body, &shown)?;
                    let count = list.message.items.len();
                    let papers = list
                        .message
                        .items
                        .into_iter()
                        .filter_map(crossref::Item::into_fetched)
                        .collect();
                    (papers, list.message.total, count)
                }
            };
            let before = papers.len();
            for paper in batch {
                if papers.len() < query.max && years_ok(query, &paper) {
                    papers.push(paper);
                }
            }
            progress(FetchProgress {
                source: kind,
                page,
                fetched: papers.len(),
                total,
            });
            offset += advanced;
            let exhausted = advanced == 0 || total.is_some_and(|t| offset as u64 >= t);
            if exhausted {
                break;
            }
            // A page that added nothing while the source says there is more: stop rather than loop.
            if papers.len() == before && page > 50 {
                break;
            }
        }
        Ok(papers)
    }

    /// `first`, then (when it fails in a way another source may not) the other sources in turn.
    pub async fn search_with_fallback(
        &self,
        first: SourceKind,
        query: &SearchQuery,
        fall_back: bool,
        progress: &(dyn Fn(FetchProgress) + Sync),
    ) -> Result<Fetched, FallbackFailed> {
        let mut order = vec![first];
        if fall_back {
            order.extend(SourceKind::ALL.into_iter().filter(|k| *k != first));
        }
        let mut failed = Vec::new();
        for kind in order {
            match self.search(kind, query, progress).await {
                Ok(papers) => {
                    return Ok(Fetched {
                        papers,
                        source: kind,
                        failed,
                    });
                }
                Err(error) => {
                    let go_on = error.worth_falling_back();
                    tracing::warn!(source = %kind, %error, "search failed");
                    failed.push((kind, error));
                    if !go_on {
                        break;
                    }
                }
            }
        }
        Err(FallbackFailed { failures: failed })
    }

    pub async fn arxiv_lookup(&self, ids: &[String]) -> Result<Vec<FetchedPaper>, SourceError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let url = self.url(
            SourceKind::Arxiv,
            "query",
            &[("id_list", ids.join(",")), ("max_results", ids.len().to_string())],
        )?;
        let (body, shown) = self
            .found(SourceKind::Arxiv, url, None, || format!("paper {}", ids.join(", ")))
            .await?;
        Ok(arxiv::parse_feed(&body, &shown)?.papers)
    }

    /// A Semantic Scholar paper by id: its paperId, `DOI:…`, `ARXIV:…`.
    pub async fn s2_paper(&self, id: &str) -> Result<FetchedPaper, SourceError> {
        let url = self.url(
            SourceKind::SemanticScholar,
            &format!("paper/{}", encode_path(id)),
            &[("fields", s2::FIELDS.to_owned())],
        )?;
        let (body, shown) = self
            .found(SourceKind::SemanticScholar, url, None, || format!("paper {id}"))
            .await?;
        let paper: s2::S2Paper = s2::parse(&body, &shown)?;
        paper.into_fetched().ok_or_else(|| SourceError::NotFound {
            source_name: SourceKind::SemanticScholar,
            what: format!("title for paper {id}"),
        })
    }

    /// Many Semantic Scholar papers in one request; `None` where the id is unknown.
    pub async fn s2_batch(&self, ids: &[String]) -> Result<Vec<Option<FetchedPaper>>, SourceError> {
        let url = self.url(
            SourceKind::SemanticScholar,
            "paper/batch",
            &[("fields", s2::FIELDS.to_owned())],
        )?;
        let body = serde_json::json!({ "ids": ids });
        let (bytes, shown) = self
            .found(SourceKind::SemanticScholar, url, Some(body), || {
                "batch endpoint".to_owned()
            })
            .await?;
        let papers: Vec<Option<s2::S2Paper>> = s2::parse(&bytes, &shown)?;
        Ok(papers
            .into_iter()
            .map(|p| p.and_then(s2::S2Paper::into_fetched))
            .collect())
    }

    /// An OpenAlex work by id (`W…`) or DOI (`doi:10.…`).
    pub async fn openalex_work(&self, id: &str) -> Result<(FetchedPaper, Vec<String>), SourceError> {
        let url = self.url(SourceKind::OpenAlex, &format!("works/{}", encode_path(id)), &[])?;
        let (body, shown) = self
            .found(SourceKind::OpenAlex, url, None, || format!("work {id}"))
            .await?;
        let work: openalex::Work = openalex::parse(&body, &shown)?;
        let references = work.referenced_works.iter().map(|w| openalex::short_id(w)).collect();
        let paper = work.into_fetched().ok_or_else(|| SourceError::NotFound {
            source_name: SourceKind::OpenAlex,
            what: format!("title for work {id}"),
        })?;
        Ok((paper, references))
    }

    /// A Crossref work by DOI, with the DOIs its reference list names.
    pub async fn crossref_work(&self, doi: &str) -> Result<(FetchedPaper, Vec<LinkedPaper>), SourceError> {
        let url = self.url(SourceKind::Crossref, &format!("works/{}", encode_path(doi)), &[])?;
        let (body, shown) = self
            .found(SourceKind::Crossref, url, None, || format!("work with DOI {doi}"))
            .await?;
        let envelope: crossref::Envelope<crossref::Item> = crossref::parse(&body, &shown)?;
        let references = envelope
            .message
            .reference
            .iter()
            .filter_map(|r| {
                let doi = r.doi.as_deref()?.trim().to_lowercase();
                Some(LinkedPaper {
                    key: format!("doi:{doi}"),
                    title: r.article_title.clone(),
                    paper: None,
                })
            })
            .collect();
        let paper = envelope.message.into_fetched().ok_or_else(|| SourceError::NotFound {
            source_name: SourceKind::Crossref,
            what: format!("title for DOI {doi}"),
        })?;
        Ok((paper, references))
    }

    /// The paper's fuller description: by DOI (Crossref, then OpenAlex, then Semantic Scholar), by arXiv
    /// id (arXiv, then Semantic Scholar), else by title (Semantic Scholar, then Crossref; the caller
    /// decides whether a title match is the same paper).
    pub async fn lookup(&self, paper: &PaperRef) -> Result<Vec<FetchedPaper>, FallbackFailed> {
        let mut failures = Vec::new();
        let mut note = |kind, error: SourceError| {
            tracing::info!(source = %kind, %error, "lookup failed");
            failures.push((kind, error));
        };
        if let Some(doi) = &paper.doi {
            match self.crossref_work(doi).await {
                Ok((found, _)) => return Ok(vec![found]),
                Err(error) => note(SourceKind::Crossref, error),
            }
            match self.openalex_work(&format!("doi:{doi}")).await {
                Ok((found, _)) => return Ok(vec![found]),
                Err(error) => note(SourceKind::OpenAlex, error),
            }
            match self.s2_paper(&format!("DOI:{doi}")).await {
                Ok(found) => return Ok(vec![found]),
                Err(error) => note(SourceKind::SemanticScholar, error),
            }
        }
        if let Some(arxiv_id) = &paper.arxiv_id {
            match self.arxiv_lookup(std::slice::from_ref(arxiv_id)).await {
                Ok(found) if !found.is_empty() => return Ok(found),
                Ok(_) => {}
                Err(error) => note(SourceKind::Arxiv, error),
            }
            match self.s2_paper(&format!("ARXIV:{arxiv_id}")).await {
                Ok(found) => return Ok(vec![found]),
                Err(error) => note(SourceKind::SemanticScholar, error),
            }
        }
        if let Some(id) = paper
            .s2_id
            .as_ref()
            .filter(|_| paper.doi.is_none() && paper.arxiv_id.is_none())
        {
            match self.s2_paper(id).await {
                Ok(found) => return Ok(vec![found]),
                Err(error) => note(SourceKind::SemanticScholar, error),
            }
        }
        if paper.doi.is_none() && paper.arxiv_id.is_none() && paper.s2_id.is_none() {
            let query = SearchQuery {
                text: paper.title.clone(),
                max: 5,
                years: None,
            };
            for kind in [SourceKind::SemanticScholar, SourceKind::Crossref] {
                match self.search(kind, &query, &|_| {}).await {
                    Ok(found) => return Ok(found),
                    Err(error) => note(kind, error),
                }
            }
        }
        // Nothing found anywhere is not a failure of the sources.
        if failures.iter().all(|(_, e)| matches!(e, SourceError::NotFound { .. })) {
            return Ok(Vec::new());
        }
        Err(FallbackFailed { failures })
    }

    /// The Semantic Scholar id of a paper, as its API takes it.
    fn s2_id(paper: &PaperRef) -> Option<String> {
        paper
            .doi
            .as_ref()
            .map(|d| format!("DOI:{d}"))
            .or_else(|| paper.arxiv_id.as_ref().map(|a| format!("ARXIV:{a}")))
            .or_else(|| paper.s2_id.clone())
    }

    async fn s2_linked(&self, id: &str, direction: &str, max: usize) -> Result<Vec<LinkedPaper>, SourceError> {
        let mut linked = Vec::new();
        let mut offset = 0usize;
        while linked.len() < max {
            let limit = (max - linked.len()).min(s2::PAGE);
            let url = self.url(
                SourceKind::SemanticScholar,
                &format!("paper/{}/{direction}", encode_path(id)),
                &[
                    ("fields", s2::FIELDS.to_owned()),
                    ("offset", offset.to_string()),
                    ("limit", limit.to_string()),
                ],
            )?;
            let (body, shown) = self
                .found(SourceKind::SemanticScholar, url, None, || format!("paper {id}"))
                .await?;
            let (papers, next): (Vec<s2::S2Paper>, Option<u64>) = if direction == "references" {
                let page: s2::Page<s2::Reference> = s2::parse(&body, &shown)?;
                (page.data.into_iter().filter_map(|r| r.cited).collect(), page.next)
            } else {
                let page: s2::Page<s2::Citation> = s2::parse(&body, &shown)?;
                (page.data.into_iter().filter_map(|c| c.citing).collect(), page.next)
            };
            for paper in papers {
                let key = paper
                    .doi()
                    .map(|d| format!("doi:{}", d.to_lowercase()))
                    .or_else(|| paper.arxiv_id().map(|a| format!("arxiv:{a}")))
                    .or_else(|| paper.paper_id.as_ref().map(|p| format!("s2:{p}")));
                // A reference S2 could not resolve to any paper has nothing to link to.
                let Some(key) = key else { continue };
                let title = paper.title.clone();
                linked.push(LinkedPaper {
                    key,
                    title,
                    paper: paper.into_fetched(),
                });
                if linked.len() >= max {
                    break;
                }
            }
            match next {
                Some(next) if next as usize > offset => offset = next as usize,
                _ => break,
            }
        }
        Ok(linked)
    }

    /// What the paper cites: Semantic Scholar, falling back to Crossref's reference list (by DOI).
    pub async fn references(
        &self,
        paper: &PaperRef,
        max: usize,
    ) -> Result<(Vec<LinkedPaper>, SourceKind), FallbackFailed> {
        let fallback = async |doi: &str| {
            let (_, mut linked) = self.crossref_work(doi).await?;
            linked.truncate(max);
            Ok(linked)
        };
        self.linked(paper, "references", max, SourceKind::Crossref, fallback)
            .await
    }

    /// What cites the paper: Semantic Scholar, falling back to OpenAlex (`filter=cites:W…`).
    pub async fn citations(
        &self,
        paper: &PaperRef,
        max: usize,
    ) -> Result<(Vec<LinkedPaper>, SourceKind), FallbackFailed> {
        let fallback = async |doi: &str| self.openalex_citations(doi, max).await;
        self.linked(paper, "citations", max, SourceKind::OpenAlex, fallback)
            .await
    }

    /// Semantic Scholar's `direction` list, else `fallback` by DOI. A paper no source knows has no
    /// known links, which is an answer, not a failure.
    async fn linked(
        &self,
        paper: &PaperRef,
        direction: &str,
        max: usize,
        fallback_source: SourceKind,
        fallback: impl AsyncFnOnce(&str) -> Result<Vec<LinkedPaper>, SourceError>,
    ) -> Result<(Vec<LinkedPaper>, SourceKind), FallbackFailed> {
        let mut failures = Vec::new();
        if let Some(id) = Self::s2_id(paper) {
            match self.s2_linked(&id, direction, max).await {
                Ok(linked) => return Ok((linked, SourceKind::SemanticScholar)),
                Err(error) => failures.push((SourceKind::SemanticScholar, error)),
            }
        }
        if let Some(doi) = &paper.doi {
            match fallback(doi).await {
                Ok(linked) => return Ok((linked, fallback_source)),
                Err(error) => failures.push((fallback_source, error)),
            }
        }
        if failures.iter().all(|(_, e)| matches!(e, SourceError::NotFound { .. })) {
            return Ok((Vec::new(), SourceKind::SemanticScholar));
        }
        Err(FallbackFailed { failures })
    }

    async fn openalex_citations(&self, doi: &str, max: usize) -> Result<Vec<LinkedPaper>, SourceError> {
        let (work, _) = self.openalex_work(&format!("doi:{doi}")).await?;
        let url = self.url(
            SourceKind::OpenAlex,
            "works",
            &[
                ("filter", format!("cites:{}", work.source_id)),
                ("per-page", max.clamp(1, openalex::PAGE).to_string()),
            ],
        )?;
        let (body, shown) = self
            .found(SourceKind::OpenAlex, url, None, || format!("works citing {doi}"))
            .await?;
        let list: openalex::List = openalex::parse(&body, &shown)?;
        Ok(list
            .results
            .into_iter()
            .filter_map(openalex::Work::into_fetched)
            .take(max)
            .map(|paper| LinkedPaper {
                key: paper
                    .record
                    .doi
                    .as_ref()
                    .map(|d| format!("doi:{}", d.to_lowercase()))
                    .unwrap_or_else(|| format!("openalex:{}", paper.source_id)),
                title: Some(paper.record.title.clone()),
                paper: Some(paper),
            })
            .collect())
    }
}
