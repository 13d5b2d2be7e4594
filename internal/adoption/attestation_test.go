package adoption_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/adoption"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
	"github.com/dfslab/dfslab/internal/web"
)

// submitted publishes Malawi's baseline and returns a report of p1.
func submitted(t *testing.T, f *fixture) adoption.Submission {
	t.Helper()
	f.publish()
	sub, err := f.store.Submit(f.as("p1-admin"), f.orgs["p1"], "We confirm.")
	must(t, err)
	return sub
}

func TestCanonicalJSON(t *testing.T) {
	base := adoption.Submission{ID: 7, OrgID: 3, Country: "MW", Baseline: "v2", SignedBy: "Signer", Statement: "We confirm.",
		SubmittedAt: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), Applicable: 2, Implemented: 1,
		Items: []adoption.SubmittedItem{{RecID: "TEL-001", Status: adoption.Implemented}, {RecID: "APP-001", Status: adoption.NotStarted,
			Evidence: []adoption.EvidenceRef{{SHA256: "ab", Name: "scan.pdf", Size: 3, MediaType: "application/pdf"}}}}}
	want, err := adoption.SubmissionHash(base)
	must(t, err)
	b, err := adoption.CanonicalJSON(base)
	must(t, err)
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != want {
		t.Fatal("the hash is not the SHA-256 of the canonical bytes")
	}
	if !strings.Contains(string(b), `"items":[{"rec":"APP-001"`) {
		t.Errorf("items not sorted by ID: %s", b)
	}
	for _, c := range []struct {
		name   string
		change func(*adoption.Submission)
		same   bool
	}{
		{"items in another order", func(s *adoption.Submission) { s.Items[0], s.Items[1] = s.Items[1], s.Items[0] }, true},
		{"the organisation's name (not stored with the report)", func(s *adoption.Submission) { s.OrgName = "Renamed" }, true},
		{"the regulator's review (added later)", func(s *adoption.Submission) { s.Review.Summary = "Fine." }, true},
		{"a status", func(s *adoption.Submission) { s.Items[1].Status = adoption.Implemented }, false},
		{"an evidence file", func(s *adoption.Submission) { s.Items[1].Evidence[0].SHA256 = "cd" }, false},
		{"the statement", func(s *adoption.Submission) { s.Statement = "We confirm!" }, false},
		{"the time", func(s *adoption.Submission) { s.SubmittedAt = s.SubmittedAt.Add(time.Microsecond) }, false},
	} {
		s := base
		s.Items = []adoption.SubmittedItem{base.Items[0], base.Items[1]}
		s.Items[1].Evidence = []adoption.EvidenceRef{base.Items[1].Evidence[0]}
		c.change(&s)
		got, err := adoption.SubmissionHash(s)
		must(t, err)
		if (got == want) != c.same {
			t.Errorf("%s: hash equal %v, want %v", c.name, got == want, c.same)
		}
	}
}

