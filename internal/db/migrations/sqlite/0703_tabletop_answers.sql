-- Tabletop exercises (internal/tabletop): each group's answer to an
-- inject, and the exercise's decision log.

-- One answer per inject and group: a shared draft the group's players
-- edit (version: a save names the version it started from, and a stale
-- save is refused so nobody's text is overwritten), final once final_at
-- is set, then scored by a facilitator (0-3 with a note).
CREATE TABLE tabletop_answers (
    id          INTEGER PRIMARY KEY,
    exercise_id BIGINT NOT NULL REFERENCES tabletop_exercises (id) ON DELETE CASCADE,
    inject_ref  BIGINT NOT NULL REFERENCES tabletop_injects (id) ON DELETE CASCADE,
    group_id    BIGINT NOT NULL REFERENCES tabletop_groups (id) ON DELETE CASCADE,
    actions     TEXT   NOT NULL, -- what do we do
    owner       TEXT   NOT NULL, -- who owns it
    gap         TEXT   NOT NULL, -- what gap does this expose
    version     BIGINT NOT NULL,
    edited_by   BIGINT,
    edited_at   BIGINT NOT NULL,
    final_ms    BIGINT, -- exercise time of the final answer
    final_at    BIGINT, -- wall-clock time of the final answer; NULL: a draft
    final_by    BIGINT,
    score       INTEGER CHECK (score BETWEEN 0 AND 3),
    score_note  TEXT,
    scored_by   BIGINT,
    scored_at   BIGINT,
    UNIQUE (inject_ref, group_id)
);
CREATE INDEX tabletop_answers_exercise ON tabletop_answers (exercise_id);

-- The decision log: what happened in the exercise, in order — state
-- changes, injects released, final answers, scores, hints to a group and
-- observer notes. Written in the transaction of what it records.
CREATE TABLE tabletop_log (
    id          INTEGER PRIMARY KEY,
    exercise_id BIGINT NOT NULL REFERENCES tabletop_exercises (id) ON DELETE CASCADE,
    kind        TEXT   NOT NULL CHECK (kind IN ('state', 'inject', 'answer', 'score', 'hint', 'note')),
    at_ms       BIGINT NOT NULL, -- exercise time
    at_wall     BIGINT NOT NULL, -- wall-clock time
    actor       BIGINT, -- NULL: the exercise clock
    group_id    BIGINT REFERENCES tabletop_groups (id) ON DELETE SET NULL,
    text        TEXT   NOT NULL
);
CREATE INDEX tabletop_log_exercise ON tabletop_log (exercise_id, id);
