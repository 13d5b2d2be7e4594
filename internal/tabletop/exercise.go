package tabletop

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dfslab/dfslab/internal/db"
)

// ErrNotAllowed refuses an action the participant's exercise role does
// not allow (403: they can see the exercise, not change it).
var ErrNotAllowed = errors.New("tabletop: not allowed in your exercise role")

// Limits of an exercise's set-up, refused (never cut) when exceeded.
const (
	MaxExerciseTitle = 200
	MaxGroupName     = 80
	MaxGroups        = 20
	MinSpeed         = 1
	MaxSpeed         = 600
)

// Status is where an exercise stands.
type Status string

// The states of an exercise.
const (
	StatusSetup   Status = "setup"
	StatusRunning Status = "running"
	StatusPaused  Status = "paused"
	StatusEnded   Status = "ended"
)

// Label is the status as people read it.
func (s Status) Label() string {
	return map[Status]string{StatusSetup: "Setting up", StatusRunning: "Running", StatusPaused: "Paused", StatusEnded: "Ended"}[s]
}

// ExerciseRole is what a person does in an exercise.
type ExerciseRole string

// The exercise roles: facilitators run it, players answer in their group,
// observers watch and take notes.
const (
	RoleFacilitator ExerciseRole = "facilitator"
	RolePlayer      ExerciseRole = "player"
	RoleObserver    ExerciseRole = "observer"
)

// ExerciseRoles lists the roles in display order.
func ExerciseRoles() []ExerciseRole { return []ExerciseRole{RoleFacilitator, RolePlayer, RoleObserver} }

// Valid reports whether r is a known role.
func (r ExerciseRole) Valid() bool { return slices.Contains(ExerciseRoles(), r) }

// Label is the role as people read it.
func (r ExerciseRole) Label() string {
	return map[ExerciseRole]string{RoleFacilitator: "Facilitator", RolePlayer: "Player", RoleObserver: "Observer"}[r]
}

// Exercise is one tabletop exercise.
type Exercise struct {
	ID          int64
	OrgID       int64 // the facilitating organisation
	OrgName     string
	Title       string
	ScenarioKey string
	Scenario    *Scenario // as it was when the exercise was created
	Speed       float64
	Status      Status
	ClockMS     int64
	ClockAt     time.Time
	Started     time.Time
	Ended       time.Time
	CreatedBy   int64
	Created     time.Time
}

// Group is a group of players, covering one or more domains.
type Group struct {
	ID       int64
	Name     string
	Domains  []string
	Position int
}

// ExerciseOrg is an organisation invited to an exercise.
type ExerciseOrg struct {
	OrgID   int64
	Name    string
	Country string
	Invited time.Time
}

// Participant is a person invited to or taking part in an exercise.
type Participant struct {
	UserID  int64
	Name    string
	OrgID   int64
	OrgName string
	Role    ExerciseRole
	GroupID int64
	Invited time.Time
	Joined  time.Time // zero until they join
}

// NewExercise is the input of [Store.CreateExercise].
type NewExercise struct {
	Title       string
	ScenarioKey string // a built-in scenario's key, or "" with LibraryID
	LibraryID   int64  // a scenario of the organisation's library
	Speed       float64
}

func checkPlain(name, s string, maxLen int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: give the %s", ErrInvalid, name)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: the %s is not valid UTF-8", ErrInvalid, name)
	case len(s) > maxLen:
		return fmt.Errorf("%w: the %s is longer than %d characters (%d)", ErrInvalid, name, maxLen, len(s))
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }):
		return fmt.Errorf("%w: the %s contains control characters", ErrInvalid, name)
	}
	return nil
}

