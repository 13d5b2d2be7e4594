// Package webtest has the stand-ins that the modules' tests use to run
// their pages inside the real web shell without the sign-in flows: a
// session store whose cookies name the user, and an auditor that writes
// the shell's events to the real audit log.
package webtest

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
)

// Sessions is a stand-in web.SessionStore over the real identity store,
// so that roles are those the test gave. A session cookie's value is the
// user's ID, verified now; "ID:stale" was verified an hour ago (a step-up
// is due). A bearer token is "tok-ID-SCOPE" (SCOPE read or write).
type Sessions struct {
	web.SessionStore // methods the tests never reach (embedding keeps it compiling as the interface grows)
	IDs              *identity.Store
	Now              func() time.Time
}

// Cookie is the session cookie value of user id.
func Cookie(id int64) string { return strconv.FormatInt(id, 10) }

// StaleCookie is the cookie value of a session of user id that needs a
// step-up.
func StaleCookie(id int64) string { return Cookie(id) + ":stale" }

// Token is the bearer token of user id with scope.
func Token(id int64, scope web.Scope) string { return "tok-" + Cookie(id) + "-" + string(scope) }

func (s Sessions) TouchSession(context.Context, string, time.Time) error { return nil }
func (s Sessions) EndSession(context.Context, string) error              { return nil }

func (s Sessions) LookupSession(ctx context.Context, tok string) (*web.Principal, error) {
	idStr, stale := strings.CutSuffix(tok, ":stale")
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return nil, web.ErrNoSession
	}
	p, err := s.principal(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	verified := now
	if stale {
		verified = now.Add(-time.Hour)
	}
	p.Session = &web.Session{ID: idStr, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour), VerifiedAt: verified}
	return p, nil
}

func (s Sessions) LookupToken(ctx context.Context, tok string) (*web.Principal, error) {
	parts := strings.Split(tok, "-")
	if len(parts) != 3 || parts[0] != "tok" {
		return nil, web.ErrNoSession
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, web.ErrNoSession
	}
	p, err := s.principal(ctx, id)
	if err != nil {
		return nil, err
	}
	p.TokenID, p.TokenScope = 1, web.Scope(parts[2])
	return p, nil
}

// principal is user id with the memberships the identity store has.
func (s Sessions) principal(ctx context.Context, id int64) (*web.Principal, error) {
	u, err := s.IDs.User(ctx, id)
	if err != nil {
		return nil, web.ErrNoSession
	}
	ms, err := s.IDs.Memberships(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &web.Principal{User: web.User{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, PlatformAdmin: u.PlatformAdmin}}
	for _, m := range ms {
		p.Memberships = append(p.Memberships, web.Membership{OrgID: m.Org.ID, OrgName: m.Org.Name, Role: web.Role(m.Role)})
	}
	return p, nil
}

// Auditor writes the shell's security events to the audit log of DB.
type Auditor struct{ DB *db.DB }

func (a Auditor) Record(ctx context.Context, e web.AuditEvent) error {
	_, err := audit.Record(ctx, a.DB, audit.Entry{ActorUserID: e.ActorUserID, Action: e.Action, ObjectType: e.ObjectType,
		ObjectID: e.ObjectID, Details: e.Details, IP: e.IP, RequestID: e.RequestID})
	return err
}
