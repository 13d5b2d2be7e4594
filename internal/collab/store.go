// Package collab is the "living" part of the recommendations catalogue:
// discussion threads on each recommendation, implementation notes that
// members share as lessons learned, proposals to amend a recommendation
// that platform administrators accept into a new catalogue revision or
// decline, and in-app notifications.
//
// Threads and notes have an audience chosen by their author: the author's
// organisation, its jurisdiction (organisations of the same country) or
// all members. The audience is enforced inside every query of the
// [Store], joined with the reader's memberships in the database, so a
// thread a reader may not see is never loaded for them: listing, opening
// by ID and searching all answer as if it did not exist. Platform
// administrators see everything, because they moderate.
//
// Every write is audited in its own transaction (internal/audit).
package collab

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
)

// Errors of the store; test with errors.Is.
var (
	// ErrNotFound: no such object, or not visible to the reader.
	ErrNotFound = errors.New("collab: not found")
	// ErrForbidden: the reader sees the object but may not do this.
	ErrForbidden = errors.New("collab: not allowed")
	// ErrEditWindow: a post can be edited only shortly after writing it.
	ErrEditWindow = errors.New("collab: the edit window has closed")
	// ErrDecided: the proposal was accepted or declined already.
	ErrDecided = errors.New("collab: proposal already decided")
	// ErrInvalid: the input was refused; the error is an *InputError
	// whose message can be shown to the user.
	ErrInvalid = errors.New("collab: invalid input")
)

// InputError explains why input was refused, in words for the user.
type InputError struct{ Msg string }

func (e *InputError) Error() string        { return "collab: " + e.Msg }
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// Limits on what members write. They are generous for prose and small
// enough that one post cannot bloat every page that lists it.
const (
	MaxTitle  = 200
	MaxBody   = 10000 // characters of a post or note
	MaxText   = 4000  // characters of a proposed statement or rationale
	MaxReason = 2000
	// EditWindow is how long after posting an author may edit a post.
	EditWindow = 15 * time.Minute
	maxNotice  = 300
	maxLink    = 500
	listLimit  = 200
)

// Audience is who may read a thread or note.
type Audience string

// The audiences, narrowest first.
const (
	AudienceOrg     Audience = "org"     // members of the author's organisation
	AudienceCountry Audience = "country" // members of organisations of the same country
	AudienceAll     Audience = "all"     // every member of the platform
)

// Audiences lists the audiences, narrowest first.
func Audiences() []Audience { return []Audience{AudienceOrg, AudienceCountry, AudienceAll} }

// Valid reports whether a is a known audience.
func (a Audience) Valid() bool { return a == AudienceOrg || a == AudienceCountry || a == AudienceAll }

// Label is the audience in words.
func (a Audience) Label() string {
	switch a {
	case AudienceOrg:
		return "My organisation"
	case AudienceCountry:
		return "My jurisdiction"
	case AudienceAll:
		return "All members"
	}
	return string(a)
}

// Viewer is who reads or writes. Only the user ID and the platform
// administrator flag come from the caller (the authenticated principal);
// memberships and countries are read from the database in each query.
type Viewer struct {
	UserID int64
	Admin  bool
}

// Thread is a discussion on one recommendation.
type Thread struct {
	ID         int64
	RecID      string
	Title      string
	Audience   Audience
	OrgID      int64
	OrgName    string
	Country    string
	AuthorID   int64
	AuthorName string
	Created    time.Time
	LastPost   time.Time
	Posts      int
}

// Post is one message of a thread. A deleted post keeps its place with an
// empty body (a tombstone).
type Post struct {
	ID         int64
	ThreadID   int64
	AuthorID   int64
	AuthorName string
	OrgName    string
	Body       string
	Created    time.Time
	Edited     time.Time // zero: never edited
	Deleted    time.Time // zero: not deleted
	Moderated  bool      // deleted by a platform administrator
}

// IsDeleted reports whether the post is a tombstone.
func (p Post) IsDeleted() bool { return !p.Deleted.IsZero() }

