package adoption

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/dfslab/dfslab/internal/web"
)

// attestView is the attestation section of a report page.
type attestView struct {
	Check   AttestationCheck
	Missing []string    // roles still to attest (the provider's form offers them)
	Form    AttestInput // as typed, kept when refused
	Problem string
	Field   string
}

func (m *Module) attestView(r *http.Request, sub Submission, form AttestInput, problem, field string) (attestView, error) {
	c, err := m.store.CheckAttestations(r.Context(), sub)
	if err != nil {
		return attestView{}, err
	}
	v := attestView{Check: c, Form: form, Problem: problem, Field: field}
	for _, row := range c.Rows {
		if row.Attestation == nil {
			v.Missing = append(v.Missing, row.Role)
		}
	}
	if v.Form.Name == "" {
		if p := web.CurrentPrincipal(r.Context()); p != nil {
			v.Form.Name = p.User.DisplayName
		}
	}
	return v, nil
}

// attest records the signed-in member's attestation of one of the
// organisation's reports. The route needs a fresh verification; the
// session's verification time goes into the record.
func (m *Module) attest(w http.ResponseWriter, r *http.Request) {
	o, sub, ok := m.loadSubmission(w, r, false)
	if !ok || !web.ParseForm(w, r) {
		return
	}
	in := AttestInput{Role: r.PostFormValue("role"), Name: r.PostFormValue("name"), SHA256: r.PostFormValue("sha256")}
	if p := web.CurrentPrincipal(r.Context()); p != nil && p.Session != nil {
		in.VerifiedAt = p.Session.VerifiedAt
	}
	if r.PostFormValue("confirm") != "on" {
		m.renderOwnSubmission(w, r, o, sub, http.StatusBadRequest, in, "Tick the box to attest the report; an attestation is made only explicitly.", "confirm", "")
		return
	}
	a, err := m.store.Attest(r.Context(), o, sub.ID, in)
	var ie *InvalidError
	switch {
	case errors.As(err, &ie):
		m.renderOwnSubmission(w, r, o, sub, http.StatusBadRequest, in, ie.Problem, ie.Field, "")
		return
	case errors.Is(err, ErrStepUp):
		// The route's policy asks for the verification first; this is a
		// session that lost it in between.
		http.Redirect(w, r, web.StepUpPath+"?next="+url.QueryEscape(orgPath(o, fmt.Sprintf("/submissions/%d", sub.ID))), http.StatusSeeOther)
		return
	case err != nil:
		m.fail(w, r, "attest", err)
		return
	}
	m.log.InfoContext(r.Context(), "report attested", "submission", sub.ID, "role", a.Role, "request_id", web.RequestID(r.Context()))
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/submissions/%d?done=attested#attest-title", sub.ID)), http.StatusSeeOther)
}

func (m *Module) ownCanonical(w http.ResponseWriter, r *http.Request) {
	if o, sub, ok := m.loadSubmission(w, r, false); ok {
		m.writeCanonical(w, r, o, sub)
	}
}

func (m *Module) regCanonical(w http.ResponseWriter, r *http.Request) {
	if o, sub, ok := m.loadSubmission(w, r, true); ok {
		m.writeCanonical(w, r, o, sub)
	}
}

// writeCanonical sends the report's canonical content: the bytes whose
// SHA-256 the attestations record, for checking with any tool.
func (m *Module) writeCanonical(w http.ResponseWriter, r *http.Request, o Org, sub Submission) {
	b, err := CanonicalJSON(sub)
	if err != nil {
		web.ServerError(w, r, "canonical report", err)
		return
	}
	web.Audit(r, web.AuditEvent{Action: "submission.export", ObjectType: "submission", ObjectID: strconv.FormatInt(sub.ID, 10),
		Details: map[string]any{"format": "canonical-json", "org": o.ID}})
	download(w, "application/json", fmt.Sprintf("report-%d.json", sub.ID), b)
}
