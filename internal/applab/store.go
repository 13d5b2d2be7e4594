// Package applab is the app security testing lab of the platform: apps and
// their versions per organisation, uploaded APK/AAB/APKS files scanned in
// the background by the static scanner (internal/appscan), each version's
// report with the catalogue recommendations linked, the diff with the
// previous version, a trend of findings by severity, triage decisions that
// follow a finding across versions by its fingerprint, the ITU lab's test
// matrix with the tests a tester records on a device or behind a proxy, and
// the exchange between a provider and its regulator.
//
// Records: an app belongs to one organisation (a DFS provider or an
// operator), its owner. The records of an app (versions, scans, triage,
// tester results and evidence) are held by the organisation that uploaded
// it: the owner, or a regulator of the owner's country testing the app in
// lab mode, whose records are its own and never join the owner's. A
// version is one build, keyed by the SHA-256 of the file: another binary
// under the same package and version code is another version, flagged as
// such, never a replacement.
//
// Visibility: an organisation sees the records it holds. A regulator also
// sees an owner's version that the owner shared with it. Nobody else sees
// anything, and "not yours" answers as "not found".
package applab

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
)

// Errors of the store; handlers map them with errors.Is.
var (
	ErrNotFound = errors.New("applab: not found")
	ErrInvalid  = errors.New("applab: invalid input")
	// ErrNoWork: no scan is waiting (Claim).
	ErrNoWork = errors.New("applab: no scan waiting")
)

// InvalidError names the form field that is wrong, in words for a person.
type InvalidError struct{ Field, Problem string }

func (e *InvalidError) Error() string   { return "applab: " + e.Field + ": " + e.Problem }
func (e *InvalidError) Is(t error) bool { return t == ErrInvalid }

func invalid(field, problem string) error { return &InvalidError{field, problem} }

// Org is an organisation as the lab sees it.
type Org struct {
	ID      int64
	Name    string
	Type    identity.OrgType
	Country string
}

// IsRegulator reports whether the organisation oversees a market.
func (o Org) IsRegulator() bool {
	return o.Type == identity.OrgTelecomRegulator || o.Type == identity.OrgCentralBank
}

// State is where a scan is.
type State string

// Scan states.
const (
	Queued  State = "queued"
	Running State = "running"
	Done    State = "done"
	Failed  State = "failed"
)

// Counts are findings by severity.
type Counts struct{ Critical, High, Medium, Low, Info int }

// Total is the number of findings.
func (c Counts) Total() int { return c.Critical + c.High + c.Medium + c.Low + c.Info }

// countsOf counts the app's own findings. Findings in library code are
// left out, as the scanner's own summary leaves them out: the provider
// cannot fix a library's code in place, and a trend that moves with a
// library upgrade says nothing about the app.
func countsOf(fs []appscan.Finding) Counts {
	var c Counts
	for _, f := range fs {
		if f.InLibrary {
			continue
		}
		switch f.Severity {
		case appscan.Critical:
			c.Critical++
		case appscan.High:
			c.High++
		case appscan.Medium:
			c.Medium++
		case appscan.Low:
			c.Low++
		default:
			c.Info++
		}
	}
	return c
}

// Scan is one uploaded file and its scan.
type Scan struct {
	ID           int64
	OrgID        int64 // owner of the app
	UploaderOrg  int64 // holder of the records: the owner, or a regulator in lab mode
	UploaderUser int64
	SHA256       string
	FileName     string
	Size         int64
	State        State
	Attempts     int
	Percent      int
	Message      string
	Reason       string
	VersionID    int64 // 0 until done
	Counts       Counts
	Created      time.Time
	Finished     time.Time
	// Beat is the latest heartbeat of the scan's running attempt: its
	// start, then every progress report, at least every 10 s.
	Beat time.Time
}

// StaleAfter is how long a running scan may go without a heartbeat before
// it is taken for interrupted: six beats missed (the job queue's own
// heartbeats use the same bound).
const StaleAfter = time.Minute

// Interrupted reports, at now, a running scan whose process stopped
// beating (it was killed, or its machine went down): the scan is about to
// be queued again, or failed once it used up its attempts.
func (sc Scan) Interrupted(now time.Time) bool {
	return sc.State == Running && sc.Beat.Before(now.Add(-StaleAfter))
}

