package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The shell refuses form input that no field of the platform can hold:
// invalid UTF-8, NUL and the other C0 and C1 control characters (and DEL),
// except tab, CR and LF, which multi-line fields hold. Such text reaches
// handlers only from scripts or attacks, and further down it breaks in
// ways that answer 500 (PostgreSQL refuses NUL and invalid UTF-8 in TEXT),
// forges lines in logs and exports, or hides text in what others read.
//
// Where it is checked, and why there: Server.wrap checks the URL query of
// every request, and the body of every application/x-www-form-urlencoded
// one (which it parses with Request.ParseForm; handlers then find
// r.Form and r.PostForm filled in), after authorisation and before the
// route's handler. Multipart bodies are not read there: their file parts
// must stream to the handler that spools them, and a multipart body can be
// read only once. Handlers that read multipart text parts check them with
// CheckField (or CheckValues on a parsed multipart.Form's Value) and
// answer with BadInput.

// InputError names a form field whose value is refused.
type InputError struct {
	Field   string // the field's name as sent; "" when the name itself is refused
	Problem string // what is wrong, e.g. "contains a control character (U+0000)"
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return "a field name " + e.Problem
	}
	return "field " + quoteField(e.Field) + " " + e.Problem
}

// quoteField quotes a field name for a message: control characters and
// invalid bytes escaped, at most 64 bytes of it.
func quoteField(name string) string {
	if len(name) > 64 {
		name = name[:64]
		for !utf8.ValidString(name) && len(name) > 60 {
			name = name[:len(name)-1]
		}
		return strconv.Quote(name) + "…"
	}
	return strconv.Quote(name)
}

// textProblem says why s cannot be form text, or "" when it can.
func textProblem(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f || c == '\t' || c == '\n' || c == '\r' {
			i++ // the common case: printable ASCII
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return "is not valid UTF-8 text"
		case r < 0x20 || r >= 0x7f && r <= 0x9f:
			return fmt.Sprintf("contains a control character (U+%04X)", r)
		}
		i += size
	}
	return ""
}

// CheckField returns an *InputError when value cannot be the text of the
// field name (or when the name itself is not text), nil otherwise.
func CheckField(name, value string) error {
	if p := textProblem(name); p != "" {
		return &InputError{Problem: p}
	}
	if p := textProblem(value); p != "" {
		return &InputError{Field: name, Problem: p}
	}
	return nil
}

// CheckValues checks every field of vs (a parsed form, a URL query or a
// multipart.Form's Value) with CheckField and returns the first problem,
// in the order of the field names, or nil.
func CheckValues(vs url.Values) error {
	names := make([]string, 0, len(vs))
	for n := range vs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, v := range vs[n] {
			if err := CheckField(n, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// BadInput answers 400 naming the field of err: a page that says what to
// change, or a JSON error under /api/.
func BadInput(w http.ResponseWriter, r *http.Request, err *InputError) {
	w.Header().Set("Cache-Control", "no-store")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	msg := "A field name " + err.Problem
	if err.Field != "" {
		msg = "The field " + quoteField(err.Field) + " " + err.Problem
	}
	msg += ". Remove it and send the form again."
	if s := info(r.Context()).srv; s != nil {
		s.rd.renderErrorMessage(w, r, http.StatusBadRequest, msg)
		return
	}
	http.Error(w, msg, http.StatusBadRequest)
}

// checkInput applies the shell's rule (see above) to the URL query and an
// url-encoded body; it returns false when it wrote the refusal.
func (s *Server) checkInput(w http.ResponseWriter, r *http.Request) bool {
	if !plainQuery(r.URL.RawQuery) {
		// Malformed pairs are left out, as r.URL.Query() leaves them out
		// for the handlers.
		q, _ := url.ParseQuery(r.URL.RawQuery)
		if err := CheckValues(q); err != nil {
			BadInput(w, r, err.(*InputError))
			return false
		}
	}
	if !formBody(r) {
		return true
	}
	if err := r.ParseForm(); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			Error(w, r, http.StatusRequestEntityTooLarge)
		} else {
			Error(w, r, http.StatusBadRequest)
		}
		return false
	}
	if err := CheckValues(r.PostForm); err != nil {
		BadInput(w, r, err.(*InputError))
		return false
	}
	return true
}

// plainQuery reports whether a raw query is printable ASCII without
// escapes, which cannot decode to anything CheckValues refuses: the
// common query needs no parsing here.
func plainQuery(raw string) bool {
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 0x20 || c >= 0x7f || c == '%' {
			return false
		}
	}
	return true
}

// formBody reports whether Request.ParseForm reads r's body: an
// url-encoded POST, PUT or PATCH.
func formBody(r *http.Request) bool {
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return false
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && ct == "application/x-www-form-urlencoded"
}
