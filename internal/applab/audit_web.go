package applab

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/appscan/report"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/web"
)

type auditData struct {
	Org       Org
	Owner     Org
	Version   Version
	Rows      []TestRow
	Summary   MatrixCounts
	CanRecord bool
	PDF       bool
	Problem   string
	Generated time.Time
	Results   []ITUResult
}

func (m *Module) auditData(r *http.Request, o Org, v Version, acc Access) (auditData, error) {
	ctx := r.Context()
	res, err := m.store.Result(ctx, v.ScanID)
	if err != nil {
		return auditData{}, err
	}
	tri, err := m.store.TriageOf(ctx, v.AppID)
	if err != nil {
		return auditData{}, err
	}
	rec, err := m.store.Recorded(ctx, v.ID)
	if err != nil {
		return auditData{}, err
	}
	owner, err := m.store.Org(ctx, v.OrgID)
	if err != nil {
		return auditData{}, err
	}
	rows := Matrix(m.rules, res, tri, rec, m.today())
	d := auditData{Org: o, Owner: owner, Version: v, Rows: rows, Summary: Summary(rows), PDF: m.cfg.PDF != nil,
		Generated: m.store.nowUTC(), Results: []ITUResult{Pass, Fail, NA}}
	// Testers record in the records their organisation holds: the
	// owner's, or a regulator's lab test; never in a version shared with
	// a regulator.
	d.CanRecord = web.PathRole(r).AtLeast(web.RoleAnalyst) && mayRecord(acc)
	return d, nil
}

func mayRecord(acc Access) bool { return acc == Owner || acc == LabTest }

func (m *Module) audit(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	m.renderAudit(w, r, o, v, acc, http.StatusOK, "", map[string]string{"recorded": "Test result recorded."}[r.URL.Query().Get("done")])
}

func (m *Module) renderAudit(w http.ResponseWriter, r *http.Request, o Org, v Version, acc Access, status int, problem, flash string) {
	d, err := m.auditData(r, o, v, acc)
	if err != nil {
		m.fail(w, r, "audit", err)
		return
	}
	d.Problem = problem
	m.render(w, r, status, "audit.html", "ITU audit · "+v.Package+" "+v.Label(), d, flash)
}

func (m *Module) record(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	if !mayRecord(acc) {
		web.Error(w, r, http.StatusForbidden)
		return
	}
	problem := func(status int, msg string) { m.renderAudit(w, r, o, v, acc, status, msg, "") }
	rec := Recorded{}
	var evidence *blob.Upload
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		form, err := m.receiveEvidence(r)
		if form.evidence != nil {
			defer form.evidence.Close()
		}
		var mb *http.MaxBytesError
		var bad *web.InputError
		switch {
		case errors.As(err, &mb), errors.Is(err, blob.ErrTooLarge):
			problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("The evidence file is larger than %d MB; nothing was stored.", maxEvidence>>20))
			return
		case errors.Is(err, blob.ErrType):
			problem(http.StatusUnsupportedMediaType, "This kind of file is not accepted as evidence: upload a PDF, PNG or JPEG image, text, CSV, JSON or ZIP; nothing was stored.")
			return
		case errors.Is(err, ErrInvalid):
			problem(http.StatusBadRequest, "Not recorded: the "+err.(*InvalidError).Field+" field is too long.")
			return
		case errors.As(err, &bad):
			problem(http.StatusBadRequest, "Not recorded: "+bad.Error()+".")
			return
		case err != nil:
			problem(http.StatusBadRequest, "The form did not arrive completely; nothing was stored.")
			return
		}
		rec.TestID, rec.Result, rec.Notes = form.fields["test"], ITUResult(form.fields["result"]), form.fields["notes"]
		if form.evidence != nil {
			evidence, rec.EvidenceName = form.evidence, form.name
		}
	} else {
		if !web.ParseForm(w, r) {
			return
		}
		rec.TestID, rec.Result, rec.Notes = r.PostFormValue("test"), ITUResult(r.PostFormValue("result")), r.PostFormValue("notes")
	}
	err := m.store.Record(r.Context(), v, o, userID(r), rec, evidence)
	var ie *InvalidError
	if errors.As(err, &ie) {
		problem(http.StatusBadRequest, "Not recorded: "+ie.Problem+".")
		return
	}
	if err != nil {
		m.fail(w, r, "record", err)
		return
	}
	http.Redirect(w, r, orgPath(o, fmt.Sprintf("/apps/versions/%d/audit?done=recorded#t-%s", v.ID, strings.ReplaceAll(rec.TestID, ".", "-"))), http.StatusSeeOther)
}

// evidenceForm is a tester's multipart form as it arrived.
type evidenceForm struct {
	fields   map[string]string
	evidence *blob.Upload // nil without a file; the caller closes it
	name     string
}

// maxField bounds a text field of the record form (the notes' limit, in
// bytes, with room for the form's line endings).
const maxField = 16 << 10

