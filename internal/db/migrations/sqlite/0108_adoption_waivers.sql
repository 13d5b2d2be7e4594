-- Waivers (issue 13, point 4): a regulator exempts a provider from one
-- baseline item until an expiry date, with a reason. While a waiver runs
-- (not revoked, expiry today or later) the item is not overdue; reports
-- record the waiver's expiry of each item they include. Existing reports
-- have none ('').
CREATE TABLE waivers (
    id           INTEGER PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES orgs (id),
    rec_id       TEXT   NOT NULL,
    reason       TEXT   NOT NULL,
    expires      TEXT   NOT NULL, -- YYYY-MM-DD, the last day it applies
    granted_org  BIGINT NOT NULL REFERENCES orgs (id),
    granted_by   BIGINT,
    granter_name TEXT   NOT NULL,
    granted_at   BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL DEFAULT 0,
    revoked_name TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX waivers_org ON waivers (org_id, rec_id);

ALTER TABLE submission_items ADD COLUMN waived_until TEXT NOT NULL DEFAULT '';
