package adoption

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
)

// Status is a provider's implementation status of one baseline item.
type Status string

// The statuses, in the order work progresses.
const (
	NotStarted  Status = "not_started"
	Planned     Status = "planned"
	InProgress  Status = "in_progress"
	Implemented Status = "implemented"
	Verified    Status = "verified"
	StatusNA    Status = "not_applicable" // with a justification
)

// Statuses lists the statuses in display order.
func Statuses() []Status {
	return []Status{NotStarted, Planned, InProgress, Implemented, Verified, StatusNA}
}

// ProviderStatuses lists the statuses an organisation may give its own
// item whose status is cur: all but Verified, which only a regulator
// sets (and which the organisation may keep while editing the rest).
func ProviderStatuses(cur Status) []Status {
	var out []Status
	for _, st := range Statuses() {
		if st != Verified || cur == Verified {
			out = append(out, st)
		}
	}
	return out
}

// Valid reports whether st is a known status.
func (st Status) Valid() bool {
	for _, k := range Statuses() {
		if st == k {
			return true
		}
	}
	return false
}

// Label is the status for people.
func (st Status) Label() string {
	switch st {
	case NotStarted:
		return "Not started"
	case Planned:
		return "Planned"
	case InProgress:
		return "In progress"
	case Implemented:
		return "Implemented"
	case Verified:
		return "Verified"
	case StatusNA:
		return "Not applicable"
	}
	return string(st)
}

// Done reports whether the item counts as implemented.
func (st Status) Done() bool { return st == Implemented || st == Verified }

// Open reports whether work is still due (an open item can be overdue).
func (st Status) Open() bool { return !st.Done() && st != StatusNA }

// Item is a provider's tracking state of one applicable baseline item.
type Item struct {
	ID            int64 // 0 until the first write
	RecID         string
	Rec           *catalog.Recommendation
	Baseline      BaselineItem
	Status        Status
	Justification string
	OwnerID       int64
	OwnerName     string
	TargetDate    string // YYYY-MM-DD or ""
	Version       int    // write counter, for optimistic concurrency
	UpdatedBy     string
	UpdatedAt     time.Time
	Overdue       bool
	Evidence      int    // number of evidence files
	WaivedUntil   string // a running waiver's expiry ("" none): not overdue meanwhile
	WaiverReason  string
}

// Tracking is a provider's view of its jurisdiction's latest baseline.
type Tracking struct {
	Baseline Version
	Items    []Item
	Overdue  int
	Done     int
	NA       int
}

// Items lists every item of the latest published baseline of the
// organisation's jurisdiction that applies to its licensee type, with its
// state: a bank gets the items for banks only, a regulator the items it
// must act on itself.
func (s *Store) Items(ctx context.Context, p Org) (Tracking, error) {
	if !p.Tracks() {
		return Tracking{}, ErrWrongOrg
	}
	v, err := s.Latest(ctx, p.Country)
	if err != nil {
		return Tracking{}, err
	}
	state, err := s.itemStates(ctx, s.db, p.ID, "")
	if err != nil {
		return Tracking{}, err
	}
	t := Tracking{Baseline: v}
	today := s.today()
	waived, err := activeWaivers(ctx, s.db, p.ID, today)
	if err != nil {
		return Tracking{}, err
	}
	for _, bi := range v.Items {
		if !bi.AppliesToLicensee(p.Licensee) {
			continue
		}
		it, ok := state[bi.RecID]
		if !ok {
			it = Item{RecID: bi.RecID, Status: NotStarted}
		}
		it.Baseline = bi
		it.Rec, _ = s.cat.Get(bi.RecID)
		w, ok := waived[bi.RecID]
		if ok {
			it.WaivedUntil, it.WaiverReason = w.Expires, w.Reason
		}
		it.Overdue = !ok && overdue(it.Status, bi.Deadline, it.TargetDate, today)
		switch {
		case it.Overdue:
			t.Overdue++
		case it.Status.Done():
			t.Done++
		case it.Status == StatusNA:
			t.NA++
		}
		t.Items = append(t.Items, it)
	}
	return t, nil
}