// App is one package of one organisation, in the records of one
// organisation: its owner's, or a regulator's lab tests of it.
type App struct {
	ID          int64
	OrgID       int64  // owner
	UploaderOrg int64  // holder of the records
	Owner       string // the owner's name
	Package     string
	Created     time.Time
	Versions    int
}

// Version is one build of an app (one binary), with its latest finished
// scan.
type Version struct {
	ID          int64
	AppID       int64
	OrgID       int64 // owner of the app
	UploaderOrg int64 // holder of the records
	Package     string
	VersionName string
	VersionCode int64
	Created     time.Time
	ScanID      int64 // latest done scan (0: none)
	Scans       int   // scans of this version (the same build uploaded again, rescans)
	Counts      Counts
	SHA256      string // of the file: the build
	// SameCode counts the other builds of the app (in the same records)
	// with this version code: a rebuild that kept the code, or another
	// binary passed off as this version.
	SameCode int
}

// Label is how a version is named for people.
func (v Version) Label() string {
	if v.VersionName == "" {
		return fmt.Sprintf("code %d", v.VersionCode)
	}
	return fmt.Sprintf("%s (%d)", v.VersionName, v.VersionCode)
}

// Build is the short form of the build's SHA-256, to tell builds apart.
func (v Version) Build() string { return v.SHA256[:min(len(v.SHA256), 12)] }

// Store keeps the lab's data. Every write runs in one transaction with its
// audit entry (actor from audit.WithActor).
type Store struct {
	db    *db.DB
	blobs *blob.Store
	now   func() time.Time
}

// NewStore returns the store over d (migrated); now is the clock (nil: time.Now).
func NewStore(d *db.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: d, blobs: blob.NewStore(d, now), now: now}
}

// DB is the store's database (for the job queue adapter).
func (s *Store) DB() *db.DB { return s.db }

func (s *Store) nowUTC() time.Time { return time.UnixMicro(s.now().UnixMicro()).UTC() }

func (s *Store) record(ctx context.Context, tx *db.Tx, org int64, action, typ string, id int64, details map[string]any) error {
	_, err := audit.Append(ctx, tx, audit.Entry{Time: s.nowUTC(), OrgID: org, Action: action, ObjectType: typ,
		ObjectID: fmt.Sprint(id), Details: details})
	return err
}

// Org loads an organisation.
func (s *Store) Org(ctx context.Context, id int64) (Org, error) {
	var o Org
	err := s.db.QueryRow(ctx, "SELECT id, name, type, country FROM orgs WHERE id = ?", id).Scan(&o.ID, &o.Name, &o.Type, &o.Country)
	if errors.Is(err, sql.ErrNoRows) {
		return Org{}, ErrNotFound
	}
	if err != nil {
		return Org{}, fmt.Errorf("applab: org: %w", err)
	}
	return o, nil
}

