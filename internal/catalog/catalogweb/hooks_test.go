package catalogweb

import (
	"context"
	"html/template"
	"net/http"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/catalog"
)

type extras struct{}

func (extras) RecommendationExtras(r *http.Request, rec *catalog.Recommendation) (template.HTML, error) {
	return template.HTML(`<section id="discussion-for-` + template.HTMLEscapeString(rec.ID) + `">Discussion</section>`), nil
}

// amended is a Source whose catalogue carries one accepted amendment.
type amended struct{ cat *catalog.Catalog }

func (a amended) Current(context.Context) (*catalog.Catalog, *catalog.Index, error) {
	return a.cat, catalog.NewIndex(a.cat), nil
}

func TestExtrasAndSource(t *testing.T) {
	base, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	cur, err := base.Amend([]catalog.Amendment{{Revision: 4, RecID: "GOV-001", Statement: "Zebra-striped amended statement."}})
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := newServer(t, false, func(m *Module) { m.SetExtras(extras{}); m.SetSource(amended{cur}) })

	_, body, _ := get(t, ts, "/catalogue/GOV-001", true)
	for _, want := range []string{`id="discussion-for-GOV-001"`, "Zebra-striped amended statement.", "version " + base.Version + "-r4"} {
		if !strings.Contains(body, want) {
			t.Errorf("recommendation page lacks %q", want)
		}
	}
	if _, body, _ := get(t, ts, "/catalogue?q=zebra-striped", true); !strings.Contains(body, `id="rec-GOV-001"`) {
		t.Errorf("search does not use the source's index")
	}
	if _, body, hdr := get(t, ts, "/catalogue/export/json", true); !strings.Contains(body, "Zebra-striped") ||
		!strings.Contains(hdr.Get("Content-Disposition"), base.Version+"-r4") {
		t.Errorf("export is not the amended catalogue (%s)", hdr.Get("Content-Disposition"))
	}
	// Without hooks the page is as before.
	plain, _ := newServer(t, false)
	if _, body, _ := get(t, plain, "/catalogue/GOV-001", true); strings.Contains(body, "recommendation-extras") || strings.Contains(body, "Zebra") {
		t.Errorf("module without hooks shows extras or amendments")
	}
}
