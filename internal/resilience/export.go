package resilience

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/oscal"
	"github.com/dfslab/dfslab/internal/web"
)

// The printable reports are standalone HTML documents (inline style and
// SVG, nothing external), so that the same bytes serve as the HTML export
// and as the input of the PDF printer.

//go:embed reports/*.html reports/*.css
var reportFS embed.FS

type reports struct {
	scorecard, sector *template.Template
	css               template.CSS
}

func parseReports() (*reports, error) {
	css, err := reportFS.ReadFile("reports/report.css")
	if err != nil {
		return nil, err
	}
	r := &reports{css: template.CSS(css)}
	if r.scorecard, err = template.ParseFS(reportFS, "reports/scorecard.html"); err != nil {
		return nil, err
	}
	if r.sector, err = template.ParseFS(reportFS, "reports/sector.html"); err != nil {
		return nil, err
	}
	return r, nil
}

type scorecardDoc struct {
	scorecardData
	OrgName   string
	CSS       template.CSS
	Generated time.Time
}

type sectorDoc struct {
	benchmarkData
	CSS       template.CSS
	Generated time.Time
}

func (rp *reports) scorecardHTML(d scorecardData, orgName string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	err := rp.scorecard.Execute(&b, scorecardDoc{scorecardData: d, OrgName: orgName, CSS: rp.css, Generated: now})
	return b.Bytes(), err
}

func (rp *reports) sectorHTML(d benchmarkData, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	err := rp.sector.Execute(&b, sectorDoc{benchmarkData: d, CSS: rp.css, Generated: now})
	return b.Bytes(), err
}

// oscalNS is the namespace of dfslab's own OSCAL properties.
const oscalNS = "urn:dfslab:resilience"

