-- Parameters of baseline items (issue 13: "a parameter of the item"). A
-- recommendation such as PAY-002 names a number (the hold after a SIM
-- swap) with a recommended default and a sound range; a regulator sets
-- its own value in the draft, and a published version keeps the values
-- it was published with.
--
-- The draft's values: one row per parameter the regulators set; no row
-- means the catalogue's default, so a draft that never set one follows
-- the catalogue, and nothing stored before this changes.
CREATE TABLE baseline_draft_params (
    baseline_id BIGINT NOT NULL REFERENCES baselines (id) ON DELETE CASCADE,
    rec_id      TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    value       BIGINT NOT NULL,
    PRIMARY KEY (baseline_id, rec_id, name)
);

-- A version's parameters as published: JSON with the statement's template
-- and each parameter's label, unit, default, range and value, so that the
-- version lists the values against the catalogue it was published from and
-- a later release's change of a default or range shows as an upstream
-- change. '' for items without parameters and for versions published
-- before this (their statement is the catalogue's at its defaults).
ALTER TABLE baseline_version_items ADD COLUMN params TEXT NOT NULL DEFAULT '';
