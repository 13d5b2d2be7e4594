package app

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/tabletop"
)

// upload posts a scenario file to the import form as user.
func (w *world) upload(orgID int64, user string, data []byte) *httptest.ResponseRecorder {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "scenario.yaml")
	if err != nil {
		w.t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/orgs/%d/tabletop/scenarios", orgID), &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.RemoteAddr = "198.51.100.7:5000"
	r.AddCookie(w.session(user))
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, r)
	return rec
}

func TestTabletopLibraryPages(t *testing.T) {
	w := newWorld(t)
	src, _ := tabletop.BuiltinSource("switch-ransomware")
	lib := fmt.Sprintf("/orgs/%d/tabletop", w.orgA)

	// The built-in library and a scenario with its expected actions.
	rec := w.do(http.MethodGet, "/tabletop/scenarios", "", w.session("viewer-a"), "")
	if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `<tr id="scenario-`) != 8 {
		t.Fatalf("library: %d, %d rows", rec.Code, strings.Count(rec.Body.String(), `<tr id="scenario-`))
	}
	rec = w.do(http.MethodGet, "/tabletop/scenarios/switch-ransomware@2026.1", "", w.session("viewer-a"), "")
	for _, want := range []string{`id="inject-I5"`, `href="/catalogue/PAY-012"`, `href="/resilience/models/dfs-cyber-resilience@2026.1#q-IR-09"`, "Keep transactions atomic and reconciled"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("scenario page lacks %s", want)
		}
	}
	rec = w.do(http.MethodGet, "/tabletop/scenarios/switch-ransomware@2026.1/scenario.yaml", "", w.session("viewer-a"), "")
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), src) || rec.Header().Get("Content-Type") != "application/yaml; charset=utf-8" {
		t.Errorf("export: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}

	// An import with problems names their lines and stores nothing.
	bad := strings.Replace(string(src), "channel: call", "channel: carrier-pigeon", 1)
	rec = w.upload(w.orgA, "analyst-a", []byte(bad))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `unknown channel &#34;carrier-pigeon&#34;`) || !strings.Contains(rec.Body.String(), "line 63:") {
		t.Errorf("bad import: %d\n%s", rec.Code, rec.Body)
	}
	rec = w.upload(w.orgA, "analyst-a", append(src, make([]byte, tabletop.MaxScenarioSize)...))
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "larger than 256 KB") {
		t.Errorf("oversized import: %d", rec.Code)
	}
	// Hostile text is stored as typed and shown escaped.
	hostile := strings.Replace(string(src), `title: '"Scheduled maintenance"'`, `title: '<script>alert(1)</script>'`, 1)
	rec = w.upload(w.orgA, "analyst-a", []byte(hostile))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	page := rec.Header().Get("Location")
	rec = w.do(http.MethodGet, page, "", w.session("viewer-a"), "")
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "<script>alert") || !strings.Contains(rec.Body.String(), "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("imported scenario page: %d, hostile title not escaped", rec.Code)
	}
	id := strings.TrimPrefix(strings.TrimSuffix(page, "?done=imported"), lib+"/scenarios/")

	// The editor: over the limit, the text is kept and nothing saved.
	edit := lib + "/scenarios/" + id
	big := string(src) + "#" + strings.Repeat("x", tabletop.MaxScenarioSize)
	rec = w.do(http.MethodPost, edit, url.Values{"rev": {"1"}, "source": {big}}.Encode(), w.session("analyst-a"), "")
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "limit of 256 KB") || !strings.Contains(rec.Body.String(), strings.Repeat("x", 1000)) {
		t.Errorf("oversized save: %d", rec.Code)
	}
	// A save with a problem keeps the text typed, with the problem's line.
	typed := strings.Replace(hostile, "at: 8h", "at: 8 hours", 1)
	rec = w.do(http.MethodPost, edit, url.Values{"rev": {"1"}, "source": {typed}}.Encode(), w.session("analyst-a"), "")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "at: 8 hours") || !strings.Contains(rec.Body.String(), "inject I4: at &#34;8 hours&#34;") {
		t.Errorf("invalid save: %d", rec.Code)
	}
	fixed := strings.Replace(hostile, "at: 8h", "at: 9h", 1)
	rec = w.do(http.MethodPost, edit, url.Values{"rev": {"1"}, "source": {strings.ReplaceAll(fixed, "\n", "\r\n")}}.Encode(), w.session("analyst-a"), "")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", rec.Code, rec.Body)
	}
	rec = w.do(http.MethodGet, edit+"/scenario.yaml", "", w.session("viewer-a"), "")
	if rec.Body.String() != fixed {
		t.Error("the export is not the text saved (with its line ends normalised)")
	}
	// A second editor who started from revision 1 gets a conflict: their
	// text stays in the editor and the saved one is shown below.
	rec = w.do(http.MethodPost, edit, url.Values{"rev": {"1"}, "source": {hostile + "# mine\n"}}.Encode(), w.session("admin-a"), "")
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "# mine") || !strings.Contains(rec.Body.String(), `id="current-source"`) || !strings.Contains(rec.Body.String(), `name="rev" value="2"`) {
		t.Errorf("stale save: %d", rec.Code)
	}
	// Clone from the built-in library, then delete.
	rec = w.do(http.MethodPost, lib+"/scenarios/clone", "from=recycled-numbers%402026.1", w.session("analyst-a"), "")
	if rec.Code != http.StatusSeeOther || !strings.HasSuffix(rec.Header().Get("Location"), "/edit?done=cloned") {
		t.Fatalf("clone: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = w.do(http.MethodGet, rec.Header().Get("Location"), "", w.session("analyst-a"), "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `version: &#34;2026.1-copy&#34;`) {
		t.Errorf("editor of the clone: %d", rec.Code)
	}
	rec = w.do(http.MethodPost, edit+"/delete", "", w.session("analyst-a"), "")
	if rec.Code != http.StatusSeeOther {
		t.Errorf("delete: %d", rec.Code)
	}
	rec = w.do(http.MethodGet, lib, "", w.session("viewer-a"), "")
	if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `<tr id="lib-`) != 1 {
		t.Errorf("overview after delete: %d, %d rows", rec.Code, strings.Count(rec.Body.String(), `<tr id="lib-`))
	}
}

