package collab

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/identity/identitytest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fixture: organisation A (DFS provider, Malawi) with two members, a
// central bank in Malawi (same jurisdiction), provider B in Lesotho, and a
// platform administrator who belongs to no organisation.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *db.DB
	s     *Store
	cat   *catalog.Catalog
	clock *clock
	orgA  int64
	orgMW int64
	orgB  int64
	a1    Viewer // analyst of A
	a2    Viewer // viewer of A
	mw    Viewer // central bank in MW
	b     Viewer // provider B in LS
	admin Viewer // platform administrator
	rec   string
	ids   *identity.Store
}

var testCatalog = sync.OnceValues(catalog.Load)

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	cat, err := testCatalog()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: d, cat: cat, clock: &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}}
	f.ctx = audit.WithActor(context.Background(), audit.Actor{UserID: 1, IP: "192.0.2.1", RequestID: "test"})
	f.s = NewStore(d, cat, f.clock.Now)
	f.rec = cat.Recommendations[0].ID
	ids := identity.NewStore(d, identity.Options{Now: f.clock.Now})
	f.ids = ids
	org := func(name string, typ identity.OrgType, country string) int64 {
		o, err := ids.CreateOrg(f.ctx, identity.NewOrg{Name: name, Type: typ, Country: country})
		if err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	f.orgA = org("Provider A", identity.OrgDFSProvider, "MW")
	f.orgMW = org("Reserve Bank", identity.OrgCentralBank, "MW")
	f.orgB = org("Provider B", identity.OrgDFSProvider, "LS")
	member := func(org int64, email string, role identity.Role) Viewer {
		return Viewer{UserID: identitytest.Member(t, ids, org, email, email, role).ID}
	}
	f.a1 = member(f.orgA, "a1@example.org", identity.RoleAnalyst)
	f.a2 = member(f.orgA, "a2@example.org", identity.RoleViewer)
	f.mw = member(f.orgMW, "mw@example.org", identity.RoleAnalyst)
	f.b = member(f.orgB, "b@example.org", identity.RoleOrgAdmin)
	tok, _, err := ids.EnrolLink(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	cred := make([]byte, 32)
	rand.Read(cred)
	u, err := ids.RedeemEnrolment(f.ctx, tok, identity.Enrolment{DisplayName: "Admin", Email: "admin@example.org",
		Passkey: identity.Passkey{CredentialID: cred, PublicKey: []byte{1}, Name: "k"}})
	if err != nil {
		t.Fatal(err)
	}
	f.admin = Viewer{UserID: u.ID, Admin: true}
	return f
}

func (f *fixture) thread(v Viewer, org int64, aud Audience, title string) Thread {
	f.t.Helper()
	th, err := f.s.CreateThread(f.ctx, v, NewThread{RecID: f.rec, OrgID: org, Audience: aud, Title: title, Body: "Body of " + title})
	if err != nil {
		f.t.Fatalf("create thread %q: %v", title, err)
	}
	return th
}

func (f *fixture) auditCount(action string) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(f.ctx, `SELECT COUNT(*) FROM audit_log WHERE action = ?`, action).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestAudienceEnforced(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		threads := map[Audience]Thread{}
		notes := map[Audience]int64{}
		for _, a := range Audiences() {
			threads[a] = f.thread(f.a1, f.orgA, a, "secretword"+string(a)+" thread")
			n, err := f.s.AddNote(f.ctx, f.a1, NewNote{RecID: f.rec, OrgID: f.orgA, Audience: a, Body: "note for " + string(a)})
			if err != nil {
				t.Fatal(err)
			}
			notes[a] = n.ID
		}
		readers := []struct {
			name string
			v    Viewer
			sees map[Audience]bool
		}{
			{"author", f.a1, map[Audience]bool{AudienceOrg: true, AudienceCountry: true, AudienceAll: true}},
			{"colleague", f.a2, map[Audience]bool{AudienceOrg: true, AudienceCountry: true, AudienceAll: true}},
			{"same country, other org", f.mw, map[Audience]bool{AudienceCountry: true, AudienceAll: true}},
			{"other country", f.b, map[Audience]bool{AudienceAll: true}},
			{"platform admin", f.admin, map[Audience]bool{AudienceOrg: true, AudienceCountry: true, AudienceAll: true}},
			{"nobody", Viewer{UserID: 987654}, map[Audience]bool{}},
		}
		for _, r := range readers {
			t.Run(r.name, func(t *testing.T) {
				for _, q := range []ThreadQuery{{}, {RecID: f.rec}, {Text: "SECRETWORD"}, {Text: "Body of"}} {
					list, err := f.s.Threads(f.ctx, r.v, q)
					if err != nil {
						t.Fatal(err)
					}
					got := map[int64]bool{}
					for _, th := range list {
						got[th.ID] = true
					}
					for a, th := range threads {
						if got[th.ID] != r.sees[a] {
							t.Errorf("query %+v: sees %s thread = %v, want %v", q, a, got[th.ID], r.sees[a])
						}
					}
					if len(list) != len(r.sees) {
						t.Errorf("query %+v: %d threads listed, want %d", q, len(list), len(r.sees))
					}
				}
				for a, th := range threads {
					_, posts, err := f.s.Thread(f.ctx, r.v, th.ID)
					if r.sees[a] {
						if err != nil || len(posts) != 1 {
							t.Errorf("open %s thread: %v (%d posts)", a, err, len(posts))
						}
						continue
					}
					if !errors.Is(err, ErrNotFound) || posts != nil {
						t.Errorf("open %s thread: err %v, %d posts; want ErrNotFound and nothing", a, err, len(posts))
					}
					if _, err := f.s.Reply(f.ctx, r.v, th.ID, "let me in"); !errors.Is(err, ErrNotFound) {
						t.Errorf("reply to %s thread: %v, want ErrNotFound", a, err)
					}
				}
				ns, err := f.s.Notes(f.ctx, r.v, f.rec)
				if err != nil {
					t.Fatal(err)
				}
				got := map[int64]bool{}
				for _, n := range ns {
					got[n.ID] = true
				}
				for a, id := range notes {
					if got[id] != r.sees[a] {
						t.Errorf("sees %s note = %v, want %v", a, got[id], r.sees[a])
					}
				}
			})
		}
		// Writes on posts that are not visible look like missing posts.
		_, posts, _ := f.s.Thread(f.ctx, f.a1, threads[AudienceOrg].ID)
		if _, err := f.s.EditPost(f.ctx, f.b, posts[0].ID, "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("edit invisible post: %v", err)
		}
		if _, err := f.s.DeletePost(f.ctx, f.b, posts[0].ID, ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete invisible post: %v", err)
		}
		if _, err := f.s.DeleteNote(f.ctx, f.mw, notes[AudienceOrg]); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete invisible note: %v", err)
		}
	})
}

func TestPostLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		th := f.thread(f.a1, f.orgA, AudienceCountry, "Rollout")
		reply, err := f.s.Reply(f.ctx, f.mw, th.ID, "How did you handle <b>SIM swap</b>?")
		if err != nil {
			t.Fatal(err)
		}
		// Someone else may not edit or delete it.
		if _, err := f.s.EditPost(f.ctx, f.a1, reply.ID, "changed"); !errors.Is(err, ErrForbidden) {
			t.Errorf("edit someone else's post: %v", err)
		}
		if _, err := f.s.DeletePost(f.ctx, f.a1, reply.ID, ""); !errors.Is(err, ErrForbidden) {
			t.Errorf("delete someone else's post: %v", err)
		}
		f.clock.Advance(EditWindow - time.Second)
		if _, err := f.s.EditPost(f.ctx, f.mw, reply.ID, "Edited within the window"); err != nil {
			t.Fatalf("edit within window: %v", err)
		}
		f.clock.Advance(2 * time.Second)
		if _, err := f.s.EditPost(f.ctx, f.mw, reply.ID, "Too late"); !errors.Is(err, ErrEditWindow) {
			t.Errorf("edit after window: %v", err)
		}
		_, posts, _ := f.s.Thread(f.ctx, f.a2, th.ID)
		if len(posts) != 2 || posts[1].Body != "Edited within the window" || posts[1].Edited.IsZero() {
			t.Fatalf("after edit: %+v", posts)
		}
		if posts[1].OrgName != "Reserve Bank" || posts[1].AuthorName == "" {
			t.Errorf("reply shown as %q of %q", posts[1].AuthorName, posts[1].OrgName)
		}
		// The author deletes: a tombstone keeps the place.
		if _, err := f.s.DeletePost(f.ctx, f.mw, reply.ID, ""); err != nil {
			t.Fatal(err)
		}
		_, posts, _ = f.s.Thread(f.ctx, f.a2, th.ID)
		if len(posts) != 2 || !posts[1].IsDeleted() || posts[1].Body != "" || posts[1].Moderated {
			t.Errorf("after delete: %+v", posts[1])
		}
		if _, err := f.s.DeletePost(f.ctx, f.mw, reply.ID, ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		// A platform administrator moderates someone else's post.
		if _, err := f.s.DeletePost(f.ctx, f.admin, posts[0].ID, "off topic"); err != nil {
			t.Fatal(err)
		}
		_, posts, _ = f.s.Thread(f.ctx, f.a2, th.ID)
		if !posts[0].Moderated || posts[0].Body != "" {
			t.Errorf("moderated post: %+v", posts[0])
		}
		if n := f.auditCount("collab.post.moderate"); n != 1 {
			t.Errorf("%d moderation audit entries, want 1", n)
		}
		// Deleted posts are not found by search any more.
		list, _ := f.s.Threads(f.ctx, f.admin, ThreadQuery{Text: "Edited within"})
		if len(list) != 0 {
			t.Errorf("search finds the text of a deleted post")
		}
	})
}

func TestBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		long := strings.Repeat("é", MaxBody+1) // characters, not bytes, are counted
		ok := NewThread{RecID: f.rec, OrgID: f.orgA, Audience: AudienceOrg, Title: "T", Body: "B"}
		with := func(mod func(*NewThread)) NewThread { n := ok; mod(&n); return n }
		for _, tc := range []struct {
			name string
			n    NewThread
		}{
			{"empty body", with(func(n *NewThread) { n.Body = "" })},
			{"blank body", with(func(n *NewThread) { n.Body = " \n\t " })},
			{"oversized body", with(func(n *NewThread) { n.Body = long })},
			{"empty title", with(func(n *NewThread) { n.Title = "" })},
			{"oversized title", with(func(n *NewThread) { n.Title = strings.Repeat("x", MaxTitle+1) })},
			{"control characters", with(func(n *NewThread) { n.Body = "a\x00b" })},
			{"invalid UTF-8", with(func(n *NewThread) { n.Body = "a\xffb" })},
			{"unknown recommendation", with(func(n *NewThread) { n.RecID = "APP-999" })},
			{"malformed recommendation", with(func(n *NewThread) { n.RecID = "'; DROP TABLE x; --" })},
			{"unknown audience", with(func(n *NewThread) { n.Audience = "world" })},
			{"someone else's organisation", with(func(n *NewThread) { n.OrgID = f.orgB })},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.s.CreateThread(f.ctx, f.a1, tc.n)
				var ie *InputError
				if !errors.Is(err, ErrInvalid) || !errors.As(err, &ie) || ie.Msg == "" {
					t.Errorf("error %v, want an InputError", err)
				}
			})
		}
		if _, err := f.s.AddNote(f.ctx, f.a1, NewNote{RecID: "GOV-999", OrgID: f.orgA, Audience: AudienceAll, Body: "x"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("note on unknown recommendation: %v", err)
		}
		if _, err := f.s.AddNote(f.ctx, f.a1, NewNote{RecID: f.rec, OrgID: f.orgA, Audience: AudienceAll, Body: long}); !errors.Is(err, ErrInvalid) {
			t.Errorf("oversized note: %v", err)
		}
		if _, err := f.s.Propose(f.ctx, f.a1, NewProposal{RecID: f.rec, OrgID: f.orgA, Reason: "why"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("proposal without text: %v", err)
		}
		if _, err := f.s.Propose(f.ctx, f.a1, NewProposal{RecID: f.rec, OrgID: f.orgA, Statement: "s"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("proposal without reason: %v", err)
		}
		if _, err := f.s.Propose(f.ctx, f.a1, NewProposal{RecID: "PAY-000", OrgID: f.orgA, Statement: "s", Reason: "r"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("proposal on unknown recommendation: %v", err)
		}
		th := f.thread(f.a1, f.orgA, AudienceOrg, "fine")
		if _, err := f.s.Reply(f.ctx, f.a1, th.ID, "   "); !errors.Is(err, ErrInvalid) {
			t.Errorf("empty reply: %v", err)
		}
		if _, err := f.s.Reply(f.ctx, f.a1, 424242, "hello"); !errors.Is(err, ErrNotFound) {
			t.Errorf("reply to unknown thread: %v", err)
		}
		// Nothing was written by the refused calls.
		var threads, notes, proposals, posts int
		f.db.QueryRow(f.ctx, `SELECT (SELECT COUNT(*) FROM collab_threads), (SELECT COUNT(*) FROM collab_notes),
			(SELECT COUNT(*) FROM collab_proposals), (SELECT COUNT(*) FROM collab_posts)`).Scan(&threads, &notes, &proposals, &posts)
		if threads != 1 || notes != 0 || proposals != 0 || posts != 1 {
			t.Errorf("refused input left rows: %d threads, %d notes, %d proposals, %d posts", threads, notes, proposals, posts)
		}
	})
}

func TestNotesAnonymised(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		if _, err := f.s.AddNote(f.ctx, f.a1, NewNote{RecID: f.rec, OrgID: f.orgA, Audience: AudienceAll, Anonymous: true,
			Body: "We rotated keys quarterly."}); err != nil {
			t.Fatal(err)
		}
		ns, err := f.s.Notes(f.ctx, f.b, f.rec)
		if err != nil || len(ns) != 1 {
			t.Fatalf("notes: %v %d", err, len(ns))
		}
		n := ns[0]
		// Provider A is the only DFS provider of MW: its kind and country
		// would name it.
		if n.Byline() != "a member" {
			t.Errorf("byline %q names the only provider of its country", n.Byline())
		}
		for _, name := range []string{"Provider C", "Provider D"} {
			if _, err := f.ids.CreateOrg(f.ctx, identity.NewOrg{Name: name, Type: identity.OrgDFSProvider, Country: "MW"}); err != nil {
				t.Fatal(err)
			}
		}
		if ns, _ = f.s.Notes(f.ctx, f.b, f.rec); ns[0].Byline() != "a DFS provider in MW" {
			t.Errorf("byline among three providers %q", ns[0].Byline())
		}
		if n.OrgName != "" || n.AuthorName != "" || n.AuthorID != 0 || n.OrgID != 0 {
			t.Errorf("anonymous note leaks its author to others: %+v", n)
		}
		own, _ := f.s.Notes(f.ctx, f.a1, f.rec)
		if own[0].OrgName != "Provider A" || own[0].AuthorID != f.a1.UserID {
			t.Errorf("author does not see their own note as theirs: %+v", own[0])
		}
		if _, err := f.s.DeleteNote(f.ctx, f.b, n.ID); !errors.Is(err, ErrForbidden) {
			t.Errorf("delete someone else's note: %v", err)
		}
		if _, err := f.s.DeleteNote(f.ctx, f.a1, own[0].ID); err != nil {
			t.Fatal(err)
		}
		if ns, _ := f.s.Notes(f.ctx, f.a1, f.rec); len(ns) != 0 {
			t.Errorf("deleted note still listed")
		}
	})
}