// OSCALAssessmentResults renders a signed-off assessment as an OSCAL 1.1.3
// assessment-results document: one finding per applicable question (its
// target: the objective of the question's first linked recommendation in
// the catalogue's OSCAL export; satisfied when the answer reaches the
// domain's target), one observation per answer with its level, comment
// and the domain score as properties.
func OSCALAssessmentResults(a Assessment, orgName string, m *Model, snap Snapshot) ([]byte, error) {
	if !a.IsSubmitted() {
		return nil, fmt.Errorf("%w: assessment %d is not signed off", ErrInvalid, a.ID)
	}
	at := snap.SignedAt.UTC().Format(time.RFC3339)
	key := fmt.Sprintf("assessment:%d:%d", a.ID, snap.SignedAt.UnixMicro())
	sc := Score(m, a.Variant, a.Profile.EntityType, a.Risk, plain(snap.Answers))
	res := oscal.Result{
		UUID:        oscal.UUID(oscalNS, key+":result"),
		Title:       fmt.Sprintf("Cyber resilience self-assessment of %s: %s", orgName, a.Title),
		Description: fmt.Sprintf("%s %s, %s, inherent risk %s: overall maturity %.2f (%s).", m.Title, m.Version, a.Profile.EntityType.Label(), a.Risk.Label(), sc.Overall, sc.Level),
		Start:       a.Created.UTC().Format(time.RFC3339), End: at,
		Props: []oscal.Prop{
			{Name: "overall-score", NS: oscalNS, Value: fmt.Sprintf("%.2f", sc.Overall)},
			{Name: "maturity-level", NS: oscalNS, Value: sc.Level},
			{Name: "risk-level", NS: oscalNS, Value: string(a.Risk)},
			{Name: "entity-type", NS: oscalNS, Value: string(a.Profile.EntityType)},
		},
	}
	for _, d := range sc.Domains {
		if d.Scored {
			res.Props = append(res.Props, oscal.Prop{Name: "domain-score-" + strings.ToLower(d.ID), NS: oscalNS, Value: fmt.Sprintf("%.2f", d.Score)})
		}
	}
	seen := map[string]bool{}
	var sel oscal.ControlSelection
	for _, d := range m.DomainsOf(a.Variant) {
		target := m.Target(d, a.Risk)
		for _, q := range d.Questions {
			if !q.Applies(a.Profile.EntityType) {
				continue
			}
			for _, r := range q.Recommendations {
				if !seen[r] {
					seen[r] = true
					sel.IncludeControls = append(sel.IncludeControls, oscal.ControlID{ControlID: strings.ToLower(r)})
				}
			}
			ans := snap.Answers[q.ID]
			obs := oscal.Observation{UUID: oscal.UUID(oscalNS, key+":observation:"+q.ID), Title: q.ID + " " + q.Text,
				Description: "Answer given in the self-assessment.", Methods: []string{"EXAMINE", "INTERVIEW"}, Collected: at, Remarks: ans.Comment}
			f := oscal.Finding{UUID: oscal.UUID(oscalNS, key+":finding:"+q.ID), Title: q.ID + " " + q.Text,
				Target:              oscal.Target{Type: "objective-id", TargetID: strings.ToLower(q.Recommendations[0]) + "_obj"},
				RelatedObservations: []oscal.RelatedObservation{{ObservationUUID: obs.UUID}}}
			switch {
			case ans.NA:
				obs.Props = []oscal.Prop{{Name: "answer", NS: oscalNS, Value: "not-applicable"}}
				f.Description = "Not applicable: " + ans.NAReason
				f.Target.Status = oscal.Status{State: "satisfied", Reason: "other"}
				f.Target.ImplementationStatus = &oscal.ImplementationStatus{State: "not-applicable"}
			case ans.Level != nil:
				obs.Props = []oscal.Prop{{Name: "answer", NS: oscalNS, Value: fmt.Sprint(*ans.Level)}}
				f.Description = fmt.Sprintf("Level %d: %s", *ans.Level, q.Levels[*ans.Level])
				f.Props = []oscal.Prop{{Name: "domain-target", NS: oscalNS, Value: fmt.Sprintf("%.1f", target)}}
				if float64(*ans.Level) >= target {
					f.Target.Status = oscal.Status{State: "satisfied", Reason: "pass"}
				} else {
					f.Target.Status = oscal.Status{State: "not-satisfied", Reason: "fail"}
				}
			default:
				// Not reachable for a signed-off assessment; kept honest.
				f.Description = "Not answered."
				f.Target.Status = oscal.Status{State: "not-satisfied", Reason: "other"}
			}
			res.Observations = append(res.Observations, obs)
			res.Findings = append(res.Findings, f)
		}
	}
	res.ReviewedControls = oscal.ReviewedControls{ControlSelections: []oscal.ControlSelection{sel}}
	doc := oscal.Document{AR: oscal.AssessmentResults{
		UUID: oscal.UUID(oscalNS, key),
		Metadata: oscal.Metadata{Title: res.Title, LastModified: at, Version: fmt.Sprintf("assessment-%d", a.ID), OSCALVersion: oscal.Version,
			Props: []oscal.Prop{{Name: "organisation", NS: oscalNS, Value: orgName}, {Name: "model", NS: oscalNS, Value: m.Key()}}},
		ImportAP: oscal.ImportAP{Href: "#" + m.ID + "-" + m.Version,
			Remarks: "The assessment plan is the resilience model " + m.Key() + "; control IDs are those of the dfslab catalogue export."},
		Results: []oscal.Result{res},
	}}
	return json.MarshalIndent(doc, "", "  ")
}

// ---- handlers ---------------------------------------------------------------------

func (m *Module) scorecardDocument(w http.ResponseWriter, r *http.Request) ([]byte, Assessment, bool) {
	o, a, _, ok := m.loadAssessment(w, r)
	if !ok {
		return nil, Assessment{}, false
	}
	_, mod, sc, err := m.store.Scorecard(r.Context(), o.ID, a.ID)
	if err != nil {
		m.fail(w, r, "scorecard", err)
		return nil, Assessment{}, false
	}
	doc, err := m.reports.scorecardHTML(m.scorecardData(r.Context(), o, a, mod, sc), o.Name, m.store.nowUTC())
	if err != nil {
		web.ServerError(w, r, "scorecard document", err)
		return nil, Assessment{}, false
	}
	return doc, a, true
}

