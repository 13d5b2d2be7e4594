// Package audit is the platform's append-only, hash-chained audit log.
//
// Each entry commits to its predecessor: its hash is an HMAC-SHA-256, keyed
// with a key derived from the instance's secret key ([DeriveKey]), over the
// entry's canonical fields and the previous entry's hash. Database triggers
// refuse UPDATE and DELETE on both dialects; [Verify] recomputes the chain to
// name the first entry that was altered or removed by someone who got past
// the triggers, and compares it with checkpoints of the chain's head
// ([Head]) that an operator kept outside the database, which is what
// reveals a truncated tail.
//
// Without the key, nobody can write an entry that verifies: neither a new
// one nor a rewritten one. Entries written before keyed chaining (hash
// version 1, plain SHA-256) keep their hash and are verified as such; the
// first entry under a new key or format is an "audit.key" entry that
// records the switch. An instance without a secret key chains with an empty
// HMAC key, which proves no more than SHA-256 did.
//
// The key reaches [Append] through the database handle
// ([db.WithAuditKeys]), so every writer of a process uses the same key.
//
// [Append] runs inside the caller's transaction, so an audited write and its
// entry commit (or roll back) together.
package audit

import (
	"cmp"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/db"
)

// Hash versions of an entry.
const (
	// HashSHA256 is the original unkeyed format: SHA-256 over the fields,
	// without Concerned or KeyID. Only entries written before keyed
	// chaining have it.
	HashSHA256 = 1
	// HashHMAC is HMAC-SHA-256 under the key named by KeyID (the empty key
	// when KeyID is ""), over the fields, KeyID and Concerned.
	HashHMAC = 2
)

