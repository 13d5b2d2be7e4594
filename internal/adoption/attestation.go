package adoption

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/web"
)

// DefaultAttestRole is the role that attests reports where the
// regulators require none other.
const DefaultAttestRole = "CISO"

// Limits of attestation roles and names.
const (
	maxAttestRoles   = 5
	maxAttestRoleLen = 60
	maxPersonName    = 200
)

// ErrStepUp: the attestation needs a passkey or TOTP verification within
// the step-up window, and the session has none.
var ErrStepUp = errors.New("adoption: attestation needs a fresh verification")

// Attestation is a named person's statement, in a named role, that a
// report is accurate, made after a fresh verification of their account.
type Attestation struct {
	ID         int64
	Role       string
	Name       string    // as the person gave it
	Account    string    // the account's e-mail address when it attested
	SHA256     string    // of the report's canonical content, as shown to them
	VerifiedAt time.Time // the passkey or TOTP verification relied on
	At         time.Time
}

// AttestRoles returns the roles that must attest the reports of country,
// in the regulators' order (DefaultAttestRole when they set none).
func (s *Store) AttestRoles(ctx context.Context, country string) ([]string, error) {
	return attestRoles(ctx, s.db, country)
}

func attestRoles(ctx context.Context, q db.Querier, country string) ([]string, error) {
	var raw string
	err := q.QueryRow(ctx, "SELECT attest_roles FROM baselines WHERE country = ?", country).Scan(&raw)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("adoption: attestation roles: %w", err)
	}
	if raw == "" {
		return []string{DefaultAttestRole}, nil
	}
	return strings.Split(raw, "\n"), nil
}

// parseRoles reads the roles as typed, one a line.
func parseRoles(text string) ([]string, error) {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			continue
		}
		if n := utf8.RuneCountInString(l); n > maxAttestRoleLen {
			return nil, invalid("roles", fmt.Sprintf("The role %q is %d characters long; the limit is %d. Nothing was saved.", l, n, maxAttestRoleLen))
		}
		if slices.ContainsFunc(out, func(r string) bool { return strings.EqualFold(r, l) }) {
			return nil, invalid("roles", fmt.Sprintf("The role %q is listed twice. Nothing was saved.", l))
		}
		out = append(out, l)
	}
	switch {
	case len(out) == 0:
		return nil, invalid("roles", "Name at least one role that attests reports (for example CISO). Nothing was saved.")
	case len(out) > maxAttestRoles:
		return nil, invalid("roles", fmt.Sprintf("%d roles listed; at most %d can be required. Nothing was saved.", len(out), maxAttestRoles))
	}
	return out, nil
}

// SetAttestRoles sets the roles, one a line, that must attest the
// reports of the regulator's country. Reports already attested keep
// their attestations.
func (s *Store) SetAttestRoles(ctx context.Context, reg Org, text string) ([]string, error) {
	if err := s.requireRegulator(reg); err != nil {
		return nil, err
	}
	roles, err := parseRoles(text)
	if err != nil {
		return nil, err
	}
	now := s.nowUTC()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		bid, err := baselineID(ctx, tx, reg.Country, true, now)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE baselines SET attest_roles = ? WHERE id = ?", strings.Join(roles, "\n"), bid); err != nil {
			return fmt.Errorf("adoption: set attestation roles: %w", err)
		}
		a, err := arrangement(ctx, tx, reg.Country)
		if err != nil {
			return err
		}
		var others []int64
		for _, r := range a.Regulators {
			if r.Org.ID != reg.ID {
				others = append(others, r.Org.ID)
			}
		}
		return appendAuditConcerning(ctx, tx, reg.ID, others, "baseline.attest_roles.set", "baseline", reg.Country,
			map[string]any{"country": reg.Country, "roles": strings.Join(roles, ", ")})
	})
	return roles, err
}

// canonicalItem and canonicalSubmission are the canonical content of a
// report: the fields that never change after submission, in a fixed
// order, items sorted by ID (not catalogue order, which a release may
// change). Attestations are of these bytes.
type canonicalItem struct {
	RecID         string        `json:"rec"`
	Status        Status        `json:"status"`
	Justification string        `json:"justification"`
	Owner         string        `json:"owner"`
	TargetDate    string        `json:"target_date"`
	Overdue       bool          `json:"overdue"`
	WaivedUntil   string        `json:"waived_until"`
	Evidence      []EvidenceRef `json:"evidence"`
}

