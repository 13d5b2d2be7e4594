package collab

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/db"
)

// NewNote is an implementation note a member shares.
type NewNote struct {
	RecID     string
	OrgID     int64
	Audience  Audience
	Anonymous bool // shown as "a DFS provider in MW" (or "a member") instead of the organisation
	Body      string
}

// MinCrowd is the fewest organisations of one type in one country for an
// anonymous note to say which type and country it comes from: with fewer,
// "a DFS provider in MW" could name the only one.
const MinCrowd = 3

// Byline is who wrote the note, as readers see it. An anonymous note names
// only the kind of organisation and its country, and only when at least
// MinCrowd organisations of that kind are in that country; otherwise "a
// member".
func (n Note) Byline() string {
	if n.Anonymous {
		if n.crowd < MinCrowd {
			return "a member"
		}
		return "a " + orgTypeWords(n.OrgType) + " in " + n.Country
	}
	if n.AuthorName == "" {
		return n.OrgName
	}
	return n.AuthorName + ", " + n.OrgName
}

// orgTypeWords names an organisation type inside a sentence.
func orgTypeWords(t string) string {
	switch t {
	case "telecom_regulator":
		return "telecom regulator"
	case "central_bank":
		return "central bank"
	case "dfs_provider":
		return "DFS provider"
	case "mno":
		return "mobile network operator"
	case "cert":
		return "CERT"
	}
	return "member organisation"
}

// AddNote shares an implementation note on a recommendation.
func (s *Store) AddNote(ctx context.Context, v Viewer, n NewNote) (Note, error) {
	rec, err := s.checkRec(n.RecID)
	if err != nil {
		return Note{}, err
	}
	if !n.Audience.Valid() {
		return Note{}, invalid("choose who may read the note")
	}
	body, err := cleanText("The note", n.Body, MaxBody, true)
	if err != nil {
		return Note{}, err
	}
	now := s.now()
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		country, typ, err := authorOrg(ctx, tx, v, n.OrgID)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO collab_notes (rec_id, audience, org_id, country, org_type, author_id, anonymous, body, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, rec, string(n.Audience), n.OrgID, country, typ, v.UserID,
			n.Anonymous, body, micros(now)).Scan(&id); err != nil {
			return err
		}
		return s.audit(ctx, tx, "collab.note.create", "note", id,
			map[string]any{"rec": rec, "audience": string(n.Audience), "org": n.OrgID, "anonymous": n.Anonymous})
	})
	if err != nil {
		return Note{}, fmt.Errorf("add note: %w", err)
	}
	return Note{ID: id, RecID: rec, Audience: n.Audience, OrgID: n.OrgID, AuthorID: v.UserID, Anonymous: n.Anonymous,
		Body: body, Created: now}, nil
}

// Notes lists the notes on a recommendation visible to v, newest first.
// For an anonymous note the author and organisation names are not even
// loaded, except for the author themselves and platform administrators.
func (s *Store) Notes(ctx context.Context, v Viewer, recID string) ([]Note, error) {
	rows, err := s.db.Query(ctx, `SELECT n.id, n.rec_id, n.audience, n.org_id, n.org_type, n.country, n.author_id, n.anonymous,
		n.body, n.created_at,
		CASE WHEN n.anonymous AND n.author_id <> ? AND NOT (`+boolLiteral(v.Admin)+`) THEN '' ELSE COALESCE(o.name, '') END,
		CASE WHEN n.anonymous AND n.author_id <> ? AND NOT (`+boolLiteral(v.Admin)+`) THEN '' ELSE COALESCE(NULLIF(u.display_name, ''), u.email, '') END,
		CASE WHEN n.anonymous THEN (SELECT COUNT(*) FROM orgs c WHERE c.country = n.country AND c.type = n.org_type) ELSE 0 END
		FROM collab_notes n LEFT JOIN orgs o ON o.id = n.org_id LEFT JOIN users u ON u.id = n.author_id
		WHERE n.rec_id = ? AND n.deleted_at IS NULL AND `+visible("n", v)+`
		ORDER BY n.created_at DESC, n.id DESC LIMIT `+fmt.Sprint(listLimit), v.UserID, v.UserID, strings.ToUpper(recID))
	if err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var n Note
		var aud string
		var created int64
		if err := rows.Scan(&n.ID, &n.RecID, &aud, &n.OrgID, &n.OrgType, &n.Country, &n.AuthorID, &n.Anonymous, &n.Body,
			&created, &n.OrgName, &n.AuthorName, &n.crowd); err != nil {
			return nil, err
		}
		n.Audience, n.Created = Audience(aud), time.UnixMicro(created).UTC()
		if n.Anonymous && n.AuthorID != v.UserID && !v.Admin {
			n.AuthorID, n.OrgID = 0, 0 // nothing in the page can point back at them
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func boolLiteral(b bool) string {
	if b {
		return "1 = 1"
	}
	return "1 = 0"
}

// DeleteNote removes a note: its author, or a platform administrator
// (moderation).
func (s *Store) DeleteNote(ctx context.Context, v Viewer, id int64) (recID string, err error) {
	now := s.now()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var author int64
		err := tx.QueryRow(ctx, `SELECT n.author_id, n.rec_id FROM collab_notes n WHERE n.id = ? AND n.deleted_at IS NULL AND `+
			visible("n", v), id).Scan(&author, &recID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		moderated := author != v.UserID
		if moderated && !v.Admin {
			return ErrForbidden
		}
		if _, err := tx.Exec(ctx, `UPDATE collab_notes SET body = '', deleted_at = ?, deleted_by = ?, moderated = ? WHERE id = ?`,
			micros(now), v.UserID, moderated, id); err != nil {
			return err
		}
		action := "collab.note.delete"
		if moderated {
			action = "collab.note.moderate"
		}
		return s.audit(ctx, tx, action, "note", id, map[string]any{"rec": recID, "author": author})
	})
	if err != nil {
		return recID, fmt.Errorf("delete note %d: %w", id, err)
	}
	return recID, nil
}