// itemStates reads the stored items of org (one when recID is set).
func (s *Store) itemStates(ctx context.Context, q db.Querier, orgID int64, recID string) (map[string]Item, error) {
	query := `SELECT t.id, t.rec_id, t.status, t.justification, COALESCE(t.owner_user_id, 0), COALESCE(ou.display_name, ''), COALESCE(ou.email, ''),
		t.target_date, t.version, COALESCE(uu.display_name, ''), COALESCE(uu.email, ''), t.updated_by, t.updated_at,
		(SELECT COUNT(*) FROM tracking_evidence e WHERE e.item_id = t.id)
		FROM tracking_items t LEFT JOIN users ou ON ou.id = t.owner_user_id LEFT JOIN users uu ON uu.id = t.updated_by
		WHERE t.org_id = ?`
	args := []any{orgID}
	if recID != "" {
		query += " AND t.rec_id = ?"
		args = append(args, recID)
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("adoption: items: %w", err)
	}
	defer rows.Close()
	out := map[string]Item{}
	for rows.Next() {
		var it Item
		var odn, oem, udn, uem string
		var by sql.NullInt64
		var at int64
		if err := rows.Scan(&it.ID, &it.RecID, &it.Status, &it.Justification, &it.OwnerID, &odn, &oem, &it.TargetDate, &it.Version,
			&udn, &uem, &by, &at, &it.Evidence); err != nil {
			return nil, err
		}
		if it.OwnerID != 0 {
			it.OwnerName = personName(odn, oem)
		}
		it.UpdatedBy = "the system"
		if by.Valid {
			it.UpdatedBy = personName(udn, uem)
		}
		it.UpdatedAt = time.UnixMicro(at).UTC()
		out[it.RecID] = it
	}
	return out, rows.Err()
}

// Item returns the provider's state of one applicable item (ErrNotFound
// for a recommendation the latest baseline does not make applicable).
func (s *Store) Item(ctx context.Context, p Org, recID string) (Item, error) {
	t, err := s.Items(ctx, p)
	if err != nil {
		return Item{}, err
	}
	for _, it := range t.Items {
		if it.RecID == recID {
			return it, nil
		}
	}
	return Item{}, ErrNotFound
}

// Update is a change of an item's state. Version is the version the
// editor read; the write is refused with a *StaleError when the item has
// moved on since.
type Update struct {
	Status        Status
	Justification string
	OwnerID       int64
	TargetDate    string
	Version       int
}

const maxJustification = 2000

