package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/dfslab/dfslab/internal/appscan"
)

// SARIF output, in our own types rather than a SARIF library: we emit a
// small, fixed subset, and the test that validates every golden file against
// the OASIS 2.1.0 schema is what guarantees conformance.
//
// One run per invocation, not one per app: GitHub code scanning rejects
// uploads with several runs of the same tool and category, and one run lets
// tool.driver.rules list each rule once. Apps are told apart by the run's
// artifacts: each scanned file is an "analysisTarget" artifact, and the
// files inside it (AndroidManifest.xml, classes.dex, lib/arm64-v8a/x.so)
// are artifacts nested in it through parentIndex, which is how SARIF models
// files inside an archive.

const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// fingerprintKey names our partial fingerprint; the version suffix
	// lets us change the algorithm without matching old alerts wrongly.
	fingerprintKey = "dfslabFindingHash/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations,omitempty"`
	Artifacts   []sarifArtifact   `json:"artifacts,omitempty"`
	Results     []sarifResult     `json:"results"`
	Properties  map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name,omitempty"`
	ShortDescription     sarifMessage       `json:"shortDescription"`
	FullDescription      sarifMessage       `json:"fullDescription"`
	Help                 sarifMessage       `json:"help"`
	HelpURI              string             `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	Properties           sarifRuleProps     `json:"properties"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	Precision        string   `json:"precision,omitempty"`
	SecuritySeverity string   `json:"security-severity"`
	ProblemSeverity  string   `json:"problem.severity,omitempty"`
	Category         string   `json:"category,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifArtifact struct {
	Location    sarifArtifactLocation `json:"location"`
	ParentIndex *int                  `json:"parentIndex,omitempty"`
	Roles       []string              `json:"roles,omitempty"`
	Length      int64                 `json:"length,omitempty"`
	Hashes      map[string]string     `json:"hashes,omitempty"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
	Index     *int   `json:"index,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifMessage      `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Suppressions        []sarifSupp       `json:"suppressions,omitempty"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifSupp struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	Message          *sarifMessage  `json:"message,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind,omitempty"`
}

// sarifLevel maps severities to SARIF levels the way code-scanning services
// show them: critical and high are errors, medium warnings, the rest notes.
func sarifLevel(s appscan.Severity) string {
	switch {
	case s >= appscan.High:
		return "error"
	case s == appscan.Medium:
		return "warning"
	default:
		return "note"
	}
}

// problemSeverity is GitHub's older severity property, read when
// security-severity is absent; kept for other consumers of the same tags.
func problemSeverity(s appscan.Severity) string {
	switch {
	case s >= appscan.High:
		return "error"
	case s == appscan.Medium:
		return "warning"
	default:
		return "recommendation"
	}
}

// ruleName turns a title into the PascalCase identifier SARIF expects in
// reportingDescriptor.name ("Debuggable build" → "DebuggableBuild").
func ruleName(title string) string {
	var b strings.Builder
	up := true
	for _, r := range title {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if up {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			up = false
		} else {
			up = true
		}
	}
	return b.String()
}

// RuleHelpURI is where a rule is documented: its section in docs/rules.md.
func RuleHelpURI(t Tool, id string) string {
	if t.InformationURI == "" {
		return ""
	}
	return t.InformationURI + "/blob/main/docs/rules.md#" + RuleAnchor(id)
}

// RuleAnchor is the Markdown heading anchor of a rule in docs/rules.md.
func RuleAnchor(id string) string {
	return strings.ToLower(id)
}

func sarifRuleFor(t Tool, m appscan.RuleMeta) sarifRule {
	tags := []string{"security", string(m.Category)}
	for _, c := range m.Mappings.CWE {
		// GitHub turns external/cwe/cwe-N tags into CWE links.
		tags = append(tags, fmt.Sprintf("external/cwe/cwe-%d", c))
	}
	tags = append(tags, m.Mappings.MASVS...)
	for _, o := range m.Mappings.OWASPMobile2016 {
		tags = append(tags, "owasp-mobile-2016/"+o)
	}
	for _, o := range m.Mappings.OWASPMobile2024 {
		tags = append(tags, "owasp-mobile-2024/"+o)
	}
	for _, it := range m.Mappings.ITUTest {
		tags = append(tags, "itu-dfs-lab/"+it)
	}
	tags = compactTags(tags)
	desc := m.Description
	if desc == "" {
		desc = m.Title
	}
	precision := ""
	switch m.Confidence {
	case appscan.ConfidenceHigh:
		precision = "high"
	case appscan.ConfidenceMedium:
		precision = "medium"
	case appscan.ConfidenceLow:
		precision = "low"
	}
	return sarifRule{
		ID:                   m.ID,
		Name:                 ruleName(m.Title),
		ShortDescription:     sarifMessage{Text: m.Title},
		FullDescription:      sarifMessage{Text: desc},
		Help:                 sarifMessage{Text: ruleHelpText(m), Markdown: ruleHelpMarkdown(m)},
		HelpURI:              RuleHelpURI(t, m.ID),
		DefaultConfiguration: sarifConfiguration{Level: sarifLevel(m.Severity)},
		Properties: sarifRuleProps{
			Tags:             tags,
			Precision:        precision,
			SecuritySeverity: m.Severity.SecurityScore(),
			ProblemSeverity:  problemSeverity(m.Severity),
			Category:         string(m.Category),
		},
	}
}

func compactTags(tags []string) []string {
	out := tags[:0]
	seen := map[string]bool{}
	for _, t := range tags {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func ruleHelpText(m appscan.RuleMeta) string {
	var b strings.Builder
	b.WriteString(cmp.Or(m.Description, m.Title))
	if m.Remediation != "" {
		b.WriteString("\n\nRemediation: ")
		b.WriteString(m.Remediation)
	}
	if tags := mappingTags(m.Mappings); len(tags) > 0 {
		b.WriteString("\n\nReferences: ")
		b.WriteString(strings.Join(tags, ", "))
	}
	return strings.TrimSpace(b.String())
}

func ruleHelpMarkdown(m appscan.RuleMeta) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (%s, %s severity)\n\n", m.Title, m.ID, m.Severity)
	if m.Description != "" {
		b.WriteString(m.Description + "\n\n")
	}
	if m.Remediation != "" {
		b.WriteString("**Remediation:** " + m.Remediation + "\n\n")
	}
	if tags := mappingTags(m.Mappings); len(tags) > 0 {
		b.WriteString("**References:** " + strings.Join(tags, ", ") + "\n")
	}
	return strings.TrimSpace(b.String())
}

// uriPath makes a file name usable as a relative URI reference: forward
// slashes, and percent-encoding of what a URI may not contain.
func uriPath(p string) string {
	p = filepath.ToSlash(p)
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			strings.IndexByte("-._~/!$&'()*+,;=:@", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// sarifBuilder accumulates the run while walking the results.
type sarifBuilder struct {
	tool      Tool
	meta      ruleIndex
	rules     []sarifRule
	ruleIdx   map[string]int
	artifacts []sarifArtifact
	// nested maps "appIndex\x00inner path" to the artifact index.
	nested map[string]int
	// multiApp is set when the run covers more than one app.
	multiApp bool
	// includeLibraries keeps the level of findings in library code.
	includeLibraries bool
	anchors          *Anchors
}

func (sb *sarifBuilder) rule(f appscan.Finding) int {
	if i, ok := sb.ruleIdx[f.RuleID]; ok {
		return i
	}
	sb.rules = append(sb.rules, sarifRuleFor(sb.tool, sb.meta.meta(f)))
	sb.ruleIdx[f.RuleID] = len(sb.rules) - 1
	return len(sb.rules) - 1
}

func (sb *sarifBuilder) app(r *appscan.Result) int {
	a := sarifArtifact{
		Location: sarifArtifactLocation{URI: sb.fileURI(r.Target.Path)},
		Roles:    []string{"analysisTarget"},
		Length:   r.Target.Size,
	}
	if r.Target.SHA256 != "" {
		a.Hashes = map[string]string{"sha-256": r.Target.SHA256}
	}
	sb.artifacts = append(sb.artifacts, a)
	return len(sb.artifacts) - 1
}

// fileURI is the URI of a scanned file: its path as given, made relative to
// the repository when it is absolute, or its base name; never an absolute
// path of the scanning machine.
func (sb *sarifBuilder) fileURI(p string) string {
	if filepath.IsAbs(p) || filepath.VolumeName(p) != "" {
		rel := ""
		if sb.anchors != nil && sb.anchors.Root != "" {
			if r, err := filepath.Rel(sb.anchors.Root, p); err == nil && filepath.IsLocal(r) {
				rel = r
			}
		}
		p = cmp.Or(rel, filepath.Base(p))
	}
	return uriPath(p)
}

func (sb *sarifBuilder) inner(app int, file string) int {
	key := fmt.Sprint(app, "\x00", file)
	if i, ok := sb.nested[key]; ok {
		return i
	}
	parent := app
	sb.artifacts = append(sb.artifacts, sarifArtifact{
		Location:    sarifArtifactLocation{URI: uriPath(path.Clean("/" + file))[1:]},
		ParentIndex: &parent,
	})
	i := len(sb.artifacts) - 1
	sb.nested[key] = i
	return i
}

func (sb *sarifBuilder) result(app int, r *appscan.Result, f appscan.Finding, supp *sarifSupp) sarifResult {
	ri := sb.rule(f)
	// Every result gets a region: GitHub code scanning requires one. Inside
	// a binary file (a DEX, a native library) it is the first line.
	phys := sarifPhysical{Region: &sarifRegion{StartLine: 1}}
	if uri, line, ok := sb.anchors.anchor(f, r.App.Package); ok {
		phys.ArtifactLocation = sarifArtifactLocation{URI: uriPath(uri), URIBaseID: SourceRootID}
		phys.Region.StartLine = line
	} else if f.Location.File != "" {
		idx := sb.inner(app, f.Location.File)
		phys.ArtifactLocation = sarifArtifactLocation{URI: sb.artifacts[idx].Location.URI, Index: &idx}
		if f.Location.Line > 0 && f.Location.SourceFile == "" {
			phys.Region.StartLine = f.Location.Line
		}
	} else {
		// App-wide findings (an absent control, the signing scheme) point
		// at the app file itself.
		a := app
		phys.ArtifactLocation = sarifArtifactLocation{URI: sb.artifacts[a].Location.URI, Index: &a}
	}
	loc := sarifLocation{PhysicalLocation: &phys}
	l := f.Location
	switch {
	case l.Class != "" && l.Method != "":
		loc.LogicalLocations = []sarifLogical{{Name: l.Method, FullyQualifiedName: l.Class + "." + l.Method, Kind: "function"}}
	case l.Class != "":
		loc.LogicalLocations = []sarifLogical{{Name: l.Class, FullyQualifiedName: l.Class, Kind: "type"}}
	case l.Element != "":
		loc.LogicalLocations = []sarifLogical{{Name: l.Element, FullyQualifiedName: l.Element, Kind: "element"}}
	}
	msg := f.Message
	if msg == "" {
		msg = f.Title
	}
	if sb.multiApp {
		// Code-scanning UIs show the message and the file, not our
		// properties; with several apps the file alone is ambiguous.
		msg = appName(r) + ": " + msg
	}
	if f.Evidence != "" {
		msg += " Evidence: " + f.Evidence
	}
	res := sarifResult{
		RuleID:    f.RuleID,
		RuleIndex: ri,
		Level:     sarifLevel(f.Severity),
		Message:   sarifMessage{Text: msg},
		Locations: []sarifLocation{loc},
		PartialFingerprints: map[string]string{
			fingerprintKey: sarifFingerprint(r.App.Package, f),
		},
		Properties: map[string]any{
			"app":      appName(r),
			"severity": f.Severity.String(),
		},
	}
	if f.Confidence != "" {
		res.Properties["confidence"] = string(f.Confidence)
	}
	if f.InLibrary {
		// Code scanning has no notion of third-party code in a binary:
		// the library's name goes into the message, and the level drops
		// to note unless library findings count (--include-libraries).
		res.Properties["in_library"] = true
		res.Properties["library"] = f.Library
		res.Message.Text = "In library code (" + f.Library + "): " + res.Message.Text
		if !sb.includeLibraries {
			res.Level = "note"
		}
	}
	if supp != nil {
		res.Suppressions = []sarifSupp{*supp}
	}
	return res
}

// sarifFingerprint adds the package to the finding's fingerprint: the same
// finding in two apps of one run must stay two alerts.
func sarifFingerprint(pkg string, f appscan.Finding) string {
	fp := f.Fingerprint
	if fp == "" {
		f.ComputeFingerprint()
		fp = f.Fingerprint
	}
	h := sha256.Sum256([]byte(pkg + "\x00" + fp))
	return hex.EncodeToString(h[:16])
}

// WriteSARIF writes d as a SARIF 2.1.0 log with a single run. Suppressed
// findings are included with a SARIF "external" suppression carrying the
// reason, so that code-scanning services show them as dismissed rather than
// losing them.
func WriteSARIF(w io.Writer, d *Document) error { return WriteSARIFAnchored(w, d, nil) }

// WriteSARIFAnchored is WriteSARIF with results mapped into the repository
// by a (nil: results point at files inside the scanned apps). Mapped
// results use the uriBaseId %SRCROOT% and paths relative to the checkout.
func WriteSARIFAnchored(w io.Writer, d *Document, a *Anchors) error {
	d.Finalize()
	sb := &sarifBuilder{tool: d.Tool, meta: indexRules(d.Rules), ruleIdx: map[string]int{}, nested: map[string]int{}, multiApp: d.Summary.Apps > 1,
		includeLibraries: d.IncludeLibraries, anchors: a}
	results := []sarifResult{}
	appIdx := map[string]int{} // target path → artifact index
	for _, r := range d.Results {
		if r == nil {
			continue
		}
		a := sb.app(r)
		appIdx[r.Target.Path] = a
		for _, f := range sortedFindings(r.Findings) {
			results = append(results, sb.result(a, r, f, nil))
		}
	}
	for _, s := range d.Suppressed {
		a, ok := appIdx[s.Target]
		if !ok {
			continue
		}
		r := resultByTarget(d, s.Target)
		just := s.Rule.Reason
		if !s.Rule.Expires.IsZero() {
			just += " (until " + s.Rule.Expires.Format(time.DateOnly) + ")"
		}
		results = append(results, sb.result(a, r, s.Finding, &sarifSupp{Kind: "external", Justification: just}))
	}

	inv := sarifInvocation{ExecutionSuccessful: len(d.Errors) == 0}
	for _, e := range d.Errors {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level:   "error",
			Message: sarifMessage{Text: e.Path + ": " + e.Error},
			Locations: []sarifLocation{{PhysicalLocation: &sarifPhysical{
				ArtifactLocation: sarifArtifactLocation{URI: sb.fileURI(e.Path)},
			}}},
		})
	}
	for _, s := range d.ExpiredSuppressions {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level: "warning",
			Message: sarifMessage{Text: fmt.Sprintf("suppression of %s (line %d) expired on %s and no longer applies: %s",
				suppressionLabel(s.RuleID, s.Location), s.Line, s.Expires.Format(time.DateOnly), s.Reason)},
		})
	}
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: d.Tool.Name, Version: d.Tool.Version, InformationURI: d.Tool.InformationURI,
			Rules: sb.rules,
		}},
		Invocations: []sarifInvocation{inv},
		Artifacts:   sb.artifacts,
		Results:     results,
	}
	if run.Tool.Driver.Rules == nil {
		run.Tool.Driver.Rules = []sarifRule{}
	}
	if b := d.Baseline; b != nil {
		run.Properties = map[string]any{"baseline": map[string]any{
			"path": b.Path, "new": b.New, "unchanged": b.Unchanged, "fixed": len(b.Fixed),
		}}
	}
	return encodeSARIF(w, sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

func resultByTarget(d *Document, target string) *appscan.Result {
	for _, r := range d.Results {
		if r != nil && r.Target.Path == target {
			return r
		}
	}
	return &appscan.Result{}
}

func encodeSARIF(w io.Writer, l sarifLog) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(l)
}

// writeSARIFRules writes a SARIF log whose run lists every rule and has no
// results: the rule catalogue in a form code-scanning tools import.
func writeSARIFRules(w io.Writer, t Tool, rules []appscan.RuleMeta) error {
	sr := make([]sarifRule, 0, len(rules))
	for _, m := range rules {
		sr = append(sr, sarifRuleFor(t, m))
	}
	run := sarifRun{
		Tool:    sarifTool{Driver: sarifDriver{Name: t.Name, Version: t.Version, InformationURI: t.InformationURI, Rules: sr}},
		Results: []sarifResult{},
	}
	return encodeSARIF(w, sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}
