-- Supervisory review (issue 13, point 4). A regulator of the country
-- accepts a submitted report or returns it, once, with a summary and
-- findings per item; the provider fixes and submits a new report (reports
-- stay immutable). Existing reports have no review.
CREATE TABLE submission_reviews (
    submission_id BIGINT  NOT NULL PRIMARY KEY REFERENCES submissions (id),
    outcome       TEXT    NOT NULL CHECK (outcome IN ('accepted', 'returned')),
    summary       TEXT    NOT NULL DEFAULT '',
    reviewer_org  BIGINT  NOT NULL REFERENCES orgs (id),
    reviewed_by   BIGINT,
    reviewer_name TEXT    NOT NULL,
    reviewed_at   BIGINT  NOT NULL
);

CREATE TABLE submission_findings (
    submission_id BIGINT NOT NULL REFERENCES submission_reviews (submission_id),
    rec_id        TEXT   NOT NULL,
    finding       TEXT   NOT NULL,
    PRIMARY KEY (submission_id, rec_id)
);