func TestRepliesNotifyParticipants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		th := f.thread(f.a1, f.orgA, AudienceAll, "Shared")
		if _, err := f.s.Reply(f.ctx, f.b, th.ID, "from B"); err != nil {
			t.Fatal(err)
		}
		unread := func(v Viewer) int {
			n, err := f.s.Unread(f.ctx, v.UserID)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if unread(f.a1) != 1 || unread(f.b) != 0 || unread(f.a2) != 0 {
			t.Errorf("after B's reply: a1 %d, b %d, a2 %d unread; want 1, 0, 0", unread(f.a1), unread(f.b), unread(f.a2))
		}
		if _, err := f.s.Reply(f.ctx, f.a1, th.ID, "from A"); err != nil {
			t.Fatal(err)
		}
		if unread(f.b) != 1 || unread(f.a1) != 1 {
			t.Errorf("after A's reply: b %d, a1 %d unread; want 1, 1", unread(f.b), unread(f.a1))
		}
		list, err := f.s.Notifications(f.ctx, f.b.UserID, 0)
		if err != nil || len(list) != 1 || list[0].Kind != KindReply || !strings.HasPrefix(list[0].Link, "/discussions/") {
			t.Fatalf("b's notifications: %v %+v", err, list)
		}
		// An org-only thread never notifies outsiders, even if the store
		// were asked to consider them participants.
		priv := f.thread(f.a1, f.orgA, AudienceOrg, "Internal")
		if _, err := f.s.Reply(f.ctx, f.a2, priv.ID, "colleague"); err != nil {
			t.Fatal(err)
		}
		if unread(f.b) != 1 {
			t.Errorf("outsider notified of an org-only thread")
		}
		// Someone else's notification cannot be marked.
		if err := f.s.MarkRead(f.ctx, f.a1.UserID, list[0].ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("mark someone else's notification: %v", err)
		}
		if err := f.s.MarkRead(f.ctx, f.b.UserID, list[0].ID); err != nil || unread(f.b) != 0 {
			t.Errorf("mark read: %v, %d unread", err, unread(f.b))
		}
		if err := f.s.MarkRead(f.ctx, f.a1.UserID, 0); err != nil || unread(f.a1) != 0 {
			t.Errorf("mark all read: %v, %d unread", err, unread(f.a1))
		}
		if n := f.auditCount("notification.read"); n != 2 {
			t.Errorf("%d notification.read audit entries, want 2", n)
		}
	})
}

