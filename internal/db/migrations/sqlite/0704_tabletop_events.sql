-- Tabletop exercises (internal/tabletop): the live events of an exercise,
-- what the server-sent event stream carries to the people taking part.
-- Written in the transaction of the change they announce, so that a
-- client reconnecting with Last-Event-ID gets exactly what it missed, from
-- any server of a cluster and after a restart.
CREATE TABLE tabletop_events (
    id          INTEGER PRIMARY KEY,
    exercise_id BIGINT NOT NULL REFERENCES tabletop_exercises (id) ON DELETE CASCADE,
    kind        TEXT   NOT NULL, -- state, inject, draft, answer, score, hint, note, lobby
    audience    TEXT   NOT NULL CHECK (audience IN ('all', 'staff')), -- staff: facilitators and observers
    groups      TEXT   NOT NULL, -- JSON list of group IDs the event is for; [] = every group
    at_wall     BIGINT NOT NULL,
    data        TEXT   NOT NULL  -- JSON object, shown to clients as the event's data
);
CREATE INDEX tabletop_events_exercise ON tabletop_events (exercise_id, id);
