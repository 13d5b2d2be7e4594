package app

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/pdf"
)

// TestTabletopReport runs an exercise to its end and writes its
// after-action report: objectives rated, a strength, an improvement item
// for another organisation sent to its self-assessment, the lessons
// learned published without names; the player reads the report once the
// exercise has ended, the owner follows its item on its history page.
func TestTabletopReport(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		fac := w.session("analyst-a")
		rec := w.do(http.MethodPost, fmt.Sprintf("/orgs/%d/tabletop/exercises", w.orgA), "title=Payday+drill&scenario=payday-sim-swap%402026.1&speed=60", fac, "")
		ex := strings.TrimSuffix(rec.Header().Get("Location"), "?done=created")
		report := ex + "/report"
		w.do(http.MethodPost, ex+"/orgs", "org="+fmt.Sprint(w.orgB), fac, "")
		if rec := w.do(http.MethodPost, ex+"/join", "org="+fmt.Sprint(w.orgB), w.session("admin-b"), ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("admin-b joins: %d", rec.Code)
		}
		page := w.do(http.MethodGet, ex, "", fac, "").Body.String()
		i := strings.Index(page, `-name">Incident response and recovery<`)
		ir := page[strings.LastIndex(page[:i], `id="group-`)+len(`id="group-`) : i]
		w.do(http.MethodPost, fmt.Sprintf("%s/participants/%d", ex, w.users["admin-b"]), "role=player&group="+ir, fac, "")
		w.do(http.MethodPost, ex+"/start", "", fac, "")
		player := w.do(http.MethodGet, ex, "", w.session("admin-b"), "").Body.String()
		answer := ex + "/answers/" + between(t, player, ex+"/answers/", `"`)
		hostile := `<script>alert("aar")</script>`
		if rec := w.do(http.MethodPost, answer, url.Values{"version": {"0"}, "actions": {"Freeze the wallets " + hostile}, "owner": {"Fraud desk"},
			"gap": {"No feed of SIM swaps from the operator"}, "submit": {"final"}}.Encode(), w.session("admin-b"), ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("final answer: %d", rec.Code)
		}
		console := w.do(http.MethodGet, ex, "", fac, "").Body.String()
		w.do(http.MethodPost, ex+"/scores/"+between(t, console, ex+"/scores/", `"`), "score=2&note=Good+start", fac, "")

		// Before the end the player may not read the report.
		if rec := w.do(http.MethodGet, report, "", w.session("admin-b"), ""); rec.Code != http.StatusForbidden {
			t.Errorf("the player's report before the end: %d, want 403", rec.Code)
		}
		if strings.Contains(w.do(http.MethodGet, ex, "", w.session("admin-b"), "").Body.String(), `id="report-link"`) {
			t.Error("the player's page links the report before the end")
		}
		w.do(http.MethodPost, ex+"/end", "", fac, "")
		if !strings.Contains(w.do(http.MethodGet, ex, "", w.session("admin-b"), "").Body.String(), `href="`+report+`" id="report-link"`) {
			t.Error("the player's page does not link the report after the end")
		}

		post := func(user, target string, v url.Values) (int, string) {
			rec := w.do(http.MethodPost, target, v.Encode(), w.session(user), "")
			return rec.Code, rec.Body.String()
		}
		// Objectives: a bad rating keeps the note typed.
		if code, body := post("analyst-a", report+"/objectives/O1", url.Values{"rating": {"great"}, "note": {"kept note"}}); code != http.StatusBadRequest || !strings.Contains(body, `value="kept note"`) {
			t.Errorf("bad rating: %d", code)
		}
		if code, _ := post("analyst-a", report+"/objectives/O1", url.Values{"rating": {"met"}, "note": {"Wallets frozen within the hour"}}); code != http.StatusSeeOther {
			t.Errorf("rate O1: %d", code)
		}
		if code, _ := post("analyst-a", report+"/objectives/O9", url.Values{"rating": {"met"}}); code != http.StatusNotFound {
			t.Errorf("rate an objective the scenario lacks: %d, want 404", code)
		}
		if code, _ := post("admin-b", report+"/objectives/O1", url.Values{"rating": {"not-met"}}); code != http.StatusForbidden {
			t.Errorf("a player rates: %d, want 403", code)
		}
		post("analyst-a", report+"/findings", url.Values{"kind": {"strength"}, "text": {"Fraud desk reacted at once"}})

		// The improvement plan: the owner must take part, the date must be
		// a date, the links must exist; a refused form keeps its text.
		page = w.do(http.MethodGet, report, "", fac, "").Body.String()
		recID := regexp.MustCompile(`<datalist id="item-recs"><option value="([A-Z]+-\d+)"`).FindStringSubmatch(page)
		if recID == nil {
			t.Fatal("the plan form offers no recommendation of the scenario")
		}
		item := url.Values{"action": {"Subscribe to the operator's SIM-swap feed"}, "owner": {fmt.Sprint(w.orgB)}, "due": {"2027-06-30"},
			"recommendation": {recID[1]}, "question": {"IR-09"}}
		for name, change := range map[string]func(v url.Values){
			"bad date":              func(v url.Values) { v.Set("due", "30/06/2027") },
			"owner not taking part": func(v url.Values) { v.Set("owner", "999999") },
			"unknown question":      func(v url.Values) { v.Set("question", "ZZ-99") },
		} {
			v := url.Values{}
			for k, x := range item {
				v[k] = x
			}
			change(v)
			if code, body := post("analyst-a", report+"/improvements", v); code != http.StatusBadRequest || !strings.Contains(body, "Subscribe to the operator&#39;s SIM-swap feed</textarea>") {
				t.Errorf("%s: %d, want 400 with the action kept", name, code)
			}
		}
		if code, _ := post("analyst-a", report+"/improvements", item); code != http.StatusSeeOther {
			t.Fatalf("add item: %d", code)
		}
		page = w.do(http.MethodGet, report, "", fac, "").Body.String()
		itemID := between(t, page, `<tr id="item-`, `"`)
		// Provider B has no baseline and no self-assessment: nothing to
		// note it on, and the page says so.
		if code, body := post("analyst-a", report+"/improvements/"+itemID+"/send", nil); code != http.StatusBadRequest || !strings.Contains(body, "no resilience self-assessment under way") {
			t.Errorf("send with nothing to note on: %d", code)
		}
		// Once B has an assessment under way, the item is noted on it.
		f := url.Values{"title": {"Self-assessment 2027"}, "model": {"dfs-cyber-resilience@2026.1"}, "entity_type": {"dfs_provider"}, "volume": {"2"}, "customers": {"2"}, "third_parties": {"1"},
			"incidents": {"0"}, "channels": {"app"}}
		if rec := w.do(http.MethodPost, fmt.Sprintf("/orgs/%d/resilience/assessments", w.orgB), f.Encode(), w.session("admin-b"), ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("B starts an assessment: %d %s", rec.Code, rec.Body)
		}
		if code, body := post("analyst-a", report+"/improvements/"+itemID+"/send", nil); code != http.StatusBadRequest || !strings.Contains(body, "not in the national baseline") {
			t.Errorf("send: %d (the recommendation is not in B's baseline: said, the question noted)", code)
		}
		page = w.do(http.MethodGet, report, "", fac, "").Body.String()
		if !strings.Contains(page, "noted on its assessment") {
			t.Error("the plan does not show the item noted on B's assessment")
		}

		// The player reads the report after the end; hostile text is
		// escaped in the page and in the document.
		rec = w.do(http.MethodGet, report, "", w.session("admin-b"), "")
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(body, "Wallets frozen within the hour") || !strings.Contains(body, "Fraud desk reacted at once") ||
			strings.Contains(body, hostile) || !strings.Contains(body, "&lt;script&gt;") || strings.Contains(body, `id="item-form"`) {
			t.Errorf("the player's report: %d", rec.Code)
		}
		rec = w.do(http.MethodGet, report+"/document.html?download=1", "", w.session("admin-b"), "")
		doc := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Disposition"), "after-action-report-") || !strings.Contains(doc, "<style>") ||
			strings.Contains(doc, hostile) || !strings.Contains(doc, "Subscribe to the operator") || !strings.Contains(doc, "Good start") {
			t.Errorf("the report document: %d %q", rec.Code, rec.Header().Get("Content-Disposition"))
		}
		if pdf.ChromiumPath() != "" {
			rec = w.do(http.MethodGet, report+"/report.pdf", "", fac, "")
			if rec.Code != http.StatusOK || !bytes.HasPrefix(rec.Body.Bytes(), []byte("%PDF-")) {
				t.Errorf("the report PDF: %d %.20q", rec.Code, rec.Body.Bytes())
			}
		}

		// Lessons learned: refused while they name a participant, then
		// published once.
		if code, body := post("analyst-a", report+"/lessons", url.Values{"recommendation": {recID[1]}, "body": {"Provider B froze wallets late."}}); code != http.StatusBadRequest ||
			!strings.Contains(body, "Provider B") || !strings.Contains(body, "Provider B froze wallets late.</textarea>") {
			t.Errorf("lessons naming an organisation: %d", code)
		}
		lessons := url.Values{"recommendation": {recID[1]}, "body": {"Operators and providers need a live feed of SIM swaps before payday."}}
		if code, _ := post("analyst-a", report+"/lessons", lessons); code != http.StatusSeeOther {
			t.Fatalf("publish lessons: %d", code)
		}
		if code, _ := post("analyst-a", report+"/lessons", lessons); code != http.StatusConflict {
			t.Errorf("second publish: %d, want 409", code)
		}
		note := between(t, w.do(http.MethodGet, report, "", fac, "").Body.String(), `Published to the community, without names: <a href="`, `"`)
		cat := w.do(http.MethodGet, strings.Split(note, "#")[0], "", w.session("viewer-b"), "").Body.String()
		if !strings.Contains(cat, "live feed of SIM swaps") || strings.Contains(between(t, cat, `id="`+strings.Split(note, "#")[1]+`"`, "</article>"), "Regulator A") {
			t.Error("the lessons note is missing from the recommendation's page, or names its organisation")
		}

		// The owner's history: its item, marked done by its analyst, not
		// by another organisation.
		hist := fmt.Sprintf("/orgs/%d/tabletop/history", w.orgB)
		body = w.do(http.MethodGet, hist, "", w.session("viewer-b"), "").Body.String()
		if !strings.Contains(body, "Payday drill") || !strings.Contains(body, `id="owned-`+itemID+`"`) {
			t.Error("B's history lacks the exercise or its item")
		}
		if rec := w.do(http.MethodPost, fmt.Sprintf("/orgs/%d/tabletop/improvements/%s/status", w.orgA, itemID), "status=done", w.session("admin-a"), ""); rec.Code != http.StatusNotFound {
			t.Errorf("A marks B's item through A's path: %d, want 404", rec.Code)
		}
		if rec := w.do(http.MethodPost, fmt.Sprintf("/orgs/%d/tabletop/improvements/%s/status", w.orgB, itemID), "status=done", w.session("admin-b"), ""); rec.Code != http.StatusSeeOther {
			t.Errorf("B marks its item done: %d", rec.Code)
		}
		if body := w.do(http.MethodGet, report, "", fac, "").Body.String(); !strings.Contains(between(t, body, `<tr id="item-`+itemID+`"`, "</tr>"), "<td>Done</td>") {
			t.Error("the report does not show the item done")
		}
	})
}
