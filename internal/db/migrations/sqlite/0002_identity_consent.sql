-- An account belongs to a person; memberships tie it to organisations, and
-- an organisation acts on its memberships only (security issue: accounts of
-- other organisations could be taken over through invitations, recovery
-- links and reactivation).

-- The organisation whose invitation created the account: the only one whose
-- admins may issue a recovery link for it. NULL for platform administrators
-- enrolled with an operator link, and for accounts whose origin is unknown.
ALTER TABLE users ADD COLUMN enrolled_org_id BIGINT REFERENCES orgs (id) ON DELETE SET NULL;
UPDATE users SET enrolled_org_id = (
    SELECT l.org_id FROM links l
    WHERE l.user_id = users.id AND l.kind = 'invitation' AND l.used_at IS NOT NULL
    ORDER BY l.used_at, l.id LIMIT 1)
WHERE enrolled_at IS NOT NULL;

-- Invitations: one per organisation and address, each with its own link.
-- Accepting one adds exactly one membership: its own organisation's.
CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY,
    org_id      BIGINT  NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email       TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('org_admin', 'analyst', 'viewer')),
    link_id     BIGINT  NOT NULL UNIQUE REFERENCES links (id) ON DELETE CASCADE,
    -- The address had an enrolled account when the invitation was made, so
    -- that account may accept it in the app; otherwise only with the link.
    in_app      BOOLEAN NOT NULL,
    created_by  BIGINT,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'declined', 'revoked')),
    decided_at  BIGINT,
    user_id     BIGINT  REFERENCES users (id) ON DELETE SET NULL -- who accepted
);
CREATE INDEX invitations_email ON invitations (email, state);
CREATE INDEX invitations_org   ON invitations (org_id, state);

-- Pending invitations of the old model (a not yet enrolled user who was a
-- member already) become invitations; their memberships go.
INSERT INTO invitations (org_id, email, role, link_id, in_app, created_by, created_at, expires_at, state)
SELECT l.org_id, u.email, m.role, l.id, FALSE, l.created_by, l.created_at, l.expires_at, 'pending'
FROM links l
JOIN users u ON u.id = l.user_id
JOIN memberships m ON m.user_id = u.id AND m.org_id = l.org_id
WHERE l.kind = 'invitation' AND l.used_at IS NULL AND u.enrolled_at IS NULL AND u.email IS NOT NULL;
UPDATE links SET user_id = NULL
WHERE kind = 'invitation' AND user_id IN (SELECT id FROM users WHERE enrolled_at IS NULL);
DELETE FROM memberships WHERE user_id IN (SELECT id FROM users WHERE enrolled_at IS NULL);

-- Suspended memberships live apart, so that every query over memberships
-- (authorisation, notifications, audiences) leaves them out without having
-- to remember a flag.
CREATE TABLE membership_suspensions (
    org_id       BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT   NOT NULL CHECK (role IN ('org_admin', 'analyst', 'viewer')),
    created_at   BIGINT NOT NULL, -- when the membership began
    suspended_at BIGINT NOT NULL,
    suspended_by BIGINT,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX membership_suspensions_user ON membership_suspensions (user_id);
