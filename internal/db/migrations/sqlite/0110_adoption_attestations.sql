-- Attestation of a report by a named person in a named role (issue 13,
-- point 5). The regulators list the roles that must attest the reports
-- of their country (one per line; '' means the CISO alone). A member of
-- the provider attests one role of one report after a fresh passkey or
-- TOTP verification; the row keeps who, in which role, when the
-- verification happened, and the SHA-256 of the report's canonical
-- content as the person saw it. Attestations are kept as made.
ALTER TABLE baselines ADD COLUMN attest_roles TEXT NOT NULL DEFAULT '';

CREATE TABLE submission_attestations (
    id            INTEGER PRIMARY KEY,
    submission_id BIGINT NOT NULL REFERENCES submissions (id),
    role          TEXT   NOT NULL,
    user_id       BIGINT,
    person_name   TEXT   NOT NULL,
    account       TEXT   NOT NULL, -- the account's e-mail address when it attested
    sha256        TEXT   NOT NULL,
    verified_at   BIGINT NOT NULL, -- the step-up verification the attestation relied on
    attested_at   BIGINT NOT NULL,
    UNIQUE (submission_id, role)
);

CREATE TRIGGER submission_attestations_no_update BEFORE UPDATE ON submission_attestations
BEGIN SELECT RAISE(ABORT, 'attestations are immutable'); END;
CREATE TRIGGER submission_attestations_no_delete BEFORE DELETE ON submission_attestations
BEGIN SELECT RAISE(ABORT, 'attestations are immutable'); END;
