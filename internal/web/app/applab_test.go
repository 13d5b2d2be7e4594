package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/apk/apktest"
)

// TestAppLabWired: the app lab through the wired server: an API upload
// with a personal token, the scan run by App.Scans, the result by API and
// the report page with its stylesheet.
func TestAppLabWired(t *testing.T) {
	w := newWorld(t)
	app, err := (&apktest.App{Package: "mw.regulator.test"}).Build()
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "app.apk")
	fw.Write(app)
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/api/v1/scans", &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.Header.Set("Authorization", "Bearer "+w.tokens["write"])
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, r)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	var acc struct {
		ID  int64  `json:"id"`
		URL string `json:"url"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &acc); err != nil {
		t.Fatal(err)
	}
	if did, err := w.app.Scans.RunOnce(context.Background()); !did || err != nil {
		t.Fatalf("run: %v %v", did, err)
	}
	rec = w.do(http.MethodGet, fmt.Sprintf("/api/v1/scans/%d", acc.ID), "", nil, w.tokens["read"])
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"state": "done"`) || !strings.Contains(rec.Body.String(), `"schema_version"`) {
		t.Fatalf("status: %d %.1000s", rec.Code, rec.Body)
	}
	var st struct {
		VersionURL string `json:"version_url"`
	}
	json.Unmarshal(rec.Body.Bytes(), &st)
	rec = w.do(http.MethodGet, st.VersionURL, "", w.cookie("viewer-a"), "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "mw.regulator.test") {
		t.Fatalf("report page: %d", rec.Code)
	}
	i := strings.Index(rec.Body.String(), "/static/applab/report")
	if i < 0 {
		t.Fatal("report page without the report stylesheet")
	}
	href := rec.Body.String()[i:]
	href = href[:strings.IndexByte(href, '"')]
	if rec := w.do(http.MethodGet, href, "", nil, ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), ".dfslab-report") {
		t.Fatalf("stylesheet %s: %d", href, rec.Code)
	}
}
