-- Tabletop exercises (internal/tabletop): the scenario library of each
-- organisation (clones of the built-in scenarios, edited or imported).
-- The built-in scenarios are embedded in the binary.
CREATE TABLE tabletop_scenarios (
    id          INTEGER PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    scenario_id TEXT   NOT NULL,
    version     TEXT   NOT NULL,
    title       TEXT   NOT NULL,
    source      TEXT   NOT NULL, -- the YAML document as last saved
    based_on    TEXT   NOT NULL DEFAULT '', -- id@version it was cloned from; '' when imported
    rev         INTEGER NOT NULL, -- optimistic concurrency: a save names the revision it edited
    created_by  BIGINT,
    created_at  BIGINT NOT NULL,
    updated_by  BIGINT,
    updated_at  BIGINT NOT NULL,
    UNIQUE (org_id, scenario_id, version)
);
