package adoption

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/oscal"
)

// A national baseline is, in OSCAL's terms, a profile of the catalogue:
// it selects the controls the country adopted and sets their parameters.
// The profile imports the catalogue export (/catalogue/export/oscal),
// whose control and parameter IDs it uses ("pay-002", "pay-002_prm_hold").

type oscalProfileDoc struct {
	Profile oscalProfile `json:"profile"`
}

type oscalProfile struct {
	UUID     string             `json:"uuid"`
	Metadata oscal.Metadata     `json:"metadata"`
	Imports  []oscalImport      `json:"imports"`
	Merge    oscalMerge         `json:"merge"`
	Modify   *oscalProfileModif `json:"modify,omitempty"`
}

type oscalImport struct {
	Href            string         `json:"href"`
	IncludeControls []oscalWithIDs `json:"include-controls"`
}

type oscalWithIDs struct {
	WithIDs []string `json:"with-ids"`
}

type oscalMerge struct {
	AsIs bool `json:"as-is"`
}

type oscalProfileModif struct {
	SetParameters []oscalSetParameter `json:"set-parameters,omitempty"`
	Alters        []oscalAlter        `json:"alters,omitempty"`
}

type oscalSetParameter struct {
	ParamID string       `json:"param-id"`
	Props   []oscal.Prop `json:"props,omitempty"`
	Values  []string     `json:"values"`
}

type oscalAlter struct {
	ControlID string     `json:"control-id"`
	Adds      []oscalAdd `json:"adds"`
}

type oscalAdd struct {
	Position string       `json:"position"`
	ByID     string       `json:"by-id"`
	Parts    []oscalPartP `json:"parts"`
}

type oscalPartP struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Prose string `json:"prose"`
}

// OSCALProfile renders version v as an OSCAL 1.1.3 profile of the
// catalogue: the adopted and adapted items as the selected controls, the
// version's parameter values as set-parameters, and each adapted item's
// local text as a part added to its statement. The output is
// deterministic (UUIDs derive from the version).
func OSCALProfile(v Version) ([]byte, error) {
	key := fmt.Sprintf("baseline:%s:%d:%d", v.Country, v.Number, v.PublishedAt.UnixMicro())
	p := oscalProfile{
		UUID: oscal.UUID(oscalUUIDNS, key),
		Metadata: oscal.Metadata{
			Title:        fmt.Sprintf("National DFS security baseline %s %s", v.Country, v.Label()),
			LastModified: v.PublishedAt.UTC().Format("2006-01-02T15:04:05Z07:00"),
			Version:      v.Label(),
			OSCALVersion: oscal.Version,
			Props: []oscal.Prop{{Name: "jurisdiction", NS: oscalNS, Value: v.Country},
				{Name: "catalog-version", NS: oscalNS, Value: nonEmpty(v.CatalogVer)}},
		},
		Merge: oscalMerge{AsIs: true},
	}
	var ids []string
	mod := &oscalProfileModif{}
	for _, it := range v.Items {
		if !it.Decision.Applies() {
			continue
		}
		cid := strings.ToLower(it.RecID)
		ids = append(ids, cid)
		for _, prm := range it.Params {
			mod.SetParameters = append(mod.SetParameters, oscalSetParameter{ParamID: cid + "_prm_" + prm.Name,
				Props:  []oscal.Prop{{Name: "unit", NS: oscalNS, Value: string(prm.Unit)}, {Name: "catalog-default", NS: oscalNS, Value: strconv.Itoa(prm.Default)}},
				Values: []string{strconv.Itoa(prm.Value)}})
		}
		if it.Decision == Adapted && it.LocalText != "" {
			mod.Alters = append(mod.Alters, oscalAlter{ControlID: cid, Adds: []oscalAdd{{Position: "after", ByID: cid + "_smt",
				Parts: []oscalPartP{{ID: cid + "_local", Name: "statement", Prose: it.LocalText}}}}})
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: %s %s adopts no item", ErrNotFound, v.Country, v.Label())
	}
	p.Imports = []oscalImport{{Href: "/catalogue/export/oscal", IncludeControls: []oscalWithIDs{{WithIDs: ids}}}}
	if len(mod.SetParameters) > 0 || len(mod.Alters) > 0 {
		p.Modify = mod
	}
	return json.MarshalIndent(oscalProfileDoc{Profile: p}, "", "  ")
}

// VersionCSV is version v as CSV: one row per item, with the text it was
// published with and its parameter values, for a spreadsheet of the
// examiners.
func VersionCSV(v Version, cat *catalog.Catalog) ([]byte, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write([]string{"id", "title", "decision", "applies_to", "phase", "deadline", "authority", "text", "reason", "parameters"})
	for _, row := range versionRows(v, cat) {
		it := row.Item
		text := row.Statement
		if it.Decision == Adapted {
			text = it.LocalText
		}
		var params []string
		if it.Decision.Applies() {
			for _, p := range it.Params {
				params = append(params, p.Describe())
			}
		}
		authority := ""
		if it.Decision.Applies() && it.Authority != "" {
			authority = it.Authority.Label()
		}
		phase := ""
		if it.Phase != 0 {
			phase = strconv.Itoa(it.Phase)
		}
		cw.Write([]string{row.RecID, csvSafe(row.Title), it.Decision.Label(), it.AppliesTo.Label(), phase, it.Deadline, authority,
			csvSafe(text), csvSafe(it.Reason), csvSafe(strings.Join(params, "; "))})
	}
	cw.Flush()
	return b.Bytes(), cw.Error()
}

func (m *Module) exportCSV(w http.ResponseWriter, r *http.Request) {
	o, v, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	b, err := VersionCSV(v, m.store.cat)
	if err != nil {
		m.fail(w, r, "baseline csv", err)
		return
	}
	m.auditExport(r, o, v, "csv")
	download(w, "text/csv; charset=utf-8", docName(v, "csv"), b)
}

func (m *Module) exportOSCAL(w http.ResponseWriter, r *http.Request) {
	o, v, ok := m.loadVersion(w, r)
	if !ok {
		return
	}
	b, err := OSCALProfile(v)
	if err != nil {
		m.fail(w, r, "baseline oscal", err)
		return
	}
	m.auditExport(r, o, v, "oscal-profile")
	download(w, "application/json", docName(v, "oscal.json"), b)
}
