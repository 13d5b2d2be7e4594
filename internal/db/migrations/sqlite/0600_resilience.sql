-- Cyber resilience toolkit (internal/resilience): imported models,
-- regulators' campaigns, assessments with their answers and evidence.

-- Models imported by platform administrators (the built-in ones are
-- embedded in the binary). One row per model version; never changed.
CREATE TABLE resilience_models (
    id          INTEGER PRIMARY KEY,
    model_id    TEXT   NOT NULL,
    version     TEXT   NOT NULL,
    title       TEXT   NOT NULL,
    source      TEXT   NOT NULL, -- the YAML document as imported
    imported_by BIGINT,
    imported_at BIGINT NOT NULL,
    UNIQUE (model_id, version)
);

-- A regulator's campaign: every entity of the types in scope, in its
-- country, is asked to assess itself against one model version by a
-- deadline.
CREATE TABLE resilience_campaigns (
    id           INTEGER PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE, -- the regulator
    country      TEXT   NOT NULL,
    title        TEXT   NOT NULL,
    model_key    TEXT   NOT NULL, -- id@version
    variant      TEXT   NOT NULL,
    entity_types TEXT   NOT NULL, -- JSON list
    deadline     BIGINT NOT NULL,
    created_by   BIGINT,
    created_at   BIGINT NOT NULL,
    closed_at    BIGINT
);
CREATE INDEX resilience_campaigns_country ON resilience_campaigns (country, created_at);

CREATE TABLE resilience_assessments (
    id           INTEGER PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    title        TEXT   NOT NULL,
    model_key    TEXT   NOT NULL,
    variant      TEXT   NOT NULL,
    entity_type  TEXT   NOT NULL,
    profile      TEXT   NOT NULL, -- JSON resilience.Profile
    risk_level   TEXT   NOT NULL,
    status       TEXT   NOT NULL CHECK (status IN ('draft', 'submitted')),
    campaign_id  BIGINT REFERENCES resilience_campaigns (id) ON DELETE SET NULL,
    previous_id  BIGINT REFERENCES resilience_assessments (id) ON DELETE SET NULL,
    created_by   BIGINT,
    created_at   BIGINT NOT NULL,
    submitted_by BIGINT,
    submitted_at BIGINT,
    -- At sign-off: the answers and the scorecard as submitted (JSON).
    -- The row is not changed afterwards (the store refuses; the audit
    -- entry holds the snapshot's SHA-256).
    snapshot     TEXT,
    overall      REAL -- at sign-off, for the regulator's views
);
CREATE INDEX resilience_assessments_org ON resilience_assessments (org_id, created_at);
CREATE INDEX resilience_assessments_campaign ON resilience_assessments (campaign_id, status);

-- Domain scores at sign-off: the sector benchmark aggregates these
-- numbers instead of reading every snapshot.
CREATE TABLE resilience_domain_scores (
    assessment_id BIGINT NOT NULL REFERENCES resilience_assessments (id) ON DELETE CASCADE,
    domain_id     TEXT   NOT NULL,
    score         REAL NOT NULL,
    PRIMARY KEY (assessment_id, domain_id)
);

CREATE TABLE resilience_answers (
    assessment_id BIGINT  NOT NULL REFERENCES resilience_assessments (id) ON DELETE CASCADE,
    question_id   TEXT    NOT NULL,
    level         INTEGER CHECK (level BETWEEN 0 AND 5),
    na            BOOLEAN NOT NULL DEFAULT FALSE,
    na_reason     TEXT    NOT NULL DEFAULT '',
    comment       TEXT    NOT NULL DEFAULT '',
    version       INTEGER NOT NULL, -- optimistic concurrency: a write names the version it saw
    updated_by    BIGINT,
    updated_at    BIGINT  NOT NULL,
    PRIMARY KEY (assessment_id, question_id)
);

CREATE TABLE resilience_evidence (
    id            INTEGER PRIMARY KEY,
    assessment_id BIGINT NOT NULL REFERENCES resilience_assessments (id) ON DELETE CASCADE,
    question_id   TEXT   NOT NULL,
    blob_sha256   TEXT   NOT NULL REFERENCES blobs (sha256),
    filename      TEXT   NOT NULL,
    user_id       BIGINT,
    at            BIGINT NOT NULL
);
CREATE INDEX resilience_evidence_assessment ON resilience_evidence (assessment_id, question_id);