// Note is an implementation note: how a member implemented a recommendation.
type Note struct {
	ID         int64
	RecID      string
	Audience   Audience
	OrgID      int64
	OrgName    string
	OrgType    string
	Country    string
	AuthorID   int64
	AuthorName string
	Anonymous  bool
	Body       string
	Created    time.Time

	crowd int // organisations of the author's type in its country (anonymous notes)
}

// Proposal is a member's proposal to amend a recommendation.
type Proposal struct {
	ID             int64
	RecID          string
	ProposerID     int64
	ProposerName   string
	OrgName        string
	Statement      string // "" keeps the current statement
	Rationale      string // "" keeps the current rationale
	Reason         string
	Status         string // open, accepted, declined
	Created        time.Time
	DecidedAt      time.Time
	DecisionReason string
	Revision       int64 // the catalogue revision an accepted proposal made
}

// Proposal statuses.
const (
	StatusOpen     = "open"
	StatusAccepted = "accepted"
	StatusDeclined = "declined"
)

// Store keeps the collaboration data.
type Store struct {
	db   *db.DB
	base *catalog.Catalog
	now  func() time.Time
	// unread caches the notification badge's count per user (see
	// unreadCache); every method that writes notifications invalidates it.
	unread *unreadCache
}

// NewStore returns a store over a migrated database. base is the embedded
// catalogue: recommendation IDs are checked against it and accepted
// amendments are validated by laying them over it. now is the clock (nil:
// time.Now).
func NewStore(d *db.DB, base *catalog.Catalog, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: d, base: base, now: now, unread: newUnreadCache()}
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}

// cleanText trims s and checks it is non-empty, valid UTF-8, free of
// control characters other than line breaks and tabs, and at most max
// characters long.
func cleanText(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		if required {
			return "", invalid("%s is empty", field)
		}
		return "", nil
	}
	if !utf8.ValidString(s) {
		return "", invalid("%s is not valid text", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", invalid("%s is too long (%d characters, at most %d)", field, n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", invalid("%s contains control characters", field)
		}
	}
	return s, nil
}

func (s *Store) checkRec(id string) (string, error) {
	id = strings.ToUpper(strings.TrimSpace(id))
	if _, err := s.base.Get(id); err != nil {
		return "", invalid("there is no recommendation %q", id)
	}
	return id, nil
}

// visibleTo is the audience condition for the thread or note aliased a
// and a reader given as SQL expressions (a placeholder or a column), so
// the same rule serves reads and the choice of whom to notify.
func visibleTo(a, user, admin string) string {
	return `(` + admin + `
	  OR (` + a + `.audience = 'all' AND EXISTS (SELECT 1 FROM memberships vm WHERE vm.user_id = ` + user + `))
	  OR (` + a + `.audience = 'org' AND EXISTS (SELECT 1 FROM memberships vm WHERE vm.user_id = ` + user + ` AND vm.org_id = ` + a + `.org_id))
	  OR (` + a + `.audience = 'country' AND EXISTS (SELECT 1 FROM memberships vm JOIN orgs vo ON vo.id = vm.org_id
	        WHERE vm.user_id = ` + user + ` AND vo.country = ` + a + `.country)))`
}

// visible is visibleTo for the viewer v. The user ID is written into the
// SQL as a literal: it is an integer from the authenticated principal,
// never text from the request.
func visible(a string, v Viewer) string {
	adm := "1 = 0"
	if v.Admin {
		adm = "1 = 1"
	}
	return visibleTo(a, strconv.FormatInt(v.UserID, 10), adm)
}

// authorOrg returns the organisation and its country and type through
// which v writes: orgID must be one of v's memberships.
func authorOrg(ctx context.Context, q db.Querier, v Viewer, orgID int64) (country, typ string, err error) {
	err = q.QueryRow(ctx, `SELECT o.country, o.type FROM memberships m JOIN orgs o ON o.id = m.org_id
		WHERE m.user_id = ? AND m.org_id = ?`, v.UserID, orgID).Scan(&country, &typ)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", invalid("choose one of your organisations")
	}
	return country, typ, err
}

func (s *Store) audit(ctx context.Context, tx *db.Tx, action, objType string, id int64, details map[string]any) error {
	_, err := audit.Append(ctx, tx, audit.Entry{Time: s.now(), Action: action, ObjectType: objType,
		ObjectID: strconv.FormatInt(id, 10), Details: details})
	return err
}

