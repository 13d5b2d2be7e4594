-- The audit chain becomes keyed and records every organisation an entry
-- concerns (security issue 9, findings 5 and 6).
--
-- hash_version says how an entry's hash was computed: 1 is the original
-- unkeyed SHA-256 (every entry written before this migration keeps it and
-- is verified as such); 2 is HMAC-SHA-256 over a format that also covers
-- key_id and the organisations in audit_log_orgs. key_id names the key
-- (a fingerprint, never the key); '' means the instance had no secret key
-- configured, and the HMAC key is empty, which proves no more than SHA-256.
-- ADD COLUMN fires no trigger, so the append-only triggers stay as they are.
ALTER TABLE audit_log ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN key_id TEXT NOT NULL DEFAULT '';

-- Organisations an entry concerns besides org_id and actor_org_id (the
-- account's other organisations when it is recovered, the organisation a
-- member joins, ...), so that each sees the entry in its own audit view.
-- Written in the transaction of its entry and covered by its hash.
CREATE TABLE audit_log_orgs (
    seq    BIGINT NOT NULL,   -- audit_log.seq; no foreign key, like the log's own ids
    org_id BIGINT NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_log_orgs_seq ON audit_log_orgs (seq);

CREATE TRIGGER audit_log_orgs_no_update BEFORE UPDATE ON audit_log_orgs
BEGIN
    SELECT RAISE(ABORT, 'audit_log_orgs is append-only');
END;
CREATE TRIGGER audit_log_orgs_no_delete BEFORE DELETE ON audit_log_orgs
BEGIN
    SELECT RAISE(ABORT, 'audit_log_orgs is append-only');
END;