func TestNotify(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for _, link := range []string{"//evil.example", "https://evil.example/", "javascript:alert(1)", "/a b", "/\\evil"} {
			if err := f.s.Notify(f.ctx, []int64{f.a1.UserID}, KindBaseline, "x", link); !errors.Is(err, ErrInvalid) {
				t.Errorf("link %q accepted: %v", link, err)
			}
		}
		for _, kind := range []string{"", "Bad Kind", strings.Repeat("k", 41)} {
			if err := f.s.Notify(f.ctx, []int64{f.a1.UserID}, kind, "x", "/"); !errors.Is(err, ErrInvalid) {
				t.Errorf("kind %q accepted: %v", kind, err)
			}
		}
		if err := f.s.Notify(f.ctx, []int64{f.a1.UserID, f.a1.UserID, f.b.UserID}, KindBaseline, "Baseline v2 published", "/baselines/MW"); err != nil {
			t.Fatal(err)
		}
		if n, _ := f.s.Unread(f.ctx, f.a1.UserID); n != 1 {
			t.Errorf("duplicate user IDs gave %d notifications", n)
		}
		publisher := audit.WithActor(f.ctx, audit.Actor{UserID: f.mw.UserID})
		n, err := f.s.NotifyCountry(publisher, "mw", KindBaseline, "Baseline v3 of MW published", "/orgs/{org}/baseline/v/3")
		if err != nil || n != 2 {
			t.Errorf("NotifyCountry: %d users, %v; want the 2 MW members other than the publisher", n, err)
		}
		if ns, _ := f.s.Notifications(f.ctx, f.a2.UserID, 0); len(ns) != 1 || ns[0].Link != fmt.Sprintf("/orgs/%d/baseline/v/3", f.orgA) {
			t.Errorf("a2's baseline notification: %+v", ns)
		}
		if c, _ := f.s.Unread(f.ctx, f.mw.UserID); c != 0 {
			t.Errorf("the publisher was notified of their own publication")
		}
		if c, _ := f.s.Unread(f.ctx, f.b.UserID); c != 1 {
			t.Errorf("LS member got %d notifications, want only the direct one", c)
		}
		if n := f.auditCount("notification.create"); n != 2 {
			t.Errorf("%d notification.create audit entries, want 2", n)
		}
	})
}

