-- Tabletop exercises (internal/tabletop): injects released during an
-- exercise — the scenario's, by the clock or by hand, and the
-- facilitator's ad-hoc ones. A row exists once an inject is released.
CREATE TABLE tabletop_injects (
    id          INTEGER PRIMARY KEY,
    exercise_id BIGINT NOT NULL REFERENCES tabletop_exercises (id) ON DELETE CASCADE,
    inject_id   TEXT   NOT NULL, -- the scenario's inject ID; 'adhoc-N' for ad-hoc injects
    channel     TEXT   NOT NULL,
    sender      TEXT   NOT NULL,
    title       TEXT   NOT NULL,
    content     TEXT   NOT NULL,
    domains     TEXT   NOT NULL, -- JSON list: the target domain groups of a scenario inject
    group_id    BIGINT REFERENCES tabletop_groups (id) ON DELETE SET NULL, -- an ad-hoc inject's one target group; NULL: all
    planned_ms  BIGINT, -- the scenario's offset; NULL for ad-hoc injects
    released_ms BIGINT NOT NULL, -- exercise time of the release
    released_at BIGINT NOT NULL, -- wall-clock time of the release
    released_by BIGINT, -- NULL: released by the exercise clock
    UNIQUE (exercise_id, inject_id)
);
CREATE INDEX tabletop_injects_exercise ON tabletop_injects (exercise_id, released_ms, id);