func TestTabletopExerciseSetupPages(t *testing.T) {
	w := newWorld(t)
	create := fmt.Sprintf("/orgs/%d/tabletop/exercises", w.orgA)
	// A refused form keeps what was typed and says why.
	rec := w.do(http.MethodPost, create, "title=Regional+drill&scenario=recycled-numbers%402026.1&speed=fast", w.session("analyst-a"), "")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `value="Regional drill"`) || !strings.Contains(rec.Body.String(), "clock speed must be a number") {
		t.Errorf("bad speed: %d", rec.Code)
	}
	rec = w.do(http.MethodPost, create, "title="+strings.Repeat("t", 201)+"&scenario=recycled-numbers%402026.1", w.session("analyst-a"), "")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "longer than 200 characters") {
		t.Errorf("long title: %d", rec.Code)
	}
	rec = w.do(http.MethodPost, create, "title=Regional+drill&scenario=recycled-numbers%402026.1&speed=60", w.session("analyst-a"), "")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	ex := strings.TrimSuffix(rec.Header().Get("Location"), "?done=created")
	rec = w.do(http.MethodGet, ex, "", w.session("analyst-a"), "")
	if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `<article class="inject" id="group-`) != 6 || !strings.Contains(rec.Body.String(), "1 of 1 people have joined") {
		t.Fatalf("exercise page: %d", rec.Code)
	}
	// Invite B and one of its people by address; they see the invitation
	// on their organisation's page and join; the lobby counts them.
	if rec := w.do(http.MethodPost, ex+"/orgs", "org="+fmt.Sprint(w.orgB), w.session("analyst-a"), ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("invite B: %d", rec.Code)
	}
	rec = w.do(http.MethodPost, ex+"/people", url.Values{"email": {"admin-b@example.org"}, "org": {fmt.Sprint(w.orgB)}, "role": {"observer"}, "group": {"0"}}.Encode(), w.session("analyst-a"), "")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("invite admin-b: %d %s", rec.Code, rec.Body)
	}
	rec = w.do(http.MethodPost, ex+"/people", url.Values{"email": {"admin-b@example.org"}, "org": {fmt.Sprint(w.orgB)}, "role": {"player"}}.Encode(), w.session("analyst-a"), "")
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "takes part already") {
		t.Errorf("second invitation of admin-b: %d", rec.Code)
	}
	rec = w.do(http.MethodGet, fmt.Sprintf("/orgs/%d/tabletop", w.orgB), "", w.session("admin-b"), "")
	if !strings.Contains(rec.Body.String(), "Regional drill") || !strings.Contains(rec.Body.String(), "Observer (invited, not joined)") {
		t.Errorf("B's tabletop page does not show the invitation")
	}
	if rec := w.do(http.MethodPost, ex+"/join", "", w.session("admin-b"), ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("join: %d", rec.Code)
	}
	rec = w.do(http.MethodGet, ex, "", w.session("analyst-a"), "")
	if !strings.Contains(rec.Body.String(), "2 of 2 people have joined") {
		t.Error("the lobby does not count admin-b")
	}
	// Over-limit group names are refused naming the limit.
	rec = w.do(http.MethodPost, ex+"/groups", "name="+strings.Repeat("g", 81), w.session("analyst-a"), "")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "longer than 80 characters") {
		t.Errorf("long group name: %d", rec.Code)
	}
	// The observer may not change the set-up.
	if rec := w.do(http.MethodPost, ex+"/groups", "name=Press", w.session("admin-b"), ""); rec.Code != http.StatusForbidden {
		t.Errorf("observer adds a group: %d", rec.Code)
	}
}

