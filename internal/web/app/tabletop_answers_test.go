package app

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// between returns the text of page between the end of prefix and the
// next occurrence of end.
func between(t *testing.T, page, prefix, end string) string {
	t.Helper()
	i := strings.Index(page, prefix)
	if i < 0 {
		t.Fatalf("no %q on the page", prefix)
	}
	rest := page[i+len(prefix):]
	return rest[:strings.Index(rest, end)]
}

// TestTabletopAnswerPages runs the payday scenario with a player in the
// incident-response group, one in the protection group and an observer
// of another organisation: each group keeps its own draft (escaped, and
// unseen by the other group), a stale save is refused with the typed
// text kept, bad input keeps it too, the final answer is scored by the
// facilitator, a hint reaches one group, the observer keeps a note and
// reads the decision log, and nobody acts outside their part.
func TestTabletopAnswerPages(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		fac := w.session("analyst-a")
		ex, ir, _ := w.runningExercise(t, "60")
		player := w.do(http.MethodGet, ex, "", w.session("viewer-a"), "").Body.String()
		ref := between(t, player, ex+"/answers/", `"`)
		answer := ex + "/answers/" + ref
		post := func(user, target string, v url.Values) (int, string) {
			rec := w.do(http.MethodPost, target, v.Encode(), w.session(user), "")
			return rec.Code, rec.Body.String()
		}
		hostile := `<img src=x onerror=alert(1)>`
		if code, _ := post("viewer-a", answer, url.Values{"version": {"0"}, "actions": {hostile}, "owner": {"DFS provider"}, "submit": {"draft"}}); code != http.StatusSeeOther {
			t.Fatalf("draft: %d", code)
		}
		if code, _ := post("admin-a", answer, url.Values{"version": {"0"}, "actions": {"PRO secret plan"}, "submit": {"draft"}}); code != http.StatusSeeOther {
			t.Fatalf("PRO draft: %d", code)
		}
		player = w.do(http.MethodGet, ex, "", w.session("viewer-a"), "").Body.String()
		if strings.Contains(player, hostile) || !strings.Contains(player, "&lt;img src=x") || strings.Contains(player, "PRO secret plan") {
			t.Error("the player's page is not escaped, or shows another group's draft")
		}
		// A stale save and an over-limit save keep what was typed.
		code, body := post("viewer-a", answer, url.Values{"version": {"0"}, "actions": {"typed again"}, "submit": {"draft"}})
		if code != http.StatusConflict || !strings.Contains(body, ">typed again</textarea>") || !strings.Contains(body, `id="answer-`+ref+`-meanwhile"`) {
			t.Errorf("stale save: %d", code)
		}
		code, body = post("viewer-a", answer, url.Values{"version": {"1"}, "actions": {strings.Repeat("a", 4001)}, "owner": {"Ops desk kept"}, "submit": {"final"}})
		if code != http.StatusBadRequest || !strings.Contains(body, "longer than 4000 characters") || !strings.Contains(body, ">Ops desk kept</textarea>") {
			t.Errorf("over-limit save: %d", code)
		}
		if code, _ := post("viewer-a", answer, url.Values{"version": {"1"}, "actions": {"Open an incident"}, "owner": {"DFS provider"}, "submit": {"final"}}); code != http.StatusSeeOther {
			t.Fatalf("final answer: %d", code)
		}
		// The facilitator sees both groups' answers and scores the final one.
		console := w.do(http.MethodGet, ex, "", fac, "").Body.String()
		if !strings.Contains(console, "PRO secret plan") || !strings.Contains(console, "Open an incident") {
			t.Error("the console lacks a group's answer")
		}
		score := ex + "/scores/" + between(t, console, ex+"/scores/", `"`)
		code, body = post("analyst-a", score, url.Values{"score": {"7"}, "note": {"keep me"}})
		if code != http.StatusBadRequest || !strings.Contains(body, `value="keep me"`) {
			t.Errorf("score 7: %d", code)
		}
		if code, _ := post("analyst-a", score, url.Values{"score": {"2"}, "note": {"Missed the customers"}}); code != http.StatusSeeOther {
			t.Fatalf("score: %d", code)
		}
		if code, _ := post("analyst-a", ex+"/hints", url.Values{"group": {ir}, "text": {"Call the MNO"}}); code != http.StatusSeeOther {
			t.Fatalf("hint: %d", code)
		}
		long := "keep this hint " + strings.Repeat("h", 1000)
		code, body = post("analyst-a", ex+"/hints", url.Values{"group": {ir}, "text": {long}})
		if code != http.StatusBadRequest || !strings.Contains(body, "longer than 1000 characters") || !strings.Contains(body, ">"+long+"</textarea>") {
			t.Errorf("over-limit hint: %d", code)
		}
		if code, _ := post("viewer-b", ex+"/notes", url.Values{"text": {"IR waited for the MNO"}}); code != http.StatusSeeOther {
			t.Fatalf("note: %d", code)
		}
		player = w.do(http.MethodGet, ex, "", w.session("viewer-a"), "").Body.String()
		if !strings.Contains(player, "Call the MNO") || !strings.Contains(player, "Score 2/3") || strings.Contains(player, `id="decision-log"`) {
			t.Error("the IR player lacks the hint or the score, or sees the decision log")
		}
		if other := w.do(http.MethodGet, ex, "", w.session("admin-a"), "").Body.String(); strings.Contains(other, "Call the MNO") {
			t.Error("the PRO player sees IR's hint")
		}
		observer := w.do(http.MethodGet, ex, "", w.session("viewer-b"), "").Body.String()
		log := between(t, observer, `id="log"`, "</ol>")
		if !regexp.MustCompile(`(?s)Exercise started.*Inject I1 released by the clock.*answered I1.*scored 2/3.*Call the MNO.*IR waited for the MNO`).MatchString(log) {
			t.Errorf("decision log out of order or incomplete:\n%s", log)
		}
		// Nobody acts outside their part.
		for _, c := range []struct{ user, target string }{
			{"viewer-b", answer}, {"analyst-a", answer}, {"viewer-a", score}, {"viewer-b", score},
			{"viewer-a", ex + "/hints"}, {"viewer-b", ex + "/hints"}, {"viewer-a", ex + "/notes"},
		} {
			if code, _ := post(c.user, c.target, url.Values{"version": {"0"}, "actions": {"x"}, "score": {"1"}, "group": {ir}, "text": {"x"}}); code != http.StatusForbidden {
				t.Errorf("%s posts %s: %d, want 403", c.user, c.target, code)
			}
		}
	})
}