func download(w http.ResponseWriter, ctype, name string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	h.Set("Cache-Control", "private, no-store")
	_, _ = w.Write(b) // the status is sent; a failed write means the client left
}

func (m *Module) scorecardHTML(w http.ResponseWriter, r *http.Request) {
	doc, a, ok := m.scorecardDocument(w, r)
	if !ok {
		return
	}
	m.auditExport(r, "resilience_assessment", a.ID, "html")
	download(w, "text/html; charset=utf-8", fmt.Sprintf("resilience-scorecard-%d.html", a.ID), doc)
}

func (m *Module) scorecardPDF(w http.ResponseWriter, r *http.Request) {
	if m.pdf == nil {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	doc, a, ok := m.scorecardDocument(w, r)
	if !ok {
		return
	}
	b, err := m.pdf(r.Context(), doc)
	if err != nil {
		web.ServerError(w, r, "scorecard pdf", err)
		return
	}
	m.auditExport(r, "resilience_assessment", a.ID, "pdf")
	download(w, "application/pdf", fmt.Sprintf("resilience-scorecard-%d.pdf", a.ID), b)
}

func (m *Module) oscalJSON(w http.ResponseWriter, r *http.Request) {
	o, a, mod, ok := m.loadAssessment(w, r)
	if !ok {
		return
	}
	if !a.IsSubmitted() {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	snap, err := m.store.Snapshot(r.Context(), o.ID, a.ID)
	if err != nil {
		m.fail(w, r, "snapshot", err)
		return
	}
	b, err := OSCALAssessmentResults(a, o.Name, mod, snap)
	if err != nil {
		web.ServerError(w, r, "oscal", err)
		return
	}
	m.auditExport(r, "resilience_assessment", a.ID, "oscal")
	download(w, "application/json", fmt.Sprintf("resilience-assessment-%d.oscal.json", a.ID), b)
}

func (m *Module) sectorDocument(w http.ResponseWriter, r *http.Request) ([]byte, Benchmark, bool) {
	o, b, ok := m.loadBenchmark(w, r)
	if !ok {
		return nil, Benchmark{}, false
	}
	doc, err := m.reports.sectorHTML(benchmarkView(o, b), m.store.nowUTC())
	if err != nil {
		web.ServerError(w, r, "sector document", err)
		return nil, Benchmark{}, false
	}
	return doc, b, true
}

func (m *Module) sectorHTML(w http.ResponseWriter, r *http.Request) {
	doc, b, ok := m.sectorDocument(w, r)
	if !ok {
		return
	}
	m.auditExport(r, "resilience_campaign", b.Campaign.ID, "html")
	download(w, "text/html; charset=utf-8", fmt.Sprintf("resilience-sector-%d.html", b.Campaign.ID), doc)
}

func (m *Module) sectorPDF(w http.ResponseWriter, r *http.Request) {
	if m.pdf == nil {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	doc, b, ok := m.sectorDocument(w, r)
	if !ok {
		return
	}
	out, err := m.pdf(r.Context(), doc)
	if err != nil {
		web.ServerError(w, r, "sector pdf", err)
		return
	}
	m.auditExport(r, "resilience_campaign", b.Campaign.ID, "pdf")
	download(w, "application/pdf", fmt.Sprintf("resilience-sector-%d.pdf", b.Campaign.ID), out)
}

// auditExport records that an assessment's or a campaign's results left
// the platform: they are an organisation's or a sector's confidential
// posture.
func (m *Module) auditExport(r *http.Request, objType string, id int64, format string) {
	web.Audit(r, web.AuditEvent{Action: "resilience.export", ObjectType: objType, ObjectID: fmt.Sprint(id),
		Details: map[string]any{"format": format}})
}
