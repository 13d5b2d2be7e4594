-- App security testing lab: apps and their versions per organisation,
-- uploaded scans (the file is a blob; the scan row is also the work queue
-- entry), triage decisions that follow a finding across versions by its
-- fingerprint, ITU lab test results recorded by testers, and the audits a
-- provider shares with its regulator.

CREATE TABLE applab_apps (
    id         INTEGER PRIMARY KEY,
    org_id     BIGINT NOT NULL REFERENCES orgs (id),
    package    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, package)
);

CREATE TABLE applab_versions (
    id           INTEGER PRIMARY KEY,
    app_id       BIGINT NOT NULL REFERENCES applab_apps (id),
    version_name TEXT   NOT NULL DEFAULT '',
    version_code BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    UNIQUE (app_id, version_code, version_name)
);

CREATE TABLE applab_scans (
    id             INTEGER PRIMARY KEY,
    org_id         BIGINT NOT NULL REFERENCES orgs (id),  -- owner of the app
    uploader_org   BIGINT NOT NULL REFERENCES orgs (id),  -- owner, or its regulator in lab mode
    uploader_user  BIGINT,
    blob_sha256    TEXT   NOT NULL REFERENCES blobs (sha256),
    file_name      TEXT   NOT NULL DEFAULT '',
    size           BIGINT NOT NULL,
    state          TEXT   NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    percent        INTEGER NOT NULL DEFAULT 0,
    message        TEXT   NOT NULL DEFAULT '',
    reason         TEXT   NOT NULL DEFAULT '',
    version_id     BIGINT REFERENCES applab_versions (id),
    result         TEXT,                                  -- appscan.Result as JSON once done
    n_critical     INTEGER NOT NULL DEFAULT 0,
    n_high         INTEGER NOT NULL DEFAULT 0,
    n_medium       INTEGER NOT NULL DEFAULT 0,
    n_low          INTEGER NOT NULL DEFAULT 0,
    n_info         INTEGER NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    heartbeat_at   BIGINT NOT NULL DEFAULT 0,
    finished_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX applab_scans_state ON applab_scans (state, id);
CREATE INDEX applab_scans_version ON applab_scans (version_id);
CREATE INDEX applab_scans_org ON applab_scans (org_id, id);
CREATE INDEX applab_scans_uploader ON applab_scans (uploader_org, id);

CREATE TABLE applab_triage (
    app_id      BIGINT NOT NULL REFERENCES applab_apps (id),
    fingerprint TEXT   NOT NULL,
    rule_id     TEXT   NOT NULL,
    decision    TEXT   NOT NULL CHECK (decision IN ('false_positive', 'accepted_risk', 'fixed')),
    reason      TEXT   NOT NULL DEFAULT '',
    expires     TEXT   NOT NULL DEFAULT '',                -- YYYY-MM-DD, accepted risks only
    decided_by  BIGINT,
    decided_at  BIGINT NOT NULL,
    PRIMARY KEY (app_id, fingerprint)
);

CREATE TABLE applab_itu_results (
    version_id    BIGINT NOT NULL REFERENCES applab_versions (id),
    test_id       TEXT   NOT NULL,
    result        TEXT   NOT NULL CHECK (result IN ('pass', 'fail', 'na')),
    notes         TEXT   NOT NULL DEFAULT '',
    evidence      TEXT   REFERENCES blobs (sha256),
    evidence_name TEXT   NOT NULL DEFAULT '',
    recorded_by   BIGINT,
    recorder_org  BIGINT NOT NULL,
    recorded_at   BIGINT NOT NULL,
    PRIMARY KEY (version_id, test_id)
);

CREATE TABLE applab_shares (
    version_id   BIGINT NOT NULL REFERENCES applab_versions (id),
    regulator_id BIGINT NOT NULL REFERENCES orgs (id),
    shared_by    BIGINT,
    shared_at    BIGINT NOT NULL,
    PRIMARY KEY (version_id, regulator_id)
);
