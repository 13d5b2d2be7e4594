-- Catalogue release 2026.2 (issue 13) merged duplicate recommendations:
-- each withdrawn ID (never reused) points to the live item that took it
-- over. This carries a provider's and a regulator's working state over to
-- the surviving item so that nothing entered is lost and nothing counts
-- twice. The rules:
--
-- * Published baseline versions, submitted reports and their review
--   findings are records of what was published or attested: they keep the
--   IDs they were made with. The adoption store reads a withdrawn ID in a
--   published version as its survivor (and drops it where the version
--   holds the survivor too), so providers track it under the survivor.
-- * Draft baselines: a withdrawn item's row is renamed to its survivor; when
--   the draft already decides on the survivor, that decision stands and
--   the withdrawn row goes (two withdrawn items into one survivor: the first
--   by ID is renamed, the other goes).
-- * Tracking: when an organisation tracked only the withdrawn item, the
--   item is renamed to the survivor, with its history, comments and
--   evidence, and a history line by the system records the rename. When it
--   tracked both, the survivor's item takes the less advanced status of
--   the two (not started < planned < in progress < implemented <
--   verified), because the merged item asks for both parts; "not
--   applicable" yields to the other status, and stays only when both were
--   not applicable, with both justifications. The later target date wins,
--   an empty justification or owner is filled from the withdrawn item, the
--   withdrawn item's history, comments (marked with its ID) and evidence
--   are copied onto the survivor's item, and a history line records the
--   merge. The withdrawn item's own row and history stay as they were.
-- * Waivers on a withdrawn item now name the survivor.
CREATE TABLE catalog_withdrawals (
    rec_id      TEXT PRIMARY KEY,
    replaced_by TEXT NOT NULL,
    release     TEXT NOT NULL
);
INSERT INTO catalog_withdrawals (rec_id, replaced_by, release) VALUES
    ('APP-049', 'APP-012', '2026.2'), ('APP-050', 'APP-013', '2026.2'), ('APP-051', 'APP-041', '2026.2'),
    ('APP-055', 'APP-043', '2026.2'), ('USR-011', 'PAY-005', '2026.2'), ('TEL-024', 'TEL-005', '2026.2'),
    ('PAY-001', 'TEL-005', '2026.2'), ('PAY-004', 'TEL-015', '2026.2'), ('USR-012', 'PAY-007', '2026.2');

-- Drafts.
DELETE FROM baseline_drafts WHERE EXISTS (
    SELECT 1 FROM catalog_withdrawals w JOIN baseline_drafts s ON s.rec_id = w.replaced_by
    WHERE w.rec_id = baseline_drafts.rec_id AND s.baseline_id = baseline_drafts.baseline_id);
DELETE FROM baseline_drafts WHERE EXISTS (
    SELECT 1 FROM catalog_withdrawals w JOIN catalog_withdrawals w2 ON w2.replaced_by = w.replaced_by AND w2.rec_id < w.rec_id
    JOIN baseline_drafts o ON o.rec_id = w2.rec_id
    WHERE w.rec_id = baseline_drafts.rec_id AND o.baseline_id = baseline_drafts.baseline_id);
UPDATE baseline_drafts SET rec_id = (SELECT replaced_by FROM catalog_withdrawals w WHERE w.rec_id = baseline_drafts.rec_id)
WHERE rec_id IN (SELECT rec_id FROM catalog_withdrawals);

-- Tracking, case 1: only a withdrawn item is tracked (the first by ID
-- when two withdrawn items share a survivor): rename it.
CREATE TABLE catalog_rename_0130 (item_id BIGINT PRIMARY KEY, old_rec TEXT NOT NULL, new_rec TEXT NOT NULL);
INSERT INTO catalog_rename_0130 (item_id, old_rec, new_rec)
SELECT t.id, t.rec_id, w.replaced_by FROM tracking_items t JOIN catalog_withdrawals w ON w.rec_id = t.rec_id
WHERE NOT EXISTS (SELECT 1 FROM tracking_items s WHERE s.org_id = t.org_id AND s.rec_id = w.replaced_by)
  AND NOT EXISTS (SELECT 1 FROM catalog_withdrawals w2 JOIN tracking_items o ON o.rec_id = w2.rec_id
                  WHERE w2.replaced_by = w.replaced_by AND w2.rec_id < w.rec_id AND o.org_id = t.org_id);
INSERT INTO tracking_history (item_id, org_id, version, at, user_id, kind, changes)
SELECT t.id, t.org_id, t.version + 1, CAST(strftime('%s', 'now') AS BIGINT) * 1000000, NULL, 'update', '{"recommendation":["' || r.old_rec || '","' || r.new_rec || '"]}'
FROM tracking_items t JOIN catalog_rename_0130 r ON r.item_id = t.id;
UPDATE tracking_items SET rec_id = (SELECT new_rec FROM catalog_rename_0130 r WHERE r.item_id = tracking_items.id), version = version + 1
WHERE id IN (SELECT item_id FROM catalog_rename_0130);
DROP TABLE catalog_rename_0130;

