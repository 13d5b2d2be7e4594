package collab

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/db/dbtest"
)

// TestDiscussionsPaginated: the list shows 50 threads a page, newest
// first, with links that keep the search; a bad page number is a 400
// with the list still there.
func TestDiscussionsPaginated(t *testing.T) {
	s := newSite(t, dbtest.SQLite(t))
	for i := range threadsPage + 5 {
		s.startThread(s.a1, s.orgA, AudienceOrg, fmt.Sprintf("Thread number %03d", i), "Body")
	}
	first := s.body(s.a1, "/discussions?q=number")
	if n := strings.Count(first, "Thread number "); n != threadsPage {
		t.Errorf("first page lists %d threads, want %d", n, threadsPage)
	}
	if !strings.Contains(first, "Thread number 054") || strings.Contains(first, "Thread number 004") {
		t.Error("the first page does not start with the newest thread")
	}
	if !strings.Contains(first, `href="/discussions?page=2&amp;q=number"`) || strings.Contains(first, `id="page-prev"`) {
		t.Errorf("first page's links:\n%s", first[strings.Index(first, "pager")-200:])
	}
	second := s.body(s.a1, "/discussions?q=number&page=2")
	if n := strings.Count(second, "Thread number "); n != 5 || !strings.Contains(second, "Thread number 000") {
		t.Errorf("second page lists %d threads", n)
	}
	if strings.Contains(second, `id="page-next"`) || !strings.Contains(second, `href="/discussions?q=number"`) {
		t.Error("second page's links")
	}
	for _, p := range []string{"0", "x", "-3"} {
		rec := s.do(s.a1, "GET", "/discussions?page="+p, nil)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "page number") || !strings.Contains(rec.Body.String(), "Thread number") {
			t.Errorf("page=%s: %d", p, rec.Code)
		}
	}
}
