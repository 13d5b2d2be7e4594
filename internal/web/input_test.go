package web

import (
	"bytes"
	"errors"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCheckField(t *testing.T) {
	cases := []struct {
		name, value string
		want        string // "" accepted, else the error text
	}{
		{"name", "CI token ✓ — Zomba", ""},
		{"body", "line one\r\nline two\n\tindented", ""},
		{"name", "Nyasa \u200f RTL mark and emoji 🇲🇼", ""},
		{"name", "", ""},
		{"name", "\uFFFD is a character", ""},
		{"name", "nul\x00", `field "name" contains a control character (U+0000)`},
		{"name", "bell\a", `field "name" contains a control character (U+0007)`},
		{"name", "esc\x1b[31m", `field "name" contains a control character (U+001B)`},
		{"name", "del\x7f", `field "name" contains a control character (U+007F)`},
		{"name", "c1 \u0085 next line", `field "name" contains a control character (U+0085)`},
		{"name", "c1 \u009b csi", `field "name" contains a control character (U+009B)`},
		{"name", "latin-1 \xe9", `field "name" is not valid UTF-8 text`},
		{"name", "truncated \xe2\x82", `field "name" is not valid UTF-8 text`},
		{"name", "overlong \xc0\x80", `field "name" is not valid UTF-8 text`},
		{"name", "surrogate \xed\xa0\x80", `field "name" is not valid UTF-8 text`},
		{"na\x00me", "fine", `a field name contains a control character (U+0000)`},
		{strings.Repeat("f", 100), "\x01", `field "` + strings.Repeat("f", 64) + `"… contains a control character (U+0001)`},
	}
	for _, c := range cases {
		err := CheckField(c.name, c.value)
		got := ""
		if err != nil {
			got = err.Error()
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("%q=%q: %T, want *InputError", c.name, c.value, err)
			}
		}
		if got != c.want {
			t.Errorf("%q=%q: %q, want %q", c.name, c.value, got, c.want)
		}
	}
}

// FuzzCheckField checks the rule against its definition: text is refused
// exactly when it is not UTF-8 or holds a control character other than
// tab, CR and LF (unicode.IsControl: C0, DEL and C1).
func FuzzCheckField(f *testing.F) {
	for _, s := range []string{"", "plain", "a\tb\r\nc", "\x00", "\x7f", "\u0085", "\xff", "é", "\xe2\x82", "🇲🇼"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := utf8.ValidString(s)
		for _, r := range s {
			if unicode.IsControl(r) && r != '\t' && r != '\r' && r != '\n' {
				want = false
			}
		}
		if got := CheckField("f", s) == nil; got != want {
			t.Fatalf("%q: accepted %v, want %v", s, got, want)
		}
	})
}

