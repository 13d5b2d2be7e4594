package adoption

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/db"
)

// Note is an enforcement note a regulator keeps on a provider.
type Note struct {
	ID        int64
	Author    string
	AuthorOrg string // the regulator that wrote it
	Shared    bool   // written by another regulator that shares its notes
	Body      string
	At        time.Time
}

const (
	maxNote   = 4000
	notesPage = 50
)

// Provider is a provider of the regulator's country as the regulator sees
// it: the organisation, its reports and the regulator's own notes.
type Provider struct {
	Org     Org
	Reports []Submission // newest first
	Notes   []Note       // the page, newest first
	Total   int          // notes over all pages
	Offset  int
	// SharedBy are the country's other regulators whose notes the
	// regulator reads: each of them and the regulator share their notes.
	SharedBy []Org
}

// regulatedProvider loads provider id of the regulator's country;
// anything else is ErrNotFound.
func (s *Store) regulatedProvider(ctx context.Context, q db.Querier, reg Org, id int64) (Org, error) {
	if err := s.requireRegulator(reg); err != nil {
		return Org{}, err
	}
	var o Org
	err := q.QueryRow(ctx, "SELECT id, name, type, country, licensee_type FROM orgs WHERE id = ? AND country = ? AND licensee_type IN "+providerLicensees,
		id, reg.Country).Scan(&o.ID, &o.Name, &o.Type, &o.Country, &o.Licensee)
	if errors.Is(err, sql.ErrNoRows) {
		return Org{}, ErrNotFound
	}
	if err != nil {
		return Org{}, fmt.Errorf("adoption: provider: %w", err)
	}
	return o, nil
}

// Provider returns provider id of the regulator's country with its
// reports and the page of the regulator's notes at offset.
func (s *Store) Provider(ctx context.Context, reg Org, id int64, offset int) (Provider, error) {
	p, err := s.regulatedProvider(ctx, s.db, reg, id)
	if err != nil {
		return Provider{}, err
	}
	out := Provider{Org: p, Offset: max(offset, 0)}
	if out.Reports, err = s.Submissions(ctx, p); err != nil {
		return Provider{}, err
	}
	// The regulator's own notes, and those of the regulators it shares
	// notes with (MOU-style sharing, on only while both sides have it on).
	a, err := arrangement(ctx, s.db, reg.Country)
	if err != nil {
		return Provider{}, err
	}
	authors := []any{reg.ID}
	for _, r := range a.Regulators {
		if a.SharesNotesWith(reg.ID, r.Org.ID) {
			authors = append(authors, r.Org.ID)
			out.SharedBy = append(out.SharedBy, r.Org)
		}
	}
	in := "(?" + strings.Repeat(", ?", len(authors)-1) + ")"
	args := append([]any{p.ID}, authors...)
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM enforcement_notes WHERE provider_id = ? AND author_org IN "+in, args...).Scan(&out.Total); err != nil {
		return Provider{}, fmt.Errorf("adoption: notes: %w", err)
	}
	rows, err := s.db.Query(ctx, `SELECT n.id, n.author_name, n.author_org, o.name, n.body, n.created_at FROM enforcement_notes n JOIN orgs o ON o.id = n.author_org
		WHERE n.provider_id = ? AND n.author_org IN `+in+` ORDER BY n.created_at DESC, n.id DESC LIMIT ? OFFSET ?`, append(args, notesPage, out.Offset)...)
	if err != nil {
		return Provider{}, fmt.Errorf("adoption: notes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n Note
		var at, author int64
		if err := rows.Scan(&n.ID, &n.Author, &author, &n.AuthorOrg, &n.Body, &at); err != nil {
			return Provider{}, err
		}
		n.Shared = author != reg.ID
		n.At = time.UnixMicro(at).UTC()
		out.Notes = append(out.Notes, n)
	}
	return out, rows.Err()
}

// AddNote records an enforcement note on provider id. Only the regulator
// that writes it reads it, and the country's other regulators while both
// share their notes; the audit entry says a note was added, not what it
// says, and is the regulator's only: the provider is not told.
func (s *Store) AddNote(ctx context.Context, reg Org, id int64, body string) (Note, error) {
	body, err := checkText("body", "The note", body, maxNote)
	if err != nil {
		return Note{}, err
	}
	if body == "" {
		return Note{}, invalid("body", "Write the note.")
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	n := Note{Body: body, At: now}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		p, err := s.regulatedProvider(ctx, tx, reg, id)
		if err != nil {
			return err
		}
		n.Author = userName(ctx, tx, sql.NullInt64{Int64: actor, Valid: actor != 0})
		if err := tx.QueryRow(ctx, "INSERT INTO enforcement_notes (author_org, provider_id, user_id, author_name, body, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			reg.ID, p.ID, nullID(actor), n.Author, body, now.UnixMicro()).Scan(&n.ID); err != nil {
			return fmt.Errorf("adoption: add note: %w", err)
		}
		return appendAudit(ctx, tx, reg.ID, "enforcement_note.create", "enforcement_note", idStr(n.ID), map[string]any{"provider": p.ID})
	})
	if err != nil {
		return Note{}, err
	}
	return n, nil
}
