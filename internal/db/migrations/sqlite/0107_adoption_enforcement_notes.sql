-- Enforcement notes (issue 13, point 4): what a regulator records about a
-- provider of its country (warnings, inspections, sanctions). Only the
-- regulator that wrote a note reads it: never the provider, and not the
-- country's other regulator (sharing between them is a later setting).
-- Notes are kept as written: no update, no delete.
CREATE TABLE enforcement_notes (
    id          INTEGER PRIMARY KEY,
    author_org  BIGINT NOT NULL REFERENCES orgs (id),
    provider_id BIGINT NOT NULL REFERENCES orgs (id),
    user_id     BIGINT,
    author_name TEXT   NOT NULL,
    body        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX enforcement_notes_provider ON enforcement_notes (author_org, provider_id, created_at);
