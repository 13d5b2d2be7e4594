package app

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/catalog/framework"
	"github.com/dfslab/dfslab/internal/db"
)

// uploadFramework posts files as the import form does.
func (w *world) uploadFramework(user string, files map[string][]byte, format string) *httptest.ResponseRecorder {
	w.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if format != "" {
		mw.WriteField("format", format)
	}
	for field, data := range files {
		fw, _ := mw.CreateFormFile(field, field+".dat")
		fw.Write(data)
	}
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/frameworks", &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.RemoteAddr = "10.9.9.9:40000"
	r.AddCookie(w.session(user))
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, r)
	return rec
}

func exampleFramework(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func countRows(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFrameworkFlow(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		get := func(user, path string) (int, string) {
			rec := w.do(http.MethodGet, path, "", w.session(user), "")
			return rec.Code, rec.Body.String()
		}
		// A refused file is explained with its line and stores nothing.
		bad := bytes.Replace(exampleFramework(t, "cbe-cyber-guideline.yaml"), []byte("GOV-003"), []byte("GOV-999"), 1)
		rec := w.uploadFramework("padmin", map[string][]byte{"file": bad}, "")
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `line 27: control &#34;CBE-GOV-2&#34;: maps to unknown recommendation &#34;GOV-999&#34;`) {
			t.Fatalf("bad upload: %d %s", rec.Code, rec.Body.String())
		}
		if n := countRows(t, w.app.DB, "frameworks"); n != 0 {
			t.Fatalf("%d frameworks after a refused import", n)
		}
		// Oversized files are refused before they are parsed.
		big := append([]byte("id: x\n# "), bytes.Repeat([]byte("x"), framework.MaxSize)...)
		if rec := w.uploadFramework("padmin", map[string][]byte{"file": big}, "yaml"); rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized upload: %d", rec.Code)
		}
		if rec := w.uploadFramework("padmin", map[string][]byte{"file": exampleFramework(t, "cbe-cyber-guideline.yaml")}, "xml"); rec.Code != http.StatusBadRequest {
			t.Errorf("unknown format: %d", rec.Code)
		}
		// Members may not import.
		if rec := w.uploadFramework("admin-a", map[string][]byte{"file": exampleFramework(t, "cbe-cyber-guideline.yaml")}, ""); rec.Code != http.StatusForbidden {
			t.Errorf("org admin import: %d", rec.Code)
		}

		// The OSCAL catalog with its mapping file, format recognised.
		rec = w.uploadFramework("padmin", map[string][]byte{"file": exampleFramework(t, "cbe-cyber-guideline.oscal.json"),
			"mappings": exampleFramework(t, "cbe-cyber-guideline.mappings.yaml")}, "auto")
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/frameworks/") {
			t.Fatalf("import: %d %s", rec.Code, rec.Body.String())
		}
		fwPath := rec.Header().Get("Location")

		code, body := get("viewer-b", "/frameworks")
		if code != http.StatusOK || !strings.Contains(body, `href="`+fwPath+`"`) || strings.Contains(body, "import-form") {
			t.Errorf("list for a member: %d, link or form wrong", code)
		}
		if _, body := get("padmin", "/frameworks"); !strings.Contains(body, `id="import-form"`) {
			t.Error("platform admin has no import form")
		}
		code, body = get("viewer-b", fwPath)
		if code != http.StatusOK || !strings.Contains(body, "cbe-gov-1.1 Annual cyber report to the board") || !strings.Contains(body, "Mobile applications") ||
			!strings.Contains(body, " by padmin") {
			t.Errorf("framework page: %d", code)
		}
		// The recommendation page lists the mapped controls.
		code, body = get("viewer-b", "/catalogue/APP-002")
		if code != http.StatusOK || !strings.Contains(body, `id="rec-framework-controls"`) || !strings.Contains(body, "cbe-app-1 Hardened customer apps") ||
			!strings.Contains(body, "Backups only.") {
			t.Errorf("recommendation page lacks the mapped control (%d)", code)
		}
		if _, body := get("viewer-b", "/catalogue/USR-004"); strings.Contains(body, "rec-framework-controls") {
			t.Error("an unmapped recommendation shows framework controls")
		}

		// The administrator maps a control, then removes the mapping.
		ctl := regexp.MustCompile(`href="/frameworks/controls/(\d+)">cbe-gov-1 `).FindStringSubmatch(body0(get("padmin", fwPath)))
		if ctl == nil {
			t.Fatal("no control link")
		}
		ctlPath := "/frameworks/controls/" + ctl[1]
		if rec := w.do(http.MethodPost, ctlPath+"/mappings", "rec=USR-004&relation=superset&note=Devices+too", w.session("viewer-a"), ""); rec.Code != http.StatusForbidden {
			t.Errorf("member edits a mapping: %d", rec.Code)
		}
		if rec := w.do(http.MethodPost, ctlPath+"/mappings", "rec=USR-999&relation=superset", w.session("padmin"), ""); rec.Code != http.StatusBadRequest ||
			!strings.Contains(rec.Body.String(), "no recommendation") {
			t.Errorf("unknown recommendation: %d", rec.Code)
		}
		if rec := w.do(http.MethodPost, ctlPath+"/mappings", "rec=USR-004&relation=superset&note=Devices+too", w.session("padmin"), ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("set mapping: %d %s", rec.Code, rec.Body.String())
		}
		_, body = get("viewer-b", "/catalogue/USR-004")
		if !strings.Contains(body, "cbe-gov-1 Board oversight of cyber risk") || !strings.Contains(body, "Devices too") {
			t.Error("new mapping not on the recommendation page")
		}
		_, body = get("padmin", ctlPath)
		m := regexp.MustCompile(`action="/frameworks/mappings/(\d+)/delete"`).FindAllStringSubmatch(body, -1)
		if len(m) != 2 {
			t.Fatalf("control page shows %d removable mappings, want 2", len(m))
		}
		for _, x := range m {
			if rec := w.do(http.MethodPost, "/frameworks/mappings/"+x[1]+"/delete", "", w.session("padmin"), ""); rec.Code != http.StatusSeeOther {
				t.Errorf("delete: %d", rec.Code)
			}
		}
		if _, body := get("viewer-b", "/catalogue/USR-004"); strings.Contains(body, "rec-framework-controls") {
			t.Error("deleted mapping still shown")
		}
		if _, body := get("viewer-b", ctlPath); !strings.Contains(body, "not mapped to any recommendation") || strings.Contains(body, "mapping-form") {
			t.Error("control page for a member after deletion is wrong")
		}
	})
}

func body0(_ int, body string) string { return body }

// TestFrameworkFileNameControlCharacters: the import form's file name is
// kept and shown, so a control character in it is refused with 400 and
// nothing is stored (security issue, finding 7).
func TestFrameworkFileNameControlCharacters(t *testing.T) {
	w := newWorld(t)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "guide\u009b2J.yaml")
	fw.Write(exampleFramework(t, "cbe-cyber-guideline.yaml"))
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/frameworks", &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.RemoteAddr = "10.9.9.8:40000"
	r.AddCookie(w.session("padmin"))
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, r)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "file name") {
		t.Fatalf("control character in the file name: %d %s", rec.Code, rec.Body.String())
	}
	if n := countRows(t, w.app.DB, "frameworks"); n != 0 {
		t.Fatalf("%d frameworks stored", n)
	}
}
