package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dfslab/dfslab/internal/apk/apktest"
	"github.com/dfslab/dfslab/internal/browsertest"
)

// scannedVersion uploads an app for organisation A with admin-a's token,
// runs its scan and returns the version page's path.
func scannedVersion(t *testing.T, w *world) string {
	t.Helper()
	app, err := (&apktest.App{Package: "mw.regulator.test", Permissions: []string{"android.permission.INTERNET", "android.permission.READ_SMS"}}).Build()
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
	var acc struct{ ID int64 }
	if rec.Code != http.StatusAccepted || json.Unmarshal(rec.Body.Bytes(), &acc) != nil {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	if did, err := w.app.Scans.RunOnce(context.Background()); !did || err != nil {
		t.Fatalf("run: %v %v", did, err)
	}
	rec = w.do(http.MethodGet, fmt.Sprintf("/api/v1/scans/%d", acc.ID), "", nil, w.tokens["read"])
	var st struct {
		VersionURL string `json:"version_url"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.VersionURL == "" {
		t.Fatalf("scan status: %s", rec.Body)
	}
	return st.VersionURL
}

// TestMainPagesOnAPhoneAndAccessible loads every main page, as the
// people who use it, in a 390 px wide window: no page is wider than the
// window, the navigation folds behind a Menu button that opens it, and
// axe-core finds no serious or critical WCAG 2 AA violation (at phone
// and desktop widths).
func TestMainPagesOnAPhoneAndAccessible(t *testing.T) {
	w := newWorld(t)
	sd := seedReporting(t, w)
	version := scannedVersion(t, w)
	b := browsertest.New(t)
	b.Serve(w.app.Server, func(user string) *http.Cookie { return w.cookie(user) })

	a, bID, c := strconv.FormatInt(w.orgA, 10), strconv.FormatInt(w.orgB, 10), strconv.FormatInt(sd.cID, 10)
	pages := []struct{ user, path string }{
		{"admin-a", "/"},
		{"admin-a", "/catalogue"},
		{"admin-a", "/catalogue/" + sd.first.RecID},
		{"admin-a", "/discussions"},
		{"admin-a", "/proposals"},
		{"admin-a", "/frameworks"},
		{"admin-a", "/notifications"},
		{"admin-a", "/orgs/" + a},
		{"admin-a", "/orgs/" + a + "/members"},
		{"admin-a", "/orgs/" + a + "/audit"},
		{"admin-a", "/orgs/" + a + "/baseline"},
		{"admin-a", "/orgs/" + a + "/sector"},
		{"admin-a", "/orgs/" + a + "/resilience"},
		{"admin-a", "/orgs/" + a + "/tabletop"},
		{"admin-a", "/orgs/" + a + "/apps"},
		{"admin-a", "/orgs/" + a + "/market"},
		{"admin-a", version},
		{"admin-a", version + "/audit"},
		{"admin-a", "/account"},
		{"admin-a", "/account/sessions"},
		{"admin-a", "/account/passkeys"},
		{sd.cUser, "/"},
		{sd.cUser, "/orgs/" + c + "/tracking"},
		{sd.cUser, "/orgs/" + c + "/submissions"},
		{"admin-b", "/orgs/" + bID + "/apps"},
		{"padmin", "/"},
		{"padmin", "/orgs"},
		{"padmin", "/admin/users"},
		{"padmin", "/audit"},
	}
	var failures []string
	for _, width := range []int64{390, 1280} {
		b.Viewport(width, 844)
		for _, p := range pages {
			b.As(p.user, p.path, chromedp.WaitVisible("#main"))
			if width == 390 {
				if o := b.Overflow(); o != "" {
					failures = append(failures, fmt.Sprintf("%s as %s at 390 px: %s", p.path, p.user, o))
				}
			}
			for _, v := range b.Axe() {
				failures = append(failures, fmt.Sprintf("%s as %s at %d px: axe: %s", p.path, p.user, width, v))
			}
		}
	}
	if len(failures) > 0 {
		t.Errorf("%d problems:\n  %s", len(failures), strings.Join(failures, "\n  "))
	}

	// On a phone the navigation is behind the Menu button, which opens it.
	b.Viewport(390, 844)
	b.As("admin-a", "/", chromedp.WaitVisible("#menu-button"))
	visible := func(sel string) bool {
		v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`); return !!e && e.getBoundingClientRect().height > 0; })()`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if visible("#nav-main") {
		t.Error("the navigation shows at 390 px before the menu is opened")
	}
	b.Do(chromedp.Click("#menu-button"), chromedp.WaitVisible("#nav-main"))
	if got := b.Text("#nav-main"); !strings.Contains(got, "App lab") || !strings.Contains(got, "Recommendations") {
		t.Errorf("opened menu: %q", got)
	}
	b.Shot("phone-home-menu.png")
	// At desktop width there is no menu button and the navigation shows.
	b.Viewport(1280, 900)
	b.As("admin-a", "/", chromedp.WaitVisible("#nav-main"))
	if visible("#menu-button") {
		t.Error("the menu button shows at 1280 px")
	}

	// Recovery codes shown once come with copy, download and print
	// buttons (script), and the codes themselves.
	b.As("admin-a", "/account/recovery-codes", chromedp.WaitVisible("#codes-create"), chromedp.Click("#codes-create"),
		chromedp.WaitVisible("#recovery-codes"))
	for _, sel := range []string{`[data-copy="recovery-codes"]`, `[data-download="recovery-codes"]`, `[data-print]`} {
		if !visible(sel) {
			t.Errorf("%s is not shown with the new recovery codes", sel)
		}
	}
	if n := strings.Count(b.Text("#recovery-codes"), "\n") + 1; n < 8 {
		t.Errorf("%d recovery codes shown", n)
	}
	// The catalogue applies a facet as soon as it is ticked.
	b.As("admin-a", "/catalogue", chromedp.WaitVisible("#catalogue-search"))
	if visible("#apply-filters") {
		t.Error("the Apply filters button shows although the facets apply by themselves")
	}
	b.Do(chromedp.Click(`#catalogue-search input[type=checkbox]`), chromedp.WaitVisible(".chips"))
	if got := b.Text(".chips"); got == "" {
		t.Error("ticking a facet did not filter the catalogue")
	}

	// Removing a passkey needs its box ticked: without it the browser
	// does not send the form (with it, the last passkey is refused).
	b.As("admin-a", "/account/passkeys", chromedp.WaitVisible("#passkeys-table"), chromedp.Click(`#passkeys-table button[id^="remove-"]`))
	if got := b.Text("#main"); strings.Contains(got, "only way to sign in") {
		t.Error("the passkey removal was sent without its confirmation")
	}
	b.Do(chromedp.Click(`#passkeys-table input[name=confirm]`), chromedp.Click(`#passkeys-table button[id^="remove-"]`), chromedp.WaitVisible("#passkeys-error"))
	if got := b.Text("#passkeys-error"); !strings.Contains(got, "only way to sign in") {
		t.Errorf("after confirming: %q", got)
	}
}
