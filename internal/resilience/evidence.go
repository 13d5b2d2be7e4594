package resilience

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/db"
)

// MaxEvidence bounds one evidence file.
const MaxEvidence = 10 << 20

// EvidencePolicy is the size limit and the accepted types of evidence
// (the platform's evidence types: PDF, images, text, CSV, JSON, ZIP).
func EvidencePolicy() blob.Policy {
	return blob.Policy{MaxSize: MaxEvidence, Allowed: blob.EvidenceTypes()}
}

// Evidence is a file attached to an answer.
type Evidence struct {
	ID         int64
	QuestionID string
	Name       string
	Blob       blob.Blob
	UserID     int64
	At         time.Time
}

// cleanFileName keeps the base name of what the browser sent, printable;
// it is shown and offered as the download name only.
func cleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == '"' || r == '/' {
			return '_'
		}
		return r
	}, name)
	if len(name) > 200 {
		name = name[:200]
		for len(name) > 0 && name[len(name)-1]&0xc0 == 0x80 {
			name = name[:len(name)-1]
		}
	}
	if name == "" || name == "." || name == ".." {
		name = "evidence"
	}
	return name
}

// AddEvidence attaches an upload (spooled and checked by blob.Spool with
// EvidencePolicy) to the answer to questionID of a draft assessment of
// orgID.
func (s *Store) AddEvidence(ctx context.Context, orgID, assessmentID int64, questionID string, u blob.Upload, filename string) (Evidence, error) {
	a, err := s.Assessment(ctx, orgID, assessmentID)
	if err != nil {
		return Evidence{}, err
	}
	if a.IsSubmitted() {
		return Evidence{}, ErrSubmitted
	}
	m, err := s.Model(ctx, a.ModelKey)
	if err != nil {
		return Evidence{}, err
	}
	if q := m.Question(questionID); q == nil || !q.Applies(a.Profile.EntityType) {
		return Evidence{}, fmt.Errorf("%w: unknown question %q", ErrInvalid, questionID)
	}
	e := Evidence{QuestionID: questionID, Name: cleanFileName(filename), UserID: audit.ActorFrom(ctx).UserID, At: s.nowUTC()}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// The status is read again under the write: a sign-off between the
		// check above and here must win.
		var status string
		if err := tx.QueryRow(ctx, "SELECT status FROM resilience_assessments WHERE id = ? AND org_id = ?", assessmentID, orgID).Scan(&status); err != nil {
			return fmt.Errorf("resilience: evidence: %w", err)
		}
		if status != string(StatusDraft) {
			return ErrSubmitted
		}
		b, err := s.blobs.Insert(ctx, tx, u)
		if err != nil {
			return err
		}
		e.Blob = b
		if err := tx.QueryRow(ctx, `INSERT INTO resilience_evidence (assessment_id, question_id, blob_sha256, filename, user_id, at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, assessmentID, questionID, b.SHA256, e.Name, nullID(e.UserID), e.At.UnixMicro()).Scan(&e.ID); err != nil {
			return fmt.Errorf("resilience: evidence: %w", err)
		}
		return appendAudit(ctx, tx, orgID, "resilience.evidence.add", "resilience_assessment", idStr(assessmentID),
			map[string]any{"question": questionID, "sha256": b.SHA256, "size": b.Size, "media_type": b.MediaType})
	})
	if err != nil {
		return Evidence{}, err
	}
	return e, nil
}

// EvidenceList lists the evidence of an assessment by question.
func (s *Store) EvidenceList(ctx context.Context, assessmentID int64) (map[string][]Evidence, error) {
	rows, err := s.db.Query(ctx, `SELECT e.id, e.question_id, e.filename, e.user_id, e.at, b.sha256, b.size, b.media_type
		FROM resilience_evidence e JOIN blobs b ON b.sha256 = e.blob_sha256 WHERE e.assessment_id = ? ORDER BY e.id`, assessmentID)
	if err != nil {
		return nil, fmt.Errorf("resilience: evidence: %w", err)
	}
	defer rows.Close()
	out := map[string][]Evidence{}
	for rows.Next() {
		var e Evidence
		var by sql.NullInt64
		var at int64
		if err := rows.Scan(&e.ID, &e.QuestionID, &e.Name, &by, &at, &e.Blob.SHA256, &e.Blob.Size, &e.Blob.MediaType); err != nil {
			return nil, fmt.Errorf("resilience: evidence: %w", err)
		}
		e.UserID, e.At = by.Int64, time.UnixMicro(at).UTC()
		out[e.QuestionID] = append(out[e.QuestionID], e)
	}
	return out, rows.Err()
}

// EvidenceFile opens one evidence file of an assessment of orgID; another
// organisation's is ErrNotFound. The caller closes the reader.
func (s *Store) EvidenceFile(ctx context.Context, orgID, assessmentID, id int64) (Evidence, *blob.Reader, error) {
	var e Evidence
	var sum string
	err := s.db.QueryRow(ctx, `SELECT e.id, e.question_id, e.filename, e.blob_sha256 FROM resilience_evidence e
		JOIN resilience_assessments a ON a.id = e.assessment_id WHERE e.id = ? AND e.assessment_id = ? AND a.org_id = ?`,
		id, assessmentID, orgID).Scan(&e.ID, &e.QuestionID, &e.Name, &sum)
	if errors.Is(err, sql.ErrNoRows) {
		return Evidence{}, nil, fmt.Errorf("evidence %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Evidence{}, nil, err
	}
	r, err := s.blobs.Open(ctx, sum)
	if err != nil {
		return Evidence{}, nil, err
	}
	e.Blob = r.Blob()
	return e, r, nil
}
