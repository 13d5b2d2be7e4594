package authn

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/identity/identitytest"
)

// backend is a Store plus what the tests need to arrange and inspect it:
// links, audit entries, sessions for the test shell.
type backend interface {
	store() Store
	enrolLink(t testing.TB) string
	// invite invites email and returns the link token; the account is
	// created when the link is used.
	invite(t testing.TB, email string) string
	recoveryLink(t testing.TB, uid int64) string
	audits(t testing.TB) []memAudit
	totpSecret(t testing.TB, uid int64) string
	requireTOTP(t testing.TB, uid int64)
	deactivate(t testing.TB, uid int64)
	startSession(t testing.TB, uid int64) string
	sessionByCookie(cookie string) (Session, bool)
	endSession(cookie string)
	markVerified(id string) error
}

// backends are the stores every flow test runs on: the in-memory fake
// (fast, rules restated) and the real identity store on SQLite and, when
// DFSLAB_TEST_POSTGRES is set, PostgreSQL.
var backends = []struct {
	name string
	new  func(t testing.TB, clock *fakeClock) backend
}{
	{"memory", func(t testing.TB, c *fakeClock) backend { return &memBackend{newMemStore(c.Now)} }},
	{"sqlite", func(t testing.TB, c *fakeClock) backend { return newIDBackend(t, dbtest.SQLite(t), c) }},
	{"postgres", func(t testing.TB, c *fakeClock) backend { return newIDBackend(t, dbtest.Postgres(t), c) }},
}

// ---- in-memory ----

type memBackend struct{ *memStore }

func (b *memBackend) store() Store { return b.memStore }

func (b *memBackend) link(kind LinkKind, uid int64) string {
	tok := randomCode(32)
	b.addLink(kind, uid, tok, b.now().Add(24*time.Hour))
	return tok
}

func (b *memBackend) enrolLink(testing.TB) string { return b.link(LinkEnrolFirstAdmin, 0) }
func (b *memBackend) invite(_ testing.TB, email string) string {
	tok := randomCode(32)
	b.addInvitation(email, tok, b.now().Add(24*time.Hour))
	return tok
}
func (b *memBackend) recoveryLink(_ testing.TB, uid int64) string { return b.link(LinkRecovery, uid) }
func (b *memBackend) audits(testing.TB) []memAudit                { return b.memStore.audits() }
func (b *memBackend) totpSecret(_ testing.TB, uid int64) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.totp[uid].secret
}
func (b *memBackend) requireTOTP(_ testing.TB, uid int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.accounts[uid].TOTPRequired = true
}
func (b *memBackend) deactivate(_ testing.TB, uid int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.accounts[uid].Active = false
	for _, s := range b.sessions {
		if s.UserID == uid {
			s.revoked = true
		}
	}
}
func (b *memBackend) startSession(_ testing.TB, uid int64) string {
	return b.memStore.startSession(uid, b.now())
}
func (b *memBackend) markVerified(id string) error { return b.memStore.markVerified(id, b.now()) }

// ---- identity store ----

type idBackend struct {
	ids *identity.Store
	d   *db.DB
	org int64
}

func newIDBackend(t testing.TB, d *db.DB, c *fakeClock) *idBackend {
	ids := identity.NewStore(d, identity.Options{Now: c.Now})
	o, err := ids.CreateOrg(context.Background(), identity.NewOrg{Name: "MACRA", Type: identity.OrgTelecomRegulator, Country: "MW"})
	if err != nil {
		t.Fatal(err)
	}
	return &idBackend{ids: ids, d: d, org: o.ID}
}

func (b *idBackend) store() Store { return IdentityStore(b.ids) }

func (b *idBackend) enrolLink(t testing.TB) string {
	tok, _, err := b.ids.EnrolLink(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (b *idBackend) invite(t testing.TB, email string) string {
	inv, err := b.ids.Invite(context.Background(), b.org, email, identity.RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	return inv.Token
}

func (b *idBackend) recoveryLink(t testing.TB, uid int64) string {
	rl, err := b.ids.IssueRecoveryLink(context.Background(), b.org, uid)
	if err != nil {
		t.Fatal(err)
	}
	return rl.Token
}

func (b *idBackend) audits(t testing.TB) []memAudit {
	es, err := audit.List(context.Background(), b.d, audit.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]memAudit, len(es))
	for i, e := range es { // newest first → oldest first
		out[len(es)-1-i] = memAudit{Meta{ActorID: e.ActorUserID, IP: e.IP, RequestID: e.RequestID},
			AuditEvent{Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Details: e.Details}}
	}
	return out
}

func (b *idBackend) totpSecret(t testing.TB, uid int64) string {
	sec, _, _, err := b.ids.TOTPSecret(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	return identity.TOTPSecretBase32(sec)
}

func (b *idBackend) requireTOTP(t testing.TB, uid int64) {
	ctx := context.Background()
	o, err := b.ids.Org(ctx, b.org)
	if err != nil {
		t.Fatal(err)
	}
	o.RequireTOTP = true
	if _, err := b.ids.UpdateOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := b.ids.AddMember(ctx, b.org, uid, identity.RoleViewer); err != nil {
		t.Fatal(err)
	}
}

func (b *idBackend) deactivate(t testing.TB, uid int64) {
	ctx := context.Background()
	// The last platform administrator cannot be suspended: keep another.
	tok, _, err := b.ids.EnrolLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ids.RedeemEnrolment(ctx, tok, identity.Enrolment{DisplayName: "Spare", Email: fmt.Sprintf("spare%d@example.org", uid),
		Passkey: identitytest.StandInPasskey()}); err != nil {
		t.Fatal(err)
	}
	if err := b.ids.SetActive(ctx, uid, false); err != nil {
		t.Fatal(err)
	}
}

func (b *idBackend) startSession(t testing.TB, uid int64) string {
	tok, _, err := b.ids.CreateSession(context.Background(), uid, identity.SessionMeta{IP: "192.0.2.1", UserAgent: "test"}, "passkey")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (b *idBackend) sessionByCookie(cookie string) (Session, bool) {
	s, u, err := b.ids.Authenticate(context.Background(), cookie)
	if err != nil {
		return Session{}, false
	}
	return Session{ID: strconv.FormatInt(s.ID, 10), UserID: u.ID, CreatedAt: s.Created, VerifiedAt: s.Verified}, true
}

func (b *idBackend) endSession(cookie string) { _ = b.ids.EndSession(context.Background(), cookie) }

func (b *idBackend) markVerified(id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fmt.Errorf("session %q: %w", id, err)
	}
	return b.ids.MarkVerified(context.Background(), n, "step-up")
}
