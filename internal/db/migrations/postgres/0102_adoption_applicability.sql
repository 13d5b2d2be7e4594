-- Applicability by licensee type (issue 13): each baseline item applies
-- to a set of licensee types (orgs.licensee_type, migration 0004), stored
-- as their keys separated by commas in display order.
--
-- In the draft, '' means the catalogue's default for the recommendation
-- (adoption.DefaultAppliesTo), written out when the draft is published.
ALTER TABLE baseline_drafts ADD COLUMN applies_to TEXT NOT NULL DEFAULT '';

-- A version published before this applied every item to every provider
-- and operator: the column default says exactly that for those rows
-- without rewriting them (published versions are immutable), and the
-- store always writes the column for new versions.
ALTER TABLE baseline_version_items ADD COLUMN applies_to TEXT NOT NULL DEFAULT 'mno,dfs_provider';
