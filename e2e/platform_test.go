package e2e

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/dfslab/dfslab/internal/browsertest"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/web/app"
)

// platform is the real server, wired exactly as `dfslab serve` wires it,
// on a temporary SQLite database and a free loopback port.
type platform struct {
	base string // http://localhost:PORT
	// enrolLink is the first-run link, obtained with the same call that
	// `serve` uses for the link it prints.
	enrolLink string
}

func startPlatform(t *testing.T) platform {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "dfslab.db"))
	if err != nil {
		t.Fatalf("opening database: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// WebAuthn refuses IP addresses as relying party IDs: the browser talks
	// to localhost, which is also a secure context over plain HTTP.
	base := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	a, err := app.New(ctx, d, app.Config{BaseURL: base, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("wiring the platform: %v", err)
	}
	link, _, err := a.FirstRunLink(ctx, base)
	if err != nil {
		t.Fatalf("first-run link: %v", err)
	}
	if !strings.HasPrefix(link, base+"/enrol/") {
		t.Fatalf("first-run link %q does not lead to %s/enrol/…", link, base)
	}
	srv := &http.Server{Handler: a.Server, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return platform{base: base, enrolLink: link}
}

// page wraps one browser tab for the steps of the scenario.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func (p page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v (at %s)", what, err, p.location())
	}
}

func (p page) location() string {
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return loc
}

func (p page) path() string {
	p.t.Helper()
	u, err := url.Parse(p.location())
	if err != nil {
		p.t.Fatal(err)
	}
	return u.Path
}

func (p page) open(path string) {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(p.base+path))
}

// status loads path and returns the HTTP status of the document the
// browser ends on (after redirects).
func (p page) status(path string) int {
	p.t.Helper()
	resp, err := chromedp.Run(p.ctx, chromedp.NavigateResponse(p.base+path))
	if err != nil {
		p.t.Fatalf("open %s: %v", path, err)
	}
	return int(resp.Status)
}

func (p page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("text of %s: %v (at %s)", sel, err, p.location())
	}
	return strings.TrimSpace(s)
}

func (p page) bodyText() string {
	p.t.Helper()
	return p.text("body")
}

// until evaluates the JavaScript expression js every 100 ms until it
// yields a non-empty string, which it returns. Errors while a new page
// loads (no execution context yet) only mean "not yet".
func (p page) until(what, js string) string {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		got, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](
			`(() => { try { return document.readyState === 'complete' ? String((`+js+`) || '') : '' } catch (e) { return '' } })()`))
		if err == nil && got != "" {
			return got
		}
		if p.ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	body, _ := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS("body")))
	p.t.Fatalf("%s: gave up at %s; the page says: %.600s", what, p.location(), body)
	return ""
}

// waitPath waits until a loaded page's path satisfies js, an expression
// over the variable path.
func (p page) waitPath(what, cond string) string {
	p.t.Helper()
	return p.until(what, `(path => (`+cond+`) ? path : '')(location.pathname)`)
}

const onStepUp = `location.pathname === '/account/step-up' && document.querySelector('#stepup-passkey') ? 'step-up' : ''`

// submit fills a form and presses its button until the expression done is
// truthy. A sensitive action may first send the user to the step-up page,
// after which the platform sends the kept form again by itself (or, where it
// could not keep it, returns to the form's page: then the form is filled
// and sent again, as a person would).
func (p page) submit(what string, fill []chromedp.Action[chromedp.Void], button, done string) {
	p.t.Helper()
	for range 2 {
		p.do(what, append(fill, chromedp.Click(chromedp.CSS(button)))...)
		if p.until(what, `(`+done+`) ? 'done' : (`+onStepUp+`)`) == "done" {
			return
		}
		p.do("step-up for "+what, chromedp.Click(chromedp.CSS("#stepup-passkey")))
		p.waitPath("back from step-up", `path !== '/account/step-up'`)
		// The kept form is sent again by the page the step-up leads to;
		// where it could not be kept, the person is back on the form.
		if p.until(what+" after the step-up", `(`+done+`) ? 'done' : (location.pathname.startsWith('/resume/') ? '' : 'form')`) == "done" {
			return
		}
	}
	p.t.Fatalf("%s: step-up did not stick (at %s)", what, p.location())
}

func (p page) shot(name string) {
	p.t.Helper()
	screenshot(p.t, p.ctx, name)
}

var orgPathRE = regexp.MustCompile(`^/orgs/(\d+)$`)

