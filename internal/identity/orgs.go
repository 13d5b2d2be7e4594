package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
)

// NewOrg is the input of [Store.CreateOrg].
type NewOrg struct {
	Name    string
	Type    OrgType
	Country string // ISO 3166-1 alpha-2, any case
	// Licensee is what the organisation is licensed as; empty means the
	// default of its type (DefaultLicensee).
	Licensee LicenseeType
}

func validateOrg(n NewOrg) (NewOrg, error) {
	name, err := cleanName(n.Name, 200)
	if err != nil {
		return n, err
	}
	if !n.Type.Valid() {
		return n, fmt.Errorf("%w: unknown organisation type %q", ErrInvalid, n.Type)
	}
	c, ok := NormalizeCountry(n.Country)
	if !ok {
		return n, fmt.Errorf("%w: %q is not an ISO 3166-1 alpha-2 country code", ErrInvalid, n.Country)
	}
	if !n.Licensee.Valid() {
		return n, fmt.Errorf("%w: unknown licensee type %q", ErrInvalid, n.Licensee)
	}
	return NewOrg{Name: name, Type: n.Type, Country: c, Licensee: n.Licensee}, nil
}

// CreateOrg creates an organisation. Names are unique regardless of case.
func (s *Store) CreateOrg(ctx context.Context, n NewOrg) (Org, error) {
	n, err := validateOrg(n)
	if err != nil {
		return Org{}, err
	}
	if n.Licensee == LicenseeNone {
		n.Licensee = DefaultLicensee(n.Type)
	}
	o := Org{Name: n.Name, Type: n.Type, Country: n.Country, Licensee: n.Licensee, Created: s.Now()}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO orgs (name, name_key, type, country, require_totp, licensee_type, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			o.Name, strings.ToLower(o.Name), string(o.Type), o.Country, false, string(o.Licensee), micros(o.Created)).Scan(&o.ID)
		if db.IsUniqueViolation(err) {
			return fmt.Errorf("organisation %q: %w", o.Name, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("identity: create org: %w", err)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "org.create", ObjectType: "org", ObjectID: idStr(o.ID), OrgID: o.ID,
			Details: map[string]any{"name": o.Name, "type": string(o.Type), "country": o.Country, "licensee_type": string(o.Licensee)}})
	})
	return o, err
}

const orgCols = "id, name, type, country, require_totp, created_at, licensee_type"

func scanOrg(r interface{ Scan(...any) error }) (Org, error) {
	var o Org
	var typ, lic string
	var created int64
	if err := r.Scan(&o.ID, &o.Name, &typ, &o.Country, &o.RequireTOTP, &created, &lic); err != nil {
		return Org{}, err
	}
	o.Type, o.Created, o.Licensee = OrgType(typ), fromMicros(created), LicenseeType(lic)
	return o, nil
}

// Org returns an organisation by id.
func (s *Store) Org(ctx context.Context, id int64) (Org, error) {
	o, err := scanOrg(s.db.QueryRow(ctx, "SELECT "+orgCols+" FROM orgs WHERE id = ?", id))
	if err != nil {
		return Org{}, notFound(err, "org")
	}
	return o, nil
}

// OrgByName returns an organisation by name, ignoring case.
func (s *Store) OrgByName(ctx context.Context, name string) (Org, error) {
	o, err := scanOrg(s.db.QueryRow(ctx, "SELECT "+orgCols+" FROM orgs WHERE name_key = ?",
		strings.ToLower(strings.TrimSpace(name))))
	if err != nil {
		return Org{}, notFound(err, "org")
	}
	return o, nil
}

