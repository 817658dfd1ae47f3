-- The citation graph: who cites whom, as the scholarly APIs report it. Papers are named by key
-- (`doi:…`, `arxiv:…`, `s2:…`, `openalex:…`), so an edge can name a paper the project does not
-- have; an edge between two project papers is found by matching keys to the papers' DOIs and arXiv ids.

CREATE TABLE citation_edges (
    citing_key    TEXT NOT NULL,
    cited_key     TEXT NOT NULL,
    citing_title  TEXT,
    cited_title   TEXT,
    -- Which API reported it: s2, openalex, crossref.
    source        TEXT NOT NULL,
    fetched_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (citing_key, cited_key)
) STRICT;

CREATE INDEX citation_edges_by_cited ON citation_edges (cited_key);

-- Which papers have been expanded (references and citations fetched), so `graph expand` goes on
-- where it stopped instead of asking again.
CREATE TABLE citation_expansions (
    paper_key     TEXT PRIMARY KEY NOT NULL,
    references_n  INTEGER NOT NULL,
    citations_n   INTEGER NOT NULL,
    source        TEXT NOT NULL,
    expanded_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
