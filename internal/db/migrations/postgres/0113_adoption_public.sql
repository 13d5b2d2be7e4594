-- Public summary (issue 13, point 8): a regulator of the country publishes
-- (or withdraws) a page readable without signing in, with the latest
-- baseline and the sector's aggregate progress. No row: not published.
CREATE TABLE public_summaries (
    country     TEXT    NOT NULL PRIMARY KEY,
    published   BOOLEAN NOT NULL,
    changed_by  BIGINT,
    changed_org BIGINT  NOT NULL REFERENCES orgs (id),
    changed_at  BIGINT  NOT NULL
);
