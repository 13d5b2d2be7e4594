-- Collaboration on the catalogue (the "living" part): discussion threads
-- and their posts, implementation notes, amendment proposals with the
-- catalogue revisions they produce, and in-app notifications.
--
-- Threads and notes carry the audience chosen by their author and the
-- organisation and country they were written for; every read joins them
-- with the reader's memberships, so visibility is decided in the query.

CREATE TABLE collab_threads (
    id           INTEGER PRIMARY KEY,
    rec_id       TEXT    NOT NULL,
    audience     TEXT    NOT NULL CHECK (audience IN ('org', 'country', 'all')),
    org_id       BIGINT  NOT NULL,
    country      TEXT    NOT NULL CHECK (length(country) = 2),
    author_id    BIGINT  NOT NULL,
    title        TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_post_at BIGINT  NOT NULL
);
CREATE INDEX collab_threads_rec ON collab_threads (rec_id, last_post_at);
CREATE INDEX collab_threads_recent ON collab_threads (last_post_at);

CREATE TABLE collab_posts (
    id            INTEGER PRIMARY KEY,
    thread_id     BIGINT  NOT NULL REFERENCES collab_threads (id) ON DELETE CASCADE,
    author_id     BIGINT  NOT NULL,
    author_org_id BIGINT  NOT NULL,
    body          TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    edited_at     BIGINT,
    deleted_at    BIGINT,  -- tombstone: the body is cleared, the place in the thread stays
    deleted_by    BIGINT,
    moderated     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX collab_posts_thread ON collab_posts (thread_id, id);
CREATE INDEX collab_posts_author ON collab_posts (author_id, thread_id);

CREATE TABLE collab_notes (
    id         INTEGER PRIMARY KEY,
    rec_id     TEXT    NOT NULL,
    audience   TEXT    NOT NULL CHECK (audience IN ('org', 'country', 'all')),
    org_id     BIGINT  NOT NULL,
    country    TEXT    NOT NULL CHECK (length(country) = 2),
    org_type   TEXT    NOT NULL,
    author_id  BIGINT  NOT NULL,
    anonymous  BOOLEAN NOT NULL DEFAULT FALSE,
    body       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    deleted_at BIGINT,
    deleted_by BIGINT,
    moderated  BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX collab_notes_rec ON collab_notes (rec_id, created_at);

CREATE TABLE collab_proposals (
    id              INTEGER PRIMARY KEY,
    rec_id          TEXT    NOT NULL,
    proposer_id     BIGINT  NOT NULL,
    proposer_org_id BIGINT  NOT NULL,
    statement       TEXT    NOT NULL DEFAULT '',  -- '' keeps the current text
    rationale       TEXT    NOT NULL DEFAULT '',
    reason          TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'declined')),
    created_at      BIGINT  NOT NULL,
    decided_by      BIGINT,
    decided_at      BIGINT,
    decision_reason TEXT    NOT NULL DEFAULT '',
    revision        BIGINT
);
CREATE INDEX collab_proposals_status ON collab_proposals (status, created_at);
CREATE INDEX collab_proposals_proposer ON collab_proposals (proposer_id, created_at);

-- Accepted amendments: the overlay applied over the embedded catalogue.
-- Append-only, so a published revision never changes afterwards.
CREATE TABLE catalog_revisions (
    revision    BIGINT  PRIMARY KEY,
    rec_id      TEXT    NOT NULL,
    statement   TEXT    NOT NULL DEFAULT '',
    rationale   TEXT    NOT NULL DEFAULT '',
    proposal_id BIGINT  NOT NULL REFERENCES collab_proposals (id),
    accepted_by BIGINT  NOT NULL,
    accepted_at BIGINT  NOT NULL
);
CREATE TRIGGER catalog_revisions_no_update BEFORE UPDATE ON catalog_revisions
BEGIN SELECT RAISE(ABORT, 'catalogue revisions are immutable'); END;
CREATE TRIGGER catalog_revisions_no_delete BEFORE DELETE ON catalog_revisions
BEGIN SELECT RAISE(ABORT, 'catalogue revisions are immutable'); END;

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    kind       TEXT   NOT NULL,
    text       TEXT   NOT NULL,
    link       TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