// ListOrgs returns all organisations by name.
func (s *Store) ListOrgs(ctx context.Context) ([]Org, error) {
	rows, err := s.db.Query(ctx, "SELECT "+orgCols+" FROM orgs ORDER BY name_key")
	if err != nil {
		return nil, fmt.Errorf("identity: list orgs: %w", err)
	}
	defer rows.Close()
	var out []Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// UpdateOrg changes name, type, country and the TOTP requirement.
func (s *Store) UpdateOrg(ctx context.Context, o Org) (Org, error) {
	n, err := validateOrg(NewOrg{Name: o.Name, Type: o.Type, Country: o.Country})
	if err != nil {
		return Org{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		old, err := scanOrg(tx.QueryRow(ctx, "SELECT "+orgCols+" FROM orgs WHERE id = ?", o.ID))
		if err != nil {
			return notFound(err, "org")
		}
		_, err = tx.Exec(ctx, "UPDATE orgs SET name = ?, name_key = ?, type = ?, country = ?, require_totp = ? WHERE id = ?",
			n.Name, strings.ToLower(n.Name), string(n.Type), n.Country, o.RequireTOTP, o.ID)
		if db.IsUniqueViolation(err) {
			return fmt.Errorf("organisation %q: %w", n.Name, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("identity: update org: %w", err)
		}
		o = Org{ID: o.ID, Name: n.Name, Type: n.Type, Country: n.Country, RequireTOTP: o.RequireTOTP, Licensee: old.Licensee, Created: old.Created}
		return s.audit(ctx, tx, audit.Entry{Action: "org.update", ObjectType: "org", ObjectID: idStr(o.ID), OrgID: o.ID,
			Details: map[string]any{"name": o.Name, "type": string(o.Type), "country": o.Country, "require_totp": o.RequireTOTP,
				"old_name": old.Name, "old_type": string(old.Type), "old_country": old.Country, "old_require_totp": old.RequireTOTP}})
	})
	return o, err
}

// SetLicensee changes what an organisation is licensed as, which decides
// the baseline items that apply to it. Only platform administrators may
// (the caller checks): an organisation choosing its own licensee type
// would choose its own obligations.
func (s *Store) SetLicensee(ctx context.Context, orgID int64, t LicenseeType) (Org, error) {
	if !t.Valid() {
		return Org{}, fmt.Errorf("%w: unknown licensee type %q", ErrInvalid, t)
	}
	var o Org
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		old, err := scanOrg(tx.QueryRow(ctx, "SELECT "+orgCols+" FROM orgs WHERE id = ?", orgID))
		if err != nil {
			return notFound(err, "org")
		}
		o = old
		if old.Licensee == t {
			return nil // unchanged: nothing to audit
		}
		if _, err := tx.Exec(ctx, "UPDATE orgs SET licensee_type = ? WHERE id = ?", string(t), orgID); err != nil {
			return fmt.Errorf("identity: set licensee type: %w", err)
		}
		o.Licensee = t
		return s.audit(ctx, tx, audit.Entry{Action: "org.licensee.set", ObjectType: "org", ObjectID: idStr(orgID), OrgID: orgID,
			Details: map[string]any{"licensee_type": string(t), "old_licensee_type": string(old.Licensee)}})
	})
	return o, err
}

// ---- users -----------------------------------------------------------------

const userCols = "u.id, u.email, u.display_name, u.webauthn_id, u.active, u.platform_admin, u.created_at, u.enrolled_at"

func scanUser(r interface{ Scan(...any) error }) (User, error) {
	var u User
	var email sql.NullString
	var created int64
	var enrolled sql.NullInt64
	if err := r.Scan(&u.ID, &email, &u.DisplayName, &u.WebAuthnID, &u.Active, &u.PlatformAdmin, &created, &enrolled); err != nil {
		return User{}, err
	}
	u.Email, u.Created, u.Enrolled = email.String, fromMicros(created), fromNull(enrolled)
	return u, nil
}

func newWebAuthnID() []byte {
	// WebAuthn allows up to 64 bytes; random so that it says nothing about
	// the person (the spec warns against e-mail addresses here).
	b := make([]byte, 64)
	randRead(b)
	return b
}