// Update changes an item. Nothing is written unless the whole change is
// valid and Version is current.
func (s *Store) Update(ctx context.Context, p Org, recID string, u Update) (Item, error) {
	cur, err := s.Item(ctx, p, recID)
	if err != nil {
		return Item{}, err
	}
	if u.Justification, err = checkText("justification", "The justification", u.Justification, maxJustification); err != nil {
		return Item{}, err
	}
	u.TargetDate = strings.TrimSpace(u.TargetDate)
	if !u.Status.Valid() {
		return Item{}, invalid("status", "Choose a status from the list.")
	}
	if u.Status == Verified && cur.Status != Verified {
		return Item{}, invalid("status", "Only your regulator marks an item verified, when it reviews your report. Choose Implemented; the regulator can then verify it.")
	}
	if u.Status == StatusNA && u.Justification == "" {
		return Item{}, invalid("justification", "Explain why this item does not apply to your organisation; the regulator reads the justification.")
	}
	if u.TargetDate != "" {
		if _, err := time.Parse(time.DateOnly, u.TargetDate); err != nil {
			return Item{}, invalid("target_date", "Give the target date as YYYY-MM-DD.")
		}
		// The regulator's deadline binds; an own target may only be earlier.
		if dl := cur.Baseline.Deadline; dl != "" && u.TargetDate > dl {
			return Item{}, invalid("target_date", "The regulator's deadline for this item is "+dl+"; your target date may be that day or earlier, not later.")
		}
	}
	if u.OwnerID != 0 {
		ms, err := s.Members(ctx, p.ID)
		if err != nil {
			return Item{}, err
		}
		found := false
		for _, m := range ms {
			found = found || m.ID == u.OwnerID
		}
		if !found {
			return Item{}, invalid("owner", "The owner must be an active member of your organisation.")
		}
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		states, err := s.itemStates(ctx, tx, p.ID, recID)
		if err != nil {
			return err
		}
		old, exists := states[recID]
		if !exists {
			old = Item{Status: NotStarted}
		}
		if old.Version != u.Version {
			return &StaleError{By: old.UpdatedBy, At: old.UpdatedAt, Version: old.Version}
		}
		changes := map[string][2]string{}
		note := func(field, a, b string) {
			if a != b {
				changes[field] = [2]string{a, b}
			}
		}
		note("status", string(old.Status), string(u.Status))
		note("justification", old.Justification, u.Justification)
		note("owner", old.OwnerName, ownerName(ctx, tx, u.OwnerID))
		note("target_date", old.TargetDate, u.TargetDate)
		if len(changes) == 0 {
			return nil // nothing changed: no new version, no history line
		}
		var id int64
		if !exists {
			err = tx.QueryRow(ctx, `INSERT INTO tracking_items (org_id, rec_id, status, justification, owner_user_id, target_date, version, updated_by, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`,
				p.ID, recID, string(u.Status), u.Justification, nullID(u.OwnerID), u.TargetDate, nullID(actor), now.UnixMicro()).Scan(&id)
			if db.IsUniqueViolation(err) {
				// Another first write won the race (PostgreSQL).
				return &StaleError{By: "another user", At: now, Version: 1}
			}
		} else {
			id = old.ID
			var res sql.Result
			res, err = tx.Exec(ctx, `UPDATE tracking_items SET status = ?, justification = ?, owner_user_id = ?, target_date = ?,
				version = version + 1, updated_by = ?, updated_at = ? WHERE id = ? AND version = ?`,
				string(u.Status), u.Justification, nullID(u.OwnerID), u.TargetDate, nullID(actor), now.UnixMicro(), id, u.Version)
			if err == nil {
				if n, _ := res.RowsAffected(); n != 1 {
					return &StaleError{By: "another user", At: now, Version: u.Version + 1}
				}
			}
		}
		if err != nil {
			return fmt.Errorf("adoption: update item: %w", err)
		}
		if err := history(ctx, tx, id, p.ID, u.Version+1, now, actor, "update", changes); err != nil {
			return err
		}
		det := map[string]any{"rec": recID, "version": u.Version + 1}
		for k, v := range changes {
			if k != "justification" {
				det[k] = v[1]
			}
		}
		return appendAudit(ctx, tx, p.ID, "tracking.update", "tracking_item", idStr(p.ID)+"/"+recID, det)
	})
	if err != nil {
		return Item{}, err
	}
	return s.Item(ctx, p, recID)
}

func ownerName(ctx context.Context, q db.Querier, id int64) string {
	if id == 0 {
		return ""
	}
	return userName(ctx, q, sql.NullInt64{Int64: id, Valid: true})
}

func history(ctx context.Context, tx *db.Tx, itemID, orgID int64, version int, at time.Time, actor int64, kind string, changes any) error {
	b, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO tracking_history (item_id, org_id, version, at, user_id, kind, changes) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		itemID, orgID, version, at.UnixMicro(), nullID(actor), kind, string(b))
	if err != nil {
		return fmt.Errorf("adoption: history: %w", err)
	}
	return nil
}

// ensureItem returns the item row of recID, creating it (version 0, not
// started) for the first comment or evidence file.
func ensureItem(ctx context.Context, tx *db.Tx, orgID int64, recID string, now time.Time) (id int64, version int, err error) {
	_, err = tx.Exec(ctx, `INSERT INTO tracking_items (org_id, rec_id, updated_at) VALUES (?, ?, ?) ON CONFLICT (org_id, rec_id) DO NOTHING`,
		orgID, recID, now.UnixMicro())
	if err != nil {
		return 0, 0, fmt.Errorf("adoption: ensure item: %w", err)
	}
	err = tx.QueryRow(ctx, "SELECT id, version FROM tracking_items WHERE org_id = ? AND rec_id = ?", orgID, recID).Scan(&id, &version)
	return id, version, err
}

