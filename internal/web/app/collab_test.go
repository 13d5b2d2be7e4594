package app

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestDiscussionAudiencesThroughServer checks the audiences on the wired
// server: organisation A (Malawi) opens an org-only and a jurisdiction-only
// thread; members of organisation B (Lesotho) get 404 for them by ID and
// never see them in lists, searches or on the recommendation page, while
// A's colleagues do; a thread for all members is open to B.
func TestDiscussionAudiencesThroughServer(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		created := regexp.MustCompile(`^/discussions/(\d+)$`)
		start := func(user, audience, title string) string {
			form := url.Values{"rec": {"APP-001"}, "org": {fmt.Sprint(w.orgA)}, "audience": {audience},
				"title": {title}, "body": {"Text of " + title}}
			rec := w.do("POST", "/discussions", form.Encode(), w.cookie(user), "")
			loc := rec.Header().Get("Location")
			if rec.Code != http.StatusSeeOther || !created.MatchString(loc) {
				t.Fatalf("start %s thread: %d %q", audience, rec.Code, loc)
			}
			return loc
		}
		orgOnly := start("analyst-a", "org", "Zanzibar org-only")
		country := start("analyst-a", "country", "Zanzibar country-only")
		all := start("analyst-a", "all", "Zanzibar for all")

		for _, user := range []string{"viewer-b", "admin-b"} {
			for _, loc := range []string{orgOnly, country} {
				if code := w.do("GET", loc, "", w.cookie(user), "").Code; code != http.StatusNotFound {
					t.Errorf("%s opens %s: %d, want 404", user, loc, code)
				}
				if code := w.do("POST", loc+"/replies", "body=hello", w.cookie(user), "").Code; code != http.StatusNotFound {
					t.Errorf("%s replies to %s: %d, want 404", user, loc, code)
				}
			}
			for _, page := range []string{"/discussions", "/discussions?q=zanzibar", "/discussions?rec=APP-001", "/catalogue/APP-001"} {
				body := w.do("GET", page, "", w.cookie(user), "").Body.String()
				if strings.Contains(body, "org-only") || strings.Contains(body, "country-only") {
					t.Errorf("%s sees a restricted thread on %s", user, page)
				}
				if !strings.Contains(body, "Zanzibar for all") {
					t.Errorf("%s does not see the thread for all members on %s", user, page)
				}
			}
			if code := w.do("GET", all, "", w.cookie(user), "").Code; code != http.StatusOK {
				t.Errorf("%s opens the thread for all: %d", user, code)
			}
		}
		for _, loc := range []string{orgOnly, country} {
			if code := w.do("GET", loc, "", w.cookie("viewer-a"), "").Code; code != http.StatusOK {
				t.Errorf("colleague opens %s: %d", loc, code)
			}
		}
	})
}
