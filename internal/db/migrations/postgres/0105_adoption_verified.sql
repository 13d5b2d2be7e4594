-- Only a regulator marks an item verified (issue 13, point 4). Until now
-- a provider could set "verified" on its own items; that was its own
-- claim, not a regulator's check, so it becomes "implemented" (what the
-- provider asserted), with a history line by "the system" saying so.
-- Submitted reports are immutable and keep the status as submitted: a
-- report made before this migration may say "verified" in the provider's
-- own words.
INSERT INTO tracking_history (item_id, org_id, version, at, user_id, kind, changes)
SELECT id, org_id, version + 1, CAST(EXTRACT(EPOCH FROM now()) * 1000000 AS BIGINT), NULL, 'update',
       '{"status":["verified","implemented"]}'
FROM tracking_items WHERE status = 'verified';

UPDATE tracking_items SET status = 'implemented', version = version + 1 WHERE status = 'verified';
