package applab

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/dfslab/dfslab/internal/web"
)

// The API for CI pipelines, with a personal token of the write scope:
//
//	curl -fsS -H "Authorization: Bearer $DFSLAB_TOKEN" -F file=@app-release.apk \
//	     https://dfslab.example.org/api/v1/scans
//
// answers 202 with {"id": …, "url": …, "status_url": …}; then
//
//	curl -fsS -H "Authorization: Bearer $DFSLAB_TOKEN" https://dfslab.example.org/api/v1/scans/ID
//
// gives the state ("queued", "running", "done", "failed") and, once done,
// "report": the document of `dfslab scan --format json`. A user who
// belongs to several organisations names one with ?org=ID; a
// regulator uploading a provider's app in lab mode adds the form field
// "provider" (or ?provider=ID).

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// apiOrg picks the organisation an API upload acts for: the one named in
// ?org= (or the form field org, read before the file), else the only
// membership where the user is at least an analyst.
func apiOrg(r *http.Request, named int64) (int64, string) {
	p := web.CurrentPrincipal(r.Context())
	var eligible []int64
	for _, m := range p.Memberships {
		if m.Role.AtLeast(web.RoleAnalyst) {
			eligible = append(eligible, m.OrgID)
		}
	}
	if named != 0 {
		if !slices.Contains(eligible, named) {
			return 0, "you cannot upload apps for this organisation (analyst role or higher needed)"
		}
		return named, ""
	}
	switch len(eligible) {
	case 0:
		return 0, "you cannot upload apps for any organisation (analyst role or higher needed)"
	case 1:
		return eligible[0], ""
	}
	return 0, "you belong to several organisations: name one with ?org=ID"
}

func (m *Module) apiUpload(w http.ResponseWriter, r *http.Request) {
	named, _ := strconv.ParseInt(r.URL.Query().Get("org"), 10, 64)
	orgID, problem := apiOrg(r, named)
	if problem != "" {
		apiError(w, http.StatusForbidden, problem)
		return
	}
	o, err := m.store.Org(r.Context(), orgID)
	if err != nil {
		apiError(w, http.StatusForbidden, "unknown organisation")
		return
	}
	up, name, provider, err := m.receive(r)
	if err == nil {
		if q := r.URL.Query().Get("provider"); q != "" && provider == 0 {
			provider, _ = strconv.ParseInt(q, 10, 64)
		}
		var sc Scan
		sc, err = m.accept(r.Context(), o, provider, userID(r), up, name)
		if err == nil {
			st := statusOf(sc, o.ID, m.store.now())
			writeJSON(w, http.StatusAccepted, map[string]any{"id": sc.ID, "url": st.URL, "status_url": fmt.Sprintf("/api/v1/scans/%d", sc.ID),
				"state": sc.State, "sha256": sc.SHA256})
			return
		}
	}
	var ue *UploadError
	var ie *InvalidError
	switch {
	case errors.As(err, &ue):
		apiError(w, ue.Status(), ue.Error()+"; nothing was stored")
	case errors.As(err, &ie):
		apiError(w, http.StatusBadRequest, ie.Problem+"; nothing was stored")
	default:
		web.ServerError(w, r, "api upload", err)
	}
}

func (m *Module) apiScan(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		apiError(w, http.StatusNotFound, "no such scan")
		return
	}
	sc, err := m.store.ScanByID(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		apiError(w, http.StatusNotFound, "no such scan")
		return
	}
	if err != nil {
		web.ServerError(w, r, "api scan", err)
		return
	}
	// A scan is in the records of the organisation that uploaded it (the
	// owner, or a regulator in lab mode), and only there.
	viewer := sc.UploaderOrg
	if _, member := web.CurrentPrincipal(r.Context()).Role(viewer); !member {
		apiError(w, http.StatusNotFound, "no such scan")
		return
	}
	st := statusOf(sc, viewer, m.store.now())
	if sc.State == Done {
		res, err := m.store.Result(r.Context(), sc.ID)
		if err != nil {
			web.ServerError(w, r, "api scan result", err)
			return
		}
		st.Report = m.document(res)
	}
	writeJSON(w, http.StatusOK, st)
}