// Providers lists the organisations whose apps a regulator may upload in
// lab mode: DFS providers and operators of its country.
func (s *Store) Providers(ctx context.Context, reg Org) ([]Org, error) {
	if !reg.IsRegulator() {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, "SELECT id, name, type, country FROM orgs WHERE country = ? AND type IN (?, ?) ORDER BY name",
		reg.Country, identity.OrgDFSProvider, identity.OrgMNO)
	if err != nil {
		return nil, fmt.Errorf("applab: providers: %w", err)
	}
	defer rows.Close()
	var out []Org
	for rows.Next() {
		var o Org
		if err := rows.Scan(&o.ID, &o.Name, &o.Type, &o.Country); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Regulators lists the regulators of an organisation's country.
func (s *Store) Regulators(ctx context.Context, o Org) ([]Org, error) {
	rows, err := s.db.Query(ctx, "SELECT id, name, type, country FROM orgs WHERE country = ? AND type IN (?, ?) AND id <> ? ORDER BY name",
		o.Country, identity.OrgTelecomRegulator, identity.OrgCentralBank, o.ID)
	if err != nil {
		return nil, fmt.Errorf("applab: regulators: %w", err)
	}
	defer rows.Close()
	var out []Org
	for rows.Next() {
		var r Org
		if err := rows.Scan(&r.ID, &r.Name, &r.Type, &r.Country); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// NewScan stores an upload (already read and checked) and queues its scan:
// blob, scan row and job commit together or not at all. enqueue runs
// inside the transaction (a River insert, or nothing for the in-process
// runner, for which the row is the queue entry).
func (s *Store) NewScan(ctx context.Context, owner, uploader Org, user int64, up blob.Upload, name string,
	enqueue func(ctx context.Context, tx *db.Tx, scanID int64) error) (Scan, error) {
	if owner.ID != uploader.ID && !MayTest(uploader, owner) {
		return Scan{}, errProvider
	}
	sc := Scan{OrgID: owner.ID, UploaderOrg: uploader.ID, UploaderUser: user, SHA256: up.SHA256, FileName: cleanName(name),
		Size: up.Size, State: Queued, Created: s.nowUTC()}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := s.blobs.Insert(ctx, tx, up); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO applab_scans (org_id, uploader_org, uploader_user, blob_sha256, file_name, size, state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, 'queued', ?) RETURNING id`, sc.OrgID, sc.UploaderOrg, nullID(user), sc.SHA256, sc.FileName, sc.Size,
			sc.Created.UnixMicro()).Scan(&sc.ID)
		if err != nil {
			return fmt.Errorf("applab: insert scan: %w", err)
		}
		if enqueue != nil {
			if err := enqueue(ctx, tx, sc.ID); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, uploader.ID, "applab.upload", "scan", sc.ID, map[string]any{"sha256": sc.SHA256, "size": sc.Size,
			"file": sc.FileName, "owner_org": owner.ID})
	})
	if err != nil {
		return Scan{}, err
	}
	return sc, nil
}

// errProvider is the one answer to a lab-mode upload for an organisation
// the uploader may not test, whether it does not exist, is of another
// country or is no provider: the answer must not tell them apart.
var errProvider = invalid("provider", "choose a provider or operator of your country (lab mode is for regulators)")

// MayTest reports whether reg may upload an app of owner in lab mode: a
// regulator, and a DFS provider or operator of its country.
func MayTest(reg, owner Org) bool {
	return reg.IsRegulator() && reg.ID != owner.ID && reg.Country == owner.Country &&
		(owner.Type == identity.OrgDFSProvider || owner.Type == identity.OrgMNO)
}

func cleanName(n string) string {
	n = n[strings.LastIndexAny(n, `/\`)+1:]
	if len(n) > 200 {
		n = n[:200]
	}
	return strings.ToValidUTF8(n, "")
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

const scanCols = `id, org_id, uploader_org, COALESCE(uploader_user, 0), blob_sha256, file_name, size, state, attempts, percent, message,
	reason, COALESCE(version_id, 0), n_critical, n_high, n_medium, n_low, n_info, created_at, finished_at, heartbeat_at`

func scanScan(row interface{ Scan(...any) error }) (Scan, error) {
	var sc Scan
	var created, finished, beat int64
	err := row.Scan(&sc.ID, &sc.OrgID, &sc.UploaderOrg, &sc.UploaderUser, &sc.SHA256, &sc.FileName, &sc.Size, &sc.State, &sc.Attempts,
		&sc.Percent, &sc.Message, &sc.Reason, &sc.VersionID, &sc.Counts.Critical, &sc.Counts.High, &sc.Counts.Medium, &sc.Counts.Low,
		&sc.Counts.Info, &created, &finished, &beat)
	if err != nil {
		return Scan{}, err
	}
	sc.Created = time.UnixMicro(created).UTC()
	if finished > 0 {
		sc.Finished = time.UnixMicro(finished).UTC()
	}
	sc.Beat = time.UnixMicro(beat).UTC()
	return sc, nil
}

// ScanByID loads a scan without a visibility check (for the runner).
func (s *Store) ScanByID(ctx context.Context, id int64) (Scan, error) {
	sc, err := scanScan(s.db.QueryRow(ctx, "SELECT "+scanCols+" FROM applab_scans WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Scan{}, ErrNotFound
	}
	if err != nil {
		return Scan{}, fmt.Errorf("applab: scan: %w", err)
	}
	return sc, nil
}

// ScanFor loads a scan that org may see: one it uploaded (its records).
func (s *Store) ScanFor(ctx context.Context, org, id int64) (Scan, error) {
	sc, err := s.ScanByID(ctx, id)
	if err != nil {
		return Scan{}, err
	}
	if sc.UploaderOrg != org {
		return Scan{}, ErrNotFound
	}
	return sc, nil
}

// RecentScans lists the latest scans an organisation uploaded.
func (s *Store) RecentScans(ctx context.Context, org int64, limit int) ([]Scan, error) {
	rows, err := s.db.Query(ctx, "SELECT "+scanCols+" FROM applab_scans WHERE uploader_org = ? ORDER BY id DESC LIMIT ?", org, limit)
	if err != nil {
		return nil, fmt.Errorf("applab: scans: %w", err)
	}
	defer rows.Close()
	var out []Scan
	for rows.Next() {
		sc, err := scanScan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// Result returns a done scan's result.
func (s *Store) Result(ctx context.Context, scanID int64) (*appscan.Result, error) {
	var js sql.NullString
	err := s.db.QueryRow(ctx, "SELECT result FROM applab_scans WHERE id = ? AND state = 'done'", scanID).Scan(&js)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !js.Valid) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("applab: result: %w", err)
	}
	var res appscan.Result
	if err := json.Unmarshal([]byte(js.String), &res); err != nil {
		return nil, fmt.Errorf("applab: decode result of scan %d: %w", scanID, err)
	}
	return &res, nil
}

// Claim takes the oldest waiting scan for a worker: a queued one, or a
// running one whose worker stopped beating for staleAfter (it died). The
// update is conditional on the state read, so two workers never hold one
// scan. Scans that used up maxAttempts fail instead.
func (s *Store) Claim(ctx context.Context, staleAfter time.Duration, maxAttempts int) (Scan, error) {
	now := s.nowUTC()
	stale := now.Add(-staleAfter).UnixMicro()
	var id int64
	// "No work" must not roll back the failing of exhausted scans, so it
	// is a flag rather than the transaction's error.
	none := false
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE applab_scans SET state = 'failed', finished_at = ?,
			reason = CASE WHEN reason = '' THEN 'the scan was interrupted too often' ELSE reason END
			WHERE attempts >= ? AND (state = 'queued' OR (state = 'running' AND heartbeat_at < ?))`, now.UnixMicro(), maxAttempts, stale); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT id FROM applab_scans WHERE state = 'queued' OR (state = 'running' AND heartbeat_at < ?)
			ORDER BY id LIMIT 1`, stale).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			none = true
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE applab_scans SET state = 'running', attempts = attempts + 1, heartbeat_at = ?,
			message = 'starting' WHERE id = ? AND (state = 'queued' OR (state = 'running' AND heartbeat_at < ?))`, now.UnixMicro(), id, stale)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			none = true
		}
		return nil
	})
	if err != nil {
		return Scan{}, fmt.Errorf("applab: claim: %w", err)
	}
	if none {
		return Scan{}, ErrNoWork
	}
	return s.ScanByID(ctx, id)
}