// CreateExercise sets up an exercise of orgID from a scenario, with one
// group per domain and the creator as its facilitator.
func (s *Store) CreateExercise(ctx context.Context, orgID int64, n NewExercise) (Exercise, error) {
	n.Title = strings.TrimSpace(n.Title)
	if err := checkPlain("exercise a title", n.Title, MaxExerciseTitle); err != nil {
		return Exercise{}, err
	}
	if n.Speed == 0 {
		n.Speed = 1
	}
	if n.Speed < MinSpeed || n.Speed > MaxSpeed {
		return Exercise{}, fmt.Errorf("%w: the clock speed must be between %d and %d times real time", ErrInvalid, MinSpeed, MaxSpeed)
	}
	var sc *Scenario
	var src []byte
	if n.LibraryID != 0 {
		st, err := s.Scenario(ctx, orgID, n.LibraryID)
		if err != nil {
			return Exercise{}, err
		}
		sc, src = st.Scenario, []byte(st.Source)
	} else {
		var err error
		if sc, err = s.BuiltinScenario(n.ScenarioKey); err != nil {
			return Exercise{}, fmt.Errorf("%w: choose a scenario", ErrInvalid)
		}
		if src, err = s.BuiltinScenarioSource(n.ScenarioKey); err != nil {
			return Exercise{}, err
		}
	}
	actor := userOf(ctx)
	if actor == 0 {
		return Exercise{}, fmt.Errorf("%w: an exercise is set up by a signed-in person", ErrInvalid)
	}
	now := s.nowUTC()
	e := Exercise{OrgID: orgID, Title: n.Title, ScenarioKey: sc.Key(), Scenario: sc, Speed: n.Speed, Status: StatusSetup, CreatedBy: actor, Created: now}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO tabletop_exercises (org_id, title, scenario_key, scenario, speed, status, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, 'setup', ?, ?) RETURNING id`, orgID, e.Title, e.ScenarioKey, string(src), e.Speed, actor, now.UnixMicro()).Scan(&e.ID); err != nil {
			return fmt.Errorf("tabletop: create exercise: %w", err)
		}
		for i, d := range Domains() {
			if _, err := tx.Exec(ctx, "INSERT INTO tabletop_groups (exercise_id, name, domains, position) VALUES (?, ?, ?, ?)",
				e.ID, d.Name, `["`+d.ID+`"]`, i+1); err != nil {
				return fmt.Errorf("tabletop: create groups: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, "INSERT INTO tabletop_orgs (exercise_id, org_id, invited_by, invited_at) VALUES (?, ?, ?, ?)", e.ID, orgID, actor, now.UnixMicro()); err != nil {
			return fmt.Errorf("tabletop: create exercise: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tabletop_participants (exercise_id, user_id, org_id, role, invited_by, invited_at, joined_at)
			VALUES (?, ?, ?, 'facilitator', ?, ?, ?)`, e.ID, actor, orgID, actor, now.UnixMicro(), now.UnixMicro()); err != nil {
			return fmt.Errorf("tabletop: create exercise: %w", err)
		}
		return appendAudit(ctx, tx, orgID, "tabletop.exercise.create", "tabletop_exercise", idStr(e.ID),
			map[string]any{"title": e.Title, "scenario": e.ScenarioKey, "speed": e.Speed, "sha256": digest(src)})
	})
	if err != nil {
		return Exercise{}, err
	}
	return e, nil
}

const exerciseCols = `e.id, e.org_id, o.name, e.title, e.scenario_key, e.scenario, e.speed, e.status, e.clock_ms, e.clock_at, e.started_at, e.ended_at,
	e.created_by, e.created_at`

func (s *Store) scanExercise(r interface{ Scan(...any) error }) (Exercise, error) {
	var e Exercise
	var src, status string
	var clockAt, started, ended, by sql.NullInt64
	var created int64
	if err := r.Scan(&e.ID, &e.OrgID, &e.OrgName, &e.Title, &e.ScenarioKey, &src, &e.Speed, &status, &e.ClockMS, &clockAt, &started, &ended, &by, &created); err != nil {
		return Exercise{}, err
	}
	sc, err := s.scenarios.get(e.ID, src)
	if err != nil {
		return Exercise{}, fmt.Errorf("tabletop: scenario of exercise %d: %w", e.ID, err)
	}
	e.Scenario, e.Status, e.CreatedBy = sc, Status(status), by.Int64
	e.Created = time.UnixMicro(created).UTC()
	if clockAt.Valid {
		e.ClockAt = time.UnixMicro(clockAt.Int64).UTC()
	}
	if started.Valid {
		e.Started = time.UnixMicro(started.Int64).UTC()
	}
	if ended.Valid {
		e.Ended = time.UnixMicro(ended.Int64).UTC()
	}
	return e, nil
}

// exerciseIn reads exercise id through q (the store's database, or a
// transaction that must see its own writes).
func (s *Store) exerciseIn(ctx context.Context, q interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}, id int64) (Exercise, error) {
	return s.scanExercise(q.QueryRow(ctx, "SELECT "+exerciseCols+" FROM tabletop_exercises e JOIN orgs o ON o.id = e.org_id WHERE e.id = ?", id))
}

