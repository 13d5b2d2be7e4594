-- App lab records are keyed by who holds them and by the binary (issue 9,
-- finding 4). Before, an app was (owner, package) and a version was
-- (app, version code, version name): a regulator's lab-mode upload of a
-- provider's package and version code joined the provider's version (and
-- saw its tester notes and evidence, and could overwrite its results), and
-- a provider's new binary under an unchanged version code took over the
-- version the tester's results were recorded on.
--
-- Now an app is (owner, uploader_org, package): uploader_org is the
-- organisation whose records these are, the owner itself or a regulator
-- testing the owner's app in lab mode; and a version is one build, (app,
-- SHA-256 of the file). Existing versions keep the binary their owner
-- uploaded first; every other binary scanned into them (lab uploads,
-- rebuilds under the same version code) becomes a version of its own, in
-- the records of its uploader, and its scans follow it. Tester results
-- stay on the version row they were recorded on: which binary a result
-- recorded before this migration was meant for cannot be told.
--
-- SQLite cannot drop a UNIQUE constraint, so both tables are rebuilt, in
-- this transaction with foreign keys on: a copy is kept, the table dropped
-- and created again under its own name (never renamed, which would
-- rewrite the other tables' references), and its rows put back with their
-- ids. Deferred, the references of the other tables' rows are checked at
-- commit, when every one of them has its row again.

PRAGMA defer_foreign_keys = ON;

CREATE TABLE applab_apps_0300 AS SELECT id, org_id, package, created_at FROM applab_apps;
DROP TABLE applab_apps;
CREATE TABLE applab_apps (
    id           INTEGER PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES orgs (id),  -- whose app it is
    uploader_org BIGINT NOT NULL REFERENCES orgs (id),  -- whose records: the owner, or a regulator in lab mode
    package      TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (org_id, uploader_org, package)
);
INSERT INTO applab_apps (id, org_id, uploader_org, package, created_at)
    SELECT id, org_id, org_id, package, created_at FROM applab_apps_0300;
DROP TABLE applab_apps_0300;

CREATE TABLE applab_versions_0300 AS
    SELECT v.id, v.app_id,
        COALESCE((SELECT s.blob_sha256 FROM applab_scans s WHERE s.version_id = v.id
            ORDER BY CASE WHEN s.uploader_org = s.org_id THEN 0 ELSE 1 END, s.id LIMIT 1), 'none-' || v.id) AS sha256,
        v.version_name, v.version_code, v.created_at
    FROM applab_versions v;
DROP TABLE applab_versions;
CREATE TABLE applab_versions (
    id           INTEGER PRIMARY KEY,
    app_id       BIGINT NOT NULL REFERENCES applab_apps (id),
    sha256       TEXT   NOT NULL,                       -- the build: SHA-256 of the uploaded file
    version_name TEXT   NOT NULL DEFAULT '',
    version_code BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    UNIQUE (app_id, sha256)
);
INSERT INTO applab_versions (id, app_id, sha256, version_name, version_code, created_at)
    SELECT id, app_id, sha256, version_name, version_code, created_at FROM applab_versions_0300;
DROP TABLE applab_versions_0300;
CREATE INDEX applab_versions_code ON applab_versions (app_id, version_code);

-- The records of every (owner, uploader, package) that scanned into
-- another's version, then a version per (records, binary).
INSERT INTO applab_apps (org_id, uploader_org, package, created_at)
    SELECT a.org_id, s.uploader_org, a.package, MIN(s.created_at)
    FROM applab_scans s JOIN applab_versions v ON v.id = s.version_id JOIN applab_apps a ON a.id = v.app_id
    WHERE s.uploader_org <> a.uploader_org
    GROUP BY a.org_id, s.uploader_org, a.package;
INSERT INTO applab_versions (app_id, sha256, version_name, version_code, created_at)
    SELECT ra.id, s.blob_sha256, MIN(v.version_name), MIN(v.version_code), MIN(s.created_at)
    FROM applab_scans s JOIN applab_versions v ON v.id = s.version_id JOIN applab_apps a ON a.id = v.app_id
    JOIN applab_apps ra ON ra.org_id = a.org_id AND ra.uploader_org = s.uploader_org AND ra.package = a.package
    WHERE NOT EXISTS (SELECT 1 FROM applab_versions x WHERE x.app_id = ra.id AND x.sha256 = s.blob_sha256)
    GROUP BY ra.id, s.blob_sha256;
UPDATE applab_scans SET version_id = (
    SELECT x.id FROM applab_versions v JOIN applab_apps a ON a.id = v.app_id
    JOIN applab_apps ra ON ra.org_id = a.org_id AND ra.uploader_org = applab_scans.uploader_org AND ra.package = a.package
    JOIN applab_versions x ON x.app_id = ra.id AND x.sha256 = applab_scans.blob_sha256
    WHERE v.id = applab_scans.version_id)
WHERE version_id IS NOT NULL;

-- Versions and apps left with nothing (every scan moved away).
DELETE FROM applab_versions WHERE
    NOT EXISTS (SELECT 1 FROM applab_scans s WHERE s.version_id = applab_versions.id)
    AND NOT EXISTS (SELECT 1 FROM applab_itu_results r WHERE r.version_id = applab_versions.id)
    AND NOT EXISTS (SELECT 1 FROM applab_shares sh WHERE sh.version_id = applab_versions.id);
DELETE FROM applab_apps WHERE
    NOT EXISTS (SELECT 1 FROM applab_versions v WHERE v.app_id = applab_apps.id)
    AND NOT EXISTS (SELECT 1 FROM applab_triage t WHERE t.app_id = applab_apps.id);
