-- Reporting periods (issue 13, point 3). A regulator opens a period for
-- its country ("Q2 2027", due 2027-07-15); from then on every provider of
-- the country appears in the sector view for that period, whether it
-- submitted or not. A submission belongs to the period that was open
-- (the latest opened before it) when it was made, so no column changes
-- on submissions and existing ones keep their place: those made before
-- any period belong to none. Dates are YYYY-MM-DD; times Unix
-- microseconds (0: never).
CREATE TABLE reporting_periods (
    id          INTEGER PRIMARY KEY,
    country     TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    due_date    TEXT    NOT NULL,
    opened_at   BIGINT  NOT NULL,
    opened_by   BIGINT  REFERENCES users (id),
    reminded_at BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (country, label)
);
CREATE INDEX reporting_periods_country ON reporting_periods (country, opened_at);