-- Tracking, case 2: both are tracked. pass numbers the withdrawn items of
-- one survivor, so that each merge starts from the result of the one before.
CREATE TABLE catalog_merge_0130 (x_id BIGINT PRIMARY KEY, y_id BIGINT NOT NULL, pass INTEGER NOT NULL);
INSERT INTO catalog_merge_0130 (x_id, y_id, pass)
SELECT x.id, y.id, (SELECT COUNT(*) FROM catalog_withdrawals w2 JOIN tracking_items o ON o.rec_id = w2.rec_id
                    WHERE w2.replaced_by = w.replaced_by AND w2.rec_id <= w.rec_id AND o.org_id = x.org_id)
FROM tracking_items x JOIN catalog_withdrawals w ON w.rec_id = x.rec_id
JOIN tracking_items y ON y.org_id = x.org_id AND y.rec_id = w.replaced_by;
INSERT INTO tracking_history (item_id, org_id, version, at, user_id, kind, changes)
SELECT m.y_id, h.org_id, h.version, h.at, h.user_id, h.kind, h.changes
FROM catalog_merge_0130 m JOIN tracking_history h ON h.item_id = m.x_id WHERE m.pass = 1 ORDER BY h.id;
INSERT INTO tracking_comments (item_id, org_id, user_id, at, body)
SELECT m.y_id, c.org_id, c.user_id, c.at, '[' || x.rec_id || '] ' || c.body
FROM catalog_merge_0130 m JOIN tracking_items x ON x.id = m.x_id JOIN tracking_comments c ON c.item_id = m.x_id WHERE m.pass = 1 ORDER BY c.id;
INSERT INTO tracking_evidence (item_id, org_id, blob_sha256, filename, user_id, at)
SELECT m.y_id, e.org_id, e.blob_sha256, e.filename, e.user_id, e.at
FROM catalog_merge_0130 m JOIN tracking_evidence e ON e.item_id = m.x_id WHERE m.pass = 1 ORDER BY e.id;
INSERT INTO tracking_history (item_id, org_id, version, at, user_id, kind, changes)
SELECT y.id, y.org_id, y.version + 1, CAST(strftime('%s', 'now') AS BIGINT) * 1000000, NULL, 'update',
       '{"merged_from":["' || x.rec_id || '","' || x.status || '"],"status":["' || y.status || '","' || (CASE WHEN CASE x.status WHEN 'not_started' THEN 0 WHEN 'planned' THEN 1 WHEN 'in_progress' THEN 2 WHEN 'implemented' THEN 3 WHEN 'verified' THEN 4 ELSE 9 END <= CASE y.status WHEN 'not_started' THEN 0 WHEN 'planned' THEN 1 WHEN 'in_progress' THEN 2 WHEN 'implemented' THEN 3 WHEN 'verified' THEN 4 ELSE 9 END THEN x.status ELSE y.status END) || '"]}'
FROM catalog_merge_0130 m JOIN tracking_items x ON x.id = m.x_id JOIN tracking_items y ON y.id = m.y_id WHERE m.pass = 1;
UPDATE tracking_items SET
    status = (SELECT (CASE WHEN CASE x.status WHEN 'not_started' THEN 0 WHEN 'planned' THEN 1 WHEN 'in_progress' THEN 2 WHEN 'implemented' THEN 3 WHEN 'verified' THEN 4 ELSE 9 END <= CASE y.status WHEN 'not_started' THEN 0 WHEN 'planned' THEN 1 WHEN 'in_progress' THEN 2 WHEN 'implemented' THEN 3 WHEN 'verified' THEN 4 ELSE 9 END THEN x.status ELSE y.status END) FROM catalog_merge_0130 m JOIN tracking_items x ON x.id = m.x_id JOIN tracking_items y ON y.id = m.y_id
              WHERE m.y_id = tracking_items.id AND m.pass = 1),
    justification = (SELECT CASE
                       WHEN x.justification = '' OR x.justification = y.justification THEN y.justification
                       WHEN y.justification = '' THEN x.justification
                       ELSE y.justification || ' / ' || x.rec_id || ': ' || x.justification END
                     FROM catalog_merge_0130 m JOIN tracking_items x ON x.id = m.x_id JOIN tracking_items y ON y.id = m.y_id
                     WHERE m.y_id = tracking_items.id AND m.pass = 1),
    target_date = (SELECT CASE WHEN x.target_date > y.target_date THEN x.target_date ELSE y.target_date END
                   FROM catalog_merge_0130 m JOIN tracking_items x ON x.id = m.x_id JOIN tracking_items y ON y.id = m.y_id
                   WHERE m.y_id = tracking_items.id AND m.pass = 1),
    owner_user_id = COALESCE(owner_user_id, (SELECT x.owner_user_id FROM catalog_merge_0130 m JOIN tracking_items x ON x.id = m.x_id
                                             WHERE m.y_id = tracking_items.id AND m.pass = 1)),
    version = version + 1, updated_by = NULL, updated_at = CAST(strftime('%s', 'now') AS BIGINT) * 1000000
