package adoption

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/oscal"
)

// OSCAL assessment results of one submission: one finding per baseline
// item (target: the recommendation's assessment objective in the
// catalogue's OSCAL export), one observation per item that references
// evidence by file name and SHA-256, and the sign-off as a result remark.
// The output is deterministic (UUIDs are derived from the submission),
// so exporting a snapshot twice gives the same document.

const oscalNS = "urn:dfslab:adoption"

// oscalUUIDNS keeps the UUIDs of the documents exported before the types
// moved to internal/oscal.
const oscalUUIDNS = "dfslab-adoption"

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
	res := oscal.Result{
		UUID:  oscal.UUID(oscalUUIDNS, key+":result"),
		Title: fmt.Sprintf("Implementation of the %s national baseline %s by %s", sub.Country, sub.Baseline, sub.OrgName),
		Description: fmt.Sprintf("Self-assessment submitted by %s to the regulators of %s: %d of %d applicable items implemented, %d overdue.",
			sub.OrgName, sub.Country, sub.Implemented, sub.Applicable, sub.Overdue),
		Start: at, End: at,
		Props: []oscal.Prop{
			{Name: "signed-off-by", NS: oscalNS, Value: nonEmpty(sub.SignedBy)},
			{Name: "baseline-version", NS: oscalNS, Value: sub.Baseline},
		},
		Remarks: "Sign-off statement: " + sub.Statement,
	}
	sel := oscal.ControlSelection{}
	for _, it := range sub.Items {
		cid := strings.ToLower(it.RecID)
		sel.IncludeControls = append(sel.IncludeControls, oscal.ControlID{ControlID: cid})
		title := it.RecID
		if it.Rec != nil {
			title = it.RecID + " " + it.Rec.Title
		}
		f := oscal.Finding{
			UUID:        oscal.UUID(oscalUUIDNS, key+":finding:"+it.RecID),
			Title:       title,
			Description: "Status reported by the provider: " + it.Status.Label() + ".",
			Target: oscal.Target{Type: "objective-id", TargetID: cid + "_obj",
				Status:               oscal.Status{State: "not-satisfied"},
				ImplementationStatus: &oscal.ImplementationStatus{State: implementationState(it.Status)}},
		}
		switch {
		case it.Status.Done():
			f.Target.Status = oscal.Status{State: "satisfied", Reason: "pass"}
		case it.Status == StatusNA:
			f.Target.Status = oscal.Status{State: "satisfied", Reason: "other"}
		default:
			f.Target.Status.Reason = "fail"
		}
		f.Props = append(f.Props, oscal.Prop{Name: "status", NS: oscalNS, Value: string(it.Status)})
		if it.TargetDate != "" {
			f.Props = append(f.Props, oscal.Prop{Name: "target-date", NS: oscalNS, Value: it.TargetDate})
		}
		if it.Overdue {
			f.Props = append(f.Props, oscal.Prop{Name: "overdue", NS: oscalNS, Value: "true"})
		}
		if it.Owner != "" {
			f.Props = append(f.Props, oscal.Prop{Name: "owner", NS: oscalNS, Value: it.Owner})
		}
		if it.Justification != "" {
			f.Remarks = it.Justification
		}
		if len(it.Evidence) > 0 {
			obs := oscal.Observation{
				UUID: oscal.UUID(oscalUUIDNS, key+":observation:"+it.RecID), Title: "Evidence for " + it.RecID,
				Description: "Evidence files the provider holds for this item, identified by SHA-256.",
				Methods:     []string{"EXAMINE"}, Collected: at,
			}
			for _, e := range it.Evidence {
				obs.RelevantEvidence = append(obs.RelevantEvidence, oscal.Evidence{Description: nonEmpty(e.Name), Props: []oscal.Prop{
					{Name: "sha256", NS: oscalNS, Value: e.SHA256},
					{Name: "media-type", NS: oscalNS, Value: e.MediaType},
					{Name: "size", NS: oscalNS, Value: fmt.Sprint(e.Size)},
				}})
			}
			res.Observations = append(res.Observations, obs)
			f.RelatedObservations = []oscal.RelatedObservation{{ObservationUUID: obs.UUID}}
		}
		res.Findings = append(res.Findings, f)
	}
	if len(sel.IncludeControls) == 0 {
		return nil, fmt.Errorf("adoption: submission %d has no items", sub.ID)
	}
	res.ReviewedControls = oscal.ReviewedControls{ControlSelections: []oscal.ControlSelection{sel}}
	doc := oscal.Document{AR: oscal.AssessmentResults{
		UUID: oscal.UUID(oscalUUIDNS, key),
		Metadata: oscal.Metadata{
			Title:        res.Title,
			LastModified: at,
			Version:      fmt.Sprintf("submission-%d", sub.ID),
			OSCALVersion: oscal.Version,
			Props:        []oscal.Prop{{Name: "provider", NS: oscalNS, Value: nonEmpty(sub.OrgName)}, {Name: "jurisdiction", NS: oscalNS, Value: sub.Country}},
		},
		ImportAP: oscal.ImportAP{Href: "#baseline-" + strings.ToLower(sub.Country) + "-" + sub.Baseline,
			Remarks: "The assessment plan is the national baseline " + sub.Baseline + " of " + sub.Country + "; control IDs are those of the dfslab catalogue export."},
		Results: []oscal.Result{res},
	}}
	return json.MarshalIndent(doc, "", "  ")
}

func nonEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "unnamed"
	}
	return s
}