func TestProposals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		cats := NewCatalogues(f.s)
		base, _, err := cats.Current(f.ctx)
		if err != nil || base.Version != f.cat.Version {
			t.Fatalf("current before any revision: %v %v", base.Version, err)
		}
		p, err := f.s.Propose(f.ctx, f.a1, NewProposal{RecID: strings.ToLower(f.rec), OrgID: f.orgA,
			Statement: "Amended statement text.", Reason: "Clearer for examiners."})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != StatusOpen || p.RecID != f.rec {
			t.Errorf("new proposal %+v", p)
		}
		if _, err := f.s.Proposal(f.ctx, f.b, p.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("another member sees the proposal: %v", err)
		}
		if l, _ := f.s.Proposals(f.ctx, f.b, ""); len(l) != 0 {
			t.Errorf("another member lists %d proposals", len(l))
		}
		if l, _ := f.s.Proposals(f.ctx, f.admin, StatusOpen); len(l) != 1 {
			t.Errorf("admin lists %d open proposals, want 1", len(l))
		}
		if _, err := f.s.Accept(f.ctx, f.a1, p.ID); !errors.Is(err, ErrForbidden) {
			t.Errorf("member accepts: %v", err)
		}
		acc, err := f.s.Accept(f.ctx, f.admin, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if acc.Status != StatusAccepted || acc.Revision != 1 {
			t.Errorf("accepted: %+v", acc)
		}
		if _, err := f.s.Accept(f.ctx, f.admin, p.ID); !errors.Is(err, ErrDecided) {
			t.Errorf("accept twice: %v", err)
		}
		cur, ix, err := cats.Current(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := cur.Get(f.rec)
		if r.Statement != "Amended statement text." || cur.Version != f.cat.Version+"-r1" {
			t.Errorf("current catalogue: %q, version %s", r.Statement, cur.Version)
		}
		if orig, _ := f.cat.Get(f.rec); orig.Statement == "Amended statement text." {
			t.Errorf("the embedded base was changed")
		}
		if hits := ix.Search(catalog.Query{Text: "amended statement"}).Hits; len(hits) == 0 || hits[0].Rec.ID != f.rec {
			t.Errorf("search index not rebuilt for the amendment")
		}
		// A second server over the same database sees the revision too.
		if c2, _, _ := NewCatalogues(NewStore(d, f.cat, f.clock.Now)).Current(f.ctx); c2.Version != cur.Version {
			t.Errorf("fresh source sees version %s", c2.Version)
		}

		p2, err := f.s.Propose(f.ctx, f.b, NewProposal{RecID: f.rec, OrgID: f.orgB, Rationale: "Other rationale.", Reason: "r"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Decline(f.ctx, f.admin, p2.ID, "  "); !errors.Is(err, ErrInvalid) {
			t.Errorf("decline without reason: %v", err)
		}
		dec, err := f.s.Decline(f.ctx, f.admin, p2.ID, "Covered by PAY-001.")
		if err != nil || dec.Status != StatusDeclined || dec.DecisionReason != "Covered by PAY-001." {
			t.Fatalf("decline: %v %+v", err, dec)
		}
		if _, err := f.s.Accept(f.ctx, f.admin, p2.ID); !errors.Is(err, ErrDecided) {
			t.Errorf("accept a declined proposal: %v", err)
		}
		for _, v := range []Viewer{f.a1, f.b} {
			ns, _ := f.s.Notifications(f.ctx, v.UserID, 0)
			if len(ns) != 1 || ns[0].Kind != KindProposal {
				t.Errorf("proposer %d notifications: %+v", v.UserID, ns)
			}
		}
		if _, err := d.Exec(f.ctx, `UPDATE catalog_revisions SET statement = 'x'`); err == nil {
			t.Errorf("a catalogue revision could be changed")
		}
	})
}

// TestEveryWriteAudited runs one of each write and checks the audit log has
// exactly one entry per write and that its chain verifies.
func TestEveryWriteAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var before int
		d.QueryRow(f.ctx, `SELECT COUNT(*) FROM audit_log`).Scan(&before)
		th := f.thread(f.a1, f.orgA, AudienceAll, "Audited")
		post, _ := f.s.Reply(f.ctx, f.b, th.ID, "reply")
		f.s.EditPost(f.ctx, f.b, post.ID, "edited")
		f.s.DeletePost(f.ctx, f.b, post.ID, "")
		_, posts, _ := f.s.Thread(f.ctx, f.a1, th.ID)
		f.s.DeletePost(f.ctx, f.admin, posts[0].ID, "spam")
		n, _ := f.s.AddNote(f.ctx, f.a1, NewNote{RecID: f.rec, OrgID: f.orgA, Audience: AudienceAll, Body: "n"})
		f.s.DeleteNote(f.ctx, f.a1, n.ID)
		p, _ := f.s.Propose(f.ctx, f.a1, NewProposal{RecID: f.rec, OrgID: f.orgA, Statement: "s", Reason: "r"})
		f.s.Accept(f.ctx, f.admin, p.ID)
		p2, _ := f.s.Propose(f.ctx, f.a1, NewProposal{RecID: f.rec, OrgID: f.orgA, Statement: "t", Reason: "r"})
		f.s.Decline(f.ctx, f.admin, p2.ID, "no")
		f.s.Notify(f.ctx, []int64{f.a1.UserID}, KindBaseline, "x", "/")
		f.s.MarkRead(f.ctx, f.a1.UserID, 0)
		want := map[string]int{
			"collab.thread.create": 1, "collab.post.create": 1, "collab.post.edit": 1, "collab.post.delete": 1,
			"collab.post.moderate": 1, "collab.note.create": 1, "collab.note.delete": 1, "collab.proposal.create": 2,
			"collab.proposal.accept": 1, "collab.proposal.decline": 1, "notification.create": 1, "notification.read": 1,
		}
		total := 0
		for action, n := range want {
			total += n
			if got := f.auditCount(action); got != n {
				t.Errorf("%s: %d audit entries, want %d", action, got, n)
			}
		}
		var after int
		d.QueryRow(f.ctx, `SELECT COUNT(*) FROM audit_log`).Scan(&after)
		if after-before != total {
			t.Errorf("%d audit entries written, want %d", after-before, total)
		}
		if _, err := audit.Verify(f.ctx, d); err != nil {
			t.Errorf("audit chain: %v", err)
		}
	})
}
