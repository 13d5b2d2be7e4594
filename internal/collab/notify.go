package collab

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/web"
)

// Notification kinds used by this package; other modules may use their own
// (for example "baseline" when a jurisdiction publishes a baseline).
const (
	KindReply    = "reply"
	KindProposal = "proposal"
	KindBaseline = "baseline"
)

// Notification is one in-app notice for a user.
type Notification struct {
	ID      int64
	Kind    string
	Text    string
	Link    string
	Created time.Time
	Read    bool
}

// safeLink accepts only a path on this site, so a notification can never
// send its reader elsewhere ("//evil", "javascript:", "https://…").
func safeLink(link string) bool {
	return link == "" || (web.LocalPath(link) && !strings.Contains(link, " ") && len(link) <= maxLink)
}

func checkNotice(kind, text, link string) (string, error) {
	if kind == "" || len(kind) > 40 || strings.ContainsFunc(kind, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '_' || r == '.')
	}) {
		return "", invalid("notification kind %q", kind)
	}
	text, err := cleanText("The notification", text, maxNotice, true)
	if err != nil {
		return "", err
	}
	if !safeLink(link) {
		return "", invalid("a notification links only to a path of this site")
	}
	return text, nil
}

func notify(ctx context.Context, tx *db.Tx, userIDs []int64, kind, text, link string, now time.Time) error {
	seen := map[int64]bool{}
	for _, u := range userIDs {
		if u == 0 || seen[u] {
			continue
		}
		seen[u] = true
		if _, err := tx.Exec(ctx, `INSERT INTO notifications (user_id, kind, text, link, created_at) VALUES (?, ?, ?, ?, ?)`,
			u, kind, text, link, micros(now)); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	return nil
}

// Notify tells the given users something in the app: kind is a short
// lower-case word ("baseline"), text one line, link a path on this site.
// Other modules call it; the write is audited.
func (s *Store) Notify(ctx context.Context, userIDs []int64, kind, text, link string) error {
	defer s.unread.invalidate() // after the transaction: see unreadCache
	text, err := checkNotice(kind, text, link)
	if err != nil {
		return err
	}
	if len(userIDs) == 0 {
		return nil
	}
	now := s.now()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := notify(ctx, tx, userIDs, kind, text, link, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, "notification.create", "notification", 0,
			map[string]any{"kind": kind, "users": len(userIDs)})
	})
}

// NotifyCountry notifies every member of every organisation of a country
// (for example of a newly published national baseline), except the user
// acting in ctx, and returns how many users were notified. "{org}" in link
// becomes the member's own organisation ID, so one call can point each
// member at their organisation's page (/orgs/{org}/baseline/v/3).
func (s *Store) NotifyCountry(ctx context.Context, country, kind, text, link string) (int, error) {
	defer s.unread.invalidate() // after the transaction: see unreadCache
	text, err := checkNotice(kind, text, link)
	if err != nil {
		return 0, err
	}
	country = strings.ToUpper(country)
	now := s.now()
	var n int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO notifications (user_id, kind, text, link, created_at)
			SELECT m.user_id, CAST(? AS TEXT), CAST(? AS TEXT), REPLACE(CAST(? AS TEXT), '{org}', CAST(MIN(m.org_id) AS TEXT)), CAST(? AS BIGINT)
			FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE o.country = ? AND m.user_id <> ? GROUP BY m.user_id`,
			kind, text, link, micros(now), country, audit.ActorFrom(ctx).UserID)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return s.audit(ctx, tx, "notification.create", "country", 0,
			map[string]any{"kind": kind, "country": country, "users": n})
	})
	if err != nil {
		return 0, fmt.Errorf("notify %s: %w", country, err)
	}
	return int(n), nil
}

// Unread counts a user's unread notifications (the bell in the layout).
// The count is cached for a few seconds per user; writes through this
// Store invalidate it at once.
func (s *Store) Unread(ctx context.Context, userID int64) (int, error) {
	n, ok, gen := s.unread.get(userID)
	if ok {
		return n, nil
	}
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL`, userID).Scan(&n); err != nil {
		return 0, err
	}
	s.unread.put(userID, n, gen)
	return n, nil
}

// Notifications lists a user's notifications, newest first.
func (s *Store) Notifications(ctx context.Context, userID int64, limit int) ([]Notification, error) {
	if limit <= 0 || limit > listLimit {
		limit = listLimit
	}
	rows, err := s.db.Query(ctx, `SELECT id, kind, text, link, created_at, read_at FROM notifications
		WHERE user_id = ? ORDER BY id DESC LIMIT `+strconv.Itoa(limit), userID)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var created int64
		var read sql.NullInt64
		if err := rows.Scan(&n.ID, &n.Kind, &n.Text, &n.Link, &created, &read); err != nil {
			return nil, err
		}
		n.Created, n.Read = time.UnixMicro(created).UTC(), read.Valid
		out = append(out, n)
	}
	return out, rows.Err()
}

// MarkRead marks one of the user's notifications read (id > 0) or all of
// them (id == 0). Someone else's notification is ErrNotFound.
func (s *Store) MarkRead(ctx context.Context, userID, id int64) error {
	defer s.unread.invalidate() // after the transaction: see unreadCache
	now := s.now()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		q, args := `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`, []any{micros(now), userID}
		if id > 0 {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM notifications WHERE id = ? AND user_id = ?`, id, userID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return ErrNotFound
			}
			q, args = q+` AND id = ?`, append(args, id)
		}
		res, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return err
		}
		marked, _ := res.RowsAffected()
		return s.audit(ctx, tx, "notification.read", "notification", id, map[string]any{"marked": marked})
	})
	if err != nil {
		return fmt.Errorf("mark read: %w", err)
	}
	return nil
}