const maxComment = 4000

// Comment is a remark on an item.
type Comment struct {
	ID     int64
	Author string
	At     time.Time
	Body   string
}

// AddComment appends a comment to an item.
func (s *Store) AddComment(ctx context.Context, p Org, recID, body string) error {
	if _, err := s.Item(ctx, p, recID); err != nil {
		return err
	}
	body, err := checkText("body", "The comment", body, maxComment)
	if err != nil {
		return err
	}
	if body == "" {
		return invalid("body", "Write a comment first.")
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		id, v, err := ensureItem(ctx, tx, p.ID, recID, now)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO tracking_comments (item_id, org_id, user_id, at, body) VALUES (?, ?, ?, ?, ?)",
			id, p.ID, nullID(actor), now.UnixMicro(), body); err != nil {
			return fmt.Errorf("adoption: comment: %w", err)
		}
		if err := history(ctx, tx, id, p.ID, v, now, actor, "comment", map[string]any{}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, p.ID, "tracking.comment", "tracking_item", idStr(p.ID)+"/"+recID, map[string]any{"rec": recID})
	})
}

// Evidence is a file attached to an item.
type Evidence struct {
	ID       int64
	RecID    string
	Name     string
	Blob     blob.Blob
	Uploader string
	At       time.Time
}

// maxEvidence bounds one evidence file.
const maxEvidence = 10 << 20

// EvidencePolicy returns the size limit and the accepted types of evidence.
func EvidencePolicy() blob.Policy {
	return blob.Policy{MaxSize: maxEvidence, Allowed: blob.EvidenceTypes()}
}

// cleanFileName keeps the base name of what the browser sent, printable
// and bounded; it is shown and offered as the download name only.
func cleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '/' {
			return '_'
		}
		return r
	}, name)
	name = cleanText(name, 200)
	if name == "" || name == "." || name == ".." {
		name = "evidence"
	}
	return name
}

// AddEvidence stores an upload (already spooled and checked by blob.Spool)
// and attaches it to an item, in one transaction.
func (s *Store) AddEvidence(ctx context.Context, p Org, recID string, u blob.Upload, filename string) (Evidence, error) {
	if _, err := s.Item(ctx, p, recID); err != nil {
		return Evidence{}, err
	}
	now := s.nowUTC()
	actor := actorID(ctx)
	e := Evidence{RecID: recID, Name: cleanFileName(filename), At: now}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		b, err := s.blobs.Insert(ctx, tx, u)
		if err != nil {
			return err
		}
		e.Blob = b
		id, v, err := ensureItem(ctx, tx, p.ID, recID, now)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO tracking_evidence (item_id, org_id, blob_sha256, filename, user_id, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			id, p.ID, b.SHA256, e.Name, nullID(actor), now.UnixMicro()).Scan(&e.ID); err != nil {
			return fmt.Errorf("adoption: evidence: %w", err)
		}
		if err := history(ctx, tx, id, p.ID, v, now, actor, "evidence", map[string]any{"file": e.Name, "sha256": b.SHA256}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, p.ID, "tracking.evidence.add", "tracking_item", idStr(p.ID)+"/"+recID,
			map[string]any{"rec": recID, "sha256": b.SHA256, "size": b.Size, "media_type": b.MediaType})
	})
	if err != nil {
		return Evidence{}, err
	}
	return e, nil
}

// EvidenceFile returns one evidence file of org p with its bytes; an ID
// of another organisation is ErrNotFound, like an unknown one.
func (s *Store) EvidenceFile(ctx context.Context, orgID, id int64) (Evidence, []byte, error) {
	var e Evidence
	var sum string
	err := s.db.QueryRow(ctx, `SELECT e.id, t.rec_id, e.filename, e.blob_sha256 FROM tracking_evidence e JOIN tracking_items t ON t.id = e.item_id
		WHERE e.id = ? AND e.org_id = ?`, id, orgID).Scan(&e.ID, &e.RecID, &e.Name, &sum)
	if errors.Is(err, sql.ErrNoRows) {
		return Evidence{}, nil, ErrNotFound
	}
	if err != nil {
		return Evidence{}, nil, err
	}
	b, data, err := s.blobs.Get(ctx, sum)
	if err != nil {
		return Evidence{}, nil, err
	}
	e.Blob = b
	return e, data, nil
}