// TestAttestation: a member of the provider attests its report in a role
// the regulators require, after a fresh verification, with the report's
// hash; the regulators see each role's attestation checked against the
// report.
func TestAttestation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p1, macra := f.orgs["p1"], f.orgs["macra"]
		sub := submitted(t, f)
		ctx := context.Background()
		if roles, err := f.store.AttestRoles(ctx, "MW"); err != nil || len(roles) != 1 || roles[0] != adoption.DefaultAttestRole {
			t.Fatalf("default roles: %v, %v", roles, err)
		}
		var ie *adoption.InvalidError
		for _, bad := range []string{"", " \n ", "CISO\nciso", "A\nB\nC\nD\nE\nF", strings.Repeat("x", 61)} {
			if _, err := f.store.SetAttestRoles(f.as("macra-analyst"), macra, bad); !errors.As(err, &ie) || ie.Field != "roles" {
				t.Errorf("roles %q: %v, want invalid roles", bad, err)
			}
		}
		if _, err := f.store.SetAttestRoles(f.as("p1-admin"), p1, "CEO"); !errors.Is(err, adoption.ErrWrongOrg) {
			t.Errorf("a provider sets the roles: %v", err)
		}
		roles, err := f.store.SetAttestRoles(f.as("macra-analyst"), macra, "  CISO \r\n\nChief   Executive Officer\n")
		must(t, err)
		if strings.Join(roles, "|") != "CISO|Chief Executive Officer" {
			t.Fatalf("roles = %q", roles)
		}
		hash, err := adoption.SubmissionHash(sub)
		must(t, err)
		now := f.now
		for _, c := range []struct {
			name  string
			in    adoption.AttestInput
			field string
			err   error
		}{
			{"no verification", adoption.AttestInput{Role: "CISO", Name: "A. Banda", SHA256: hash}, "", adoption.ErrStepUp},
			{"a stale verification", adoption.AttestInput{Role: "CISO", Name: "A. Banda", SHA256: hash, VerifiedAt: now.Add(-web.StepUpWindow - time.Second)}, "", adoption.ErrStepUp},
			{"a role not required", adoption.AttestInput{Role: "CTO", Name: "A. Banda", SHA256: hash, VerifiedAt: now}, "role", nil},
			{"no name", adoption.AttestInput{Role: "CISO", Name: "  ", SHA256: hash, VerifiedAt: now}, "name", nil},
			{"a long name", adoption.AttestInput{Role: "CISO", Name: strings.Repeat("n", 201), SHA256: hash, VerifiedAt: now}, "name", nil},
			{"another hash", adoption.AttestInput{Role: "CISO", Name: "A. Banda", SHA256: strings.Repeat("0", 64), VerifiedAt: now}, "sha256", nil},
		} {
			_, err := f.store.Attest(f.as("p1-viewer"), p1, sub.ID, c.in)
			switch {
			case c.err != nil && !errors.Is(err, c.err):
				t.Errorf("%s: %v, want %v", c.name, err, c.err)
			case c.err == nil && (!errors.As(err, &ie) || ie.Field != c.field):
				t.Errorf("%s: %v, want invalid %s", c.name, err, c.field)
			}
		}
		// Other organisations' members cannot reach the report.
		for _, org := range []string{"p2", "k1"} {
			if _, err := f.store.Attest(f.as(org+"-admin"), f.orgs[org], sub.ID, adoption.AttestInput{Role: "CISO", Name: "X", SHA256: hash, VerifiedAt: now}); !errors.Is(err, adoption.ErrNotFound) {
				t.Errorf("%s attests p1's report: %v", org, err)
			}
		}
		verified := now.Add(-time.Minute)
		a, err := f.store.Attest(f.as("p1-viewer"), p1, sub.ID, adoption.AttestInput{Role: "CISO", Name: " A.  Banda ", SHA256: strings.ToUpper(hash), VerifiedAt: verified})
		must(t, err)
		if a.Name != "A. Banda" || a.Account != "p1-viewer@example.org" || a.SHA256 != hash || !a.VerifiedAt.Equal(verified) {
			t.Fatalf("attestation = %+v", a)
		}
		if _, err := f.store.Attest(f.as("p1-admin"), p1, sub.ID, adoption.AttestInput{Role: "CISO", Name: "Other", SHA256: hash, VerifiedAt: now}); !errors.As(err, &ie) || ie.Field != "role" {
			t.Fatalf("second CISO attestation: %v", err)
		}
		reg, err := f.store.RegulatorSubmission(ctx, macra, sub.ID)
		must(t, err)
		c, err := f.store.CheckAttestations(ctx, reg)
		must(t, err)
		if c.SHA256 != hash || len(c.Rows) != 2 || c.Rows[0].Attestation == nil || !c.Rows[0].Matches || c.Rows[1].Attestation != nil || c.Complete() {
			t.Fatalf("check after the CISO: %+v", c)
		}
		_, err = f.store.Attest(f.as("p1-admin"), p1, sub.ID, adoption.AttestInput{Role: "Chief Executive Officer", Name: "C. Phiri", SHA256: hash, VerifiedAt: now})
		must(t, err)
		if c, err = f.store.CheckAttestations(ctx, reg); err != nil || !c.Complete() {
			t.Fatalf("check after both roles: %+v, %v", c, err)
		}
		// A report whose stored content no longer matches the hash is
		// shown as such (the check recomputes, it does not trust the row).
		reg.Items[0].Status = adoption.Implemented
		if c, err = f.store.CheckAttestations(ctx, reg); err != nil || c.Complete() || c.Rows[0].Matches {
			t.Fatalf("check of altered content: %+v, %v", c, err)
		}
		for _, e := range []struct {
			org int64
			n   int
		}{{p1.ID, 2}, {macra.ID, 2}, {f.orgs["rbm"].ID, 2}, {f.orgs["ca"].ID, 0}, {f.orgs["p2"].ID, 0}} {
			es, err := audit.List(ctx, d, audit.Filter{OrgID: e.org, Action: "submission.attest"})
			must(t, err)
			if len(es) != e.n {
				t.Errorf("org %d: %d submission.attest entries, want %d", e.org, len(es), e.n)
			}
		}
	})
}