// insertUser creates a user row inside tx.
func (s *Store) insertUser(ctx context.Context, tx *db.Tx, email, display string, admin bool, enrolled bool, handle []byte) (User, error) {
	if len(handle) == 0 {
		handle = newWebAuthnID()
	}
	u := User{Email: email, DisplayName: display, WebAuthnID: handle, Active: true, PlatformAdmin: admin, Created: s.Now()}
	if enrolled {
		u.Enrolled = u.Created
	}
	var emailArg any
	if email != "" {
		emailArg = email
	}
	err := tx.QueryRow(ctx, `INSERT INTO users (email, display_name, webauthn_id, active, platform_admin, created_at, enrolled_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		emailArg, display, u.WebAuthnID, true, admin, micros(u.Created), nullTime(u.Enrolled)).Scan(&u.ID)
	if db.IsUniqueViolation(err) {
		return User{}, fmt.Errorf("user %q: %w", email, ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("identity: create user: %w", err)
	}
	return u, s.audit(ctx, tx, audit.Entry{Action: "user.create", ObjectType: "user", ObjectID: idStr(u.ID),
		Details: map[string]any{"email": email, "platform_admin": admin}})
}

// User returns a user by id.
func (s *Store) User(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, "SELECT "+userCols+" FROM users u WHERE u.id = ?", id))
	if err != nil {
		return User{}, notFound(err, "user")
	}
	return u, nil
}

// UserByEmail returns a user by e-mail address, ignoring case.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, "SELECT "+userCols+" FROM users u WHERE u.email = ?", normEmail(email)))
	if err != nil {
		return User{}, notFound(err, "user")
	}
	return u, nil
}

// UserByWebAuthnID returns the user an authenticator's user handle names
// (username-less sign-in).
func (s *Store) UserByWebAuthnID(ctx context.Context, handle []byte) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, "SELECT "+userCols+" FROM users u WHERE u.webauthn_id = ?", handle))
	if err != nil {
		return User{}, notFound(err, "user")
	}
	return u, nil
}

// ListUsers returns all users by e-mail (platform administration).
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.db.Query(ctx, "SELECT "+userCols+" FROM users u ORDER BY u.email, u.id")
	if err != nil {
		return nil, fmt.Errorf("identity: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountUsers returns the number of users; serve prints an enrolment link
// when it is zero.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
	return n, err
}

// SetDisplayName changes a user's display name.
func (s *Store) SetDisplayName(ctx context.Context, userID int64, name string) error {
	name, err := cleanName(name, 100)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		r, err := tx.Exec(ctx, "UPDATE users SET display_name = ? WHERE id = ?", name, userID)
		if err != nil {
			return fmt.Errorf("identity: set display name: %w", err)
		}
		if rowsAffected(r) == 0 {
			return fmt.Errorf("user %d: %w", userID, ErrNotFound)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "user.rename", ObjectType: "user", ObjectID: idStr(userID),
			Details: map[string]any{"display_name": name}})
	})
}

// SetActive suspends (active false) or reinstates an account: the
// platform-wide switch, which only a platform administrator (checked here
// from the actor in ctx) or the operator CLI may use, never on their own
// account. Organisations act on memberships instead ([Store.SuspendMember]).
//
// Suspension ends every session and revokes every API token of the
// account in the same transaction; reinstating brings neither back. The
// last active platform administrator cannot be suspended (ErrLastAdmin).
// The entry is recorded under every organisation of the account.
func (s *Store) SetActive(ctx context.Context, userID int64, active bool) error {
	actor := audit.ActorFrom(ctx).UserID
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if actor != 0 {
			var admin, ok bool
			if err := tx.QueryRow(ctx, "SELECT platform_admin, active FROM users WHERE id = ?", actor).Scan(&admin, &ok); err != nil || !admin || !ok {
				return fmt.Errorf("account suspension by user %d: %w", actor, ErrForbidden)
			}
			if actor == userID {
				return fmt.Errorf("%w: you cannot suspend or reinstate your own account", ErrForbidden)
			}
		}
		u, err := scanUser(tx.QueryRow(ctx, "SELECT "+userCols+" FROM users u WHERE u.id = ?", userID))
		if err != nil {
			return notFound(err, "user")
		}
		if !active && u.PlatformAdmin {
			var others int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE platform_admin = ? AND active = ? AND id <> ?",
				true, true, userID).Scan(&others); err != nil {
				return fmt.Errorf("identity: count admins: %w", err)
			}
			if others == 0 {
				return fmt.Errorf("the last platform administrator: %w", ErrLastAdmin)
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET active = ? WHERE id = ?", active, userID); err != nil {
			return fmt.Errorf("identity: set active: %w", err)
		}
		action := "user.activate"
		details := map[string]any{}
		if !active {
			action = "user.deactivate"
			r, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
			if err != nil {
				return fmt.Errorf("identity: end sessions: %w", err)
			}
			details["sessions_ended"] = rowsAffected(r)
			r, err = tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", micros(s.Now()), userID)
			if err != nil {
				return fmt.Errorf("identity: revoke tokens: %w", err)
			}
			details["tokens_revoked"] = rowsAffected(r)
		}
		orgs, err := orgsOf(ctx, tx, userID)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, audit.Entry{Action: action, ObjectType: "user", ObjectID: idStr(userID), Concerned: orgs, Details: details})
	})
}

// SetPlatformAdmin grants or withdraws platform administration. The last
// active platform administrator cannot be demoted.
func (s *Store) SetPlatformAdmin(ctx context.Context, userID int64, admin bool) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if !admin {
			var others int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE platform_admin = ? AND active = ? AND id <> ?",
				true, true, userID).Scan(&others); err != nil {
				return fmt.Errorf("identity: count admins: %w", err)
			}
			if others == 0 {
				return fmt.Errorf("the last platform administrator: %w", ErrLastAdmin)
			}
		}
		r, err := tx.Exec(ctx, "UPDATE users SET platform_admin = ? WHERE id = ?", admin, userID)
		if err != nil {
			return fmt.Errorf("identity: set platform admin: %w", err)
		}
		if rowsAffected(r) == 0 {
			return fmt.Errorf("user %d: %w", userID, ErrNotFound)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "user.platform_admin", ObjectType: "user", ObjectID: idStr(userID),
			Details: map[string]any{"platform_admin": admin}})
	})
}

// ---- memberships -----------------------------------------------------------

// AddMember gives an existing user a role in an organisation at once,
// without asking them. It is for the operator (tools, tests); no route
// calls it: organisations invite ([Store.Invite]) and the person accepts.
func (s *Store) AddMember(ctx context.Context, orgID, userID int64, role Role) error {
	if !role.Valid() {
		return fmt.Errorf("%w: unknown role %q", ErrInvalid, role)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error { return s.addMember(ctx, tx, orgID, userID, role) })
}

func (s *Store) addMember(ctx context.Context, tx *db.Tx, orgID, userID int64, role Role) error {
	_, err := tx.Exec(ctx, "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)",
		orgID, userID, string(role), micros(s.Now()))
	if db.IsUniqueViolation(err) {
		return fmt.Errorf("membership: %w", ErrConflict)
	}
	if err != nil {
		if isForeignKey(err) {
			return fmt.Errorf("org %d or user %d: %w", orgID, userID, ErrNotFound)
		}
		return fmt.Errorf("identity: add member: %w", err)
	}
	return s.audit(ctx, tx, audit.Entry{Action: "member.add", ObjectType: "user", ObjectID: idStr(userID), OrgID: orgID,
		Details: map[string]any{"role": string(role)}})
}

func isForeignKey(err error) bool { return db.IsForeignKeyViolation(err) }

// adminsLeft counts the org admins of orgID other than userID.
func adminsLeft(ctx context.Context, tx *db.Tx, orgID, userID int64) (int, error) {
	var n int
	err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND m.role = ? AND m.user_id <> ? AND u.active = ?",
		orgID, string(RoleOrgAdmin), userID, true).Scan(&n)
	return n, err
}

// SetRole changes a member's role. Demoting the last active org admin is
// refused with ErrLastAdmin.
func (s *Store) SetRole(ctx context.Context, orgID, userID int64, role Role) error {
	if !role.Valid() {
		return fmt.Errorf("%w: unknown role %q", ErrInvalid, role)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var old string
		if err := tx.QueryRow(ctx, "SELECT role FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID).Scan(&old); err != nil {
			return notFound(err, "membership")
		}
		if Role(old) == RoleOrgAdmin && role != RoleOrgAdmin {
			n, err := adminsLeft(ctx, tx, orgID, userID)
			if err != nil {
				return fmt.Errorf("identity: count org admins: %w", err)
			}
			if n == 0 {
				return ErrLastAdmin
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?", string(role), orgID, userID); err != nil {
			return fmt.Errorf("identity: set role: %w", err)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "member.role", ObjectType: "user", ObjectID: idStr(userID), OrgID: orgID,
			Details: map[string]any{"from": old, "to": string(role)}})
	})
}

// RemoveMember ends a membership. Removing the last active org admin is
// refused with ErrLastAdmin.
func (s *Store) RemoveMember(ctx context.Context, orgID, userID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var old string
		err := tx.QueryRow(ctx, "SELECT role FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			// A suspended membership can be ended too; it grants nothing,
			// so the last-admin rule does not apply.
			if err := tx.QueryRow(ctx, "SELECT role FROM membership_suspensions WHERE org_id = ? AND user_id = ?", orgID, userID).Scan(&old); err != nil {
				return notFound(err, "membership")
			}
			if _, err := tx.Exec(ctx, "DELETE FROM membership_suspensions WHERE org_id = ? AND user_id = ?", orgID, userID); err != nil {
				return fmt.Errorf("identity: remove member: %w", err)
			}
			return s.audit(ctx, tx, audit.Entry{Action: "member.remove", ObjectType: "user", ObjectID: idStr(userID), OrgID: orgID,
				Details: map[string]any{"role": old, "suspended": true}})
		}
		if err != nil {
			return notFound(err, "membership")
		}
		if Role(old) == RoleOrgAdmin {
			n, err := adminsLeft(ctx, tx, orgID, userID)
			if err != nil {
				return fmt.Errorf("identity: count org admins: %w", err)
			}
			if n == 0 {
				return ErrLastAdmin
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID); err != nil {
			return fmt.Errorf("identity: remove member: %w", err)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "member.remove", ObjectType: "user", ObjectID: idStr(userID), OrgID: orgID,
			Details: map[string]any{"role": old}})
	})
}

// SuspendMember suspends userID's membership of orgID: the person keeps
// their account and their other organisations but can no longer see or do
// anything in orgID, by session or API token, until reinstated. Only the
// membership changes, so one organisation can never lock a person out of
// another. Suspending the last active org admin is ErrLastAdmin.
func (s *Store) SuspendMember(ctx context.Context, orgID, userID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var role string
		var created int64
		if err := tx.QueryRow(ctx, "SELECT role, created_at FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID).Scan(&role, &created); err != nil {
			return notFound(err, "membership")
		}
		if Role(role) == RoleOrgAdmin {
			n, err := adminsLeft(ctx, tx, orgID, userID)
			if err != nil {
				return fmt.Errorf("identity: count org admins: %w", err)
			}
			if n == 0 {
				return ErrLastAdmin
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO membership_suspensions (org_id, user_id, role, created_at, suspended_at, suspended_by)
			VALUES (?, ?, ?, ?, ?, ?)`, orgID, userID, role, created, micros(s.Now()), nullID(audit.ActorFrom(ctx).UserID)); err != nil {
			return fmt.Errorf("identity: suspend member: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID); err != nil {
			return fmt.Errorf("identity: suspend member: %w", err)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "member.suspend", ObjectType: "user", ObjectID: idStr(userID), OrgID: orgID,
			Details: map[string]any{"role": role}})
	})
}

