package adoption

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/web"
)

// ---- baseline documents -------------------------------------------------------

// Markdown renders a published baseline as a Markdown document.
func Markdown(v Version, cat *catalog.Catalog) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# National DFS security baseline — %s %s\n\n", v.Country, v.Label())
	fmt.Fprintf(&b, "Published %s by %s (%s). Catalogue version %s.\n\n", v.PublishedAt.Format("2 January 2006"), v.PublishedOrg, v.PublishedBy, v.CatalogVer)
	if v.Notes != "" {
		fmt.Fprintf(&b, "%s\n\n", v.Notes)
	}
	counts := map[Decision]int{}
	for _, it := range v.Items {
		counts[it.Decision]++
	}
	b.WriteString("| Decision | Recommendations |\n|---|---:|\n")
	for _, d := range Decisions() {
		fmt.Fprintf(&b, "| %s | %d |\n", d.Label(), counts[d])
	}
	b.WriteString("\n")
	for _, a := range v.Approvals {
		fmt.Fprintf(&b, "Approved by %s (%s), %s.\n\n", mdEscape(a.OrgName), mdEscape(a.By), a.At.Format("2 January 2006"))
	}
	if v.Legacy() {
		b.WriteString("*This version was published before versions kept the text of their items: the statements below are the catalogue's current text.*\n\n")
	}
	layer := "-"
	for _, row := range versionRows(v, cat) {
		if row.Layer != layer {
			layer = row.Layer
			fmt.Fprintf(&b, "## %s\n\n", layerName(cat, layer))
		}
		it := row.Item
		fmt.Fprintf(&b, "### %s %s — %s\n\n", row.RecID, mdEscape(row.Title), it.Decision.Label())
		switch it.Decision {
		case Adapted:
			fmt.Fprintf(&b, "**Local text:** %s\n\n*Catalogue statement:* %s\n\n", mdEscape(it.LocalText), mdEscape(row.Statement))
			fmt.Fprintf(&b, "**Applies to:** %s\n\n", it.AppliesTo.Label())
		case Adopted:
			fmt.Fprintf(&b, "%s\n\n", mdEscape(row.Statement))
			fmt.Fprintf(&b, "**Applies to:** %s\n\n", it.AppliesTo.Label())
		default:
			fmt.Fprintf(&b, "*Catalogue statement:* %s\n\n**Reason:** %s\n\n", mdEscape(row.Statement), mdEscape(it.Reason))
		}
		if it.Decision.Applies() && it.Authority != "" {
			fmt.Fprintf(&b, "**Issued and enforced by:** %s\n\n", it.Authority.Label())
		}
		if it.Decision.Applies() && len(it.Params) > 0 {
			b.WriteString("**Parameters:**\n\n")
			for _, p := range it.Params {
				fmt.Fprintf(&b, "- %s\n", mdEscape(p.Describe()))
			}
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

// layerName names a layer; an item the catalogue withdrew has none.
func layerName(cat *catalog.Catalog, layer string) string {
	if layer == "" {
		return "Withdrawn from the catalogue"
	}
	return catalog.TermName(cat.Layers, layer)
}

// mdEscape keeps user text from turning into Markdown structure (a
// heading, a table row, a link) in the exported document.
func mdEscape(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "*", "\\*", "_", "\\_", "`", "\\`", "[", "\\[", "]", "\\]", "<", "&lt;", ">", "&gt;", "|", "\\|", "#", "\\#")
	return r.Replace(strings.Join(strings.Fields(s), " "))
}

var docTemplate = template.Must(template.New("doc").Funcs(template.FuncMap{
	"date": func(t time.Time) string { return t.Format("2 January 2006") },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>National DFS security baseline — {{.V.Country}} {{.V.Label}}</title>
<style>
body { font: 11pt/1.45 Georgia, "Times New Roman", serif; margin: 2cm; color: #111; }
h1 { font-size: 20pt; margin-bottom: 0.2em; }
h2 { font-size: 14pt; border-bottom: 1px solid #999; margin-top: 1.6em; page-break-after: avoid; }
article { page-break-inside: avoid; margin: 0 0 1em; }
h3 { font-size: 11.5pt; margin: 0.8em 0 0.2em; }
.meta { color: #444; }
.decision { font: bold 9pt sans-serif; text-transform: uppercase; letter-spacing: 0.04em; }
.adopted { color: #0a5d1e; } .adapted { color: #0b4a8b; } .not_adopted, .not_applicable { color: #8b1a1a; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #999; padding: 0.2em 0.6em; text-align: left; }
.quote { border-left: 3px solid #ccc; padding-left: 0.8em; color: #333; }
@page { size: A4; margin: 1.5cm; }
@media print { body { margin: 0; } }
</style>
</head>
<body>
<h1>National DFS security baseline — {{.V.Country}} {{.V.Label}}</h1>
<p class="meta">Published {{date .V.PublishedAt}} by {{.V.PublishedOrg}} ({{.V.PublishedBy}}). Catalogue version {{.V.CatalogVer}}.</p>
{{with .V.Notes}}<p>{{.}}</p>{{end}}
{{if .V.Legacy}}<p class="meta">This version was published before versions kept the text of their items: the statements are the catalogue's current text.</p>{{end}}
{{range .V.Approvals}}<p class="meta">Approved by {{.OrgName}} ({{.By}}), {{date .At}}.</p>{{end}}
<table><thead><tr><th>Decision</th><th>Recommendations</th></tr></thead><tbody>
{{range .Counts}}<tr><td>{{.Label}}</td><td>{{.N}}</td></tr>{{end}}
</tbody></table>
{{range .Layers}}<h2>{{.Name}}</h2>
{{range .Rows}}<article id="{{.RecID}}">
<h3>{{.RecID}} {{.Title}} <span class="decision {{.Item.Decision}}">{{.Item.Decision.Label}}</span></h3>
{{if eq .Item.Decision "adapted"}}<p><strong>Local text:</strong> {{.Item.LocalText}}</p><p class="quote">Catalogue statement: {{.Statement}}</p>
<p class="applies"><strong>Applies to:</strong> {{.Item.AppliesTo.Label}}</p>
{{else if eq .Item.Decision "adopted"}}<p>{{.Statement}}</p>
<p class="applies"><strong>Applies to:</strong> {{.Item.AppliesTo.Label}}</p>
{{else}}<p class="quote">Catalogue statement: {{.Statement}}</p><p><strong>Reason:</strong> {{.Item.Reason}}</p>{{end}}
{{if and .Item.Decision.Applies .Item.Authority}}<p class="applies"><strong>Issued and enforced by:</strong> {{.Item.Authority.Label}}</p>{{end}}{{if and .Item.Decision.Applies .Item.Params}}
<ul class="params">{{range .Item.Params}}<li>{{.Describe}}</li>{{end}}</ul>{{end}}
</article>
{{end}}{{end}}
</body>
</html>
`))

type docLayer struct {
	Name string
	Rows []versionRow
}

// HTMLDocument renders a published baseline as one self-contained,
// printable HTML document (no external resources).
func HTMLDocument(v Version, cat *catalog.Catalog) ([]byte, error) {
	type count struct {
		Label string
		N     int
	}
	counts := map[Decision]int{}
	var layers []docLayer
	for _, it := range v.Items {
		counts[it.Decision]++
	}
	for _, row := range versionRows(v, cat) {
		name := layerName(cat, row.Layer)
		if len(layers) == 0 || layers[len(layers)-1].Name != name {
			layers = append(layers, docLayer{Name: name})
		}
		l := &layers[len(layers)-1]
		l.Rows = append(l.Rows, row)
	}
	var cs []count
	for _, d := range Decisions() {
		cs = append(cs, count{d.Label(), counts[d]})
	}
	var b bytes.Buffer
	err := docTemplate.Execute(&b, struct {
		V      Version
		Counts []count
		Layers []docLayer
	}{v, cs, layers})
	return b.Bytes(), err
}

func (m *Module) exportMarkdown(w http.ResponseWriter, r *http.Request) {
	o, v, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	m.auditExport(r, o, v, "markdown")
	download(w, "text/markdown; charset=utf-8", docName(v, "md"), Markdown(v, m.store.cat))
}

func (m *Module) exportHTML(w http.ResponseWriter, r *http.Request) {
	o, v, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	b, err := HTMLDocument(v, m.store.cat)
	if err != nil {
		web.ServerError(w, r, "baseline html", err)
		return
	}
	m.auditExport(r, o, v, "html")
	// The document carries its own inline style, which the site's CSP
	// forbids; it is a download with a policy of its own.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	download(w, "text/html; charset=utf-8", docName(v, "html"), b)
}

func (m *Module) exportPDF(w http.ResponseWriter, r *http.Request) {
	o, v, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	if m.pdf == nil {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	h, err := HTMLDocument(v, m.store.cat)
	if err != nil {
		web.ServerError(w, r, "baseline html", err)
		return
	}
	b, err := m.pdf(r.Context(), h)
	if err != nil {
		web.ServerError(w, r, "baseline pdf", err)
		return
	}
	m.auditExport(r, o, v, "pdf")
	download(w, "application/pdf", docName(v, "pdf"), b)
}

func docName(v Version, ext string) string {
	return "baseline-" + v.Country + "-" + v.Label() + "." + ext
}

func (m *Module) auditExport(r *http.Request, o Org, v Version, format string) {
	web.Audit(r, web.AuditEvent{Action: "baseline.export", ObjectType: "baseline_version", ObjectID: o.Country + "/" + v.Label(),
		Details: map[string]any{"format": format, "org": o.ID}})
}

// ---- sector exports -------------------------------------------------------------

// SectorCSV is the sector view as CSV: one row per provider and threat
// category and per provider and layer, from each provider's latest
// submission.
func SectorCSV(sv SectorView) ([]byte, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write([]string{"provider", "submission_id", "submitted_at", "baseline", "dimension", "key", "name", "implemented", "applicable", "share_percent", "overdue_total"})
	for _, row := range sv.Rows {
		s := row.Latest
		base := []string{csvSafe(s.OrgName), strconv.FormatInt(s.ID, 10), s.SubmittedAt.Format(time.RFC3339), s.Baseline}
		emit := func(dim string, terms []catalog.Term, cells []Cell) {
			for i, c := range cells {
				rec := append(append([]string{}, base...), dim, terms[i].Key, csvSafe(terms[i].Name),
					strconv.Itoa(c.Implemented), strconv.Itoa(c.Applicable), strconv.Itoa(c.Share()), strconv.Itoa(s.Overdue))
				cw.Write(rec)
			}
		}
		emit("threat", sv.Threats, row.ByThreat)
		emit("layer", sv.Layers, row.ByLayer)
	}
	cw.Flush()
	return b.Bytes(), cw.Error()
}

// csvSafe defuses cells a spreadsheet would run as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type jsonCell struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Implemented int    `json:"implemented"`
	Applicable  int    `json:"applicable"`
	Share       int    `json:"share_percent"`
}

type jsonProvider struct {
	Provider     string     `json:"provider"`
	SubmissionID int64      `json:"submission_id"`
	SubmittedAt  time.Time  `json:"submitted_at"`
	Baseline     string     `json:"baseline"`
	SignedBy     string     `json:"signed_by"`
	Applicable   int        `json:"applicable"`
	Implemented  int        `json:"implemented"`
	Overdue      int        `json:"overdue"`
	Threats      []jsonCell `json:"threats"`
	Layers       []jsonCell `json:"layers"`
	Submissions  []jsonSub  `json:"submissions"`
}

type jsonSub struct {
	ID          int64     `json:"id"`
	SubmittedAt time.Time `json:"submitted_at"`
	Share       int       `json:"share_percent"`
	Overdue     int       `json:"overdue"`
}

// SectorJSON is the sector view as JSON.
func SectorJSON(sv SectorView) ([]byte, error) {
	cells := func(terms []catalog.Term, cs []Cell) []jsonCell {
		out := make([]jsonCell, len(cs))
		for i, c := range cs {
			out[i] = jsonCell{terms[i].Key, terms[i].Name, c.Implemented, c.Applicable, c.Share()}
		}
		return out
	}
	out := struct {
		Country   string         `json:"country"`
		Overdue   int            `json:"overdue"`
		Providers []jsonProvider `json:"providers"`
	}{Country: sv.Country, Overdue: sv.Overdue, Providers: []jsonProvider{}}
	for _, row := range sv.Rows {
		s := row.Latest
		p := jsonProvider{Provider: s.OrgName, SubmissionID: s.ID, SubmittedAt: s.SubmittedAt, Baseline: s.Baseline, SignedBy: s.SignedBy,
			Applicable: s.Applicable, Implemented: s.Implemented, Overdue: s.Overdue,
			Threats: cells(sv.Threats, row.ByThreat), Layers: cells(sv.Layers, row.ByLayer)}
		for _, h := range row.History {
			p.Submissions = append(p.Submissions, jsonSub{h.ID, h.SubmittedAt, h.Share(), h.Overdue})
		}
		out.Providers = append(out.Providers, p)
	}
	return json.MarshalIndent(out, "", "  ")
}
