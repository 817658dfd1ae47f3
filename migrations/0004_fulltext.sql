-- Full text read from PDFs. Each distinct file read for a paper is a version of its full text; a
-- version's passages are stored once under version ids (`<paper>#v<version>.<n>`) and never
-- rewritten. A newer version supersedes the older for search (`current = 0`), but the older
-- passages stay, so a run that cited them still resolves.

CREATE TABLE documents (
    paper_id    TEXT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    path        TEXT NOT NULL,
    extractor   TEXT NOT NULL,
    page_count  INTEGER NOT NULL,
    current     INTEGER NOT NULL DEFAULT 1,
    added_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (paper_id, version),
    UNIQUE (paper_id, sha256)
) STRICT;

-- A file already read is recognised by its hash before it is parsed again (Zotero re-imports).
CREATE INDEX documents_by_sha256 ON documents (sha256);

-- The cleaned text of every page: passage offsets point into it.
CREATE TABLE document_pages (
    paper_id    TEXT NOT NULL,
    version     INTEGER NOT NULL,
    page        INTEGER NOT NULL,
    text        TEXT NOT NULL,
    PRIMARY KEY (paper_id, version, page),
    FOREIGN KEY (paper_id, version) REFERENCES documents (paper_id, version) ON DELETE CASCADE
) STRICT;

-- A paper's reference list: what it cites, kept apart from the evidence.
CREATE TABLE document_references (
    paper_id    TEXT NOT NULL,
    version     INTEGER NOT NULL,
    ordinal     INTEGER NOT NULL,
    text        TEXT NOT NULL,
    doi         TEXT,
    arxiv_id    TEXT,
    page        INTEGER NOT NULL,
    PRIMARY KEY (paper_id, version, ordinal),
    FOREIGN KEY (paper_id, version) REFERENCES documents (paper_id, version) ON DELETE CASCADE
) STRICT;

-- Full-text passages: the full-text version they belong to (NULL for abstract passages), the page
-- they end on, and character offsets into the text of their first and last page.
ALTER TABLE passages ADD COLUMN version INTEGER;
ALTER TABLE passages ADD COLUMN page_end INTEGER;
ALTER TABLE passages ADD COLUMN char_start INTEGER;
ALTER TABLE passages ADD COLUMN char_end INTEGER;
ALTER TABLE passages ADD COLUMN current INTEGER NOT NULL DEFAULT 1;