// Start marks scan id running for a job queue's worker (which holds the
// job, so no claim is needed); ErrNotFound when it is not waiting.
func (s *Store) Start(ctx context.Context, id int64) error {
	res, err := s.db.Exec(ctx, `UPDATE applab_scans SET state = 'running', attempts = attempts + 1, heartbeat_at = ?, message = 'starting'
		WHERE id = ? AND state IN ('queued', 'running')`, s.nowUTC().UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("applab: start scan %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrNotFound
	}
	return nil
}

// Requeue puts a running scan back in the queue with a message.
func (s *Store) Requeue(ctx context.Context, id int64, msg string) error {
	_, err := s.db.Exec(ctx, "UPDATE applab_scans SET state = 'queued', message = ? WHERE id = ? AND state = 'running'", msg, id)
	return err
}

// Progress records a running scan's progress (and is its heartbeat).
func (s *Store) Progress(ctx context.Context, id int64, percent int, msg string) error {
	percent = min(max(percent, 0), 99)
	_, err := s.db.Exec(ctx, "UPDATE applab_scans SET percent = ?, message = ?, heartbeat_at = ? WHERE id = ? AND state = 'running'",
		percent, msg, s.nowUTC().UnixMicro(), id)
	return err
}

// Fail marks a scan failed with a reason for people.
func (s *Store) Fail(ctx context.Context, id int64, reason string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var org int64
		if err := tx.QueryRow(ctx, "SELECT uploader_org FROM applab_scans WHERE id = ?", id).Scan(&org); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE applab_scans SET state = 'failed', reason = ?, finished_at = ? WHERE id = ? AND state <> 'done'",
			reason, s.nowUTC().UnixMicro(), id); err != nil {
			return err
		}
		return s.record(ctx, tx, org, "applab.scan.fail", "scan", id, map[string]any{"reason": reason})
	})
}

