package app

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/web/auditpages"
)

var auditRow = regexp.MustCompile(`<tr id="audit-(\d+)">`)

func TestAuditPagingAndFilters(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for i := 0; i < auditpages.PageSize+7; i++ {
		if _, err := audit.Record(ctx, w.app.DB, audit.Entry{Action: "test.event", ObjectType: "thing", ObjectID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	pa := w.cookie("padmin")
	seen := map[string]bool{}
	next := "/audit?action=test.event"
	pages := 0
	for next != "" {
		pages++
		body := w.do("GET", next, "", pa, "").Body.String()
		rows := auditRow.FindAllStringSubmatch(body, -1)
		if len(rows) == 0 || len(rows) > auditpages.PageSize {
			t.Fatalf("page %d: %d rows", pages, len(rows))
		}
		for _, r := range rows {
			if seen[r[1]] {
				t.Fatalf("entry %s on two pages", r[1])
			}
			seen[r[1]] = true
		}
		next = ""
		if m := regexp.MustCompile(`href="([^"]+)" id="audit-older"`).FindStringSubmatch(body); m != nil {
			next = html.UnescapeString(m[1])
			if !strings.Contains(next, "action=test.event") {
				t.Fatalf("the next page link drops the filter: %s", next)
			}
		}
	}
	if pages != 2 || len(seen) != auditpages.PageSize+7 {
		t.Fatalf("%d pages, %d entries; want 2 pages with all %d entries", pages, len(seen), auditpages.PageSize+7)
	}
	// Filter by actor (e-mail) and object.
	w.do("POST", orgURL(w.orgA, "/invitations"), "email=z%40example.org&role=viewer", w.cookie("admin-a"), "")
	body := w.do("GET", "/audit?actor=admin-a%40example.org", "", pa, "").Body.String()
	if !strings.Contains(body, "link.create") || strings.Contains(body, "test.event") || strings.Contains(body, "org.create") {
		t.Fatal("actor filter: wrong entries")
	}
	body = w.do("GET", "/audit?object_type=thing&object_id=3", "", pa, "").Body.String()
	if n := len(auditRow.FindAllString(body, -1)); n != 1 {
		t.Fatalf("object filter: %d rows, want 1", n)
	}
	if got := w.do("GET", "/audit?actor=nobody%40example.org", "", pa, "").Code; got != 400 {
		t.Fatalf("unknown actor: %d, want 400", got)
	}
}
