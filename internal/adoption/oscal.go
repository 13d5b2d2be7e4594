package adoption

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/catalog"
)

// OSCAL assessment results of one submission: one finding per baseline
// item (target: the recommendation's assessment objective in the
// catalogue's OSCAL export), one observation per item that references
// evidence by file name and SHA-256, and the sign-off as a result remark.
// The output is deterministic (UUIDs are derived from the submission),
// so exporting a snapshot twice gives the same document.

const oscalNS = "urn:dfslab:adoption"

type arDoc struct {
	AR arBody `json:"assessment-results"`
}

type arBody struct {
	UUID     string     `json:"uuid"`
	Metadata arMeta     `json:"metadata"`
	ImportAP arImportAP `json:"import-ap"`
	Results  []arResult `json:"results"`
}

type arMeta struct {
	Title        string   `json:"title"`
	LastModified string   `json:"last-modified"`
	Version      string   `json:"version"`
	OSCALVersion string   `json:"oscal-version"`
	Props        []arProp `json:"props,omitempty"`
}

type arProp struct {
	Name  string `json:"name"`
	NS    string `json:"ns,omitempty"`
	Value string `json:"value"`
}

type arImportAP struct {
	Href    string `json:"href"`
	Remarks string `json:"remarks,omitempty"`
}

type arResult struct {
	UUID             string          `json:"uuid"`
	Title            string          `json:"title"`
	Description      string          `json:"description"`
	Start            string          `json:"start"`
	End              string          `json:"end"`
	Props            []arProp        `json:"props,omitempty"`
	ReviewedControls arReviewed      `json:"reviewed-controls"`
	Observations     []arObservation `json:"observations,omitempty"`
	Findings         []arFinding     `json:"findings,omitempty"`
	Remarks          string          `json:"remarks,omitempty"`
}

type arReviewed struct {
	ControlSelections []arSelection `json:"control-selections"`
}

type arSelection struct {
	IncludeControls []arControlID `json:"include-controls"`
}

type arControlID struct {
	ControlID string `json:"control-id"`
}

type arObservation struct {
	UUID             string       `json:"uuid"`
	Title            string       `json:"title"`
	Description      string       `json:"description"`
	Methods          []string     `json:"methods"`
	Collected        string       `json:"collected"`
	RelevantEvidence []arEvidence `json:"relevant-evidence"`
}

type arEvidence struct {
	Description string   `json:"description"`
	Props       []arProp `json:"props"`
}

type arFinding struct {
	UUID                string         `json:"uuid"`
	Title               string         `json:"title"`
	Description         string         `json:"description"`
	Props               []arProp       `json:"props,omitempty"`
	Target              arTarget       `json:"target"`
	RelatedObservations []arRelatedObs `json:"related-observations,omitempty"`
	Remarks             string         `json:"remarks,omitempty"`
}

type arTarget struct {
	Type                 string            `json:"type"`
	TargetID             string            `json:"target-id"`
	Status               arStatus          `json:"status"`
	ImplementationStatus *arImplementation `json:"implementation-status,omitempty"`
}

type arStatus struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

type arImplementation struct {
	State string `json:"state"`
}

type arRelatedObs struct {
	ObservationUUID string `json:"observation-uuid"`
}

