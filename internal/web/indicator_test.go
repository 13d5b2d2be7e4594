package web

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// bell is a module that shows a count derived from the user, so the test
// can tell whose badge a page carries.
type bell struct{ testModule }

func (bell) Indicate(r *http.Request, p *Principal) (Badge, bool) {
	if p.User.ID == 99 {
		return Badge{}, false // nothing to say for this user
	}
	return Badge{ID: "bell", Label: "Notifications", Href: "/notifications", Count: int(p.User.ID) + 40}, true
}

func TestIndicatorBadgeInLayout(t *testing.T) {
	store := newFakeStore()
	store.addUser(Principal{User: User{ID: 2, Email: "two@example.org"}})
	store.addUser(Principal{User: User{ID: 99, Email: "quiet@example.org"}})
	rd, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	sess := NewSessions(store, false, clock.Now)
	shell := NewShell(rd, sess)
	mod := bell{testModule{
		{Pattern: "GET /page", Policy: Public(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			shell.RenderPage(w, r, http.StatusOK, "Page", "<p>body</p>")
		})},
		{Pattern: "POST /test/signin", Policy: Public(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			uid, _ := strconv.ParseInt(r.URL.Query().Get("uid"), 10, 64)
			sess.Start(w, r, uid)
			w.WriteHeader(http.StatusNoContent)
		})},
	}}
	srv, err := New(Config{}, Deps{Sessions: sess, Renderer: rd, Limiter: NewLimiter(LimiterConfig{}, clock.Now)}, mod)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, store: store, clock: clock}

	anon := h.do("GET", "/page", "", nil, nil)
	if strings.Contains(anon.Body.String(), `id="bell"`) {
		t.Errorf("anonymous page shows a badge")
	}
	page := h.do("GET", "/page", "", h.signIn(2), nil).Body.String()
	if !strings.Contains(page, `href="/notifications" id="bell"`) || !strings.Contains(page, ">42</span>") {
		t.Errorf("signed-in page lacks the badge with its count:\n%s", page)
	}
	if quiet := h.do("GET", "/page", "", h.signIn(99), nil).Body.String(); strings.Contains(quiet, `id="bell"`) {
		t.Errorf("a badge the indicator declined is shown")
	}
}