// NewThread is what a member writes to open a discussion.
type NewThread struct {
	RecID    string
	OrgID    int64 // the author's organisation the thread is written for
	Audience Audience
	Title    string
	Body     string
}

// CreateThread opens a thread with its first post.
func (s *Store) CreateThread(ctx context.Context, v Viewer, n NewThread) (Thread, error) {
	rec, err := s.checkRec(n.RecID)
	if err != nil {
		return Thread{}, err
	}
	if !n.Audience.Valid() {
		return Thread{}, invalid("choose who may read the discussion")
	}
	title, err := cleanText("The title", n.Title, MaxTitle, true)
	if err != nil {
		return Thread{}, err
	}
	body, err := cleanText("The message", n.Body, MaxBody, true)
	if err != nil {
		return Thread{}, err
	}
	now := s.now()
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		country, _, err := authorOrg(ctx, tx, v, n.OrgID)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO collab_threads (rec_id, audience, org_id, country, author_id, title, created_at, last_post_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, rec, string(n.Audience), n.OrgID, country, v.UserID, title,
			micros(now), micros(now)).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO collab_posts (thread_id, author_id, author_org_id, body, created_at)
			VALUES (?, ?, ?, ?, ?)`, id, v.UserID, n.OrgID, body, micros(now)); err != nil {
			return err
		}
		return s.audit(ctx, tx, "collab.thread.create", "thread", id,
			map[string]any{"rec": rec, "audience": string(n.Audience), "org": n.OrgID})
	})
	if err != nil {
		return Thread{}, fmt.Errorf("create thread: %w", err)
	}
	t, _, err := s.Thread(ctx, v, id)
	return t, err
}

const threadCols = `t.id, t.rec_id, t.title, t.audience, t.org_id, COALESCE(o.name, ''), t.country, t.author_id,
	COALESCE(NULLIF(u.display_name, ''), u.email, ''), t.created_at, t.last_post_at,
	(SELECT COUNT(*) FROM collab_posts cp WHERE cp.thread_id = t.id AND cp.deleted_at IS NULL)`

const threadFrom = ` FROM collab_threads t LEFT JOIN orgs o ON o.id = t.org_id LEFT JOIN users u ON u.id = t.author_id`

func scanThread(sc interface{ Scan(...any) error }) (Thread, error) {
	var t Thread
	var aud string
	var created, last int64
	err := sc.Scan(&t.ID, &t.RecID, &t.Title, &aud, &t.OrgID, &t.OrgName, &t.Country, &t.AuthorID, &t.AuthorName,
		&created, &last, &t.Posts)
	t.Audience = Audience(aud)
	t.Created, t.LastPost = time.UnixMicro(created).UTC(), time.UnixMicro(last).UTC()
	return t, err
}

// Thread returns a thread visible to v with its posts, oldest first.
func (s *Store) Thread(ctx context.Context, v Viewer, id int64) (Thread, []Post, error) {
	cond := visible("t", v)
	t, err := scanThread(s.db.QueryRow(ctx, `SELECT `+threadCols+threadFrom+` WHERE t.id = ? AND `+cond, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Thread{}, nil, ErrNotFound
	}
	if err != nil {
		return Thread{}, nil, fmt.Errorf("thread %d: %w", id, err)
	}
	rows, err := s.db.Query(ctx, `SELECT p.id, p.thread_id, p.author_id, COALESCE(NULLIF(u.display_name, ''), u.email, ''),
		COALESCE(o.name, ''), p.body, p.created_at, p.edited_at, p.deleted_at, p.moderated
		FROM collab_posts p LEFT JOIN users u ON u.id = p.author_id LEFT JOIN orgs o ON o.id = p.author_org_id
		WHERE p.thread_id = ? ORDER BY p.id`, id)
	if err != nil {
		return Thread{}, nil, fmt.Errorf("posts of thread %d: %w", id, err)
	}
	defer rows.Close()
	var posts []Post
	for rows.Next() {
		var p Post
		var created int64
		var edited, deleted sql.NullInt64
		if err := rows.Scan(&p.ID, &p.ThreadID, &p.AuthorID, &p.AuthorName, &p.OrgName, &p.Body, &created, &edited,
			&deleted, &p.Moderated); err != nil {
			return Thread{}, nil, err
		}
		p.Created, p.Edited, p.Deleted = time.UnixMicro(created).UTC(), fromMicros(edited), fromMicros(deleted)
		posts = append(posts, p)
	}
	return t, posts, rows.Err()
}

// ThreadQuery filters the threads a reader lists.
type ThreadQuery struct {
	RecID string // only threads on this recommendation
	Text  string // words that must occur in the title or a post
	Limit int    // at most this many (default and maximum 200)
	// Offset skips that many threads of the order (for pages).
	Offset int
}

// likePattern turns free text into a LIKE pattern that matches it
// literally (wildcards escaped with a backslash).
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// Threads lists the threads visible to v, most recently active first.
func (s *Store) Threads(ctx context.Context, v Viewer, q ThreadQuery) ([]Thread, error) {
	cond := visible("t", v)
	where := []string{cond}
	var args []any
	if q.RecID != "" {
		where = append(where, "t.rec_id = ?")
		args = append(args, strings.ToUpper(q.RecID))
	}
	// Case-insensitive matching: SQLite's LIKE already ignores ASCII case;
	// PostgreSQL's ILIKE is several times cheaper than LOWER() on every row.
	like := "LIKE"
	if s.db.Dialect() == db.Postgres {
		like = "ILIKE"
	}
	for _, w := range strings.Fields(q.Text) {
		if len(args) > 12 {
			break // a handful of words is a search; more is a paste
		}
		p := likePattern(w)
		// IN rather than a correlated EXISTS: the posts are scanned once
		// per query (a hashed subplan), not once per thread.
		where = append(where, `(t.title `+like+` ? ESCAPE '\' OR t.id IN (SELECT sp.thread_id FROM collab_posts sp
			WHERE sp.deleted_at IS NULL AND sp.body `+like+` ? ESCAPE '\'))`)
		args = append(args, p, p)
	}
	limit := q.Limit
	if limit <= 0 || limit > listLimit {
		limit = listLimit
	}
	rows, err := s.db.Query(ctx, `SELECT `+threadCols+threadFrom+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY t.last_post_at DESC, t.id DESC LIMIT `+strconv.Itoa(limit)+` OFFSET `+strconv.Itoa(max(q.Offset, 0)), args...)
	if err != nil {
		return nil, fmt.Errorf("list threads: %w", err)
	}
	defer rows.Close()
	var out []Thread
	for rows.Next() {
		t, err := scanThread(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Reply adds a post to a thread visible to v and notifies the other
// participants who can still read the thread.
func (s *Store) Reply(ctx context.Context, v Viewer, threadID int64, body string) (Post, error) {
	defer s.unread.invalidate() // after the transaction: see unreadCache
	body, err := cleanText("The message", body, MaxBody, true)
	if err != nil {
		return Post{}, err
	}
	now := s.now()
	var postID int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cond := visible("t", v)
		var title, rec string
		var threadOrg int64
		err := tx.QueryRow(ctx, `SELECT t.title, t.rec_id, t.org_id FROM collab_threads t WHERE t.id = ? AND `+cond, threadID).
			Scan(&title, &rec, &threadOrg)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		// The post is shown under the organisation through which the
		// author takes part: the thread's own when they belong to it.
		var org int64
		err = tx.QueryRow(ctx, `SELECT org_id FROM memberships WHERE user_id = ?
			ORDER BY CASE WHEN org_id = ? THEN 0 ELSE 1 END, org_id LIMIT 1`, v.UserID, threadOrg).Scan(&org)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO collab_posts (thread_id, author_id, author_org_id, body, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, threadID, v.UserID, org, body, micros(now)).Scan(&postID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE collab_threads SET last_post_at = ? WHERE id = ?`, micros(now), threadID); err != nil {
			return err
		}
		// Participants are notified only while the audience still admits
		// them (someone who left the organisation is not told).
		text := truncate(fmt.Sprintf("New reply in “%s” (%s)", title, rec), maxNotice)
		link := fmt.Sprintf("/discussions/%d#post-%d", threadID, postID)
		if _, err := tx.Exec(ctx, `INSERT INTO notifications (user_id, kind, text, link, created_at)
			SELECT DISTINCT p.author_id, 'reply', CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT) FROM collab_posts p JOIN collab_threads t ON t.id = p.thread_id
			WHERE p.thread_id = ? AND p.author_id <> ? AND `+
			visibleTo("t", "p.author_id", "EXISTS (SELECT 1 FROM users pu WHERE pu.id = p.author_id AND pu.platform_admin)"),
			text, link, micros(now), threadID, v.UserID); err != nil {
			return fmt.Errorf("notify participants: %w", err)
		}
		return s.audit(ctx, tx, "collab.post.create", "post", postID, map[string]any{"thread": threadID})
	})
	if err != nil {
		return Post{}, fmt.Errorf("reply: %w", err)
	}
	return Post{ID: postID, ThreadID: threadID, AuthorID: v.UserID, Body: body, Created: now}, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// postForWrite loads a post of a thread visible to v inside tx.