// Exercise returns exercise id. It does not check who asks: callers
// check Access first.
func (s *Store) Exercise(ctx context.Context, id int64) (Exercise, error) {
	e, err := s.exerciseIn(ctx, s.db, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Exercise{}, fmt.Errorf("exercise %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Exercise{}, fmt.Errorf("tabletop: exercise: %w", err)
	}
	return e, nil
}

// ExerciseRow is an exercise as listed for an organisation.
type ExerciseRow struct {
	ID      int64
	OrgID   int64
	OrgName string
	Title   string
	Status  Status
	Created time.Time
	// Role is the asking person's role, "" when they have not been
	// invited in person (their organisation has).
	Role   ExerciseRole
	Joined bool
}

// ExercisesOf lists the exercises orgID runs or is invited to, newest
// first, with userID's part in each.
func (s *Store) ExercisesOf(ctx context.Context, orgID, userID int64) ([]ExerciseRow, error) {
	rows, err := s.db.Query(ctx, `SELECT e.id, e.org_id, o.name, e.title, e.status, e.created_at, p.role, p.joined_at
		FROM tabletop_orgs t JOIN tabletop_exercises e ON e.id = t.exercise_id JOIN orgs o ON o.id = e.org_id
		LEFT JOIN tabletop_participants p ON p.exercise_id = e.id AND p.user_id = ?
		WHERE t.org_id = ? ORDER BY e.created_at DESC, e.id DESC`, userID, orgID)
	if err != nil {
		return nil, fmt.Errorf("tabletop: exercises: %w", err)
	}
	defer rows.Close()
	var out []ExerciseRow
	for rows.Next() {
		var r ExerciseRow
		var status string
		var role sql.NullString
		var joined sql.NullInt64
		var created int64
		if err := rows.Scan(&r.ID, &r.OrgID, &r.OrgName, &r.Title, &status, &created, &role, &joined); err != nil {
			return nil, fmt.Errorf("tabletop: exercises: %w", err)
		}
		r.Status, r.Role, r.Joined, r.Created = Status(status), ExerciseRole(role.String), joined.Valid, time.UnixMicro(created).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// Groups lists an exercise's groups in order.
func (s *Store) Groups(ctx context.Context, exerciseID int64) ([]Group, error) {
	rows, err := s.db.Query(ctx, "SELECT id, name, domains, position FROM tabletop_groups WHERE exercise_id = ? ORDER BY position, id", exerciseID)
	if err != nil {
		return nil, fmt.Errorf("tabletop: groups: %w", err)
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var g Group
		var doms string
		if err := rows.Scan(&g.ID, &g.Name, &doms, &g.Position); err != nil {
			return nil, fmt.Errorf("tabletop: groups: %w", err)
		}
		if err := json.Unmarshal([]byte(doms), &g.Domains); err != nil {
			return nil, fmt.Errorf("tabletop: domains of group %d: %w", g.ID, err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Orgs lists the organisations invited to an exercise.
func (s *Store) Orgs(ctx context.Context, exerciseID int64) ([]ExerciseOrg, error) {
	rows, err := s.db.Query(ctx, `SELECT t.org_id, o.name, o.country, t.invited_at FROM tabletop_orgs t JOIN orgs o ON o.id = t.org_id
		WHERE t.exercise_id = ? ORDER BY t.invited_at, o.name`, exerciseID)
	if err != nil {
		return nil, fmt.Errorf("tabletop: organisations: %w", err)
	}
	defer rows.Close()
	var out []ExerciseOrg
	for rows.Next() {
		var o ExerciseOrg
		var at int64
		if err := rows.Scan(&o.OrgID, &o.Name, &o.Country, &at); err != nil {
			return nil, fmt.Errorf("tabletop: organisations: %w", err)
		}
		o.Invited = time.UnixMicro(at).UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

// Participants lists the people of an exercise by organisation and name.
func (s *Store) Participants(ctx context.Context, exerciseID int64) ([]Participant, error) {
	return s.participants(ctx, "p.exercise_id = ?", exerciseID)
}

// participant is one person's row of an exercise; nil when they have none.
func (s *Store) participant(ctx context.Context, exerciseID, userID int64) (*Participant, error) {
	ps, err := s.participants(ctx, "p.exercise_id = ? AND p.user_id = ?", exerciseID, userID)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return &ps[0], nil
}

func (s *Store) participants(ctx context.Context, where string, args ...any) ([]Participant, error) {
	rows, err := s.db.Query(ctx, `SELECT p.user_id, u.display_name, COALESCE(u.email, ''), p.org_id, o.name, p.role, p.group_id, p.invited_at, p.joined_at
		FROM tabletop_participants p JOIN users u ON u.id = p.user_id JOIN orgs o ON o.id = p.org_id
		WHERE `+where+` ORDER BY o.name, u.display_name, p.user_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("tabletop: participants: %w", err)
	}
	defer rows.Close()
	var out []Participant
	for rows.Next() {
		var p Participant
		var email, role string
		var group, joined sql.NullInt64
		var invited int64
		if err := rows.Scan(&p.UserID, &p.Name, &email, &p.OrgID, &p.OrgName, &role, &group, &invited, &joined); err != nil {
			return nil, fmt.Errorf("tabletop: participants: %w", err)
		}
		if p.Name == "" {
			p.Name = email
		}
		p.Role, p.GroupID, p.Invited = ExerciseRole(role), group.Int64, time.UnixMicro(invited).UTC()
		if joined.Valid {
			p.Joined = time.UnixMicro(joined.Int64).UTC()
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Access is what a person may do with an exercise.
type Access struct {
	// Participant is their row; nil when they were not invited in person.
	Participant *Participant
	// JoinAs lists the organisations of theirs that are invited, through
	// which they may join (as players).
	JoinAs []int64
}

// Sees reports whether the person may see the exercise at all.
func (a Access) Sees() bool { return a.Participant != nil || len(a.JoinAs) > 0 }

// Facilitates reports whether the person is one of its facilitators.
func (a Access) Facilitates() bool {
	return a.Participant != nil && a.Participant.Role == RoleFacilitator
}

// AccessOf says what userID, a member of memberOrgs, may do with
// exercise id. Someone with no part in it gets ErrNotFound, so that an
// exercise's existence does not leak.
func (s *Store) AccessOf(ctx context.Context, id, userID int64, memberOrgs []int64) (Access, error) {
	var a Access
	var err error
	if a.Participant, err = s.participant(ctx, id, userID); err != nil {
		return Access{}, err
	}
	if a.Participant == nil {
		orgs, err := s.Orgs(ctx, id)
		if err != nil {
			return Access{}, err
		}
		for _, o := range orgs {
			if slices.Contains(memberOrgs, o.OrgID) {
				a.JoinAs = append(a.JoinAs, o.OrgID)
			}
		}
	}
	if !a.Sees() {
		return Access{}, fmt.Errorf("exercise %d: %w", id, ErrNotFound)
	}
	return a, nil
}

// OrgChoice is an organisation a facilitator may invite.
type OrgChoice struct {
	ID      int64
	Name    string
	Country string
}

// AllOrgs lists every organisation of the platform by country and name:
// a regional exercise invites organisations of any country.
func (s *Store) AllOrgs(ctx context.Context) ([]OrgChoice, error) {
	rows, err := s.db.Query(ctx, "SELECT id, name, country FROM orgs ORDER BY country, name")
	if err != nil {
		return nil, fmt.Errorf("tabletop: organisations: %w", err)
	}
	defer rows.Close()
	var out []OrgChoice
	for rows.Next() {
		var o OrgChoice
		if err := rows.Scan(&o.ID, &o.Name, &o.Country); err != nil {
			return nil, fmt.Errorf("tabletop: organisations: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// facilitatorTx checks that the actor facilitates exercise id, which is
// not over, and returns the exercise's organisation.
func facilitatorTx(ctx context.Context, tx *db.Tx, id int64) (int64, error) {
	var org int64
	var status string
	err := tx.QueryRow(ctx, "SELECT org_id, status FROM tabletop_exercises WHERE id = ?", id).Scan(&org, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("exercise %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("tabletop: exercise: %w", err)
	}
	var role string
	err = tx.QueryRow(ctx, "SELECT role FROM tabletop_participants WHERE exercise_id = ? AND user_id = ?", id, userOf(ctx)).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("exercise %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("tabletop: exercise: %w", err)
	}
	if role != string(RoleFacilitator) {
		return 0, ErrNotAllowed
	}
	if Status(status) == StatusEnded {
		return 0, fmt.Errorf("%w: the exercise has ended", ErrInvalid)
	}
	return org, nil
}

// InviteOrg invites an organisation (of any country) to exercise id.
func (s *Store) InviteOrg(ctx context.Context, id, orgID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		owner, err := facilitatorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		var name string
		if err := tx.QueryRow(ctx, "SELECT name FROM orgs WHERE id = ?", orgID).Scan(&name); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: choose an organisation to invite", ErrInvalid)
		} else if err != nil {
			return fmt.Errorf("tabletop: invite organisation: %w", err)
		}
		_, err = tx.Exec(ctx, "INSERT INTO tabletop_orgs (exercise_id, org_id, invited_by, invited_at) VALUES (?, ?, ?, ?)",
			id, orgID, userOf(ctx), s.nowUTC().UnixMicro())
		if db.IsUniqueViolation(err) {
			return fmt.Errorf("%s is invited already: %w", name, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("tabletop: invite organisation: %w", err)
		}
		if err := s.lobbyEventTx(ctx, tx, id, "organisation invited"); err != nil {
			return err
		}
		return appendAudit(ctx, tx, owner, "tabletop.exercise.invite_org", "tabletop_exercise", idStr(id),
			map[string]any{"org": orgID, "name": name}, orgID)
	})
}

// InvitePerson invites the member of an invited organisation with the
// given e-mail address, in a role and (for players) a group.
func (s *Store) InvitePerson(ctx context.Context, id int64, email string, orgID int64, role ExerciseRole, groupID int64) (Participant, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || len(email) > 254 || !strings.Contains(email, "@") {
		return Participant{}, fmt.Errorf("%w: give the person's e-mail address", ErrInvalid)
	}
	if !role.Valid() {
		return Participant{}, fmt.Errorf("%w: choose a role (facilitator, player or observer)", ErrInvalid)
	}
	var p Participant
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		owner, err := facilitatorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM tabletop_orgs WHERE exercise_id = ? AND org_id = ?", id, orgID).Scan(&n); err != nil {
			return fmt.Errorf("tabletop: invite person: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("%w: invite their organisation first", ErrInvalid)
		}
		if err := checkGroupTx(ctx, tx, id, groupID); err != nil {
			return err
		}
		// Only members of an invited organisation can be found, so that
		// the form is no directory of every account.
		err = tx.QueryRow(ctx, `SELECT u.id, u.display_name, o.name FROM users u JOIN memberships m ON m.user_id = u.id JOIN orgs o ON o.id = m.org_id
			WHERE u.email = ? AND m.org_id = ? AND u.active`, email, orgID).Scan(&p.UserID, &p.Name, &p.OrgName)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no member of this organisation has the address %s", ErrInvalid, email)
		}
		if err != nil {
			return fmt.Errorf("tabletop: invite person: %w", err)
		}
		now := s.nowUTC()
		p.OrgID, p.Role, p.GroupID, p.Invited = orgID, role, groupID, now
		_, err = tx.Exec(ctx, `INSERT INTO tabletop_participants (exercise_id, user_id, org_id, role, group_id, invited_by, invited_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, p.UserID, orgID, string(role), nullID(groupID), userOf(ctx), now.UnixMicro())
		if db.IsUniqueViolation(err) {
			return fmt.Errorf("%s takes part already: %w", email, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("tabletop: invite person: %w", err)
		}
		if err := s.lobbyEventTx(ctx, tx, id, "person invited"); err != nil {
			return err
		}
		return appendAudit(ctx, tx, owner, "tabletop.exercise.invite_person", "tabletop_exercise", idStr(id),
			map[string]any{"user": p.UserID, "org": orgID, "role": string(role), "group": groupID}, orgID)
	})
	if err != nil {
		return Participant{}, err
	}
	return p, nil
}

func checkGroupTx(ctx context.Context, tx *db.Tx, id, groupID int64) error {
	if groupID == 0 {
		return nil
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM tabletop_groups WHERE id = ? AND exercise_id = ?", groupID, id).Scan(&n); err != nil {
		return fmt.Errorf("tabletop: group: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: no such group in this exercise", ErrInvalid)
	}
	return nil
}

// Join records that the actor joined exercise id: a person invited in
// person, or a member of an invited organisation orgID (who joins as a
// player, without a group until the facilitator assigns one).
func (s *Store) Join(ctx context.Context, id, orgID int64, memberOrgs []int64) error {
	user := userOf(ctx)
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var owner int64
		var status string
		err := tx.QueryRow(ctx, "SELECT org_id, status FROM tabletop_exercises WHERE id = ?", id).Scan(&owner, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("exercise %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("tabletop: join: %w", err)
		}
		now := s.nowUTC().UnixMicro()
		var pOrg int64
		var joined sql.NullInt64
		err = tx.QueryRow(ctx, "SELECT org_id, joined_at FROM tabletop_participants WHERE exercise_id = ? AND user_id = ?", id, user).Scan(&pOrg, &joined)
		switch {
		case err == nil:
			if joined.Valid {
				return nil // joined before: nothing to record
			}
			if _, err := tx.Exec(ctx, "UPDATE tabletop_participants SET joined_at = ? WHERE exercise_id = ? AND user_id = ?", now, id, user); err != nil {
				return fmt.Errorf("tabletop: join: %w", err)
			}
		case errors.Is(err, sql.ErrNoRows):
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM tabletop_orgs WHERE exercise_id = ? AND org_id = ?", id, orgID).Scan(&n); err != nil {
				return fmt.Errorf("tabletop: join: %w", err)
			}
			if n == 0 || !slices.Contains(memberOrgs, orgID) {
				return fmt.Errorf("exercise %d: %w", id, ErrNotFound)
			}
			if Status(status) == StatusEnded {
				return fmt.Errorf("%w: the exercise has ended", ErrInvalid)
			}
			pOrg = orgID
			if _, err := tx.Exec(ctx, `INSERT INTO tabletop_participants (exercise_id, user_id, org_id, role, invited_at, joined_at)
				VALUES (?, ?, ?, 'player', ?, ?)`, id, user, orgID, now, now); err != nil {
				return fmt.Errorf("tabletop: join: %w", err)
			}
		default:
			return fmt.Errorf("tabletop: join: %w", err)
		}
		if err := s.lobbyEventTx(ctx, tx, id, "joined"); err != nil {
			return err
		}
		return appendAudit(ctx, tx, owner, "tabletop.exercise.join", "tabletop_exercise", idStr(id), map[string]any{"org": pOrg}, pOrg)
	})
}

// SetParticipant changes a participant's role and group. An exercise
// keeps at least one facilitator.
func (s *Store) SetParticipant(ctx context.Context, id, userID int64, role ExerciseRole, groupID int64) error {
	if !role.Valid() {
		return fmt.Errorf("%w: choose a role (facilitator, player or observer)", ErrInvalid)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		owner, err := facilitatorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkGroupTx(ctx, tx, id, groupID); err != nil {
			return err
		}
		var old string
		var pOrg int64
		err = tx.QueryRow(ctx, "SELECT role, org_id FROM tabletop_participants WHERE exercise_id = ? AND user_id = ?", id, userID).Scan(&old, &pOrg)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("participant %d: %w", userID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("tabletop: participant: %w", err)
		}
		if old == string(RoleFacilitator) && role != RoleFacilitator {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM tabletop_participants WHERE exercise_id = ? AND role = 'facilitator'", id).Scan(&n); err != nil {
				return fmt.Errorf("tabletop: participant: %w", err)
			}
			if n < 2 {
				return fmt.Errorf("%w: the exercise needs a facilitator; make someone else facilitator first", ErrInvalid)
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE tabletop_participants SET role = ?, group_id = ? WHERE exercise_id = ? AND user_id = ?",
			string(role), nullID(groupID), id, userID); err != nil {
			return fmt.Errorf("tabletop: participant: %w", err)
		}
		if err := s.lobbyEventTx(ctx, tx, id, "part changed"); err != nil {
			return err
		}
		return appendAudit(ctx, tx, owner, "tabletop.exercise.assign", "tabletop_exercise", idStr(id),
			map[string]any{"user": userID, "role": string(role), "group": groupID}, pOrg)
	})
}

// AddGroup adds a group without a domain.
func (s *Store) AddGroup(ctx context.Context, id int64, name string) (Group, error) {
	name = strings.TrimSpace(name)
	if err := checkPlain("group a name", name, MaxGroupName); err != nil {
		return Group{}, err
	}
	g := Group{Name: name, Domains: []string{}}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		owner, err := facilitatorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		var n, pos int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*), COALESCE(MAX(position), 0) FROM tabletop_groups WHERE exercise_id = ?", id).Scan(&n, &pos); err != nil {
			return fmt.Errorf("tabletop: add group: %w", err)
		}
		if n >= MaxGroups {
			return fmt.Errorf("%w: an exercise has at most %d groups", ErrInvalid, MaxGroups)
		}
		g.Position = pos + 1
		if err := tx.QueryRow(ctx, "INSERT INTO tabletop_groups (exercise_id, name, domains, position) VALUES (?, ?, '[]', ?) RETURNING id",
			id, name, g.Position).Scan(&g.ID); err != nil {
			return fmt.Errorf("tabletop: add group: %w", err)
		}
		if err := s.lobbyEventTx(ctx, tx, id, "group added"); err != nil {
			return err
		}
		return appendAudit(ctx, tx, owner, "tabletop.group.add", "tabletop_exercise", idStr(id), map[string]any{"group": g.ID, "name": name})
	})
	if err != nil {
		return Group{}, err
	}
	return g, nil
}

// RenameGroup renames group groupID of exercise id.
func (s *Store) RenameGroup(ctx context.Context, id, groupID int64, name string) error {
	name = strings.TrimSpace(name)
	if err := checkPlain("group a name", name, MaxGroupName); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		owner, err := facilitatorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "UPDATE tabletop_groups SET name = ? WHERE id = ? AND exercise_id = ?", name, groupID, id)
		if err != nil {
			return fmt.Errorf("tabletop: rename group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("group %d: %w", groupID, ErrNotFound)
		}
		if err := s.lobbyEventTx(ctx, tx, id, "group renamed"); err != nil {
			return err
		}
		return appendAudit(ctx, tx, owner, "tabletop.group.rename", "tabletop_exercise", idStr(id), map[string]any{"group": groupID, "name": name})
	})
}

