// Package audit is the platform's append-only, hash-chained audit log.
//
// Each entry commits to its predecessor: hash = SHA-256 over the entry's
// canonical fields and the previous entry's hash. Database triggers refuse
// UPDATE and DELETE on both dialects, and [Verify] recomputes the chain to
// name the first entry that was altered or removed by someone who got past
// the triggers.
//
// [Append] runs inside the caller's transaction, so an audited write and its
// entry commit (or roll back) together.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/db"
)

// Entry is one audit record.
type Entry struct {
	Seq         int64     // 1, 2, 3, … without gaps
	Time        time.Time // UTC, microsecond precision
	ActorUserID int64     // 0: no signed-in user (system, CLI, anonymous request)
	ActorOrgID  int64     // organisation the actor acted for, 0 if none
	OrgID       int64     // organisation the object belongs to, 0 if none
	Action      string    // dotted verb, e.g. "org.create", "session.create", "signin.fail"
	ObjectType  string    // e.g. "org", "user", "passkey"
	ObjectID    string
	Details     map[string]any // small, non-secret facts; never tokens, codes or keys
	IP          string
	RequestID   string
	PrevHash    string // hex SHA-256 of the previous entry ("" before the first)
	Hash        string // hex SHA-256 of this entry

	details string // details as stored, which is what the hash covers
}

// Actor describes who acts in a request. Middleware (or the admin CLI) puts
// it into the context once; [Append] copies it into entries that leave the
// fields empty.
type Actor struct {
	UserID    int64
	OrgID     int64
	IP        string
	RequestID string
}

type actorKey struct{}

// WithActor returns a context that carries a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor carried by ctx, or the zero Actor.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// chainLockKey is the PostgreSQL advisory transaction lock that serialises
// appends to the chain ("audit" in ASCII). SQLite needs none: db.InTx holds
// the database write lock from BEGIN.
const chainLockKey = 0x6175646974