func postForWrite(ctx context.Context, tx *db.Tx, v Viewer, postID int64) (author, thread int64, created int64, deleted bool, err error) {
	cond := visible("t", v)
	var del sql.NullInt64
	err = tx.QueryRow(ctx, `SELECT p.author_id, p.thread_id, p.created_at, p.deleted_at FROM collab_posts p
		JOIN collab_threads t ON t.id = p.thread_id WHERE p.id = ? AND `+cond, postID).Scan(&author, &thread, &created, &del)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	return author, thread, created, del.Valid, err
}

// EditPost replaces the body of v's own post within EditWindow of writing it.
func (s *Store) EditPost(ctx context.Context, v Viewer, postID int64, body string) (threadID int64, err error) {
	body, err = cleanText("The message", body, MaxBody, true)
	if err != nil {
		return 0, err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		author, thread, created, deleted, err := postForWrite(ctx, tx, v, postID)
		if err != nil {
			return err
		}
		threadID = thread
		switch {
		case author != v.UserID:
			return ErrForbidden
		case deleted:
			return ErrNotFound
		case now.Sub(time.UnixMicro(created)) > EditWindow:
			return ErrEditWindow
		}
		if _, err := tx.Exec(ctx, `UPDATE collab_posts SET body = ?, edited_at = ? WHERE id = ?`, body, micros(now), postID); err != nil {
			return err
		}
		return s.audit(ctx, tx, "collab.post.edit", "post", postID, map[string]any{"thread": thread})
	})
	if err != nil {
		return threadID, fmt.Errorf("edit post %d: %w", postID, err)
	}
	return threadID, nil
}

