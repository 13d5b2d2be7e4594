-- Content-addressed blobs (evidence files, later uploaded apps), national
-- baselines, implementation tracking and submissions to the regulator.
-- Published baseline versions, tracking history, comments and submissions
-- are append-only: triggers refuse UPDATE and DELETE, so what a regulator
-- was shown cannot change afterwards.

CREATE TABLE blobs (
    sha256     TEXT   PRIMARY KEY,           -- hex SHA-256 of data
    size       BIGINT NOT NULL,
    media_type TEXT   NOT NULL,
    data       BLOB   NOT NULL,
    created_at BIGINT NOT NULL
);

-- One baseline per jurisdiction, co-owned by its regulators.
CREATE TABLE baselines (
    id         INTEGER PRIMARY KEY,
    country    TEXT   NOT NULL UNIQUE CHECK (length(country) = 2),
    created_at BIGINT NOT NULL
);

CREATE TABLE baseline_drafts (
    baseline_id BIGINT NOT NULL REFERENCES baselines (id) ON DELETE CASCADE,
    rec_id      TEXT   NOT NULL,
    decision    TEXT   NOT NULL CHECK (decision IN ('adopted', 'adapted', 'not_adopted', 'not_applicable')),
    local_text  TEXT   NOT NULL DEFAULT '',
    reason      TEXT   NOT NULL DEFAULT '',
    updated_by  BIGINT,
    updated_org BIGINT,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (baseline_id, rec_id)
);

CREATE TABLE baseline_versions (
    id            INTEGER PRIMARY KEY,
    baseline_id   BIGINT NOT NULL REFERENCES baselines (id),
    number        INTEGER NOT NULL,
    notes         TEXT   NOT NULL DEFAULT '',
    catalog_ver   TEXT   NOT NULL DEFAULT '',
    published_by  BIGINT,
    published_org BIGINT,
    published_at  BIGINT NOT NULL,
    UNIQUE (baseline_id, number)
);

CREATE TABLE baseline_version_items (
    version_id BIGINT NOT NULL REFERENCES baseline_versions (id),
    rec_id     TEXT   NOT NULL,
    decision   TEXT   NOT NULL CHECK (decision IN ('adopted', 'adapted', 'not_adopted', 'not_applicable')),
    local_text TEXT   NOT NULL DEFAULT '',
    reason     TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (version_id, rec_id)
);

CREATE TRIGGER baseline_versions_no_update BEFORE UPDATE ON baseline_versions
BEGIN SELECT RAISE(ABORT, 'published baseline versions are immutable'); END;
CREATE TRIGGER baseline_versions_no_delete BEFORE DELETE ON baseline_versions
BEGIN SELECT RAISE(ABORT, 'published baseline versions are immutable'); END;
CREATE TRIGGER baseline_version_items_no_update BEFORE UPDATE ON baseline_version_items
BEGIN SELECT RAISE(ABORT, 'published baseline versions are immutable'); END;
CREATE TRIGGER baseline_version_items_no_delete BEFORE DELETE ON baseline_version_items
BEGIN SELECT RAISE(ABORT, 'published baseline versions are immutable'); END;

-- A provider's working state of one baseline item. version counts
-- writes: an update names the version it read and fails when another
-- write came first (optimistic concurrency, no lost update).
CREATE TABLE tracking_items (
    id            INTEGER PRIMARY KEY,
    org_id        BIGINT  NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    rec_id        TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'not_started'
                  CHECK (status IN ('not_started', 'planned', 'in_progress', 'implemented', 'verified', 'not_applicable')),
    justification TEXT    NOT NULL DEFAULT '',
    owner_user_id BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    target_date   TEXT    NOT NULL DEFAULT '', -- YYYY-MM-DD or ''
    version       INTEGER NOT NULL DEFAULT 0,
    updated_by    BIGINT,
    updated_at    BIGINT  NOT NULL,
    UNIQUE (org_id, rec_id)
);

