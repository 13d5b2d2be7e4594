package adoption

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

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

// Outcome is a regulator's decision on a submitted report.
type Outcome string

const (
	Accepted Outcome = "accepted"
	Returned Outcome = "returned" // with findings for the provider to fix
)

// Label is the outcome in words.
func (o Outcome) Label() string {
	switch o {
	case Accepted:
		return "Accepted"
	case Returned:
		return "Returned with findings"
	}
	return "Not reviewed yet"
}

// Review is a regulator's decision on a report, made once.
type Review struct {
	Outcome Outcome // "": not reviewed
	Summary string
	By      string
	At      time.Time
}

const (
	maxSummary  = 4000
	maxFinding  = 2000
	maxFindings = 500 // more than the catalogue has items
)

// ReviewInput is a regulator's review as written: findings by item.
type ReviewInput struct {
	Outcome  Outcome
	Summary  string
	Findings map[string]string // rec ID → finding; empty ones are dropped
}

// ReviewSubmission records the regulator's decision on submission subID
// of its country: accepted, or returned with findings for the provider to
// fix in a new report. A report is reviewed once; a returned provider
// submits again and that report gets its own review.
func (s *Store) ReviewSubmission(ctx context.Context, reg Org, subID int64, in ReviewInput) (Submission, error) {
	sub, err := s.RegulatorSubmission(ctx, reg, subID)
	if err != nil {
		return Submission{}, err
	}
	if in.Outcome != Accepted && in.Outcome != Returned {
		return Submission{}, invalid("outcome", "Choose whether to accept the report or return it.")
	}
	if in.Summary, err = checkText("summary", "The summary", in.Summary, maxSummary); err != nil {
		return Submission{}, err
	}
	if len(in.Findings) > maxFindings {
		return Submission{}, invalid("findings", fmt.Sprintf("A review has at most %d findings.", maxFindings))
	}
	inReport := map[string]bool{}
	for _, it := range sub.Items {
		inReport[it.RecID] = true
	}
	findings := map[string]string{}
	for rec, text := range in.Findings {
		if !inReport[rec] {
			return Submission{}, invalid("findings", fmt.Sprintf("%s is not an item of this report.", rec))
		}
		t, err := checkText("finding_"+rec, "The finding on "+rec, text, maxFinding)
		if err != nil {
			return Submission{}, err
		}
		if t != "" {
			findings[rec] = t
		}
	}
	if in.Outcome == Returned && len(findings) == 0 && in.Summary == "" {
		return Submission{}, invalid("summary", "Say what the provider must fix: a finding on at least one item, or a summary.")
	}
	if sub.Review.Outcome != "" {
		return Submission{}, invalid("outcome", fmt.Sprintf("This report was already reviewed (%s by %s); the provider's next report gets its own review.",
			strings.ToLower(sub.Review.Outcome.Label()), sub.Review.By))
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		name := userName(ctx, tx, sql.NullInt64{Int64: actor, Valid: actor != 0})
		_, err := tx.Exec(ctx, `INSERT INTO submission_reviews (submission_id, outcome, summary, reviewer_org, reviewed_by, reviewer_name, reviewed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, sub.ID, string(in.Outcome), in.Summary, reg.ID, nullID(actor), name, now.UnixMicro())
		if db.IsUniqueViolation(err) {
			return invalid("outcome", "This report was reviewed by someone else just now; reload the page.")
		}
		if err != nil {
			return fmt.Errorf("adoption: review: %w", err)
		}
		recs := make([]string, 0, len(findings))
		for rec := range findings {
			recs = append(recs, rec)
		}
		slices.Sort(recs)
		for _, rec := range recs {
			if _, err := tx.Exec(ctx, "INSERT INTO submission_findings (submission_id, rec_id, finding) VALUES (?, ?, ?)", sub.ID, rec, findings[rec]); err != nil {
				return fmt.Errorf("adoption: finding: %w", err)
			}
		}
		return appendAuditConcerning(ctx, tx, reg.ID, []int64{sub.OrgID}, "submission."+map[Outcome]string{Accepted: "accept", Returned: "return"}[in.Outcome],
			"submission", idStr(sub.ID), map[string]any{"provider": sub.OrgID, "findings": len(findings), "items": strings.Join(recs, " ")})
	})
	if err != nil {
		return Submission{}, err
	}
	return s.RegulatorSubmission(ctx, reg, subID)
}

// findings fills the regulator's findings into sub's items.
func (s *Store) findings(ctx context.Context, sub *Submission) error {
	rows, err := s.db.Query(ctx, "SELECT rec_id, finding FROM submission_findings WHERE submission_id = ?", sub.ID)
	if err != nil {
		return fmt.Errorf("adoption: findings: %w", err)
	}
	defer rows.Close()
	byRec := map[string]string{}
	for rows.Next() {
		var rec, f string
		if err := rows.Scan(&rec, &f); err != nil {
			return err
		}
		byRec[rec] = f
	}
	for i := range sub.Items {
		sub.Items[i].Finding = byRec[sub.Items[i].RecID]
	}
	return rows.Err()
}