func TestFormInputCheckedBeforeHandlers(t *testing.T) {
	var ran int
	var seen url.Values
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran++
		seen = r.PostForm
		ok(w, r)
	})
	// The multipart handler reads the file part as a stream: what it gets
	// is what was sent, byte for byte, control characters included.
	var fileBytes []byte
	upload := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran++
		mr, err := r.MultipartReader()
		if err != nil {
			Error(w, r, http.StatusBadRequest)
			return
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			if p.FormName() == "file" {
				fileBytes = b
			} else if err := CheckField(p.FormName(), string(b)); err != nil {
				BadInput(w, r, err.(*InputError))
				return
			}
		}
		ok(w, r)
	})
	h := seeded(newHarness(t, Config{},
		Route{Pattern: "POST /account/tokens", Policy: SignedIn(), Handler: record},
		Route{Pattern: "GET /search", Policy: Public(), Handler: record},
		Route{Pattern: "POST /upload", Policy: SignedIn(), Handler: upload},
		Route{Pattern: "POST /api/v1/things", Policy: Token(ScopeWrite), Handler: record},
	))
	h.store.addToken("tok-w", orgA.User.ID, ScopeWrite)
	cookie := h.signIn(orgA.User.ID)

	multipartBody := func(name, value string, file []byte) (string, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField(name, value)
		fw, _ := mw.CreateFormFile("file", "app.apk")
		fw.Write(file)
		mw.Close()
		return b.String(), mw.FormDataContentType()
	}
	binary := []byte("PK\x03\x04\x00\x01\x1b\x7f\xff\xfe binary file with every kind of byte")

	cases := []struct {
		name        string
		method      string
		target      string
		body        string
		contentType string
		bearer      string
		anonymous   bool
		want        int
		wantText    string // in the body of a refusal
		handlerRuns bool
	}{
		{name: "token name with a control character (the 500 of the report)", method: "POST", target: "/account/tokens",
			body: "name=ci%01token&scope=read", want: 400, wantText: `The field "name" contains a control character (U+0001)`},
		{name: "NUL", method: "POST", target: "/account/tokens", body: "name=a%00b", want: 400, wantText: "U+0000"},
		{name: "C1 control", method: "POST", target: "/account/tokens", body: "name=a%C2%85b", want: 400, wantText: "U+0085"},
		{name: "invalid UTF-8", method: "POST", target: "/account/tokens", body: "name=caf%E9", want: 400, wantText: "not valid UTF-8"},
		{name: "bad field name", method: "POST", target: "/account/tokens", body: "na%07me=x", want: 400, wantText: "A field name contains"},
		{name: "multi-line text is fine", method: "POST", target: "/account/tokens", body: "name=a%0D%0Ab%09c&scope=read", want: 200, handlerRuns: true},
		{name: "bad query on a form post", method: "POST", target: "/account/tokens?back=%1b", body: "name=ok", want: 400, wantText: `"back"`},
		{name: "bad query on a page", method: "GET", target: "/search?q=x%00", want: 400, wantText: `"q"`},
		{name: "plain query", method: "GET", target: "/search?q=mobile+money&page=2", want: 200, handlerRuns: true},
		{name: "escaped query", method: "GET", target: "/search?q=caf%C3%A9%20%E2%9C%93", want: 200, handlerRuns: true},
		{name: "API answers in JSON", method: "POST", target: "/api/v1/things", body: "name=%00", bearer: "tok-w", want: 400,
			wantText: `{"error":"field \"name\" contains a control character (U+0000)"}`},
		{name: "anonymous caller: refused by policy, body not read", method: "POST", target: "/account/tokens", body: "name=%00",
			anonymous: true, want: 401},
		{name: "multipart file part streams untouched", method: "POST", target: "/upload", contentType: "multipart",
			want: 200, handlerRuns: true},
	}
	for _, c := range cases {
		ran, seen, fileBytes = 0, nil, nil
		body, ct := c.body, "application/x-www-form-urlencoded"
		if c.contentType == "multipart" {
			body, ct = multipartBody("provider", "7", binary)
		}
		r := newRequest(c.method, c.target, strings.NewReader(body))
		if c.method == "GET" {
			r = newRequest(c.method, c.target, nil)
		}
		r.Header.Set("Content-Type", ct)
		if c.bearer != "" {
			r.Header.Set("Authorization", "Bearer "+c.bearer)
		} else if !c.anonymous {
			r.AddCookie(cookie)
		}
		rec := serve(h, r)
		if rec.Code != c.want || !strings.Contains(html.UnescapeString(rec.Body.String()), c.wantText) {
			t.Errorf("%s: %d, want %d with %q\n%s", c.name, rec.Code, c.want, c.wantText, rec.Body.String())
		}
		if (ran > 0) != c.handlerRuns {
			t.Errorf("%s: handler ran %d times", c.name, ran)
		}
		if c.name == "multi-line text is fine" && seen.Get("name") != "a\r\nb\tc" {
			t.Errorf("%s: the handler's form has name %q", c.name, seen.Get("name"))
		}
		if c.contentType == "multipart" && !bytes.Equal(fileBytes, binary) {
			t.Errorf("%s: the handler read %q", c.name, fileBytes)
		}
	}
	// A multipart text field is the handler's to check, with the same
	// rule and answer.
	body, ct := multipartBody("provider", "7\x00", binary)
	r := newRequest("POST", "/upload", strings.NewReader(body))
	r.Header.Set("Content-Type", ct)
	r.AddCookie(cookie)
	if rec := serve(h, r); rec.Code != 400 || !strings.Contains(html.UnescapeString(rec.Body.String()), `"provider" contains a control character (U+0000)`) {
		t.Errorf("multipart text field: %d\n%s", rec.Code, rec.Body.String())
	}
}