// oscalUUID derives a version-5-shaped UUID from name.
func oscalUUID(name string) string {
	h := sha256.Sum256([]byte("dfslab-adoption:" + name))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// implementationState maps a status to OSCAL's implementation states.
func implementationState(st Status) string {
	switch st {
	case Implemented, Verified:
		return "implemented"
	case InProgress:
		return "partial"
	case StatusNA:
		return "not-applicable"
	}
	return "planned"
}

// OSCALAssessmentResults renders a submission as an OSCAL 1.1.3
// assessment-results document.
func OSCALAssessmentResults(sub Submission, cat *catalog.Catalog) ([]byte, error) {
	at := sub.SubmittedAt.UTC().Format(time.RFC3339)
	key := fmt.Sprintf("submission:%d:%d", sub.ID, sub.SubmittedAt.UnixMicro())
	res := arResult{
		UUID:  oscalUUID(key + ":result"),
		Title: fmt.Sprintf("Implementation of the %s national baseline %s by %s", sub.Country, sub.Baseline, sub.OrgName),
		Description: fmt.Sprintf("Self-assessment submitted by %s to the regulators of %s: %d of %d applicable items implemented, %d overdue.",
			sub.OrgName, sub.Country, sub.Implemented, sub.Applicable, sub.Overdue),
		Start: at, End: at,
		Props: []arProp{
			{Name: "signed-off-by", NS: oscalNS, Value: nonEmpty(sub.SignedBy)},
			{Name: "baseline-version", NS: oscalNS, Value: sub.Baseline},
		},
		Remarks: "Sign-off statement: " + sub.Statement,
	}
	sel := arSelection{}
	for _, it := range sub.Items {
		cid := strings.ToLower(it.RecID)
		sel.IncludeControls = append(sel.IncludeControls, arControlID{ControlID: cid})
		title := it.RecID
		if it.Rec != nil {
			title = it.RecID + " " + it.Rec.Title
		}
		f := arFinding{
			UUID:        oscalUUID(key + ":finding:" + it.RecID),
			Title:       title,
			Description: "Status reported by the provider: " + it.Status.Label() + ".",
			Target: arTarget{Type: "objective-id", TargetID: cid + "_obj",
				Status:               arStatus{State: "not-satisfied"},
				ImplementationStatus: &arImplementation{State: implementationState(it.Status)}},
		}
		switch {
		case it.Status.Done():
			f.Target.Status = arStatus{State: "satisfied", Reason: "pass"}
		case it.Status == StatusNA:
			f.Target.Status = arStatus{State: "satisfied", Reason: "other"}
		default:
			f.Target.Status.Reason = "fail"
		}
		f.Props = append(f.Props, arProp{Name: "status", NS: oscalNS, Value: string(it.Status)})
		if it.TargetDate != "" {
			f.Props = append(f.Props, arProp{Name: "target-date", NS: oscalNS, Value: it.TargetDate})
		}
		if it.Overdue {
			f.Props = append(f.Props, arProp{Name: "overdue", NS: oscalNS, Value: "true"})
		}
		if it.Owner != "" {
			f.Props = append(f.Props, arProp{Name: "owner", NS: oscalNS, Value: it.Owner})
		}
		if it.Justification != "" {
			f.Remarks = it.Justification
		}
		if len(it.Evidence) > 0 {
			obs := arObservation{
				UUID: oscalUUID(key + ":observation:" + it.RecID), Title: "Evidence for " + it.RecID,
				Description: "Evidence files the provider holds for this item, identified by SHA-256.",
				Methods:     []string{"EXAMINE"}, Collected: at,
			}
			for _, e := range it.Evidence {
				obs.RelevantEvidence = append(obs.RelevantEvidence, arEvidence{Description: nonEmpty(e.Name), Props: []arProp{
					{Name: "sha256", NS: oscalNS, Value: e.SHA256},
					{Name: "media-type", NS: oscalNS, Value: e.MediaType},
					{Name: "size", NS: oscalNS, Value: fmt.Sprint(e.Size)},
				}})
			}
			res.Observations = append(res.Observations, obs)
			f.RelatedObservations = []arRelatedObs{{ObservationUUID: obs.UUID}}
		}
		res.Findings = append(res.Findings, f)
	}
	if len(sel.IncludeControls) == 0 {
		return nil, fmt.Errorf("adoption: submission %d has no items", sub.ID)
	}
	res.ReviewedControls = arReviewed{ControlSelections: []arSelection{sel}}
	doc := arDoc{AR: arBody{
		UUID: oscalUUID(key),
		Metadata: arMeta{
			Title:        res.Title,
			LastModified: at,
			Version:      fmt.Sprintf("submission-%d", sub.ID),
			OSCALVersion: "1.1.3",
			Props:        []arProp{{Name: "provider", NS: oscalNS, Value: nonEmpty(sub.OrgName)}, {Name: "jurisdiction", NS: oscalNS, Value: sub.Country}},
		},
		ImportAP: arImportAP{Href: "#baseline-" + strings.ToLower(sub.Country) + "-" + sub.Baseline,
			Remarks: "The assessment plan is the national baseline " + sub.Baseline + " of " + sub.Country + "; control IDs are those of the dfslab catalogue export."},
		Results: []arResult{res},
	}}
	return json.MarshalIndent(doc, "", "  ")
}

func nonEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "unnamed"
	}
	return s
}
