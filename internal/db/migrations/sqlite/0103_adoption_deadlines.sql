-- Regulator deadlines and phases (issue 13, point 2). The draft has an
-- effective date and phases ("phase 1 within 6 months"); each draft item
-- may name a phase and an explicit compliance deadline (which wins over
-- the phase's). Publishing writes out, per version, the effective date,
-- the phases with their deadline dates, and per item the phase and the
-- deadline that applies, so that a version's deadlines never move.
-- Dates are YYYY-MM-DD or '' (none); phase 0 is no phase.
ALTER TABLE baselines ADD COLUMN effective_date TEXT NOT NULL DEFAULT '';

CREATE TABLE baseline_draft_phases (
    baseline_id BIGINT  NOT NULL REFERENCES baselines (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL CHECK (number BETWEEN 1 AND 9),
    label       TEXT    NOT NULL,
    months      INTEGER NOT NULL CHECK (months BETWEEN 0 AND 120),
    PRIMARY KEY (baseline_id, number)
);

ALTER TABLE baseline_drafts ADD COLUMN phase INTEGER NOT NULL DEFAULT 0;
ALTER TABLE baseline_drafts ADD COLUMN deadline TEXT NOT NULL DEFAULT '';

ALTER TABLE baseline_versions ADD COLUMN effective_date TEXT NOT NULL DEFAULT '';

CREATE TABLE baseline_version_phases (
    version_id BIGINT  NOT NULL REFERENCES baseline_versions (id),
    number     INTEGER NOT NULL,
    label      TEXT    NOT NULL,
    months     INTEGER NOT NULL,
    deadline   TEXT    NOT NULL,
    PRIMARY KEY (version_id, number)
);

ALTER TABLE baseline_version_items ADD COLUMN phase INTEGER NOT NULL DEFAULT 0;
ALTER TABLE baseline_version_items ADD COLUMN deadline TEXT NOT NULL DEFAULT '';

CREATE TRIGGER baseline_version_phases_no_update BEFORE UPDATE ON baseline_version_phases
BEGIN SELECT RAISE(ABORT, 'published baseline versions are immutable'); END;
CREATE TRIGGER baseline_version_phases_no_delete BEFORE DELETE ON baseline_version_phases
BEGIN SELECT RAISE(ABORT, 'published baseline versions are immutable'); END;
