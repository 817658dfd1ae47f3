-- What a model judged two passages of different papers to do to each other: agree, contradict, or
-- neither. Kept so that a later run asks the same model about none of them again, and so that the
-- researcher can browse the contradictions found. Keyed by the pair (ordered: first_id < second_id)
-- and the model's identity; passages never change under their ids, so a judgement stays true of the
-- text it was made on.
CREATE TABLE passage_relations (
    first_id    TEXT NOT NULL,
    second_id   TEXT NOT NULL,
    model       TEXT NOT NULL,
    relation    TEXT NOT NULL CHECK (relation IN ('agree', 'contradict', 'unrelated')),
    reason      TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    judged_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (first_id, second_id, model),
    CHECK (first_id < second_id)
) STRICT;

CREATE INDEX passage_relations_by_relation ON passage_relations (relation);
