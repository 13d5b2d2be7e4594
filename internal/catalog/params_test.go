package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/catalog"
)

// The items the review found without the number an examiner needs now
// carry it as a parameter, with the defaults and ranges written here.
func TestParametersOfTheReviewedItems(t *testing.T) {
	c := load(t)
	want := map[string][]catalog.Parameter{
		"PAY-002": {{Name: "hold", Default: 48, Unit: catalog.Hours, Min: 24, Max: 72}},
		"TEL-004": {{Name: "alert_within", Default: 5, Unit: catalog.Minutes, Min: 1, Max: 15}},
		"TEL-005": {{Name: "delivery", Default: 60, Unit: catalog.Seconds, Min: 5, Max: 900}},
		"CHN-001": {{Name: "session_timeout", Default: 90, Unit: catalog.Seconds, Min: 30, Max: 180}},
		"CHN-002": {{Name: "otp_validity", Default: 5, Unit: catalog.Minutes, Min: 1, Max: 10}},
		"TEL-015": {{Name: "quarantine", Default: 180, Unit: catalog.Days, Min: 90, Max: 365}},
		"GOV-010": {{Name: "first_notice", Default: 24, Unit: catalog.Hours, Min: 2, Max: 72}},
		"PAY-013": {{Name: "rto", Default: 4, Unit: catalog.Hours, Min: 1, Max: 24}, {Name: "rpo", Default: 15, Unit: catalog.Minutes, Min: 0, Max: 60}},
	}
	for id, ps := range want {
		r, err := c.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Parameters) != len(ps) {
			t.Errorf("%s: %d parameters, want %d", id, len(r.Parameters), len(ps))
			continue
		}
		for i, p := range ps {
			got := r.Parameters[i]
			if got.Name != p.Name || got.Default != p.Default || got.Unit != p.Unit || got.Min != p.Min || got.Max != p.Max || got.Label == "" {
				t.Errorf("%s parameter %d = %+v, want %+v with a label", id, i, got, p)
			}
		}
	}
}

func TestRender(t *testing.T) {
	c := load(t)
	pay002, err := c.Get("PAY-002")
	if err != nil {
		t.Fatal(err)
	}
	// The statement every consumer shows is the template at the defaults.
	const atDefault = "DFS providers must hold, or require step-up verification for, beneficiary additions, PIN resets and transfers above the customer's usual amounts for 48 hours after a SIM swap on the account's number."
	if pay002.Statement != atDefault {
		t.Errorf("PAY-002 statement = %q", pay002.Statement)
	}
	if !strings.Contains(pay002.Template, "for {hold} after") {
		t.Errorf("PAY-002 template = %q", pay002.Template)
	}
	got, err := pay002.Render(map[string]int{"hold": 72})
	if err != nil || got != strings.Replace(atDefault, "48 hours", "72 hours", 1) {
		t.Errorf("Render(hold=72) = %q, %v", got, err)
	}
	if got, err := pay002.Render(nil); err != nil || got != atDefault {
		t.Errorf("Render(nil) = %q, %v; want the default text", got, err)
	}
	pay013, _ := c.Get("PAY-013")
	got, err = pay013.Render(map[string]int{"rpo": 0})
	if err != nil || !strings.Contains(got, "at most 4 hours and a recovery point objective of at most 0 minutes") {
		t.Errorf("Render(rpo=0) = %q, %v; want the default RTO and the given RPO", got, err)
	}
	chn001, _ := c.Get("CHN-001")
	if got, _ := chn001.Render(map[string]int{"session_timeout": 60}); !strings.HasSuffix(got, "after at most 60 seconds.") {
		t.Errorf("CHN-001 rendered = %q", got)
	}
	for name, values := range map[string]map[string]int{
		"below the range":   {"hold": 12},
		"above the range":   {"hold": 73},
		"unknown parameter": {"wait": 48},
	} {
		if _, err := pay002.Render(values); !errors.Is(err, catalog.ErrParameter) {
			t.Errorf("%s: Render error = %v, want ErrParameter", name, err)
		}
	}
	// An item without parameters renders as it stands and takes no values.
	app001, _ := c.Get("APP-001")
	if got, err := app001.Render(nil); err != nil || got != app001.Statement {
		t.Errorf("APP-001 Render = %q, %v", got, err)
	}
	if _, err := app001.Render(map[string]int{"x": 1}); !errors.Is(err, catalog.ErrParameter) {
		t.Errorf("APP-001 took a parameter: %v", err)
	}
}

func TestParameterFormat(t *testing.T) {
	for _, tt := range []struct {
		p    catalog.Parameter
		v    int
		want string
	}{
		{catalog.Parameter{Unit: catalog.Hours}, 1, "1 hour"},
		{catalog.Parameter{Unit: catalog.Hours}, 48, "48 hours"},
		{catalog.Parameter{Unit: catalog.Days}, 1, "1 day"},
		{catalog.Parameter{Unit: catalog.Seconds}, 0, "0 seconds"},
	} {
		if got := tt.p.Format(tt.v); got != tt.want {
			t.Errorf("Format(%d %s) = %q, want %q", tt.v, tt.p.Unit, got, tt.want)
		}
	}
	if got := (catalog.Parameter{Unit: catalog.Hours, Min: 24, Max: 72}).Range(); got != "24–72 hours" {
		t.Errorf("Range = %q", got)
	}
}

// The merged duplicates: one item survives, the other is withdrawn in
// 2026.2 with replaced_by, stays readable by its ID and counts nowhere.
func TestWithdrawnDuplicates(t *testing.T) {
	c := load(t)
	merged := map[string]string{
		"APP-049": "APP-012", "APP-050": "APP-013", "APP-051": "APP-041", "APP-055": "APP-043",
		"USR-011": "PAY-005", "TEL-024": "TEL-005", "PAY-001": "TEL-005", "PAY-004": "TEL-015", "USR-012": "PAY-007",
	}
	if len(c.Withdrawn) != len(merged) {
		t.Errorf("%d withdrawn items, want %d", len(c.Withdrawn), len(merged))
	}
	for old, survivor := range merged {
		r, err := c.Get(old)
		if err != nil || !r.IsWithdrawn() || r.Withdrawn != "2026.2" || r.ReplacedBy != survivor {
			t.Errorf("Get(%s) = %+v, %v; want withdrawn in 2026.2, replaced by %s", old, r, err, survivor)
		}
		live, err := c.Live(old)
		if err != nil || live.ID != survivor {
			t.Errorf("Live(%s) = %v, %v; want %s", old, live, err, survivor)
		}
		for _, x := range c.Recommendations {
			if x.ID == old {
				t.Errorf("withdrawn %s is among the live recommendations", old)
			}
		}
	}
	// One ITU lab test, one item, two checks.
	for _, id := range []string{"APP-012", "APP-013", "APP-041"} {
		r, _ := c.Get(id)
		if !r.HasCheck(catalog.CheckStatic) || !r.HasCheck(catalog.CheckDynamic) {
			t.Errorf("%s checks = %v, want static and dynamic", id, r.Checks)
		}
	}
	if n := len(c.Recommendations); n != 189 {
		t.Errorf("%d live recommendations, want 189 (167 in 2026.1, 9 withdrawn, 31 new)", n)
	}
}
