-- Joint baselines (issue 13, point 6). Each item says which authority
-- issues and enforces it: 'telecom_regulator', 'central_bank' or 'both'.
-- In the draft '' is the catalogue's default (adoption.DefaultAuthority),
-- written out at publication; in a version published before this, ''
-- means the version did not say.
ALTER TABLE baseline_drafts ADD COLUMN authority TEXT NOT NULL DEFAULT '';
ALTER TABLE baseline_version_items ADD COLUMN authority TEXT NOT NULL DEFAULT '';

-- Where the country's baseline is joint, publishing needs the approval of
-- both authorities. An approval is of the draft exactly as it was
-- (draft_sha256); a change to the draft deletes the approvals, and an
-- approval whose hash no longer matches counts for nothing either.
CREATE TABLE baseline_approvals (
    baseline_id   BIGINT NOT NULL REFERENCES baselines (id),
    org_id        BIGINT NOT NULL REFERENCES orgs (id),
    user_id       BIGINT,
    approver_name TEXT   NOT NULL,
    draft_sha256  TEXT   NOT NULL,
    notes         TEXT   NOT NULL DEFAULT '',
    approved_at   BIGINT NOT NULL,
    PRIMARY KEY (baseline_id, org_id)
);

-- The approvals a version was published with, kept with it.
CREATE TABLE baseline_version_approvals (
    version_id    BIGINT NOT NULL REFERENCES baseline_versions (id),
    org_id        BIGINT NOT NULL REFERENCES orgs (id),
    user_id       BIGINT,
    approver_name TEXT   NOT NULL,
    approved_at   BIGINT NOT NULL,
    PRIMARY KEY (version_id, org_id)
);

CREATE TRIGGER baseline_version_approvals_immutable BEFORE UPDATE OR DELETE ON baseline_version_approvals
    FOR EACH ROW EXECUTE FUNCTION adoption_refuse_change('published baseline versions are immutable');
