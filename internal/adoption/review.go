package adoption

import (
	"context"
	"fmt"

	"github.com/dfslab/dfslab/internal/db"
)

// Verify marks item recID of the provider's tracking verified: the
// regulator checked what the provider reported as implemented in
// submission subID. Only a regulator of the submission's country does
// this; the provider cannot (Update refuses it). The item must still be
// implemented as reported: a change since the report is refused, so that
// the regulator never verifies a state it has not seen.
func (s *Store) Verify(ctx context.Context, reg Org, subID int64, recID string) (Submission, error) {
	sub, err := s.RegulatorSubmission(ctx, reg, subID)
	if err != nil {
		return Submission{}, err
	}
	var si *SubmittedItem
	for i := range sub.Items {
		if sub.Items[i].RecID == recID {
			si = &sub.Items[i]
		}
	}
	if si == nil {
		return Submission{}, ErrNotFound
	}
	if si.Status != Implemented {
		return Submission{}, invalid("rec_id", fmt.Sprintf("%s was reported as %s; only an item reported as Implemented can be verified.", recID, si.Status.Label()))
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		states, err := s.itemStates(ctx, tx, sub.OrgID, recID)
		if err != nil {
			return err
		}
		cur, ok := states[recID]
		if !ok || cur.Status != Implemented {
			now := NotStarted
			if ok {
				now = cur.Status
			}
			return invalid("rec_id", fmt.Sprintf("%s has changed since this report: it is now %s. Verify it from the provider's next report.", recID, now.Label()))
		}
		res, err := tx.Exec(ctx, `UPDATE tracking_items SET status = ?, version = version + 1, updated_by = ?, updated_at = ? WHERE id = ? AND version = ?`,
			string(Verified), nullID(actor), now.UnixMicro(), cur.ID, cur.Version)
		if err != nil {
			return fmt.Errorf("adoption: verify: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &StaleError{By: "another user", At: now, Version: cur.Version + 1}
		}
		if err := history(ctx, tx, cur.ID, sub.OrgID, cur.Version+1, now, actor, "update",
			map[string][2]string{"status": {string(Implemented), string(Verified)}}); err != nil {
			return err
		}
		// The regulator acts on the provider's item: the entry is the
		// regulator's and is listed under the provider too.
		return appendAuditConcerning(ctx, tx, reg.ID, []int64{sub.OrgID}, "tracking.verify", "tracking_item", idStr(sub.OrgID)+"/"+recID, map[string]any{
			"rec": recID, "submission": sub.ID, "provider": sub.OrgID, "version": cur.Version + 1})
	})
	if err != nil {
		return Submission{}, err
	}
	return sub, nil
}