// MergeGroups merges group from into group into: into covers the
// domains of both and takes from's people; from is removed.
func (s *Store) MergeGroups(ctx context.Context, id, from, into int64) error {
	if from == into {
		return fmt.Errorf("%w: choose another group to merge with", ErrInvalid)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		owner, err := facilitatorTx(ctx, tx, id)
		if err != nil {
			return err
		}
		doms := map[int64][]string{}
		for _, g := range []int64{from, into} {
			var raw string
			err := tx.QueryRow(ctx, "SELECT domains FROM tabletop_groups WHERE id = ? AND exercise_id = ?", g, id).Scan(&raw)
			if errors.Is(err, sql.ErrNoRows) {
				if g == from {
					return fmt.Errorf("group %d: %w", g, ErrNotFound)
				}
				return fmt.Errorf("%w: choose a group of this exercise to merge with", ErrInvalid)
			}
			if err != nil {
				return fmt.Errorf("tabletop: merge groups: %w", err)
			}
			var ds []string
			if err := json.Unmarshal([]byte(raw), &ds); err != nil {
				return fmt.Errorf("tabletop: merge groups: %w", err)
			}
			doms[g] = ds
		}
		var merged []string
		for _, d := range Domains() {
			if slices.Contains(doms[from], d.ID) || slices.Contains(doms[into], d.ID) {
				merged = append(merged, d.ID)
			}
		}
		raw, err := json.Marshal(append([]string{}, merged...))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE tabletop_groups SET domains = ? WHERE id = ?", string(raw), into); err != nil {
			return fmt.Errorf("tabletop: merge groups: %w", err)
		}
		if _, err := tx.Exec(ctx, "UPDATE tabletop_participants SET group_id = ? WHERE exercise_id = ? AND group_id = ?", into, id, from); err != nil {
			return fmt.Errorf("tabletop: merge groups: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM tabletop_groups WHERE id = ?", from); err != nil {
			return fmt.Errorf("tabletop: merge groups: %w", err)
		}
		if err := s.lobbyEventTx(ctx, tx, id, "groups merged"); err != nil {
			return err
		}
		return appendAudit(ctx, tx, owner, "tabletop.group.merge", "tabletop_exercise", idStr(id),
			map[string]any{"from": from, "into": into, "domains": merged})
	})
}