// DeletePost turns a post into a tombstone. Authors delete their own
// posts; platform administrators delete anyone's (moderation, with reason).
func (s *Store) DeletePost(ctx context.Context, v Viewer, postID int64, reason string) (threadID int64, err error) {
	reason, err = cleanText("The reason", reason, MaxReason, false)
	if err != nil {
		return 0, err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		author, thread, _, deleted, err := postForWrite(ctx, tx, v, postID)
		if err != nil {
			return err
		}
		threadID = thread
		if deleted {
			return ErrNotFound
		}
		moderated := author != v.UserID
		if moderated && !v.Admin {
			return ErrForbidden
		}
		if _, err := tx.Exec(ctx, `UPDATE collab_posts SET body = '', deleted_at = ?, deleted_by = ?, moderated = ? WHERE id = ?`,
			micros(now), v.UserID, moderated, postID); err != nil {
			return err
		}
		action, details := "collab.post.delete", map[string]any{"thread": thread}
		if moderated {
			action, details["author"], details["reason"] = "collab.post.moderate", author, reason
		}
		return s.audit(ctx, tx, action, "post", postID, details)
	})
	if err != nil {
		return threadID, fmt.Errorf("delete post %d: %w", postID, err)
	}
	return threadID, nil
}

// Lines splits the body at line breaks, so templates can keep the
// author's paragraphs without inline styles (the CSP forbids them).
func (p Post) Lines() []string { return strings.Split(p.Body, "\n") }

// Lines splits the note at line breaks (see Post.Lines).
func (n Note) Lines() []string { return strings.Split(n.Body, "\n") }
