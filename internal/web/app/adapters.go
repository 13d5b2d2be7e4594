package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/web"
)

// sessionStore adapts the identity store to web.SessionStore. A lookup is
// one indexed read: the session joined with its user and the user's
// memberships (read on every request, so a role change or a removal takes
// effect at once).
type sessionStore struct{ id *identity.Store }

func (s sessionStore) CreateSession(ctx context.Context, n web.NewSession) (string, error) {
	tok, _, err := s.id.CreateSession(ctx, n.UserID, identity.SessionMeta{IP: n.IP, UserAgent: n.UserAgent}, "sign-in")
	return tok, err
}

func (s sessionStore) LookupSession(ctx context.Context, token string) (*web.Principal, error) {
	sess, u, ms, err := s.id.AuthenticateMember(ctx, token)
	if errors.Is(err, identity.ErrSessionInvalid) {
		return nil, web.ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	p, totpOrg := newPrincipal(u, ms)
	if totpOrg {
		// Only members of an organisation that requires TOTP pay for this
		// third read; the flag makes the shell send them to the set-up
		// page from every page until TOTP is on.
		st, err := s.id.TOTP(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		p.TOTPSetupRequired = !st.Enabled
	}
	p.Session = &web.Session{ID: strconv.FormatInt(sess.ID, 10), CreatedAt: sess.Created, LastSeen: sess.LastSeen,
		ExpiresAt: sess.Expires, VerifiedAt: sess.Verified}
	return p, nil
}

// principal builds the principal of u; totpOrg reports whether one of
// u's organisations requires TOTP.
func (s sessionStore) principal(ctx context.Context, u identity.User) (p *web.Principal, totpOrg bool, err error) {
	ms, err := s.id.Memberships(ctx, u.ID)
	if err != nil {
		return nil, false, err
	}
	p, totpOrg = newPrincipal(u, ms)
	return p, totpOrg, nil
}

// newPrincipal builds the principal of u from its memberships; totpOrg
// reports whether one of the organisations requires TOTP.
func newPrincipal(u identity.User, ms []identity.Membership) (p *web.Principal, totpOrg bool) {
	p = &web.Principal{User: web.User{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, PlatformAdmin: u.PlatformAdmin},
		Memberships: make([]web.Membership, len(ms))}
	for i, m := range ms {
		p.Memberships[i] = web.Membership{OrgID: m.Org.ID, OrgName: m.Org.Name, Role: web.Role(m.Role), Detail: m.Org}
		totpOrg = totpOrg || m.Org.RequireTOTP
	}
	return p, totpOrg
}

// TouchSession is done by identity.Store.Authenticate itself (at most once
// a minute), so there is nothing left to do here.
func (s sessionStore) TouchSession(context.Context, string, time.Time) error { return nil }

func (s sessionStore) MarkSessionVerified(ctx context.Context, id string, _ time.Time) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fmt.Errorf("session id %q: %w", id, web.ErrNoSession)
	}
	return s.id.MarkVerified(ctx, n, "step-up")
}

func (s sessionStore) RenewSession(ctx context.Context, token string) (string, time.Time, error) {
	tok, sess, err := s.id.RenewSession(ctx, token)
	if errors.Is(err, identity.ErrSessionInvalid) {
		return "", time.Time{}, web.ErrNoSession
	}
	return tok, sess.Expires, err
}

func (s sessionStore) EndSession(ctx context.Context, token string) error {
	return s.id.EndSession(ctx, token)
}

func (s sessionStore) LookupToken(ctx context.Context, token string) (*web.Principal, error) {
	t, u, err := s.id.AuthenticateAPIToken(ctx, token)
	if errors.Is(err, identity.ErrTokenInvalid) {
		return nil, web.ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	p, _, err := s.principal(ctx, u)
	if err != nil {
		return nil, err
	}
	p.TokenID, p.TokenScope = t.ID, web.Scope(t.Scope)
	return p, nil
}

// auditor records the shell's own security events in the audit log.
type auditor struct {
	db  *db.DB
	now func() time.Time
}

func (a auditor) Record(ctx context.Context, e web.AuditEvent) error {
	_, err := audit.Record(ctx, a.db, audit.Entry{
		Time: a.now().UTC(), ActorUserID: e.ActorUserID, Action: e.Action, ObjectType: e.ObjectType,
		ObjectID: e.ObjectID, Details: e.Details, IP: e.IP, RequestID: e.RequestID,
	})
	return err
}

// auditLog lists entries for the audit pages.
type auditLog struct{ db *db.DB }

func (l auditLog) List(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	return audit.List(ctx, l.db, f)
}

func withActor(ctx context.Context, a web.Actor) context.Context {
	return audit.WithActor(ctx, audit.Actor{UserID: a.UserID, OrgID: a.OrgID, IP: a.IP, RequestID: a.RequestID})
}
