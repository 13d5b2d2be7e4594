-- Identity, tenancy and the audit log. Times are Unix microseconds (UTC) in
-- BIGINT columns on both dialects, so comparisons and the audit hash are the
-- same everywhere.

CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at            BIGINT  NOT NULL,
    actor_user_id BIGINT,          -- no foreign key: the log outlives what it names
    actor_org_id  BIGINT,
    org_id        BIGINT,          -- organisation the object belongs to (for per-org views)
    action        TEXT    NOT NULL,
    object_type   TEXT    NOT NULL DEFAULT '',
    object_id     TEXT    NOT NULL DEFAULT '',
    details       TEXT    NOT NULL DEFAULT '{}',
    ip            TEXT    NOT NULL DEFAULT '',
    request_id    TEXT    NOT NULL DEFAULT '',
    prev_hash     TEXT    NOT NULL,
    hash          TEXT    NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_actor  ON audit_log (actor_user_id, seq);
CREATE INDEX audit_log_org    ON audit_log (org_id, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE orgs (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    name_key     TEXT    NOT NULL UNIQUE, -- lower-cased name: one "MACRA" per instance
    type         TEXT    NOT NULL CHECK (type IN ('telecom_regulator', 'central_bank', 'dfs_provider', 'mno', 'cert', 'other')),
    country      TEXT    NOT NULL CHECK (length(country) = 2),
    require_totp BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT  NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    email          TEXT UNIQUE,            -- lower-cased; NULL for a first admin who gave none
    display_name   TEXT    NOT NULL DEFAULT '',
    webauthn_id    BLOB    NOT NULL UNIQUE, -- random user handle: no personal data in authenticators
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    platform_admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT  NOT NULL,
    enrolled_at    BIGINT                  -- NULL until the first passkey is registered
);

CREATE TABLE memberships (
    org_id     BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT   NOT NULL CHECK (role IN ('org_admin', 'analyst', 'viewer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE links (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB   NOT NULL UNIQUE,
    kind       TEXT   NOT NULL CHECK (kind IN ('enrol_admin', 'invitation', 'recovery')),
    org_id     BIGINT REFERENCES orgs (id) ON DELETE CASCADE,
    user_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE TABLE passkeys (
    id               INTEGER PRIMARY KEY,
    user_id          BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id    BLOB    NOT NULL UNIQUE,
    public_key       BLOB    NOT NULL,
    attestation_type TEXT    NOT NULL DEFAULT '',
    aaguid           BLOB,
    sign_count       BIGINT  NOT NULL DEFAULT 0,
    transports       TEXT    NOT NULL DEFAULT '',
    attachment       TEXT    NOT NULL DEFAULT '',
    user_verified    BOOLEAN NOT NULL DEFAULT FALSE,
    backup_eligible  BOOLEAN NOT NULL DEFAULT FALSE,
    backup_state     BOOLEAN NOT NULL DEFAULT FALSE,
    name             TEXT    NOT NULL DEFAULT '',
    created_at       BIGINT  NOT NULL,
    last_used_at     BIGINT,
    record           BLOB  -- the WebAuthn library's full credential record (JSON), so no field is lost
);
CREATE INDEX passkeys_user ON passkeys (user_id);

CREATE TABLE totp (
    user_id    BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_enc BLOB    NOT NULL, -- AES-256-GCM, never stored or logged in clear
    enabled    BOOLEAN NOT NULL DEFAULT FALSE,
    last_step  BIGINT  NOT NULL DEFAULT 0, -- highest accepted RFC 6238 time step: no code is accepted twice
    created_at BIGINT  NOT NULL,
    enabled_at BIGINT
);

CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  BLOB   NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    UNIQUE (user_id, code_hash)
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   BLOB   NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    verified_at  BIGINT NOT NULL,
    ip           TEXT   NOT NULL DEFAULT '',
    user_agent   TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT   NOT NULL DEFAULT '',
    prefix       TEXT   NOT NULL,
    token_hash   BLOB   NOT NULL UNIQUE,
    scope        TEXT   NOT NULL CHECK (scope IN ('read', 'write')),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE UNIQUE INDEX api_tokens_prefix ON api_tokens (prefix);

CREATE TABLE instance_keys (
    name       TEXT   PRIMARY KEY,
    key        BLOB   NOT NULL,
    created_at BIGINT NOT NULL
);