// receiveEvidence reads a tester's form part by part: the text fields
// into memory, bounded, and the evidence file through the blob spool
// into a temporary file while it is hashed and checked, so that many
// uploads at once cost disk, not memory. The form's fields may come in
// any order.
func (m *Module) receiveEvidence(r *http.Request) (evidenceForm, error) {
	form := evidenceForm{fields: map[string]string{}}
	mr, err := r.MultipartReader()
	if err != nil {
		return form, err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, nil
		}
		if err != nil {
			return form, err
		}
		name := part.FormName()
		switch {
		case name == "evidence" && part.FileName() != "" && form.evidence == nil:
			up, err := blob.Spool(part, part.FileName(), blob.Policy{MaxSize: maxEvidence, Allowed: blob.EvidenceTypes()}, m.cfg.TempDir)
			switch {
			case errors.Is(err, blob.ErrEmpty):
				// An empty file input: the tester attached nothing.
			case err != nil:
				part.Close()
				return form, err
			default:
				form.evidence, form.name = &up, part.FileName()
			}
		case name == "test" || name == "result" || name == "notes":
			b, err := io.ReadAll(io.LimitReader(part, maxField+1))
			if err != nil {
				part.Close()
				return form, err
			}
			if len(b) > maxField {
				part.Close()
				return form, invalid(name, "too long")
			}
			// Multipart text fields escape the shell's form check (it
			// never reads multipart bodies): apply the same rule here.
			if err := web.CheckField(name, string(b)); err != nil {
				part.Close()
				return form, err
			}
			form.fields[name] = string(b)
		}
		part.Close()
	}
}

func (m *Module) evidence(w http.ResponseWriter, r *http.Request) {
	_, v, _, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	rec, b, data, err := m.store.Evidence(r.Context(), v.ID, r.URL.Query().Get("test"))
	if err != nil {
		m.fail(w, r, "evidence", err)
		return
	}
	name := rec.EvidenceName
	if name == "" {
		name = "evidence"
	}
	h := w.Header()
	h.Set("Content-Type", b.MediaType)
	// Always a download, never rendered in our origin, whatever it holds.
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "no-store")
	w.Write(data)
}

// exportHTML renders the complete audit of a version as one
// self-contained HTML document: matrix, tester notes, the scanner's report
// and the triage decisions.
func (m *Module) exportHTML(r *http.Request, o Org, v Version, acc Access) ([]byte, error) {
	d, err := m.auditData(r, o, v, acc)
	if err != nil {
		return nil, err
	}
	res, err := m.store.Result(r.Context(), v.ScanID)
	if err != nil {
		return nil, err
	}
	tri, err := m.store.TriageOf(r.Context(), v.AppID)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	if err := report.WriteHTMLBody(&body, m.document(res)); err != nil {
		return nil, err
	}
	own, lib := m.findingRows(res, tri)
	var out bytes.Buffer
	err = m.export.Execute(&out, struct {
		auditData
		Style    template.CSS
		Report   template.HTML
		Findings []findingRow
		Library  []findingRow
	}{d, template.CSS(report.HTMLStyle() + exportStyle), template.HTML(body.String()), own, lib})
	return out.Bytes(), err
}

const exportStyle = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1b1b}
table.matrix{border-collapse:collapse;width:100%;margin:1rem 0}
table.matrix th,table.matrix td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}
.r-pass{color:#176b2c;font-weight:600}.r-fail{color:#a3121b;font-weight:600}.r-na,.r-{color:#555}
`

func exportName(v Version, ext string) string {
	n := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, fmt.Sprintf("itu-audit-%s-%d", v.Package, v.VersionCode))
	return n + ext
}

func (m *Module) auditHTML(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	b, err := m.exportHTML(r, o, v, acc)
	if err != nil {
		m.fail(w, r, "export", err)
		return
	}
	if err := m.store.RecordExport(r.Context(), v, o, "html"); err != nil {
		m.fail(w, r, "audit export", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+exportName(v, ".html")+`"`)
	// The document carries its own stylesheet; no script runs in it.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
	h.Set("Cache-Control", "no-store")
	w.Write(b)
}

func (m *Module) auditPDF(w http.ResponseWriter, r *http.Request) {
	o, v, acc, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	if m.cfg.PDF == nil {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	b, err := m.exportHTML(r, o, v, acc)
	if err != nil {
		m.fail(w, r, "export", err)
		return
	}
	pdf, err := m.cfg.PDF(r.Context(), b)
	if err != nil {
		m.fail(w, r, "pdf", err)
		return
	}
	if err := m.store.RecordExport(r.Context(), v, o, "pdf"); err != nil {
		m.fail(w, r, "audit export", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `attachment; filename="`+exportName(v, ".pdf")+`"`)
	h.Set("Cache-Control", "no-store")
	w.Write(pdf)
}