// Blob opens a scan's file for reading; it is read a chunk at a time.
func (s *Store) Blob(ctx context.Context, sum string) (*blob.Reader, error) {
	return s.blobs.Open(ctx, sum)
}

// Complete stores a scan's result: the app is found or created in the
// uploader's records by the manifest's package, the version by the file's
// SHA-256 (the same binary is the same build; another binary is another
// version, whatever its version code says), and the counts are kept for
// trends. A scan that is already done is left alone (a retried job finds
// its work finished).
func (s *Store) Complete(ctx context.Context, id int64, res *appscan.Result) (Scan, error) {
	js, err := json.Marshal(res)
	if err != nil {
		return Scan{}, err
	}
	pkg := res.App.Package
	if pkg == "" {
		pkg = "(unknown package)"
	}
	c := countsOf(res.Findings)
	now := s.nowUTC().UnixMicro()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var org, uploader int64
		var sum string
		var state State
		if err := tx.QueryRow(ctx, "SELECT org_id, uploader_org, blob_sha256, state FROM applab_scans WHERE id = ?", id).
			Scan(&org, &uploader, &sum, &state); err != nil {
			return err
		}
		if state == Done {
			return nil
		}
		var appID, verID int64
		if err := tx.QueryRow(ctx, `INSERT INTO applab_apps (org_id, uploader_org, package, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (org_id, uploader_org, package) DO UPDATE SET package = excluded.package RETURNING id`, org, uploader, pkg, now).Scan(&appID); err != nil {
			return fmt.Errorf("app: %w", err)
		}
		// The version's name and code are those of the build's first scan:
		// the same bytes carry the same manifest.
		if err := tx.QueryRow(ctx, `INSERT INTO applab_versions (app_id, sha256, version_name, version_code, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (app_id, sha256) DO UPDATE SET sha256 = excluded.sha256 RETURNING id`,
			appID, sum, res.App.VersionName, res.App.VersionCode, now).Scan(&verID); err != nil {
			return fmt.Errorf("version: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE applab_scans SET state = 'done', percent = 100, message = 'done', reason = '', version_id = ?, result = ?,
			n_critical = ?, n_high = ?, n_medium = ?, n_low = ?, n_info = ?, finished_at = ? WHERE id = ?`,
			verID, string(js), c.Critical, c.High, c.Medium, c.Low, c.Info, now, id); err != nil {
			return err
		}
		return s.record(ctx, tx, uploader, "applab.scan.done", "scan", id, map[string]any{"package": pkg, "version_code": res.App.VersionCode,
			"findings": c.Total(), "version": verID})
	})
	if err != nil {
		return Scan{}, fmt.Errorf("applab: complete scan %d: %w", id, err)
	}
	return s.ScanByID(ctx, id)
}

// Apps lists the apps in an organisation's records: its own, and for a
// regulator those it tested in lab mode.
func (s *Store) Apps(ctx context.Context, org int64) ([]App, error) {
	rows, err := s.db.Query(ctx, `SELECT a.id, a.org_id, a.uploader_org, o.name, a.package, a.created_at,
		(SELECT COUNT(*) FROM applab_versions v WHERE v.app_id = a.id)
		FROM applab_apps a JOIN orgs o ON o.id = a.org_id WHERE a.uploader_org = ? ORDER BY a.package, a.org_id`, org)
	if err != nil {
		return nil, fmt.Errorf("applab: apps: %w", err)
	}
	defer rows.Close()
	var out []App
	for rows.Next() {
		var a App
		var at int64
		if err := rows.Scan(&a.ID, &a.OrgID, &a.UploaderOrg, &a.Owner, &a.Package, &at, &a.Versions); err != nil {
			return nil, err
		}
		a.Created = time.UnixMicro(at).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// AppFor loads an app in org's records.
func (s *Store) AppFor(ctx context.Context, org, id int64) (App, error) {
	var a App
	var at int64
	err := s.db.QueryRow(ctx, `SELECT a.id, a.org_id, a.uploader_org, o.name, a.package, a.created_at FROM applab_apps a JOIN orgs o ON o.id = a.org_id
		WHERE a.id = ? AND a.uploader_org = ?`, id, org).Scan(&a.ID, &a.OrgID, &a.UploaderOrg, &a.Owner, &a.Package, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return App{}, ErrNotFound
	}
	if err != nil {
		return App{}, fmt.Errorf("applab: app: %w", err)
	}
	a.Created = time.UnixMicro(at).UTC()
	return a, nil
}

const versionSelect = `SELECT v.id, v.app_id, a.org_id, a.uploader_org, a.package, v.sha256, v.version_name, v.version_code, v.created_at,
	COALESCE((SELECT MAX(s.id) FROM applab_scans s WHERE s.version_id = v.id AND s.state = 'done'), 0),
	(SELECT COUNT(*) FROM applab_scans s WHERE s.version_id = v.id),
	(SELECT COUNT(*) FROM applab_versions o WHERE o.app_id = v.app_id AND o.version_code = v.version_code AND o.id <> v.id)
	FROM applab_versions v JOIN applab_apps a ON a.id = v.app_id `

func (s *Store) versions(ctx context.Context, where string, args ...any) ([]Version, error) {
	rows, err := s.db.Query(ctx, versionSelect+where, args...)
	if err != nil {
		return nil, fmt.Errorf("applab: versions: %w", err)
	}
	var out []Version
	for rows.Next() {
		var v Version
		var at int64
		if err := rows.Scan(&v.ID, &v.AppID, &v.OrgID, &v.UploaderOrg, &v.Package, &v.SHA256, &v.VersionName, &v.VersionCode, &at,
			&v.ScanID, &v.Scans, &v.SameCode); err != nil {
			rows.Close()
			return nil, err
		}
		v.Created = time.UnixMicro(at).UTC()
		out = append(out, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].ScanID == 0 {
			continue
		}
		c := &out[i].Counts
		if err := s.db.QueryRow(ctx, "SELECT n_critical, n_high, n_medium, n_low, n_info FROM applab_scans WHERE id = ?", out[i].ScanID).
			Scan(&c.Critical, &c.High, &c.Medium, &c.Low, &c.Info); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Versions lists an app's versions, oldest first (by version code).
func (s *Store) Versions(ctx context.Context, appID int64) ([]Version, error) {
	return s.versions(ctx, "WHERE v.app_id = ? ORDER BY v.version_code, v.id", appID)
}

// Access is how an organisation sees a version.
type Access int

// Kinds of access to a version.
const (
	NoAccess  Access = iota
	Owner            // the app and the records are the organisation's own
	Regulator        // the owner's version, shared with the organisation (read only)
	LabTest          // the organisation's own lab-mode records of another's app
)

// VersionFor loads a version that org may see and says how it sees it:
// the records it holds, or an owner's version shared with it. Whose app
// a version is never opens another organisation's records.
func (s *Store) VersionFor(ctx context.Context, org Org, id int64) (Version, Access, error) {
	vs, err := s.versions(ctx, "WHERE v.id = ?", id)
	if err != nil {
		return Version{}, NoAccess, err
	}
	if len(vs) == 0 {
		return Version{}, NoAccess, ErrNotFound
	}
	v := vs[0]
	switch {
	case v.UploaderOrg == org.ID && v.OrgID == org.ID:
		return v, Owner, nil
	case v.UploaderOrg == org.ID:
		return v, LabTest, nil
	case !org.IsRegulator() || v.UploaderOrg != v.OrgID:
		// Only the owner's own records are ever shared.
		return Version{}, NoAccess, ErrNotFound
	}
	var n int
	err = s.db.QueryRow(ctx, "SELECT COUNT(*) FROM applab_shares WHERE version_id = ? AND regulator_id = ?", id, org.ID).Scan(&n)
	if err != nil {
		return Version{}, NoAccess, fmt.Errorf("applab: version access: %w", err)
	}
	if n == 0 {
		return Version{}, NoAccess, ErrNotFound
	}
	return v, Regulator, nil
}

// RecordExport audits an export of a version's audit.
func (s *Store) RecordExport(ctx context.Context, v Version, by Org, format string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		return s.record(ctx, tx, v.UploaderOrg, "applab.audit.export", "version", v.ID, map[string]any{"format": format, "by_org": by.ID})
	})
}

// Previous returns the version before v of the same app that has a done
// scan (ErrNotFound for the first).
func (s *Store) Previous(ctx context.Context, v Version) (Version, error) {
	vs, err := s.Versions(ctx, v.AppID)
	if err != nil {
		return Version{}, err
	}
	var prev *Version
	for i := range vs {
		if vs[i].ID == v.ID {
			break
		}
		if vs[i].ScanID != 0 {
			prev = &vs[i]
		}
	}
	if prev == nil {
		return Version{}, ErrNotFound
	}
	return *prev, nil
}
