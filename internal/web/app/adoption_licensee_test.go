package app

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/identity"
)

// TestLicenseeType: a platform administrator gives an organisation its
// licensee type when creating it and changes it on its page; an org admin
// sees it but cannot change it (their obligations would be theirs to pick).
func TestLicenseeType(t *testing.T) { eachDB(t, testLicenseeType) }

func testLicenseeType(t *testing.T, w *world) {
	ctx := context.Background()
	pa := w.cookie("padmin")
	rec := w.do("POST", "/orgs", "name=Bank+of+Lilongwe&type=other&licensee_type=bank&country=MW", pa, "")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create: %d", rec.Code)
	}
	bank, err := w.app.Identity.OrgByName(ctx, "Bank of Lilongwe")
	if err != nil || bank.Licensee != identity.LicenseeBank {
		t.Fatalf("created: %+v, %v", bank, err)
	}
	if got := w.do("POST", "/orgs", "name=X&type=other&licensee_type=casino&country=MW", pa, ""); got.Code != http.StatusBadRequest ||
		!strings.Contains(got.Body.String(), "licensee type") {
		t.Errorf("unknown licensee type at creation: %d", got.Code)
	}
	if list := w.do("GET", "/orgs", "", pa, "").Body.String(); !strings.Contains(list, `<option value="bank" selected>Bank</option>`) {
		t.Error("the organisation list does not show the licensee type")
	}

	// Regulator A was created as a telecom regulator: a regulator. Its
	// page says so to members; the list is where it is changed.
	page := w.do("GET", orgURL(w.orgA, ""), "", w.cookie("viewer-a"), "").Body.String()
	if !strings.Contains(page, "Licensed as: <strong>Regulator</strong>") {
		t.Fatal("the organisation page does not show the licensee type")
	}
	list := w.do("GET", "/orgs", "", pa, "").Body.String()
	if !strings.Contains(list, `id="licensee-form-`+strconv.FormatInt(w.orgA, 10)+`"`) {
		t.Fatal("the organisation list has no licensee form")
	}
	if rec := w.do("POST", "/admin"+orgURL(w.orgA, "/licensee"), "licensee_type=payment_switch", pa, ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("platform administrator sets the licensee type: %d", rec.Code)
	}
	if o, _ := w.app.Identity.Org(ctx, w.orgA); o.Licensee != identity.LicenseePaymentSwitch {
		t.Fatalf("licensee type not stored: %+v", o)
	}
	es, err := audit.List(ctx, w.app.DB, audit.Filter{Action: "org.licensee.set"})
	if err != nil || len(es) != 1 || es[0].OrgID != w.orgA {
		t.Fatalf("audit of the change: %+v, %v", es, err)
	}
	page = w.do("GET", orgURL(w.orgA, ""), "", w.cookie("admin-a"), "").Body.String()
	if !strings.Contains(page, "Licensed as: <strong>Payment switch</strong>") {
		t.Fatal("org admin's page does not show the new licensee type")
	}
	// An org admin cannot set it (the matrix covers every other subject).
	if rec := w.do("POST", "/admin"+orgURL(w.orgA, "/licensee"), "licensee_type=regulator", w.cookie("admin-a"), ""); rec.Code != http.StatusForbidden {
		t.Fatalf("org admin sets the licensee type: %d, want 403", rec.Code)
	}
	for _, body := range []string{"licensee_type=casino", "", "licensee_type=bank&licensee_type=mno"} {
		rec := w.do("POST", "/admin"+orgURL(w.orgA, "/licensee"), body, pa, "")
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Choose a licensee type from the list.") {
			t.Errorf("%q: %d, want 400 with the problem", body, rec.Code)
		}
	}
	if o, _ := w.app.Identity.Org(ctx, w.orgA); o.Licensee != identity.LicenseePaymentSwitch {
		t.Fatalf("a refused change wrote something: %+v", o)
	}
}
