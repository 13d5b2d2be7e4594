-- What an organisation is licensed (or mandated) as: the baseline items
-- that apply to it follow from it. Existing organisations get the
-- default of their type (identity.DefaultLicensee): regulators are
-- "regulator", DFS providers "dfs_provider", MNOs "mno"; CERTs and
-- others are outside the licensing regime ('').
ALTER TABLE orgs ADD COLUMN licensee_type TEXT NOT NULL DEFAULT ''
    CHECK (licensee_type IN ('', 'mno', 'dfs_provider', 'bank', 'payment_switch', 'third_party', 'regulator'));

UPDATE orgs SET licensee_type = CASE type
    WHEN 'telecom_regulator' THEN 'regulator'
    WHEN 'central_bank' THEN 'regulator'
    WHEN 'dfs_provider' THEN 'dfs_provider'
    WHEN 'mno' THEN 'mno'
    ELSE '' END;
