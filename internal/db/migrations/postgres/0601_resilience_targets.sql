-- A regulator's targets per entity type and domain for its country, which
-- replace the model's risk-based targets in the scores of that country's
-- entities of that type.
CREATE TABLE resilience_targets (
    country     TEXT   NOT NULL,
    model_key   TEXT   NOT NULL,
    entity_type TEXT   NOT NULL,
    domain_id   TEXT   NOT NULL,
    target      DOUBLE PRECISION NOT NULL CHECK (target >= 0 AND target <= 5),
    set_by_org  BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    set_by      BIGINT,
    set_at      BIGINT NOT NULL,
    PRIMARY KEY (country, model_key, entity_type, domain_id)
);
