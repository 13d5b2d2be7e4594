-- What each regulator of a country agrees to with the others (issue 13,
-- points 4 and 6). The country's arrangement follows from the settings
-- of its regulators, so that no regulator decides for another:
--   share_notes: the regulator shares its enforcement notes with the
--     country's other regulators that share theirs (MOU-style, both ways;
--     either side ends it by switching its own setting off);
--   require_joint: the regulator requires that a baseline version of the
--     country be approved by both the telecom regulator and the central
--     bank before it is published; it holds until the regulator that set
--     it lifts it.
-- No row: neither.
CREATE TABLE regulator_settings (
    org_id        BIGINT  NOT NULL PRIMARY KEY REFERENCES orgs (id),
    share_notes   BOOLEAN NOT NULL DEFAULT FALSE,
    require_joint BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by    BIGINT,
    updated_at    BIGINT  NOT NULL
);
