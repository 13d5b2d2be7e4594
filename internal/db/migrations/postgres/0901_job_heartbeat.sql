-- Heartbeats of running jobs (internal/jobs, issue 9 finding 9): while a
-- handler runs, its process records every few seconds that the attempt is
-- alive. A running job whose current attempt has stopped beating belonged to
-- a process that died (kill -9, power loss): every process that runs jobs
-- puts it back in the queue within about a minute, instead of River's own
-- rescuer, which can only go by the job's age and so waits for the job
-- timeout (30 minutes by default) plus a margin. Like job_progress, job_id
-- is River's job id, not a foreign key; the queue deletes orphaned rows.
CREATE TABLE job_heartbeat (
    job_id  BIGINT PRIMARY KEY,
    attempt INTEGER NOT NULL,
    beat_at BIGINT NOT NULL -- Unix microseconds
);