WHERE id IN (SELECT y_id FROM catalog_merge_0130 WHERE pass = 1);
INSERT INTO tracking_history (item_id, org_id, version, at, user_id, kind, changes)
SELECT m.y_id, h.org_id, h.version, h.at, h.user_id, h.kind, h.changes
FROM catalog_merge_0130 m JOIN tracking_history h ON h.item_id = m.x_id WHERE m.pass = 2 ORDER BY h.id;
INSERT INTO tracking_comments (item_id, org_id, user_id, at, body)
SELECT m.y_id, c.org_id, c.user_id, c.at, '[' || x.rec_id || '] ' || c.body
FROM catalog_merge_0130 m JOIN tracking_items x ON x.id = m.x_id JOIN tracking_comments c ON c.item_id = m.x_id WHERE m.pass = 2 ORDER BY c.id;
INSERT INTO tracking_evidence (item_id, org_id, blob_sha256, filename, user_id, at)
SELECT m.y_id, e.org_id, e.blob_sha256, e.filename, e.user_id, e.at
FROM catalog_merge_0130 m JOIN tracking_evidence e ON e.item_id = m.x_id WHERE m.pass = 2 ORDER BY e.id;
INSERT INTO tracking_history (item_id, org_id, version, at, user_id, kind, changes)
SELECT y.id, y.org_id, y.version + 1, CAST(strftime('%s', 'now') AS BIGINT) * 1000000, NULL, 'update',
       '{"merged_from":["' || x.rec_id || '","' || x.status || '"],"status":["' || y.status || '","' || (CASE WHEN CASE x.status WHEN 'not_started' THEN 0 WHEN 'planned' THEN 1 WHEN 'in_progress' THEN 2 WHEN 'implemented' THEN 3 WHEN 'verified' THEN 4 ELSE 9 END <= CASE y.status WHEN 'not_started' THEN 0 WHEN 'planned' THEN 1 WHEN 'in_progress' THEN 2 WHEN 'implemented' THEN 3 WHEN 'verified' THEN 4 ELSE 9 END THEN x.status ELSE y.status END) || '"]}'
FROM catalog_merge_0130 m JOIN tracking_items x ON x.id = m.x_id JOIN tracking_items y ON y.id = m.y_id WHERE m.pass = 2;
UPDATE tracking_items SET
    status = (SELECT (CASE WHEN CASE x.status WHEN 'not_started' THEN 0 WHEN 'planned' THEN 1 WHEN 'in_progress' THEN 2 WHEN 'implemented' THEN 3 WHEN 'verified' THEN 4 ELSE 9 END <= CASE y.status WHEN 'not_started' THEN 0 WHEN 'planned' THEN 1 WHEN 'in_progress' THEN 2 WHEN 'implemented' THEN 3 WHEN 'verified' THEN 4 ELSE 9 END THEN x.status ELSE y.status END) FROM catalog_merge_0130 m JOIN tracking_items x ON x.id = m.x_id JOIN tracking_items y ON y.id = m.y_id
              WHERE m.y_id = tracking_items.id AND m.pass = 2),
    justification = (SELECT CASE
                       WHEN x.justification = '' OR x.justification = y.justification THEN y.justification
                       WHEN y.justification = '' THEN x.justification
                       ELSE y.justification || ' / ' || x.rec_id || ': ' || x.justification END
                     FROM catalog_merge_0130 m JOIN tracking_items x ON x.id = m.x_id JOIN tracking_items y ON y.id = m.y_id
                     WHERE m.y_id = tracking_items.id AND m.pass = 2),
    target_date = (SELECT CASE WHEN x.target_date > y.target_date THEN x.target_date ELSE y.target_date END
                   FROM catalog_merge_0130 m JOIN tracking_items x ON x.id = m.x_id JOIN tracking_items y ON y.id = m.y_id
                   WHERE m.y_id = tracking_items.id AND m.pass = 2),
    owner_user_id = COALESCE(owner_user_id, (SELECT x.owner_user_id FROM catalog_merge_0130 m JOIN tracking_items x ON x.id = m.x_id
                                             WHERE m.y_id = tracking_items.id AND m.pass = 2)),
    version = version + 1, updated_by = NULL, updated_at = CAST(strftime('%s', 'now') AS BIGINT) * 1000000
WHERE id IN (SELECT y_id FROM catalog_merge_0130 WHERE pass = 2);
DROP TABLE catalog_merge_0130;

-- Waivers follow the item they exempt from.
UPDATE waivers SET rec_id = (SELECT replaced_by FROM catalog_withdrawals w WHERE w.rec_id = waivers.rec_id)
WHERE rec_id IN (SELECT rec_id FROM catalog_withdrawals);
