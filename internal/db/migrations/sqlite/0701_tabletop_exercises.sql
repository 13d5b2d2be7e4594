-- Tabletop exercises (internal/tabletop): an exercise run by one
-- organisation for people of several, in groups and roles.

-- The exercise keeps the text of its scenario as it was when the
-- exercise was created, so that later edits of the library (or a new
-- built-in version) do not change an exercise under way. The clock is
-- stored, not kept in memory: exercise time = clock_ms + (now - clock_at)
-- × speed while running, clock_ms while paused.
CREATE TABLE tabletop_exercises (
    id           INTEGER PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE, -- the facilitating organisation
    title        TEXT   NOT NULL,
    scenario_key TEXT   NOT NULL, -- id@version
    scenario     TEXT   NOT NULL, -- the scenario's YAML at creation
    speed        REAL   NOT NULL, -- exercise seconds per wall-clock second
    status       TEXT   NOT NULL CHECK (status IN ('setup', 'running', 'paused', 'ended')),
    clock_ms     BIGINT NOT NULL DEFAULT 0,
    clock_at     BIGINT,
    started_at   BIGINT,
    ended_at     BIGINT,
    created_by   BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX tabletop_exercises_org ON tabletop_exercises (org_id, created_at);

-- Groups: one per domain by default; renamed, merged (the domains of
-- both) or added by the facilitator.
CREATE TABLE tabletop_groups (
    id          INTEGER PRIMARY KEY,
    exercise_id BIGINT NOT NULL REFERENCES tabletop_exercises (id) ON DELETE CASCADE,
    name        TEXT   NOT NULL,
    domains     TEXT   NOT NULL, -- JSON list of domain IDs
    position    INTEGER NOT NULL
);
CREATE INDEX tabletop_groups_exercise ON tabletop_groups (exercise_id, position);

-- Organisations invited (any country), the facilitating one included.
CREATE TABLE tabletop_orgs (
    exercise_id BIGINT NOT NULL REFERENCES tabletop_exercises (id) ON DELETE CASCADE,
    org_id      BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    invited_by  BIGINT,
    invited_at  BIGINT NOT NULL,
    PRIMARY KEY (exercise_id, org_id)
);
CREATE INDEX tabletop_orgs_org ON tabletop_orgs (org_id);

-- People: invited by the facilitator or joined through their invited
-- organisation; joined_at is set when they join (the lobby shows it).
CREATE TABLE tabletop_participants (
    exercise_id BIGINT NOT NULL REFERENCES tabletop_exercises (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id      BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE, -- the organisation they take part for
    role        TEXT   NOT NULL CHECK (role IN ('facilitator', 'player', 'observer')),
    group_id    BIGINT REFERENCES tabletop_groups (id) ON DELETE SET NULL,
    invited_by  BIGINT,
    invited_at  BIGINT NOT NULL,
    joined_at   BIGINT,
    PRIMARY KEY (exercise_id, user_id)
);
CREATE INDEX tabletop_participants_user ON tabletop_participants (user_id);