// ReinstateMember ends the suspension of userID's membership of orgID.
func (s *Store) ReinstateMember(ctx context.Context, orgID, userID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var role string
		var created int64
		if err := tx.QueryRow(ctx, "SELECT role, created_at FROM membership_suspensions WHERE org_id = ? AND user_id = ?", orgID, userID).Scan(&role, &created); err != nil {
			return notFound(err, "suspended membership")
		}
		if _, err := tx.Exec(ctx, "DELETE FROM membership_suspensions WHERE org_id = ? AND user_id = ?", orgID, userID); err != nil {
			return fmt.Errorf("identity: reinstate member: %w", err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)", orgID, userID, role, created); err != nil {
			return fmt.Errorf("identity: reinstate member: %w", err)
		}
		return s.audit(ctx, tx, audit.Entry{Action: "member.reinstate", ObjectType: "user", ObjectID: idStr(userID), OrgID: orgID,
			Details: map[string]any{"role": role}})
	})
}

// Role returns the role of userID in orgID, or ErrNotFound when the user is
// not a member (authorisation checks on every org page).
func (s *Store) Role(ctx context.Context, orgID, userID int64) (Role, error) {
	var r string
	if err := s.hotRow(ctx, "SELECT role FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID).Scan(&r); err != nil {
		return "", notFound(err, "membership")
	}
	return Role(r), nil
}

