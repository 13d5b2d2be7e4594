-- Progress of background jobs (internal/jobs), one row per job, for pages
-- that poll it. The queue's own tables (river_*) come from River's
-- migrations, which internal/jobs applies; job_id is River's job id, not a
-- foreign key, because River deletes finished jobs on its own schedule and
-- the queue deletes the orphaned rows here.
CREATE TABLE job_progress (
    job_id     BIGINT PRIMARY KEY,
    percent    INTEGER NOT NULL DEFAULT 0 CHECK (percent >= 0 AND percent <= 100),
    message    TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);