// HistoryEntry is one line of an item's history.
type HistoryEntry struct {
	Version int
	At      time.Time
	By      string
	Kind    string
	Changes map[string][2]string // update: field → old, new
	Detail  map[string]string    // evidence: file, sha256
}

// Detail is an item's history, comments and evidence, oldest first.
type Detail struct {
	History  []HistoryEntry
	Comments []Comment
	Evidence []Evidence
}

// ItemDetail reads the history, comments and evidence of an item.
func (s *Store) ItemDetail(ctx context.Context, p Org, it Item) (Detail, error) {
	var d Detail
	if it.ID == 0 {
		return d, nil
	}
	rows, err := s.db.Query(ctx, `SELECT h.version, h.at, h.user_id, COALESCE(u.display_name, ''), COALESCE(u.email, ''), h.kind, h.changes
		FROM tracking_history h LEFT JOIN users u ON u.id = h.user_id WHERE h.item_id = ? AND h.org_id = ? ORDER BY h.id`, it.ID, p.ID)
	if err != nil {
		return d, err
	}
	defer rows.Close()
	for rows.Next() {
		var h HistoryEntry
		var at int64
		var uid sql.NullInt64
		var dn, em, ch string
		if err := rows.Scan(&h.Version, &at, &uid, &dn, &em, &h.Kind, &ch); err != nil {
			return d, err
		}
		h.At, h.By = time.UnixMicro(at).UTC(), "the system"
		if uid.Valid {
			h.By = personName(dn, em)
		}
		if h.Kind == "update" {
			json.Unmarshal([]byte(ch), &h.Changes)
		} else {
			json.Unmarshal([]byte(ch), &h.Detail)
		}
		d.History = append(d.History, h)
	}
	if err := rows.Err(); err != nil {
		return d, err
	}
	crows, err := s.db.Query(ctx, `SELECT c.id, c.at, c.user_id, COALESCE(u.display_name, ''), COALESCE(u.email, ''), c.body
		FROM tracking_comments c LEFT JOIN users u ON u.id = c.user_id WHERE c.item_id = ? AND c.org_id = ? ORDER BY c.id`, it.ID, p.ID)
	if err != nil {
		return d, err
	}
	defer crows.Close()
	for crows.Next() {
		var c Comment
		var at int64
		var uid sql.NullInt64
		var dn, em string
		if err := crows.Scan(&c.ID, &at, &uid, &dn, &em, &c.Body); err != nil {
			return d, err
		}
		c.At, c.Author = time.UnixMicro(at).UTC(), personName(dn, em)
		d.Comments = append(d.Comments, c)
	}
	if err := crows.Err(); err != nil {
		return d, err
	}
	d.Evidence, err = s.evidenceOf(ctx, s.db, p.ID, it.ID)
	return d, err
}

func (s *Store) evidenceOf(ctx context.Context, q db.Querier, orgID, itemID int64) ([]Evidence, error) {
	rows, err := q.Query(ctx, `SELECT e.id, e.filename, e.at, COALESCE(u.display_name, ''), COALESCE(u.email, ''), b.sha256, b.size, b.media_type
		FROM tracking_evidence e JOIN blobs b ON b.sha256 = e.blob_sha256 LEFT JOIN users u ON u.id = e.user_id
		WHERE e.item_id = ? AND e.org_id = ? ORDER BY e.id`, itemID, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Evidence
	for rows.Next() {
		var e Evidence
		var at int64
		var dn, em string
		if err := rows.Scan(&e.ID, &e.Name, &at, &dn, &em, &e.Blob.SHA256, &e.Blob.Size, &e.Blob.MediaType); err != nil {
			return nil, err
		}
		e.At, e.Uploader = time.UnixMicro(at).UTC(), personName(dn, em)
		out = append(out, e)
	}
	return out, rows.Err()
}