// ListMembers returns the members of an organisation by e-mail, the
// suspended ones included (Member.Suspended).
func (s *Store) ListMembers(ctx context.Context, orgID int64) ([]Member, error) {
	rows, err := s.db.Query(ctx, "SELECT "+userCols+", m.role, m.created_at, FALSE, u.enrolled_org_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ?"+
		" UNION ALL SELECT "+userCols+", m.role, m.created_at, TRUE, u.enrolled_org_id FROM membership_suspensions m JOIN users u ON u.id = m.user_id WHERE m.org_id = ?"+
		" ORDER BY 2, 1", orgID, orgID)
	if err != nil {
		return nil, fmt.Errorf("identity: list members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		var email sql.NullString
		var created, mcreated int64
		var enrolled, via sql.NullInt64
		var role string
		u := &m.User
		if err := rows.Scan(&u.ID, &email, &u.DisplayName, &u.WebAuthnID, &u.Active, &u.PlatformAdmin, &created, &enrolled, &role, &mcreated, &m.Suspended, &via); err != nil {
			return nil, err
		}
		u.Email, u.Created, u.Enrolled = email.String, fromMicros(created), fromNull(enrolled)
		m.OrgID, m.Role, m.Created, m.EnrolledOrgID = orgID, Role(role), fromMicros(mcreated), via.Int64
		out = append(out, m)
	}
	return out, rows.Err()
}

// Member returns one member of an organisation, suspended or not, or
// ErrNotFound.
func (s *Store) Member(ctx context.Context, orgID, userID int64) (Member, error) {
	ms, err := s.ListMembers(ctx, orgID)
	if err != nil {
		return Member{}, err
	}
	for _, m := range ms {
		if m.User.ID == userID {
			return m, nil
		}
	}
	return Member{}, fmt.Errorf("member %d of org %d: %w", userID, orgID, ErrNotFound)
}

// EnrolledOrg returns the organisation whose invitation created userID's
// account (0: none, e.g. a platform administrator enrolled by the
// operator).
func (s *Store) EnrolledOrg(ctx context.Context, userID int64) (int64, error) {
	var via sql.NullInt64
	if err := s.db.QueryRow(ctx, "SELECT enrolled_org_id FROM users WHERE id = ?", userID).Scan(&via); err != nil {
		return 0, notFound(err, "user")
	}
	return via.Int64, nil
}

// SuspendedMemberships returns the organisations where userID's membership
// is suspended, by name.
func (s *Store) SuspendedMemberships(ctx context.Context, userID int64) ([]Membership, error) {
	rows, err := s.db.Query(ctx, "SELECT o.id, o.name, o.type, o.country, o.require_totp, o.created_at, o.licensee_type, m.role, m.created_at FROM membership_suspensions m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.name_key", userID)
	if err != nil {
		return nil, fmt.Errorf("identity: suspended memberships: %w", err)
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var typ, lic, role string
		var created, mcreated int64
		if err := rows.Scan(&m.Org.ID, &m.Org.Name, &typ, &m.Org.Country, &m.Org.RequireTOTP, &created, &lic, &role, &mcreated); err != nil {
			return nil, err
		}
		m.Org.Type, m.Org.Created, m.Org.Licensee = OrgType(typ), fromMicros(created), LicenseeType(lic)
		m.UserID, m.Role, m.Created = userID, Role(role), fromMicros(mcreated)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Memberships returns the organisations of a user by name.
func (s *Store) Memberships(ctx context.Context, userID int64) ([]Membership, error) {
	rows, err := s.hotRows(ctx, "SELECT o.id, o.name, o.type, o.country, o.require_totp, o.created_at, o.licensee_type, m.role, m.created_at FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.name_key", userID)
	if err != nil {
		return nil, fmt.Errorf("identity: memberships: %w", err)
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var typ, lic, role string
		var created, mcreated int64
		if err := rows.Scan(&m.Org.ID, &m.Org.Name, &typ, &m.Org.Country, &m.Org.RequireTOTP, &created, &lic, &role, &mcreated); err != nil {
			return nil, err
		}
		m.Org.Type, m.Org.Created, m.Org.Licensee = OrgType(typ), fromMicros(created), LicenseeType(lic)
		m.UserID, m.Role, m.Created = userID, Role(role), fromMicros(mcreated)
		out = append(out, m)
	}
	return out, rows.Err()
}

// TOTPRequired reports whether any organisation of the user requires TOTP.
func (s *Store) TOTPRequired(ctx context.Context, userID int64) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = ? AND o.require_totp = ?", userID, true).Scan(&n)
	return n > 0, err
}

// AccountPage is one page of [Store.SearchUsers].
type AccountPage struct {
	Users []User
	Total int // matching accounts on all pages
}

// SearchUsers lists accounts whose e-mail address or display name contains
// q (any case; "" matches all), by e-mail, limit at a time from offset: the
// platform administrators' account list, which must stay usable with
// thousands of accounts.
func (s *Store) SearchUsers(ctx context.Context, q string, limit, offset int) (AccountPage, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	offset = max(offset, 0)
	pat := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(strings.TrimSpace(q))) + "%"
	where := ` WHERE (LOWER(COALESCE(u.email, '')) LIKE ? ESCAPE '\' OR LOWER(u.display_name) LIKE ? ESCAPE '\')`
	var p AccountPage
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM users u"+where, pat, pat).Scan(&p.Total); err != nil {
		return AccountPage{}, fmt.Errorf("identity: search users: %w", err)
	}
	rows, err := s.db.Query(ctx, "SELECT "+userCols+" FROM users u"+where+" ORDER BY u.email, u.id LIMIT ? OFFSET ?", pat, pat, limit, offset)
	if err != nil {
		return AccountPage{}, fmt.Errorf("identity: search users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return AccountPage{}, fmt.Errorf("identity: search users: %w", err)
		}
		p.Users = append(p.Users, u)
	}
	return p, rows.Err()
}
