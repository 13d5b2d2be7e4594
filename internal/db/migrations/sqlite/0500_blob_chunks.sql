-- Blobs are stored in chunks so that a large upload (an app of hundreds
-- of MB) is written and read a chunk at a time instead of as one value
-- held whole in memory. A blob row is inserted in the same transaction as
-- its last chunk: a blob without all its chunks is never visible.
-- chunk_size is the size of every chunk but the last; blobs stored before
-- this migration become a single chunk (chunk_size = size), and their
-- old data column is emptied (it stays for the NOT NULL of old code paths).

CREATE TABLE blob_chunks (
    sha256 TEXT    NOT NULL,
    idx    INTEGER NOT NULL,
    data   BLOB    NOT NULL,
    PRIMARY KEY (sha256, idx)
);

ALTER TABLE blobs ADD COLUMN chunk_size BIGINT NOT NULL DEFAULT 0;

INSERT INTO blob_chunks (sha256, idx, data) SELECT sha256, 0, data FROM blobs;
UPDATE blobs SET chunk_size = size, data = X'';
