-- The literature layer: papers, where each came from, and their citable passages.

CREATE TABLE papers (
    id          TEXT PRIMARY KEY NOT NULL,
    title       TEXT NOT NULL,
    -- normalize_title(title): the dedup key for papers without DOI or arXiv id.
    norm_title  TEXT NOT NULL,
    abstract    TEXT,
    -- JSON array of author names, in order.
    authors     TEXT NOT NULL DEFAULT '[]',
    year        INTEGER,
    venue       TEXT,
    doi         TEXT UNIQUE,
    arxiv_id    TEXT UNIQUE,
    url         TEXT,
    -- The store change that last touched this paper: the index catches up
    -- to the highest change it has seen (see crates/project/src/sync.rs).
    change_seq  INTEGER NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE INDEX papers_by_norm_title ON papers (norm_title);
CREATE INDEX papers_by_change ON papers (change_seq, id);

CREATE TABLE paper_sources (
    paper_id    TEXT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    format      TEXT NOT NULL,
    -- A citation key, a BEIR _id, or "line N".
    record      TEXT NOT NULL,
    first_seen  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (paper_id, path, record)
) STRICT;

CREATE INDEX paper_sources_by_record ON paper_sources (path, record);

CREATE TABLE passages (
    id          TEXT PRIMARY KEY NOT NULL,
    paper_id    TEXT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    ordinal     INTEGER NOT NULL,
    text        TEXT NOT NULL,
    -- Where the passage came from: 'abstract' now, 'fulltext' with page numbers later.
    section     TEXT NOT NULL DEFAULT 'abstract',
    page        INTEGER,
    UNIQUE (paper_id, ordinal)
) STRICT;

-- One row per ingested file: an audit trail of what was read and what it did.
CREATE TABLE ingests (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL,
    format      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    added       INTEGER NOT NULL,
    merged      INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    skipped     INTEGER NOT NULL,
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE counters (
    name        TEXT PRIMARY KEY NOT NULL,
    value       INTEGER NOT NULL
) STRICT;

INSERT INTO counters (name, value) VALUES ('change_seq', 0);