// Entry is one audit record.
type Entry struct {
	Seq         int64     // 1, 2, 3, … without gaps
	Time        time.Time // UTC, microsecond precision
	ActorUserID int64     // 0: no signed-in user (system, CLI, anonymous request)
	ActorOrgID  int64     // organisation the actor acted for, 0 if none
	OrgID       int64     // organisation the object belongs to, 0 if none
	// Concerned are the other organisations the entry concerns besides
	// OrgID and ActorOrgID (the organisation a member joins, every
	// organisation of an account that is recovered); each of them sees the
	// entry in its own audit view. Append stores them sorted, without
	// duplicates, zeros, OrgID or ActorOrgID; the hash covers them.
	Concerned  []int64
	Action     string // dotted verb, e.g. "org.create", "session.create", "signin.fail"
	ObjectType string // e.g. "org", "user", "passkey"
	ObjectID   string
	Details    map[string]any // small, non-secret facts; never tokens, codes or keys
	IP         string
	RequestID  string
	PrevHash   string // hex hash of the previous entry ("" before the first)
	Hash       string // hex hash of this entry
	// HashVersion is how Hash was computed (HashSHA256 or HashHMAC); KeyID
	// names the HMAC key ([KeyID]), "" for the empty key. Append sets both.
	HashVersion int
	KeyID       string

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

// keyInfo labels the audit key derived from the instance secret key, so
// that it differs from every other key derived from the same secret (and
// from the secret itself, which encrypts TOTP secrets).
const keyInfo = "dfslab audit chain v1"

// DeriveKey returns the audit chain key for an instance secret key (HKDF-SHA-256
// with a label of its own), or nil for a nil secret.
func DeriveKey(secret []byte) ([]byte, error) {
	if len(secret) == 0 {
		return nil, nil
	}
	k, err := hkdf.Key(sha256.New, secret, nil, keyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("audit: derive key: %w", err)
	}
	return k, nil
}

// KeyID is the public name of an audit key: the first 8 bytes of an HMAC of
// a fixed label under it, in hex. It tells which key an entry was written
// under without revealing anything of the key. The empty key has the ID "".
func KeyID(key []byte) string {
	if len(key) == 0 {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("dfslab-audit-key-id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// ErrKeyMissing refuses an append by a process without an audit key to a
// chain that is keyed: its entries would not verify, and accepting them
// would let anyone without the key extend the chain.
var ErrKeyMissing = errors.New("audit: the audit log is keyed, but this process has no secret key; " +
	"give it the instance's key (--secret-key-file or DFSLAB_SECRET_KEY)")

// head is the newest entry as far as chaining needs it.
type head struct {
	seq     int64
	hash    string
	version int
	keyID   string
}

// lockHead takes the chain lock and reads the newest entry.
func lockHead(ctx context.Context, tx *db.Tx) (head, error) {
	if tx.Dialect() == db.Postgres {
		// READ COMMITTED: the SELECT below starts after the lock is held, so
		// it sees the head committed by the previous holder.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(?)", int64(chainLockKey)); err != nil {
			return head{}, fmt.Errorf("audit: lock chain: %w", err)
		}
	}
	var h head
	err := tx.QueryRow(ctx, "SELECT seq, hash, hash_version, key_id FROM audit_log ORDER BY seq DESC LIMIT 1").
		Scan(&h.seq, &h.hash, &h.version, &h.keyID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return head{}, fmt.Errorf("audit: read head: %w", err)
	}
	return h, nil
}

// currentKey is the key new entries are written under: the first of the
// database handle's audit keys, or the empty key.
func currentKey(tx *db.Tx) []byte {
	if ks := tx.AuditKeys(); len(ks) > 0 {
		return ks[0]
	}
	return nil
}

// prepare takes the chain lock and returns the head that the next entry
// chains to. When the head was written in another format or under another
// key, it first appends an "audit.key" entry that records the switch, so
// that the change of key is itself part of the chain.
func prepare(ctx context.Context, tx *db.Tx, at time.Time) (head, []byte, error) {
	h, err := lockHead(ctx, tx)
	if err != nil {
		return head{}, nil, err
	}
	key := currentKey(tx)
	kid := KeyID(key)
	switch {
	case h.seq == 0, h.version == HashHMAC && h.keyID == kid:
		return h, key, nil
	case kid == "" && h.version == HashHMAC:
		return head{}, nil, ErrKeyMissing
	}
	sw := Entry{Time: at, Action: "audit.key", ObjectType: "audit_log", Details: map[string]any{
		"hash": "hmac-sha256", "key_id": kid, "keyed": kid != "",
		"previous_hash_version": h.version, "previous_key_id": h.keyID,
	}}
	if err := insert(ctx, tx, &sw, h, key); err != nil {
		return head{}, nil, err
	}
	return head{seq: sw.Seq, hash: sw.Hash, version: HashHMAC, keyID: kid}, key, nil
}

// Append adds e to the log inside tx. Seq, PrevHash, Hash, HashVersion and
// KeyID are assigned here; a zero Time becomes now; empty actor fields come
// from ctx. It returns the entry as stored.
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
	e.Concerned = normaliseConcerned(e.Concerned, e.OrgID, e.ActorOrgID)
	h, key, err := prepare(ctx, tx, e.Time)
	if err != nil {
		return Entry{}, err
	}
	if err := insert(ctx, tx, &e, h, key); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// EnsureKeyed records the switch to the process's key (an "audit.key"
// entry) unless the newest entry is already under it. dfslab serve calls it
// at start, so that from then on the newest entry is keyed and [Verify]
// can tell a tail rewritten without the key. It reports whether it wrote
// the switch; it writes nothing to an empty log.
func EnsureKeyed(ctx context.Context, d *db.DB) (bool, error) {
	switched := false
	err := d.InTx(ctx, func(tx *db.Tx) error {
		before, err := lockHead(ctx, tx)
		if err != nil {
			return err
		}
		after, _, err := prepare(ctx, tx, time.Now())
		if err != nil {
			return err
		}
		switched = after.seq != before.seq
		return nil
	})
	return switched, err
}

// insert chains e to h, hashes it under key and writes it with its
// concerned organisations.
func insert(ctx context.Context, tx *db.Tx, e *Entry, h head, key []byte) error {
	details := "{}"
	if len(e.Details) > 0 {
		// encoding/json sorts map keys, so the stored text is canonical.
		b, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("audit: details: %w", err)
		}
		details = string(b)
	}
	e.details = details
	e.Seq = h.seq + 1
	e.PrevHash = h.hash
	e.HashVersion = HashHMAC
	e.KeyID = KeyID(key)
	e.Hash = computeHash(e, key)
	_, err := tx.Exec(ctx, `INSERT INTO audit_log
		(seq, at, actor_user_id, actor_org_id, org_id, action, object_type, object_id, details, ip, request_id, prev_hash, hash, hash_version, key_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.Time.UnixMicro(), nullID(e.ActorUserID), nullID(e.ActorOrgID), nullID(e.OrgID),
		e.Action, e.ObjectType, e.ObjectID, details, e.IP, e.RequestID, e.PrevHash, e.Hash, e.HashVersion, e.KeyID)
	if err != nil {
		return fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	for _, org := range e.Concerned {
		if _, err := tx.Exec(ctx, "INSERT INTO audit_log_orgs (seq, org_id) VALUES (?, ?)", e.Seq, org); err != nil {
			return fmt.Errorf("audit: append %s: concerned organisation: %w", e.Action, err)
		}
	}
	return nil
}

// normaliseConcerned sorts the concerned organisations and drops
// duplicates, zeros and the two the entry names anyway.
func normaliseConcerned(ids []int64, org, actorOrg int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id > 0 && id != org && id != actorOrg {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
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

// computeHash returns the hash of e in its HashVersion (key is ignored for
// HashSHA256). Every field is written as its length, a colon and its
// bytes, so no two different entries share an encoding.
func computeHash(e *Entry, key []byte) string {
	var h hash.Hash
	label := "dfslab-audit-v1"
	if e.HashVersion == HashHMAC {
		h, label = hmac.New(sha256.New, key), "dfslab-audit-v2"
	} else {
		h = sha256.New()
	}
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field(label)
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
	if e.HashVersion == HashHMAC {
		field(e.KeyID)
		field(strconv.Itoa(len(e.Concerned)))
		for _, id := range e.Concerned {
			field(strconv.FormatInt(id, 10))
		}
	}
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
	// OrgID selects entries about this organisation, by an actor acting for
	// it, or naming it among the concerned organisations.
	OrgID       int64
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
	details, ip, request_id, prev_hash, hash, hash_version, key_id FROM audit_log`

// List returns matching entries, newest first.
func List(ctx context.Context, d db.Querier, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	if f.OrgID != 0 {
		where = append(where, "(org_id = ? OR actor_org_id = ? OR seq IN (SELECT seq FROM audit_log_orgs WHERE org_id = ?))")
		args = append(args, f.OrgID, f.OrgID, f.OrgID)
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
	out, err := query(ctx, d, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	return out, nil
}

// query runs a query over audit_log and fills in the entries' concerned
// organisations.
func query(ctx context.Context, d db.Querier, q string, args ...any) ([]Entry, error) {
	rows, err := d.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, e)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	if err := loadConcerned(ctx, d, out); err != nil {
		return nil, err
	}
	return out, nil
}

// loadConcerned fills in Concerned of es from audit_log_orgs. It reads the
// seq range of es in one query (one prepared statement whatever the page):
// the table holds only entries of cross-organisation actions, so the range
// is cheap even when es is a sparse selection.
func loadConcerned(ctx context.Context, d db.Querier, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	lo, hi := es[0].Seq, es[0].Seq
	at := make(map[int64]int, len(es))
	for i, e := range es {
		lo, hi = min(lo, e.Seq), max(hi, e.Seq)
		at[e.Seq] = i
	}
	rows, err := d.Query(ctx, "SELECT seq, org_id FROM audit_log_orgs WHERE seq BETWEEN ? AND ? ORDER BY seq, org_id", lo, hi)
	if err != nil {
		return fmt.Errorf("audit: concerned organisations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq, org int64
		if err := rows.Scan(&seq, &org); err != nil {
			return fmt.Errorf("audit: concerned organisations: %w", err)
		}
		if i, ok := at[seq]; ok {
			es[i].Concerned = append(es[i].Concerned, org)
		}
	}
	return rows.Err()
}

func scan(rows *sql.Rows) (Entry, error) {
	var e Entry
	var at int64
	var actor, actorOrg, org sql.NullInt64
	if err := rows.Scan(&e.Seq, &at, &actor, &actorOrg, &org, &e.Action, &e.ObjectType, &e.ObjectID,
		&e.details, &e.IP, &e.RequestID, &e.PrevHash, &e.Hash, &e.HashVersion, &e.KeyID); err != nil {
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

// Checkpoint names the head of the chain at some moment: keep it outside
// the database (a ticket, a log collector, paper) and pass it to [Verify]
// later, which then detects a truncated tail and entries rewritten up to
// it. Its text form is "SEQ:HASH".
type Checkpoint struct {
	Seq  int64
	Hash string
}

func (c Checkpoint) String() string { return strconv.FormatInt(c.Seq, 10) + ":" + c.Hash }

// ParseCheckpoint reads a checkpoint written as "SEQ:HASH".
func ParseCheckpoint(s string) (Checkpoint, error) {
	seq, h, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || n <= 0 {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint %q: want SEQ:HASH with a positive SEQ", s)
	}
	if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint %q: the hash must be 64 hex digits", s)
	}
	return Checkpoint{Seq: n, Hash: strings.ToLower(h)}, nil
}

// Head returns the newest entry's checkpoint, or the zero Checkpoint for
// an empty log.
func Head(ctx context.Context, d db.Querier) (Checkpoint, error) {
	var c Checkpoint
	err := d.QueryRow(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&c.Seq, &c.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{}, fmt.Errorf("audit: read head: %w", err)
	}
	return c, nil
}

// Problem kinds reported by [Verify].
const (
	Altered    = "altered"     // the entry's content no longer matches its hash
	Missing    = "missing"     // one or more entries before this one were removed
	Broken     = "broken"      // the entry was rewritten with a recomputed hash: its successor no longer points at it
	Downgraded = "downgraded"  // the entry uses an older format, or no key, after entries that do not: rewritten without the key
	Unkeyed    = "unkeyed"     // the newest entries are not keyed although a key is given
	UnknownKey = "unknown-key" // the entry is keyed with a key that was not given
	Truncated  = "truncated"   // a kept checkpoint names an entry beyond the head: the tail was removed
	Rewritten  = "rewritten"   // the entry at a kept checkpoint has another hash: entries up to it were rewritten
)

// VerifyError names the first entry where the chain breaks.
type VerifyError struct {
	Seq     int64  // the entry that is altered, or the first missing one
	Kind    string // one of the kinds above
	Through int64  // for Missing and Truncated: last missing seq; for Unkeyed: the head
	KeyID   string // for UnknownKey: the key the entry names
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
	case Downgraded:
		return fmt.Sprintf("audit log: entry %d uses an older hash format or no key after entries that do not: "+
			"it was rewritten by someone without the key", e.Seq)
	case Unkeyed:
		return fmt.Sprintf("audit log: entries %d to %d are not keyed although a key is given: either nothing was written "+
			"since the key was configured (dfslab serve records the switch when it starts), or they were rewritten without the key; "+
			"compare with a kept checkpoint", e.Seq, e.Through)
	case UnknownKey:
		return fmt.Sprintf("audit log: entry %d is keyed with key %s, which was not given (rewritten, or written under a "+
			"former secret key: pass that key too)", e.Seq, e.KeyID)
	case Truncated:
		return fmt.Sprintf("audit log: entries %d to %d were removed from the end (a kept checkpoint names entry %d)", e.Seq, e.Through, e.Through)
	case Rewritten:
		return fmt.Sprintf("audit log: entry %d no longer has the hash of the kept checkpoint: entries up to it were rewritten", e.Seq)
	}
	return fmt.Sprintf("audit log: entry %d was altered (its hash no longer matches its content)", e.Seq)
}

// Report summarises a successful verification.
type Report struct {
	Entries  int64  // entries checked
	HeadSeq  int64  // last seq
	HeadHash string // last hash: keep it elsewhere ([Report.Head]) to detect truncation of the tail later
	// Unkeyed counts the entries whose hash uses no key (written before
	// keyed chaining, or by an instance without a secret key): they are
	// proven only up to a checkpoint kept elsewhere.
	Unkeyed int64
	// KeyedFrom is the first keyed entry, 0 if none.
	KeyedFrom int64
	// Checkpoints counts the kept checkpoints the chain was found to hold.
	Checkpoints int
}

// Head is the checkpoint of the verified head.
func (r Report) Head() Checkpoint { return Checkpoint{Seq: r.HeadSeq, Hash: r.HeadHash} }

// Verify walks the whole chain in order and returns a *VerifyError for the
// first entry that was altered or removed, then checks that the chain
// still holds each kept checkpoint. Keyed entries are verified with the
// database handle's audit keys ([db.WithAuditKeys]).
//
// Without a checkpoint, removal of the newest entries cannot be seen from
// the chain alone, and neither can a rewrite by someone who has the key.
func Verify(ctx context.Context, d *db.DB, kept ...Checkpoint) (Report, error) {
	w := walk{keys: map[string][]byte{"": nil}, atCheckpoint: map[int64]string{}}
	keyed := false // a real key was given, not only the empty one
	for _, k := range d.AuditKeys() {
		w.keys[KeyID(k)] = k
		keyed = keyed || len(k) > 0
	}
	for _, c := range kept {
		w.atCheckpoint[c.Seq] = ""
	}
	const page = 1000
	next := int64(0)
	for {
		es, err := query(ctx, d, selectCols+" WHERE seq > ? ORDER BY seq LIMIT "+strconv.Itoa(page), next)
		if err != nil {
			return w.rep, fmt.Errorf("audit: verify: %w", err)
		}
		for i := range es {
			if verr := w.step(&es[i]); verr != nil {
				return w.rep, verr
			}
			next = es[i].Seq
		}
		if len(es) < page {
			break
		}
	}
	rep := w.rep
	if keyed && w.unkeyedTail > 0 {
		// Entries after a keyed one must be keyed (see step), so a rewrite
		// without the key has to replace every keyed entry; and once serve
		// has run with the key (EnsureKeyed), the newest entry is keyed.
		return rep, &VerifyError{Seq: w.unkeyedTail, Kind: Unkeyed, Through: rep.HeadSeq}
	}
	kept = slices.Clone(kept)
	slices.SortFunc(kept, func(a, b Checkpoint) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, c := range kept {
		if c.Seq > rep.HeadSeq {
			return rep, &VerifyError{Seq: rep.HeadSeq + 1, Kind: Truncated, Through: c.Seq}
		}
		if !strings.EqualFold(w.atCheckpoint[c.Seq], c.Hash) {
			return rep, &VerifyError{Seq: c.Seq, Kind: Rewritten}
		}
		rep.Checkpoints++
	}
	return rep, nil
}

// walk is the state of Verify between entries.
type walk struct {
	keys         map[string][]byte // by KeyID; "" is the empty key
	atCheckpoint map[int64]string  // seq of each kept checkpoint → hash found there
	rep          Report
	prevHash     string
	sawHMAC      bool  // an entry of the current format was seen
	unkeyedTail  int64 // first entry of the run of unkeyed entries that ends at the last one seen
}

// step checks the next entry against its predecessor and what the chain
// so far allows, and accounts for it.
func (w *walk) step(e *Entry) *VerifyError {
	if e.Seq != w.rep.HeadSeq+1 {
		return &VerifyError{Seq: w.rep.HeadSeq + 1, Kind: Missing, Through: e.Seq - 1}
	}
	switch e.HashVersion {
	case HashSHA256:
		if e.KeyID != "" || len(e.Concerned) > 0 {
			// Neither exists in the first format: added afterwards.
			return &VerifyError{Seq: e.Seq, Kind: Altered}
		}
		if w.sawHMAC {
			// Append writes only the current format: an old-format entry
			// after a current one was written by someone else.
			return &VerifyError{Seq: e.Seq, Kind: Downgraded}
		}
	case HashHMAC:
		if e.KeyID == "" && w.rep.KeyedFrom != 0 {
			// Append never writes an unkeyed entry after a keyed one
			// (ErrKeyMissing): only someone without the key does.
			return &VerifyError{Seq: e.Seq, Kind: Downgraded}
		}
	default:
		return &VerifyError{Seq: e.Seq, Kind: Altered}
	}
	key, ok := w.keys[e.KeyID]
	if !ok {
		return &VerifyError{Seq: e.Seq, Kind: UnknownKey, KeyID: e.KeyID}
	}
	if !hmac.Equal([]byte(computeHash(e, key)), []byte(e.Hash)) {
		return &VerifyError{Seq: e.Seq, Kind: Altered}
	}
	if e.PrevHash != w.prevHash {
		// e is intact but does not point at its predecessor: the
		// predecessor was rewritten with a recomputed hash (or e was
		// replaced wholesale, which breaks e+1 in turn).
		return &VerifyError{Seq: e.Seq - 1, Kind: Broken}
	}
	w.sawHMAC = w.sawHMAC || e.HashVersion == HashHMAC
	if e.KeyID == "" {
		w.rep.Unkeyed++
		if w.unkeyedTail == 0 {
			w.unkeyedTail = e.Seq
		}
	} else {
		w.unkeyedTail = 0
		if w.rep.KeyedFrom == 0 {
			w.rep.KeyedFrom = e.Seq
		}
	}
	if _, ok := w.atCheckpoint[e.Seq]; ok {
		w.atCheckpoint[e.Seq] = e.Hash
	}
	w.rep.Entries++
	w.rep.HeadSeq, w.rep.HeadHash, w.prevHash = e.Seq, e.Hash, e.Hash
	return nil
}
