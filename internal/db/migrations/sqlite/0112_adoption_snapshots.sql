-- Frozen versions (issue 13, point 7). A version keeps the title and the
-- statement of every item as they read when it was published, whatever
-- later catalogue releases or accepted amendments change. Versions
-- published before this have '' (their pages say so and show the
-- catalogue's current text).
ALTER TABLE baseline_version_items ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE baseline_version_items ADD COLUMN statement TEXT NOT NULL DEFAULT '';

-- The regulators' choice, per item, on an upstream change since the
-- latest version: 'take' the catalogue's new text (or, for an item the
-- catalogue withdrew, drop it), or 'leave' it (keep the published text,
-- or the item). upstream_sha256 is the upstream text the choice was made
-- on; when upstream changes again, the choice lapses and the change is
-- shown again.
CREATE TABLE baseline_draft_upstream (
    baseline_id     BIGINT NOT NULL REFERENCES baselines (id) ON DELETE CASCADE,
    rec_id          TEXT   NOT NULL,
    choice          TEXT   NOT NULL CHECK (choice IN ('take', 'leave')),
    upstream_sha256 TEXT   NOT NULL,
    decided_by      BIGINT,
    decided_org     BIGINT,
    decided_at      BIGINT NOT NULL,
    PRIMARY KEY (baseline_id, rec_id)
);