// createOrg fills the new-organisation form and returns the new
// organisation's id, read from the page the form leads to.
func (p page) createOrg(name, typ, country string) string {
	p.t.Helper()
	p.open("/orgs")
	p.submit("create organisation "+name, []chromedp.Action[chromedp.Void]{
		chromedp.SetValue(chromedp.CSS("#org-name"), name),
		chromedp.SetValue(chromedp.CSS("#org-type"), typ),
		chromedp.SetValue(chromedp.CSS("#org-country"), country),
	}, "#create-org", `/^\/orgs\/\d+$/.test(location.pathname) && document.querySelector('#org-title')`)
	if got := p.text("#org-title"); got != name {
		p.t.Fatalf("new organisation page is titled %q, want %q", got, name)
	}
	return orgPathRE.FindStringSubmatch(p.path())[1]
}

// invite creates an invitation link into org for email and returns it.
func (p page) invite(org, email, role string) string {
	p.t.Helper()
	p.open("/orgs/" + org + "/members")
	p.submit("invite "+email, []chromedp.Action[chromedp.Void]{
		chromedp.SetValue(chromedp.CSS("#invite-email"), email),
		chromedp.SetValue(chromedp.CSS("#invite-role"), role),
	}, "#invite-submit", `document.querySelector('#invite-link')`)
	link := p.text("#invite-link")
	if !strings.HasPrefix(link, p.base+"/enrol/") {
		p.t.Fatalf("invitation link %q does not lead to %s/enrol/…", link, p.base)
	}
	return link
}

func credentials(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID) []*webauthn.Credential {
	t.Helper()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		t.Fatalf("credentials of the virtual authenticator: %v", err)
	}
	return res.Credentials
}

func setPresence(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID, on bool) {
	t.Helper()
	_, err := chromedp.Call(ctx, webauthn.SetAutomaticPresenceSimulation,
		webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: id, Enabled: on})
	if err != nil {
		t.Fatalf("virtual authenticator presence %v: %v", on, err)
	}
}

func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
	if err != nil {
		t.Fatalf("counting %s: %v", sel, err)
	}
	return n
}

