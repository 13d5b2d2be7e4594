-- Per-submission heat-map cells (threat category and layer → implemented
-- and applicable counts), computed once when the snapshot is signed off,
-- so that the sector view reads one row per submission instead of every
-- submitted item. JSON: {"threats": {key: [implemented, applicable]}, "layers": {…}}.
-- Empty for rows written before this column existed; the store then
-- counts the items.
ALTER TABLE submissions ADD COLUMN cells TEXT NOT NULL DEFAULT '';
