package applab

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dfslab/dfslab/internal/appscan/report"
	"github.com/dfslab/dfslab/internal/web"
)

type scanData struct {
	Org         Org
	Scan        Scan
	Owner       Org
	Running     bool
	Interrupted bool
}

// Size is the file's size for people (MB, KB).
func (d scanData) Size() string { return report.HumanSize(d.Scan.Size) }

func (m *Module) loadScan(w http.ResponseWriter, r *http.Request) (Org, Scan, bool) {
	o, ok := m.org(w, r)
	if !ok {
		return Org{}, Scan{}, false
	}
	id, ok := pathID(r)
	if !ok {
		web.Error(w, r, http.StatusNotFound)
		return Org{}, Scan{}, false
	}
	sc, err := m.store.ScanFor(r.Context(), o.ID, id)
	if err != nil {
		m.fail(w, r, "scan", err)
		return Org{}, Scan{}, false
	}
	return o, sc, true
}

func (m *Module) scan(w http.ResponseWriter, r *http.Request) {
	o, sc, ok := m.loadScan(w, r)
	if !ok {
		return
	}
	owner, err := m.store.Org(r.Context(), sc.OrgID)
	if err != nil {
		m.fail(w, r, "owner", err)
		return
	}
	st := statusOf(sc, o.ID, m.store.now())
	sc.Message = st.Message
	m.render(w, r, http.StatusOK, "scan.html", "Scan "+strconv.FormatInt(sc.ID, 10),
		scanData{Org: o, Scan: sc, Owner: owner, Running: sc.State == Queued || sc.State == Running, Interrupted: st.Interrupted}, "")
}

// ScanStatus is the JSON of a scan's state, for the page's poll and the API.
type ScanStatus struct {
	ID      int64  `json:"id"`
	URL     string `json:"url"`
	State   State  `json:"state"`
	Percent int    `json:"percent"`
	Message string `json:"message,omitempty"`
	// Interrupted marks a running scan whose process stopped: it will be
	// queued again (state stays "running" until then, for clients that
	// know only the four states).
	Interrupted bool    `json:"interrupted,omitempty"`
	Reason      string  `json:"reason,omitempty"`
	SHA256      string  `json:"sha256"`
	Size        int64   `json:"size"`
	VersionURL  string  `json:"version_url,omitempty"`
	Counts      *Counts `json:"counts,omitempty"`
	// Report is the scan in the JSON schema of `dfslab scan --format json`
	// (API only, once done).
	Report *report.Document `json:"report,omitempty"`
}

// statusOf is sc's status for the viewing organisation, at now.
func statusOf(sc Scan, viewer int64, now time.Time) ScanStatus {
	st := ScanStatus{ID: sc.ID, URL: fmt.Sprintf("/orgs/%d/apps/scans/%d", viewer, sc.ID), State: sc.State, Percent: sc.Percent,
		Message: sc.Message, Reason: sc.Reason, SHA256: sc.SHA256, Size: sc.Size}
	if sc.Interrupted(now) {
		st.Interrupted, st.Message = true, interruptedMessage
	}
	if sc.State == Done {
		st.Percent = 100
		c := sc.Counts
		st.Counts = &c
		if sc.VersionID != 0 {
			st.VersionURL = fmt.Sprintf("/orgs/%d/apps/versions/%d", viewer, sc.VersionID)
		}
	}
	return st
}

func (m *Module) scanStatus(w http.ResponseWriter, r *http.Request) {
	o, sc, ok := m.loadScan(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, statusOf(sc, o.ID, m.store.now()))
}