// TestAttestationPages drives attestation through the shell: the step-up,
// a refusal that keeps the name typed, hostile text escaped, the
// regulator's check and the canonical content's download, and other
// organisations refused.
func TestAttestationPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d, nil)
		sub := submitted(t, s.fixture)
		hash, err := adoption.SubmissionHash(sub)
		must(t, err)
		path := s.org("p1", fmt.Sprintf("/submissions/%d", sub.ID))
		s.expect(s.get("p1-viewer", path), 200, `id="attest-form"`, hash)
		form := url.Values{"role": {"CISO"}, "name": {"<script>alert(1)</script> Banda"}, "sha256": {hash}}

		// Without a fresh verification the shell asks for one first.
		if w := s.post("p1-viewer:stale", path+"/attest", form); w.Code != 303 || !strings.HasPrefix(w.Header().Get("Location"), web.StepUpPath) {
			t.Fatalf("attest without a fresh verification: %d %s", w.Code, w.Header().Get("Location"))
		}
		// Not ticked: refused, the name kept (escaped).
		s.expect(s.post("p1-viewer", path+"/attest", form), 400, "Tick the box", "&lt;script&gt;alert(1)&lt;/script&gt; Banda")
		form.Set("confirm", "on")
		w := s.post("p1-viewer", path+"/attest", form)
		s.expect(w, 303)
		if w.Header().Get("Location") != path+"?done=attested#attest-title" {
			t.Fatalf("attest redirects to %q", w.Header().Get("Location"))
		}
		s.expect(s.get("p1-viewer", s.org("p1", "/submissions")), 200, "<td>CISO</td>")
		s.expect(s.get("rbm-viewer", s.org("rbm", fmt.Sprintf("/sector/providers/%d", sub.OrgID))), 200, "<td>CISO</td>")
		reg := s.org("macra", fmt.Sprintf("/sector/submissions/%d", sub.ID))
		page := s.get("macra-viewer", reg)
		s.expect(page, 200, "&lt;script&gt;alert(1)&lt;/script&gt; Banda", "matches the report", hash, "Every required role attested this report")
		if strings.Contains(page.Body.String(), "<script>alert(1)") {
			t.Fatal("the attested name is not escaped")
		}
		dl := s.get("rbm-viewer", s.org("rbm", fmt.Sprintf("/sector/submissions/%d/canonical.json", sub.ID)))
		s.expect(dl, 200)
		if sum := sha256.Sum256(dl.Body.Bytes()); hex.EncodeToString(sum[:]) != hash {
			t.Fatal("the downloaded canonical content does not hash to the attested SHA-256")
		}
		for _, c := range []struct {
			user, method, target string
			status               int
		}{
			{"p1-viewer", "GET", path + "/canonical.json", 200},
			{"p2-admin", "GET", s.org("p2", fmt.Sprintf("/submissions/%d/canonical.json", sub.ID)), 404},
			{"p2-admin", "POST", s.org("p2", fmt.Sprintf("/submissions/%d/attest", sub.ID)), 404},
			{"k1-admin", "POST", s.org("k1", fmt.Sprintf("/submissions/%d/attest", sub.ID)), 404},
			{"ca-admin", "GET", s.org("ca", fmt.Sprintf("/sector/submissions/%d/canonical.json", sub.ID)), 404},
			{"macra-admin", "POST", s.org("macra", fmt.Sprintf("/submissions/%d/attest", sub.ID)), 404},
			{"k1-admin", "POST", s.org("p1", fmt.Sprintf("/submissions/%d/attest", sub.ID)), 404},
		} {
			var w = s.get(c.user, c.target)
			if c.method == "POST" {
				w = s.post(c.user, c.target, form)
			}
			if w.Code != c.status {
				t.Errorf("%s %s %s: %d, want %d", c.user, c.method, c.target, w.Code, c.status)
			}
		}
	})
}
