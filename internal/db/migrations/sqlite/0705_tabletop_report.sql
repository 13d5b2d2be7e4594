-- Tabletop exercises (internal/tabletop): the after-action report —
-- whether each objective was met, the strengths and gaps the facilitators
-- record, and the improvement plan whose items go to the owner
-- organisations' own tracking.
CREATE TABLE tabletop_objectives (
    exercise_id  BIGINT NOT NULL REFERENCES tabletop_exercises (id) ON DELETE CASCADE,
    objective_id TEXT   NOT NULL, -- the scenario's
    rating       TEXT   NOT NULL CHECK (rating IN ('met', 'partly', 'not-met')),
    note         TEXT   NOT NULL,
    rated_by     BIGINT,
    rated_at     BIGINT NOT NULL,
    PRIMARY KEY (exercise_id, objective_id)
);

CREATE TABLE tabletop_findings (
    id          INTEGER PRIMARY KEY,
    exercise_id BIGINT NOT NULL REFERENCES tabletop_exercises (id) ON DELETE CASCADE,
    kind        TEXT   NOT NULL CHECK (kind IN ('strength', 'gap')),
    text        TEXT   NOT NULL,
    created_by  BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX tabletop_findings_exercise ON tabletop_findings (exercise_id, id);

-- An improvement item: an action owned by one of the exercise's
-- organisations, due by a date, linked to a catalogue recommendation and
-- a resilience question. tracked/noted say where it was sent: the owner's
-- adoption tracking item and resilience assessment question (paths).
CREATE TABLE tabletop_improvements (
    id             INTEGER PRIMARY KEY,
    exercise_id    BIGINT NOT NULL REFERENCES tabletop_exercises (id) ON DELETE CASCADE,
    action         TEXT   NOT NULL,
    owner_org      BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    due            TEXT   NOT NULL, -- YYYY-MM-DD
    recommendation TEXT   NOT NULL DEFAULT '',
    question       TEXT   NOT NULL DEFAULT '',
    status         TEXT   NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    tracked        TEXT   NOT NULL DEFAULT '',
    noted          TEXT   NOT NULL DEFAULT '',
    sent_at        BIGINT,
    created_by     BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX tabletop_improvements_exercise ON tabletop_improvements (exercise_id, id);
CREATE INDEX tabletop_improvements_owner ON tabletop_improvements (owner_org, due);

-- The anonymised lessons-learned note published from the report, once.
ALTER TABLE tabletop_exercises ADD COLUMN lessons TEXT NOT NULL DEFAULT '';
