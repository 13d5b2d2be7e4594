package web

import (
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// A form post that needs a fresh verification (step-up) used to lose what
// the person typed: after the passkey prompt they were sent back to the
// empty form. Now the shell keeps the form, for this session only and for
// a few minutes, and after the step-up a page sends it again to where it
// was going (by itself with the shell's script, else with one press).
// The form lives in this process's memory: on a node behind a load
// balancer that did not see the form, the person gets the old behaviour
// (back to the form page).

// pendingTTL bounds how long a kept form waits for its step-up.
const pendingTTL = 10 * time.Minute

// pendingMax bounds the kept forms of the whole process.
const pendingMax = 1000

type pendingForm struct {
	session string
	user    int64
	path    string
	values  url.Values
	expires time.Time
}

type pendingForms struct {
	mu    sync.Mutex
	forms map[string]pendingForm
}

func (p *pendingForms) put(f pendingForm, now time.Time) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.forms == nil {
		p.forms = map[string]pendingForm{}
	}
	for k, v := range p.forms {
		// One pending form per session, and none past its time.
		if v.session == f.session || now.After(v.expires) {
			delete(p.forms, k)
		}
	}
	if len(p.forms) >= pendingMax {
		return ""
	}
	var b [16]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	p.forms[tok] = f
	return tok
}

// take removes and returns the form of tok if it belongs to session and
// user and has not expired.
func (p *pendingForms) take(tok, session string, user int64, now time.Time) (pendingForm, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.forms[tok]
	if !ok {
		return pendingForm{}, false
	}
	delete(p.forms, tok)
	if f.session != session || f.user != user || now.After(f.expires) {
		return pendingForm{}, false
	}
	return f, true
}

// resumePath keeps the url-encoded form of r for after the step-up and
// returns where the step-up should lead, or "" when the form cannot be
// kept (multipart uploads, API calls, no browser session).
func (s *Server) resumePath(r *http.Request, p *Principal) string {
	if p == nil || p.Session == nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return ""
	}
	if err := r.ParseForm(); err != nil {
		return ""
	}
	values := url.Values{}
	for k, vs := range r.PostForm {
		values[k] = slices.Clone(vs)
	}
	tok := s.pending.put(pendingForm{session: p.Session.ID, user: p.User.ID, path: r.URL.RequestURI(), values: values,
		expires: time.Now().Add(pendingTTL)}, time.Now())
	if tok == "" {
		return ""
	}
	return ResumePath + tok
}

// ResumePath is where a step-up returns to complete a kept form.
const ResumePath = "/resume/"

type resumeField struct{ Name, Value string }

type resumeData struct {
	Found  bool
	Path   string
	Fields []resumeField
}

func (s *Server) resume(page *template.Template) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := CurrentPrincipal(r.Context())
		w.Header().Set("Cache-Control", "no-store")
		var d resumeData
		if p != nil && p.Session != nil {
			if f, ok := s.pending.take(r.PathValue("token"), p.Session.ID, p.User.ID, time.Now()); ok && LocalPath(f.path) {
				d.Found, d.Path = true, f.path
				names := make([]string, 0, len(f.values))
				for k := range f.values {
					names = append(names, k)
				}
				slices.Sort(names)
				for _, k := range names {
					for _, v := range f.values[k] {
						d.Fields = append(d.Fields, resumeField{k, v})
					}
				}
			}
		}
		status := http.StatusOK
		if !d.Found {
			status = http.StatusGone
		}
		s.rd.execute(w, r, status, page, View{Title: "Completing your action", Data: d})
	}
}
