-- Imported frameworks (another body's guideline, read from dfslab YAML or
-- an OSCAL catalog) and the mappings between their controls and the
-- catalogue's recommendations.
--
-- Importing a framework key again adds a new version (revision 1, 2, …);
-- older versions stay for the record, and pages show the newest. Mappings
-- belong to the controls of one version: an import brings its own, and
-- administrators edit them afterwards.

CREATE TABLE frameworks (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL,              -- the framework's id in the file
    revision    INTEGER NOT NULL CHECK (revision > 0),
    title       TEXT    NOT NULL,
    version     TEXT    NOT NULL,              -- the publisher's version label
    publisher   TEXT    NOT NULL DEFAULT '',
    format      TEXT    NOT NULL CHECK (format IN ('yaml', 'oscal')),
    filename    TEXT    NOT NULL DEFAULT '',
    sha256      TEXT    NOT NULL,
    imported_by BIGINT,                        -- NULL: imported from the command line
    imported_at BIGINT  NOT NULL,              -- Unix microseconds
    UNIQUE (key, revision)
);

CREATE TABLE framework_controls (
    id           INTEGER PRIMARY KEY,
    framework_id BIGINT  NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    control_key  TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL DEFAULT '',
    grp          TEXT    NOT NULL DEFAULT '',
    UNIQUE (framework_id, control_key)
);
CREATE INDEX framework_controls_order ON framework_controls (framework_id, position);

CREATE TABLE framework_mappings (
    id         INTEGER PRIMARY KEY,
    control_id BIGINT NOT NULL REFERENCES framework_controls (id) ON DELETE CASCADE,
    rec_id     TEXT   NOT NULL,
    relation   TEXT   NOT NULL CHECK (relation IN ('equivalent', 'subset', 'superset', 'related')),
    note       TEXT   NOT NULL DEFAULT '',
    updated_by BIGINT,
    updated_at BIGINT NOT NULL,
    UNIQUE (control_id, rec_id)
);
CREATE INDEX framework_mappings_rec ON framework_mappings (rec_id);