// Append adds e to the log inside tx. Seq, PrevHash and Hash are assigned
// here; a zero Time becomes now; empty actor fields come from ctx. It returns
// the entry as stored.
func Append(ctx context.Context, tx *db.Tx, e Entry) (Entry, error) {
	if e.Action == "" {
		return Entry{}, errors.New("audit: entry without action")
	}
	a := ActorFrom(ctx)
	if e.ActorUserID == 0 {
		e.ActorUserID = a.UserID
	}
	if e.ActorOrgID == 0 {
		e.ActorOrgID = a.OrgID
	}
	if e.IP == "" {
		e.IP = a.IP
	}
	if e.RequestID == "" {
		e.RequestID = a.RequestID
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = time.UnixMicro(e.Time.UnixMicro()).UTC()
	details := "{}"
	if len(e.Details) > 0 {
		// encoding/json sorts map keys, so the stored text is canonical.
		b, err := json.Marshal(e.Details)
		if err != nil {
			return Entry{}, fmt.Errorf("audit: details: %w", err)
		}
		details = string(b)
	}
	e.details = details

	if tx.Dialect() == db.Postgres {
		// READ COMMITTED: the SELECT below starts after the lock is held, so
		// it sees the head committed by the previous holder.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(?)", int64(chainLockKey)); err != nil {
			return Entry{}, fmt.Errorf("audit: lock chain: %w", err)
		}
	}
	var prevSeq int64
	var prevHash string
	err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&prevSeq, &prevHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Entry{}, fmt.Errorf("audit: read head: %w", err)
	}
	e.Seq = prevSeq + 1
	e.PrevHash = prevHash
	e.Hash = hashEntry(&e)
	_, err = tx.Exec(ctx, `INSERT INTO audit_log
		(seq, at, actor_user_id, actor_org_id, org_id, action, object_type, object_id, details, ip, request_id, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.Time.UnixMicro(), nullID(e.ActorUserID), nullID(e.ActorOrgID), nullID(e.OrgID),
		e.Action, e.ObjectType, e.ObjectID, details, e.IP, e.RequestID, e.PrevHash, e.Hash)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	return e, nil
}

// Record appends e in a transaction of its own, for events that are not part
// of another write (a failed sign-in, an export).
func Record(ctx context.Context, d *db.DB, e Entry) (Entry, error) {
	var out Entry
	err := d.InTx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = Append(ctx, tx, e)
		return err
	})
	return out, err
}

// hashEntry computes the chain hash. Every field is written as its length, a
// colon and its bytes, so no two different entries share an encoding.
func hashEntry(e *Entry) string {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field("dfslab-audit-v1")
	field(strconv.FormatInt(e.Seq, 10))
	field(strconv.FormatInt(e.Time.UnixMicro(), 10))
	field(strconv.FormatInt(e.ActorUserID, 10))
	field(strconv.FormatInt(e.ActorOrgID, 10))
	field(strconv.FormatInt(e.OrgID, 10))
	field(e.Action)
	field(e.ObjectType)
	field(e.ObjectID)
	field(e.details)
	field(e.IP)
	field(e.RequestID)
	field(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Filter selects entries for [List]. Zero fields do not filter.
type Filter struct {
	OrgID       int64  // entries about this organisation or by an actor acting for it
	ActorUserID int64  // entries by this user
	Action      string // exact action, or a prefix ending in "." ("passkey.")
	ObjectType  string
	ObjectID    string
	Since       time.Time
	Until       time.Time // exclusive
	BeforeSeq   int64     // paging: only entries with seq < BeforeSeq
	Limit       int       // default 100, at most 1000
}

const selectCols = `SELECT seq, at, actor_user_id, actor_org_id, org_id, action, object_type, object_id,
	details, ip, request_id, prev_hash, hash FROM audit_log`

// List returns matching entries, newest first.
func List(ctx context.Context, d db.Querier, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	if f.OrgID != 0 {
		where = append(where, "(org_id = ? OR actor_org_id = ?)")
		args = append(args, f.OrgID, f.OrgID)
	}
	if f.ActorUserID != 0 {
		where = append(where, "actor_user_id = ?")
		args = append(args, f.ActorUserID)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			// Prefix match without LIKE, whose escaping differs by dialect.
			where = append(where, "substr(action, 1, ?) = ?")
			args = append(args, len(f.Action), f.Action)
		} else {
			where = append(where, "action = ?")
			args = append(args, f.Action)
		}
	}
	if f.ObjectType != "" {
		where = append(where, "object_type = ?")
		args = append(args, f.ObjectType)
	}
	if f.ObjectID != "" {
		where = append(where, "object_id = ?")
		args = append(args, f.ObjectID)
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		where = append(where, "at < ?")
		args = append(args, f.Until.UnixMicro())
	}
	if f.BeforeSeq > 0 {
		where = append(where, "seq < ?")
		args = append(args, f.BeforeSeq)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := selectCols
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC LIMIT " + strconv.Itoa(limit)
	rows, err := d.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scan(rows *sql.Rows) (Entry, error) {
	var e Entry
	var at int64
	var actor, actorOrg, org sql.NullInt64
	if err := rows.Scan(&e.Seq, &at, &actor, &actorOrg, &org, &e.Action, &e.ObjectType, &e.ObjectID,
		&e.details, &e.IP, &e.RequestID, &e.PrevHash, &e.Hash); err != nil {
		return Entry{}, fmt.Errorf("audit: scan: %w", err)
	}
	e.Time = time.UnixMicro(at).UTC()
	e.ActorUserID, e.ActorOrgID, e.OrgID = actor.Int64, actorOrg.Int64, org.Int64
	if e.details != "" && e.details != "{}" {
		// A row whose details no longer parse is still listed; Verify is
		// what judges integrity.
		_ = json.Unmarshal([]byte(e.details), &e.Details)
	}
	return e, nil
}

// Problem kinds reported by [Verify].
const (
	Altered = "altered" // the entry's content no longer matches its hash
	Missing = "missing" // one or more entries before this one were removed
	Broken  = "broken"  // the entry was rewritten with a recomputed hash: its successor no longer points at it
)

// VerifyError names the first entry where the chain breaks.
type VerifyError struct {
	Seq     int64  // the entry that is altered, or the first missing one
	Kind    string // Altered, Missing or Broken
	Through int64  // for Missing: last missing seq
}

func (e *VerifyError) Error() string {
	switch e.Kind {
	case Missing:
		if e.Through > e.Seq {
			return fmt.Sprintf("audit log: entries %d to %d were removed", e.Seq, e.Through)
		}
		return fmt.Sprintf("audit log: entry %d was removed", e.Seq)
	case Broken:
		return fmt.Sprintf("audit log: entry %d was altered and its hash recomputed (entry %d no longer chains to it)", e.Seq, e.Seq+1)
	}
	return fmt.Sprintf("audit log: entry %d was altered (its hash no longer matches its content)", e.Seq)
}

// Report summarises a successful verification.
type Report struct {
	Entries  int64  // entries checked
	HeadSeq  int64  // last seq
	HeadHash string // last hash: keep it elsewhere to detect truncation of the tail later
}

// Verify walks the whole chain in order and returns a *VerifyError for the
// first entry that was altered or removed. Removal of the newest entries
// cannot be seen from the chain alone; compare Report.HeadSeq/HeadHash with a
// copy kept outside the database for that.
func Verify(ctx context.Context, d *db.DB) (Report, error) {
	var rep Report
	var prevHash string
	const page = 1000
	next := int64(0)
	for {
		rows, err := d.Query(ctx, selectCols+" WHERE seq > ? ORDER BY seq LIMIT "+strconv.Itoa(page), next)
		if err != nil {
			return rep, fmt.Errorf("audit: verify: %w", err)
		}
		n := 0
		var verr error
		for rows.Next() && verr == nil {
			e, err := scan(rows)
			if err != nil {
				rows.Close()
				return rep, err
			}
			n++
			switch {
			case e.Seq != rep.HeadSeq+1:
				verr = &VerifyError{Seq: rep.HeadSeq + 1, Kind: Missing, Through: e.Seq - 1}
			case hashEntry(&e) != e.Hash:
				verr = &VerifyError{Seq: e.Seq, Kind: Altered}
			case e.PrevHash != prevHash:
				// e is intact but does not point at its predecessor: the
				// predecessor was rewritten with a recomputed hash (or e was
				// replaced wholesale, which breaks e+1 in turn).
				verr = &VerifyError{Seq: e.Seq - 1, Kind: Broken}
			}
			if verr != nil {
				break
			}
			rep.Entries++
			rep.HeadSeq, rep.HeadHash, prevHash = e.Seq, e.Hash, e.Hash
			next = e.Seq
		}
		err = rows.Err()
		rows.Close()
		if verr != nil {
			return rep, verr
		}
		if err != nil {
			return rep, fmt.Errorf("audit: verify: %w", err)
		}
		if n < page {
			return rep, nil
		}
	}
}