// TestTabletopLiveRunPages starts an exercise at 60×, lets the clock
// release the first inject, releases one by hand and writes an ad-hoc
// one: a player sees the injects of their group only (refresh shows the
// state without script), escaped; the facilitator sees every one.
func TestTabletopLiveRunPages(t *testing.T) {
	w := newWorld(t)
	rec := w.do(http.MethodPost, fmt.Sprintf("/orgs/%d/tabletop/exercises", w.orgA), "title=Drill&scenario=payday-sim-swap%402026.1&speed=60", w.session("analyst-a"), "")
	ex := strings.TrimSuffix(rec.Header().Get("Location"), "?done=created")
	// viewer-a joins as a player; the facilitator puts them in Governance (GOV).
	if rec := w.do(http.MethodPost, ex+"/join", "org="+fmt.Sprint(w.orgA), w.session("viewer-a"), ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("join: %d", rec.Code)
	}
	page := w.do(http.MethodGet, ex, "", w.session("analyst-a"), "").Body.String()
	i := strings.Index(page, `-name">Governance<`)
	gov := page[strings.LastIndex(page[:i], `id="group-`)+len(`id="group-`) : i]
	if rec := w.do(http.MethodPost, fmt.Sprintf("%s/participants/%d", ex, w.users["viewer-a"]), "role=player&group="+gov, w.session("analyst-a"), ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("assign: %d", rec.Code)
	}
	if rec := w.do(http.MethodPost, ex+"/start", "", w.session("analyst-a"), ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("start: %d", rec.Code)
	}
	w.clock.Advance(30 * time.Second)                                                                                                  // T+30m: I1 (to IR and PRO) is out
	if rec := w.do(http.MethodPost, ex+"/injects/release", "inject=I2", w.session("analyst-a"), ""); rec.Code != http.StatusSeeOther { // to PRO, GOV, TRA
		t.Fatalf("release I2: %d", rec.Code)
	}
	rec = w.do(http.MethodPost, ex+"/injects", url.Values{"channel": {"social"}, "from": {"@rumours"}, "title": {"<script>alert(1)</script>"}, "content": {"Queues at agents"}, "group": {"0"}}.Encode(), w.session("analyst-a"), "")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("ad hoc: %d %s", rec.Code, rec.Body)
	}
	player := w.do(http.MethodGet, ex, "", w.session("viewer-a"), "").Body.String()
	if strings.Contains(player, `id="released-I1"`) || !strings.Contains(player, `id="released-I2"`) || !strings.Contains(player, `id="released-adhoc-1"`) {
		t.Errorf("the player (Governance) sees the wrong injects")
	}
	if strings.Contains(player, "<script>alert") || !strings.Contains(player, "&lt;script&gt;") || strings.Contains(player, `id="console"`) {
		t.Error("the player's page is not escaped, or shows the console")
	}
	if !strings.Contains(player, `class="released inject-social"`) || !strings.Contains(player, "T&#43;30m") {
		t.Error("the player's page lacks the clock or the channel's look")
	}
	fac := w.do(http.MethodGet, ex, "", w.session("analyst-a"), "").Body.String()
	if !strings.Contains(fac, `id="released-I1"`) || !strings.Contains(fac, `id="release-I3"`) || !strings.Contains(fac, "released by hand") {
		t.Error("the console lacks released or pending injects")
	}
	if rec := w.do(http.MethodPost, ex+"/pause", "", w.session("viewer-a"), ""); rec.Code != http.StatusForbidden {
		t.Errorf("a player pauses: %d", rec.Code)
	}
	rec = w.do(http.MethodPost, ex+"/injects", url.Values{"channel": {"sms"}, "from": {"x"}, "title": {"t"}, "content": {strings.Repeat("c", 4001)}}.Encode(), w.session("analyst-a"), "")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "longer than 4000 characters") {
		t.Errorf("over-limit ad-hoc text: %d", rec.Code)
	}
}
