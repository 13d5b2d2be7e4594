// Package oscal holds the OSCAL 1.1.3 assessment-results types that the
// platform's exports share, and deterministic UUIDs for them: exporting
// the same signed-off snapshot twice gives the same document.
package oscal

import (
	"crypto/sha256"
	"fmt"
)

// Version is the OSCAL version the documents declare.
const Version = "1.1.3"

// Document is an assessment-results document.
type Document struct {
	AR AssessmentResults `json:"assessment-results"`
}

// AssessmentResults is the root of the document.
type AssessmentResults struct {
	UUID     string   `json:"uuid"`
	Metadata Metadata `json:"metadata"`
	ImportAP ImportAP `json:"import-ap"`
	Results  []Result `json:"results"`
}

// Metadata is the document's metadata.
type Metadata struct {
	Title        string `json:"title"`
	LastModified string `json:"last-modified"`
	Version      string `json:"version"`
	OSCALVersion string `json:"oscal-version"`
	Props        []Prop `json:"props,omitempty"`
}

// Prop is a name/value property in a namespace.
type Prop struct {
	Name  string `json:"name"`
	NS    string `json:"ns,omitempty"`
	Value string `json:"value"`
}

// ImportAP names the assessment plan.
type ImportAP struct {
	Href    string `json:"href"`
	Remarks string `json:"remarks,omitempty"`
}

// Result is one result of an assessment.
type Result struct {
	UUID             string           `json:"uuid"`
	Title            string           `json:"title"`
	Description      string           `json:"description"`
	Start            string           `json:"start"`
	End              string           `json:"end"`
	Props            []Prop           `json:"props,omitempty"`
	ReviewedControls ReviewedControls `json:"reviewed-controls"`
	Observations     []Observation    `json:"observations,omitempty"`
	Findings         []Finding        `json:"findings,omitempty"`
	Remarks          string           `json:"remarks,omitempty"`
}

// ReviewedControls selects the controls a result covers.
type ReviewedControls struct {
	ControlSelections []ControlSelection `json:"control-selections"`
}

// ControlSelection lists controls by ID.
type ControlSelection struct {
	IncludeControls []ControlID `json:"include-controls"`
}

// ControlID names one control.
type ControlID struct {
	ControlID string `json:"control-id"`
}

// Observation is what an assessor observed.
type Observation struct {
	UUID             string     `json:"uuid"`
	Title            string     `json:"title"`
	Description      string     `json:"description"`
	Props            []Prop     `json:"props,omitempty"`
	Methods          []string   `json:"methods"`
	Collected        string     `json:"collected"`
	RelevantEvidence []Evidence `json:"relevant-evidence,omitempty"`
	Remarks          string     `json:"remarks,omitempty"`
}

// Evidence describes one piece of evidence.
type Evidence struct {
	Description string `json:"description"`
	Props       []Prop `json:"props,omitempty"`
}

// Finding is the conclusion about one target.
type Finding struct {
	UUID                string               `json:"uuid"`
	Title               string               `json:"title"`
	Description         string               `json:"description"`
	Props               []Prop               `json:"props,omitempty"`
	Target              Target               `json:"target"`
	RelatedObservations []RelatedObservation `json:"related-observations,omitempty"`
	Remarks             string               `json:"remarks,omitempty"`
}

// Target is what a finding is about, with its status.
type Target struct {
	Type                 string                `json:"type"`
	TargetID             string                `json:"target-id"`
	Status               Status                `json:"status"`
	ImplementationStatus *ImplementationStatus `json:"implementation-status,omitempty"`
}

// Status is satisfied or not-satisfied, with a reason.
type Status struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// ImplementationStatus is implemented, partial, planned, alternative or
// not-applicable.
type ImplementationStatus struct {
	State string `json:"state"`
}

// RelatedObservation points at an observation.
type RelatedObservation struct {
	ObservationUUID string `json:"observation-uuid"`
}

// UUID derives a version-5-shaped UUID from a namespace and a name, so
// that a document's UUIDs stay the same for the same content.
func UUID(namespace, name string) string {
	h := sha256.Sum256([]byte(namespace + ":" + name))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