type canonicalSubmission struct {
	Format      string          `json:"format"`
	ID          int64           `json:"id"`
	OrgID       int64           `json:"organisation_id"`
	Country     string          `json:"country"`
	Baseline    string          `json:"baseline"`
	SignedBy    string          `json:"signed_by"`
	Statement   string          `json:"statement"`
	SubmittedAt string          `json:"submitted_at"`
	Applicable  int             `json:"applicable"`
	Implemented int             `json:"implemented"`
	Overdue     int             `json:"overdue"`
	Items       []canonicalItem `json:"items"`
}

// CanonicalJSON is the canonical content of sub (with its items): what an
// attestation's SHA-256 is computed over, and what a regulator downloads
// to check it with any SHA-256 tool.
func CanonicalJSON(sub Submission) ([]byte, error) {
	c := canonicalSubmission{Format: "dfslab-submission/1", ID: sub.ID, OrgID: sub.OrgID, Country: sub.Country, Baseline: sub.Baseline,
		SignedBy: sub.SignedBy, Statement: sub.Statement, SubmittedAt: sub.SubmittedAt.UTC().Format(time.RFC3339Nano),
		Applicable: sub.Applicable, Implemented: sub.Implemented, Overdue: sub.Overdue, Items: []canonicalItem{}}
	for _, it := range sub.Items {
		c.Items = append(c.Items, canonicalItem{RecID: it.RecID, Status: it.Status, Justification: it.Justification, Owner: it.Owner,
			TargetDate: it.TargetDate, Overdue: it.Overdue, WaivedUntil: it.WaivedUntil, Evidence: nonNil(it.Evidence)})
	}
	slices.SortFunc(c.Items, func(a, b canonicalItem) int { return strings.Compare(a.RecID, b.RecID) })
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("adoption: canonical report: %w", err)
	}
	return append(b, '\n'), nil
}

