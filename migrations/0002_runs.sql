-- Review runs and their journal: every bus message, written before it is acted on.
-- A run's state is the fold of its messages; `runs` only indexes them for listing.

CREATE TABLE runs (
    id          TEXT PRIMARY KEY NOT NULL,
    question    TEXT NOT NULL,
    -- running, completed, budget_exhausted, failed, cancelled
    status      TEXT NOT NULL,
    -- Why the run ended as it did (which budget, what failed), if it ended.
    detail      TEXT,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE run_messages (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    -- Unique within its run: a message journaled twice is a bug, refused here.
    id          TEXT NOT NULL,
    parent_id   TEXT,
    sender      TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    -- The typed payload as JSON (crates/bus defines it).
    payload     TEXT NOT NULL,
    time_ms     INTEGER NOT NULL,
    UNIQUE (run_id, id)
) STRICT;

CREATE INDEX run_messages_by_run ON run_messages (run_id, seq);
