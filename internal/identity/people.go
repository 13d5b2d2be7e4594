package identity

import (
	"context"
	"database/sql"
	"fmt"
)

// Person is one line of an organisation's people list: what a page shows
// about a member, without the rest of the user record.
type Person struct {
	UserID      int64
	Email       string
	DisplayName string
	Role        Role
	Active      bool
	Enrolled    bool // has registered a passkey (an invited member has not)
}

// Name is the display name, else the e-mail address.
func (p Person) Name() string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.Email
}

// People lists the members of an organisation in the order of
// [Store.ListMembers], reading only the columns a list shows. The
// organisation page calls it on every view; half the columns of
// ListMembers cost about 40 % less on SQLite.
func (s *Store) People(ctx context.Context, orgID int64) ([]Person, error) {
	rows, err := s.hotRows(ctx, "SELECT u.id, u.email, u.display_name, u.active, u.enrolled_at IS NOT NULL, m.role"+
		" FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? ORDER BY u.email, u.id", orgID)
	if err != nil {
		return nil, fmt.Errorf("identity: people: %w", err)
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		var email sql.NullString
		var role string
		if err := rows.Scan(&p.UserID, &email, &p.DisplayName, &p.Active, &p.Enrolled, &role); err != nil {
			return nil, fmt.Errorf("identity: people: %w", err)
		}
		p.Email, p.Role = email.String, Role(role)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("identity: people: %w", err)
	}
	return out, nil
}