// SubmissionHash is the hex SHA-256 of CanonicalJSON(sub).
func SubmissionHash(sub Submission) (string, error) {
	b, err := CanonicalJSON(sub)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

func attestations(ctx context.Context, q db.Querier, subID int64) ([]Attestation, error) {
	rows, err := q.Query(ctx, `SELECT id, role, person_name, account, sha256, verified_at, attested_at FROM submission_attestations
		WHERE submission_id = ? ORDER BY attested_at, id`, subID)
	if err != nil {
		return nil, fmt.Errorf("adoption: attestations: %w", err)
	}
	defer rows.Close()
	var out []Attestation
	for rows.Next() {
		var a Attestation
		var v, at int64
		if err := rows.Scan(&a.ID, &a.Role, &a.Name, &a.Account, &a.SHA256, &v, &at); err != nil {
			return nil, err
		}
		a.VerifiedAt, a.At = time.UnixMicro(v).UTC(), time.UnixMicro(at).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// AttestInput is an attestation as the person made it.
type AttestInput struct {
	Role   string
	Name   string
	SHA256 string // the hash the person was shown
	// VerifiedAt is the session's last passkey or TOTP verification,
	// which must be within web.StepUpWindow.
	VerifiedAt time.Time
}

// Attest records that the signed-in person attests the provider's report
// subID in role in.Role. The role must be one the regulators require, not
// yet attested on the report; the hash must be the report's.
func (s *Store) Attest(ctx context.Context, p Org, subID int64, in AttestInput) (Attestation, error) {
	sub, err := s.Submission(ctx, p, subID)
	if err != nil {
		return Attestation{}, err
	}
	actor := actorID(ctx)
	now := s.nowUTC()
	if actor == 0 {
		return Attestation{}, ErrStepUp
	}
	if in.VerifiedAt.IsZero() || now.Sub(in.VerifiedAt) > web.StepUpWindow || in.VerifiedAt.After(now.Add(time.Minute)) {
		return Attestation{}, ErrStepUp
	}
	name := strings.Join(strings.Fields(in.Name), " ")
	if name == "" {
		return Attestation{}, invalid("name", "Give your full name as it should stand on the attestation.")
	}
	if n := utf8.RuneCountInString(name); n > maxPersonName {
		return Attestation{}, invalid("name", fmt.Sprintf("The name is %d characters long; the limit is %d. Nothing was saved.", n, maxPersonName))
	}
	hash, err := SubmissionHash(sub)
	if err != nil {
		return Attestation{}, err
	}
	if strings.TrimSpace(strings.ToLower(in.SHA256)) != hash {
		return Attestation{}, invalid("sha256", "The report's content does not have the SHA-256 the form was sent with; reload the page, check the report and the hash again, then attest. Nothing was saved.")
	}
	a := Attestation{Role: strings.TrimSpace(in.Role), Name: name, SHA256: hash, VerifiedAt: in.VerifiedAt.UTC(), At: now}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		roles, err := attestRoles(ctx, tx, p.Country)
		if err != nil {
			return err
		}
		if !slices.Contains(roles, a.Role) {
			return invalid("role", "Choose one of the roles the regulators require: "+strings.Join(roles, ", ")+".")
		}
		done, err := attestations(ctx, tx, sub.ID)
		if err != nil {
			return err
		}
		for _, d := range done {
			if d.Role == a.Role {
				return invalid("role", fmt.Sprintf("The %s role was attested by %s on %s; each role attests a report once.", d.Role, d.Name, d.At.Format("2006-01-02")))
			}
		}
		var dn string
		if err := tx.QueryRow(ctx, "SELECT display_name, COALESCE(email, '') FROM users WHERE id = ?", actor).Scan(&dn, &a.Account); err != nil {
			return fmt.Errorf("adoption: attesting account: %w", err)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO submission_attestations (submission_id, role, user_id, person_name, account, sha256, verified_at, attested_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, sub.ID, a.Role, actor, a.Name, a.Account, a.SHA256, a.VerifiedAt.UnixMicro(), now.UnixMicro()).Scan(&a.ID); err != nil {
			return fmt.Errorf("adoption: attest: %w", err)
		}
		arr, err := arrangement(ctx, tx, p.Country)
		if err != nil {
			return err
		}
		var regs []int64
		for _, r := range arr.Regulators {
			regs = append(regs, r.Org.ID)
		}
		return appendAuditConcerning(ctx, tx, p.ID, regs, "submission.attest", "submission", idStr(sub.ID), map[string]any{
			"role": a.Role, "name": a.Name, "sha256": a.SHA256, "verified_at": a.VerifiedAt.Format(time.RFC3339)})
	})
	if err != nil {
		return Attestation{}, err
	}
	return a, nil
}

// AttestationCheck is a report's attestations as a regulator checks them:
// each role required, who attested it, and whether the hash they attested
// is the report's content now.
type AttestationCheck struct {
	SHA256 string // of the report's canonical content, computed now
	Rows   []AttestationRow
}

// AttestationRow is one required (or formerly required) role.
type AttestationRow struct {
	Role        string
	Attestation *Attestation // nil: not attested
	Matches     bool         // the attested hash is the report's
}

// Complete reports whether every required role attested a matching hash.
func (c AttestationCheck) Complete() bool {
	for _, r := range c.Rows {
		if r.Attestation == nil || !r.Matches {
			return false
		}
	}
	return len(c.Rows) > 0
}

// CheckAttestations recomputes the hash of sub and sets it against each
// attestation, for the roles now required and any attested before.
func (s *Store) CheckAttestations(ctx context.Context, sub Submission) (AttestationCheck, error) {
	hash, err := SubmissionHash(sub)
	if err != nil {
		return AttestationCheck{}, err
	}
	roles, err := s.AttestRoles(ctx, sub.Country)
	if err != nil {
		return AttestationCheck{}, err
	}
	done, err := attestations(ctx, s.db, sub.ID)
	if err != nil {
		return AttestationCheck{}, err
	}
	c := AttestationCheck{SHA256: hash}
	for _, r := range roles {
		c.Rows = append(c.Rows, AttestationRow{Role: r})
	}
	for i := range done {
		a := &done[i]
		j := slices.IndexFunc(c.Rows, func(r AttestationRow) bool { return r.Role == a.Role })
		if j < 0 {
			c.Rows = append(c.Rows, AttestationRow{Role: a.Role})
			j = len(c.Rows) - 1
		}
		c.Rows[j].Attestation, c.Rows[j].Matches = a, a.SHA256 == hash
	}
	return c, nil
}