// TestPlatformInBrowser walks the platform as its first administrator and
// as an invited member of another organisation, in headless Chromium with
// virtual passkey authenticators, and saves screenshots of the main pages.
func TestPlatformInBrowser(t *testing.T) {
	pl := startPlatform(t)
	ctx := browsertest.New(t).Ctx
	firstKey := addVirtualAuthenticator(t, ctx)
	admin := page{t: t, ctx: ctx, base: pl.base}
	none := []chromedp.Action[chromedp.Void]{}

	// Enrolment of the first platform administrator from the printed link.
	admin.do("open enrolment link", chromedp.Navigate(pl.enrolLink), chromedp.WaitVisible(chromedp.CSS("#enrol-email")))
	fill := []chromedp.Action[chromedp.Void]{
		chromedp.SetValue(chromedp.CSS("#enrol-email"), "amara.banda@rbm.example.mw"),
		chromedp.SetValue(chromedp.CSS("#enrol-display-name"), "Amara Banda"),
		chromedp.SetValue(chromedp.CSS("#enrol-passkey-name"), "Office laptop"),
	}
	admin.do("fill enrolment", fill...)
	admin.shot("enrolment")
	admin.submit("enrol", none, "#enrol-submit", `!location.pathname.startsWith('/enrol/') && document.querySelector('#current-user')`)
	if got := admin.text("#current-user"); got != "Amara Banda" {
		t.Fatalf("signed in as %q after enrolment, want Amara Banda", got)
	}
	if n := len(credentials(t, ctx, firstKey)); n != 1 {
		t.Fatalf("the authenticator holds %d credentials after enrolment, want 1", n)
	}
	// The link works once.
	if st := admin.status(strings.TrimPrefix(pl.enrolLink, pl.base)); st < 400 {
		t.Fatalf("reused enrolment link answered %d, want a refusal", st)
	}

	// A second passkey, on a second authenticator (a browser refuses to
	// create a second credential for the same account on one
	// authenticator). The first one is taken away, so the sign-in below
	// can only succeed with the passkey registered here.
	if _, err := chromedp.Call(ctx, webauthn.RemoveVirtualAuthenticator,
		webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: firstKey}); err != nil {
		t.Fatal(err)
	}
	secondKey := addVirtualAuthenticator(t, ctx)
	admin.open("/account/passkeys")
	admin.submit("add passkey", []chromedp.Action[chromedp.Void]{
		chromedp.SetValue(chromedp.CSS("#add-passkey-name"), "Security key"),
	}, "#add-passkey-submit", `location.pathname === '/account/passkeys' && document.querySelectorAll('#passkeys-table tbody tr').length === 2`)
	if got := admin.text("#passkeys-table"); !strings.Contains(got, "Office laptop") || !strings.Contains(got, "Security key") {
		t.Fatalf("passkey list lacks a passkey: %s", got)
	}
	before := credentials(t, ctx, secondKey)
	if len(before) != 1 {
		t.Fatalf("second authenticator holds %d credentials, want 1", len(before))
	}

	// Sign out. The virtual authenticator would answer the sign-in page's
	// autofill request at once, so it stays passive until the explicit
	// sign-in below.
	setPresence(t, ctx, secondKey, false)
	admin.open("/account")
	admin.submit("sign out", none, "#signout", `location.pathname === '/signin'`)
	admin.open("/account")
	if path := admin.path(); path != "/signin" {
		t.Fatalf("after sign-out /account showed %s, want the sign-in page", path)
	}
	admin.open("/signin?autofill=off")
	if n := count(t, ctx, "#current-user"); n != 0 {
		t.Fatal("the sign-in page still shows a signed-in user after sign-out")
	}
	admin.shot("signin")

	// Username-less sign-in with the passkey: the e-mail field stays empty.
	setPresence(t, ctx, secondKey, true)
	admin.submit("sign in with passkey", none, "#signin-passkey", `location.pathname !== '/signin' && document.querySelector('#current-user')`)
	if got := admin.text("#current-user"); got != "Amara Banda" {
		t.Fatalf("signed in as %q, want Amara Banda", got)
	}
	after := credentials(t, ctx, secondKey)
	if after[0].SignCount <= before[0].SignCount {
		t.Fatalf("sign-in did not use the registered passkey (sign count %v → %v)", before[0].SignCount, after[0].SignCount)
	}

	// TOTP: the secret is read off the page, the code computed here.
	admin.open("/account/totp")
	admin.submit("start TOTP set-up", none, "#totp-setup", `document.querySelector('#totp-qr svg')`)
	secret := strings.ReplaceAll(admin.text("#totp-secret"), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatalf("TOTP code for secret %q: %v", secret, err)
	}
	admin.do("type TOTP code", chromedp.SetValue(chromedp.CSS("#totp-code"), code))
	admin.shot("account-totp-setup")
	admin.submit("confirm TOTP", none, "#totp-confirm", `document.querySelector('#totp-disable')`)
	if got := admin.text("#totp-status"); !strings.Contains(got, "is set up") {
		t.Fatalf("TOTP status after confirming: %q", got)
	}

	// Recovery codes, an API token, and the account pages.
	admin.open("/account/recovery-codes")
	admin.submit("create recovery codes", none, "#codes-create", `document.querySelector('#recovery-codes')`)
	if n := count(t, ctx, "#recovery-codes li"); n < 8 {
		t.Fatalf("%d recovery codes shown, want at least 8", n)
	}
	admin.shot("account-recovery-codes")
	admin.open("/account/tokens")
	admin.submit("create token", []chromedp.Action[chromedp.Void]{
		chromedp.SetValue(chromedp.CSS("#token-name"), "CI pipeline"),
		chromedp.Click(chromedp.CSS("#token-scope-write")),
	}, "#token-create", `document.querySelector('#token-value')`)
	if tok := admin.text("#token-value"); !strings.HasPrefix(tok, "dfs_") {
		t.Fatalf("token %q does not start with dfs_", tok)
	}
	admin.shot("account-tokens")
	admin.open("/account")
	if got := admin.text("#account-totp"); got != "on" {
		t.Fatalf("account overview says TOTP %q, want on", got)
	}
	admin.shot("account")
	admin.open("/account/passkeys")
	admin.shot("account-passkeys")
	admin.open("/account/sessions")
	if got := admin.text("#sessions-table"); !strings.Contains(got, "(this session)") {
		t.Fatalf("sessions page does not mark the current session: %s", got)
	}
	admin.shot("account-sessions")

	// Two organisations; a member invited into each.
	bank := admin.createOrg("Reserve Bank of Malawi", "central_bank", "MW")
	provider := admin.createOrg("Mpamba Mobile Money", "dfs_provider", "MW")
	if bank == provider {
		t.Fatalf("both organisations got id %s", bank)
	}
	admin.invite(bank, "chisomo.phiri@rbm.example.mw", "analyst")
	link := admin.invite(provider, "thoko.mvula@mpamba.example.mw", "org_admin")
	admin.shot("org-members")
	admin.open("/orgs")
	admin.shot("orgs")
	admin.open("/orgs/" + bank)
	admin.shot("org")
	admin.open("/audit")
	if got := admin.bodyText(); !strings.Contains(got, "Reserve Bank of Malawi") {
		t.Fatalf("audit log does not show the organisation created above: %.600s", got)
	}
	admin.shot("audit-log")

	// The recommendations catalogue and one recommendation.
	admin.open("/catalogue")
	// One screen: the facet column scrolls on its own (sticky), so a
	// taller picture would show it cut off.
	vh, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.innerHeight`))
	if err != nil {
		t.Fatal(err)
	}
	screenshotUpTo(t, ctx, "catalogue", vh)
	// From the result list: the page also links exports and release notes.
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`Array.from(document.querySelectorAll('#rec-list a[href^="/catalogue/"]')).map(a => a.getAttribute('href')).find(h => !h.includes('?')) || ''`))
	if err != nil || href == "" {
		t.Fatalf("catalogue list links to no recommendation (%v)", err)
	}
	if st := admin.status(href); st != http.StatusOK {
		t.Fatalf("recommendation %s answered %d", href, st)
	}
	admin.shot("recommendation")

	// The invited member enrols in a browser context of their own, with
	// their own authenticator.
	mctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	if err := chromedp.Do(mctx); err != nil {
		t.Fatalf("second browser context: %v", err)
	}
	addVirtualAuthenticator(t, mctx)
	member := page{t: t, ctx: mctx, base: pl.base}
	member.do("open invitation", chromedp.Navigate(link))
	if got := member.text("#enrol-account"); got != "thoko.mvula@mpamba.example.mw" {
		t.Fatalf("invitation is for %q", got)
	}
	member.submit("member enrols", []chromedp.Action[chromedp.Void]{
		chromedp.SetValue(chromedp.CSS("#enrol-display-name"), "Thoko Mvula"),
	}, "#enrol-submit", `!location.pathname.startsWith('/enrol/') && document.querySelector('#current-user')`)
	if got := member.text("#current-user"); got != "Thoko Mvula" {
		t.Fatalf("member signed in as %q", got)
	}

	// Their own organisation is theirs to see and manage...
	for _, path := range []string{"/orgs/" + provider, "/orgs/" + provider + "/members", "/orgs/" + provider + "/audit"} {
		if st := member.status(path); st != http.StatusOK {
			t.Errorf("member: GET %s = %d, want 200", path, st)
		}
	}
	member.open("/orgs/" + provider)
	if got := member.text("#org-title"); got != "Mpamba Mobile Money" {
		t.Errorf("member's organisation page is titled %q", got)
	}
	// ...the first organisation and the platform-wide pages are not.
	for _, path := range []string{"/orgs/" + bank, "/orgs/" + bank + "/members", "/orgs/" + bank + "/audit", "/orgs", "/audit"} {
		st := member.status(path)
		if st != http.StatusForbidden && st != http.StatusNotFound {
			t.Errorf("member: GET %s = %d, want 403 or 404", path, st)
		}
		if body := member.bodyText(); strings.Contains(body, "Reserve Bank of Malawi") || strings.Contains(body, "chisomo.phiri") {
			t.Errorf("member: GET %s shows the other organisation: %.300s", path, body)
		}
	}
	// On a phone the pages fit the screen: nothing scrolls sideways.
	member.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	for _, path := range []string{"/orgs/" + provider + "/members", "/account/passkeys", "/catalogue"} {
		member.open(path)
		wide, err := chromedp.Run(mctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil {
			t.Fatal(err)
		}
		if wide {
			t.Errorf("phone: %s is wider than the screen", path)
		}
	}
	member.open("/orgs/" + provider + "/members")
	member.shot("phone-org-members")

	// Joining a second organisation is the person's decision: the bank's
	// invitation adds nothing until they accept it in the app.
	member.do("desktop viewport", chromedp.EmulateViewport(1280, 900))
	admin.invite(bank, "thoko.mvula@mpamba.example.mw", "viewer")
	if st := member.status("/orgs/" + bank); st != http.StatusNotFound && st != http.StatusForbidden {
		t.Fatalf("member reaches the bank before accepting: %d", st)
	}
	member.open("/invitations")
	if got := member.text("#invitations"); !strings.Contains(got, "Reserve Bank of Malawi") || !strings.Contains(got, "Viewer") {
		t.Fatalf("invitations page: %q", got)
	}
	member.shot("invitations")
	member.submit("accept invitation", nil, `#invitations button[id^="accept-"]`, `location.pathname === '/orgs/`+bank+`'`)
	if got := member.text("#org-title"); got != "Reserve Bank of Malawi" {
		t.Fatalf("after accepting, the page is %q", got)
	}

	// The administrator still sees the first organisation.
	if st := admin.status("/orgs/" + bank); st != http.StatusOK {
		t.Errorf("admin: GET /orgs/%s = %d, want 200", bank, st)
	}
}