CREATE TABLE tracking_history (
    id         INTEGER PRIMARY KEY,
    item_id    BIGINT NOT NULL REFERENCES tracking_items (id),
    org_id     BIGINT NOT NULL,
    version    INTEGER NOT NULL,
    at         BIGINT NOT NULL,
    user_id    BIGINT,
    kind       TEXT   NOT NULL, -- update, comment, evidence
    changes    TEXT   NOT NULL DEFAULT '{}' -- JSON: field -> [old, new]
);
CREATE INDEX tracking_history_item ON tracking_history (item_id, id);

CREATE TABLE tracking_comments (
    id      INTEGER PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES tracking_items (id),
    org_id  BIGINT NOT NULL,
    user_id BIGINT,
    at      BIGINT NOT NULL,
    body    TEXT   NOT NULL
);
CREATE INDEX tracking_comments_item ON tracking_comments (item_id, id);

CREATE TABLE tracking_evidence (
    id          INTEGER PRIMARY KEY,
    item_id     BIGINT NOT NULL REFERENCES tracking_items (id),
    org_id      BIGINT NOT NULL,
    blob_sha256 TEXT   NOT NULL REFERENCES blobs (sha256),
    filename    TEXT   NOT NULL,
    user_id     BIGINT,
    at          BIGINT NOT NULL
);
CREATE INDEX tracking_evidence_item ON tracking_evidence (item_id, id);
CREATE INDEX tracking_evidence_org ON tracking_evidence (org_id, id);

CREATE TRIGGER tracking_history_no_update BEFORE UPDATE ON tracking_history
BEGIN SELECT RAISE(ABORT, 'tracking history is append-only'); END;
CREATE TRIGGER tracking_history_no_delete BEFORE DELETE ON tracking_history
BEGIN SELECT RAISE(ABORT, 'tracking history is append-only'); END;
CREATE TRIGGER tracking_comments_no_update BEFORE UPDATE ON tracking_comments
BEGIN SELECT RAISE(ABORT, 'comments are append-only'); END;
CREATE TRIGGER tracking_comments_no_delete BEFORE DELETE ON tracking_comments
BEGIN SELECT RAISE(ABORT, 'comments are append-only'); END;

-- A signed-off snapshot sent to the regulators of country. The counts
-- are computed once at submission so that the sector trend does not
-- re-read every item of every snapshot.
CREATE TABLE submissions (
    id           INTEGER PRIMARY KEY,
    org_id       BIGINT  NOT NULL REFERENCES orgs (id),
    country      TEXT    NOT NULL,
    version_id   BIGINT  NOT NULL REFERENCES baseline_versions (id),
    signed_by    BIGINT  NOT NULL,
    signed_name  TEXT    NOT NULL,
    statement    TEXT    NOT NULL,
    submitted_at BIGINT  NOT NULL,
    applicable   INTEGER NOT NULL,
    implemented  INTEGER NOT NULL,
    overdue      INTEGER NOT NULL
);
CREATE INDEX submissions_country ON submissions (country, org_id, submitted_at);
CREATE INDEX submissions_org ON submissions (org_id, submitted_at);

CREATE TABLE submission_items (
    submission_id BIGINT  NOT NULL REFERENCES submissions (id),
    rec_id        TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    justification TEXT    NOT NULL DEFAULT '',
    owner_name    TEXT    NOT NULL DEFAULT '',
    target_date   TEXT    NOT NULL DEFAULT '',
    overdue       BOOLEAN NOT NULL DEFAULT FALSE,
    evidence      TEXT    NOT NULL DEFAULT '[]', -- JSON list of {sha256, name, size, media_type}
    PRIMARY KEY (submission_id, rec_id)
);

CREATE TRIGGER submissions_no_update BEFORE UPDATE ON submissions
BEGIN SELECT RAISE(ABORT, 'submissions are immutable'); END;
CREATE TRIGGER submissions_no_delete BEFORE DELETE ON submissions
BEGIN SELECT RAISE(ABORT, 'submissions are immutable'); END;
CREATE TRIGGER submission_items_no_update BEFORE UPDATE ON submission_items
BEGIN SELECT RAISE(ABORT, 'submissions are immutable'); END;
CREATE TRIGGER submission_items_no_delete BEFORE DELETE ON submission_items
BEGIN SELECT RAISE(ABORT, 'submissions are immutable'); END;
