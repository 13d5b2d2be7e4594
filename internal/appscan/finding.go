// Package appscan is the static scan engine for Android apps: it turns what the
// readers in internal/apk and internal/dex extract from an app into findings,
// using rules that carry their own metadata (severity, mappings, remediation).
// It knows nothing of databases or HTTP, so the CLI and the platform share it.
package appscan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Severity orders findings; the zero value is Info so that a forgotten
// severity never silently fails a CI build.
type Severity int

// Severities from least to most serious.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity accepts the lower-case names used on the command line and in
// JSON reports.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q (want info, low, medium, high or critical)", s)
}

// MarshalText makes severities appear as names in JSON and YAML.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// SecurityScore is the numeric "security-severity" that code-scanning
// services read from SARIF rule properties (0.0–10.0, CVSS-like bands).
func (s Severity) SecurityScore() string {
	switch s {
	case Critical:
		return "9.5"
	case High:
		return "8.0"
	case Medium:
		return "5.5"
	case Low:
		return "3.0"
	default:
		return "0.0"
	}
}

// Confidence says how sure a rule is that a match is a real issue.
type Confidence string

// Confidence levels.
const (
	ConfidenceHigh   Confidence = "high"
	ConfidenceMedium Confidence = "medium"
	ConfidenceLow    Confidence = "low"
)

// Category groups rules in reports and in the rule count of the docs.
type Category string

// Rule categories.
const (
	CategoryManifest   Category = "manifest"
	CategoryNetwork    Category = "network"
	CategoryCode       Category = "code"
	CategoryCrypto     Category = "crypto"
	CategorySecrets    Category = "secrets"
	CategorySigning    Category = "signing"
	CategoryNative     Category = "native"
	CategoryResilience Category = "resilience"
	CategoryContainer  Category = "container"
	CategoryPrivacy    Category = "privacy"
)

// Mappings tie a rule to the standards that regulators and auditors use.
type Mappings struct {
	MASVS           []string `json:"masvs,omitempty"`               // OWASP MASVS v2 controls, e.g. "MASVS-STORAGE-2"
	CWE             []int    `json:"cwe,omitempty"`                 // CWE numbers
	OWASPMobile2016 []string `json:"owasp_mobile_2016,omitempty"`   // e.g. "M1"
	OWASPMobile2024 []string `json:"owasp_mobile_2024,omitempty"`   // e.g. "M8"
	ITUTest         []string `json:"itu_test,omitempty"`            // ITU DFS lab test IDs, e.g. "T1.1"
	DFSRecs         []string `json:"dfs_recommendations,omitempty"` // catalogue recommendation IDs
}

// RuleMeta is the human-facing description of a rule. IDs are stable: once
// published, an ID is never reused for a different check, because baselines,
// suppressions and SARIF fingerprints depend on it.
type RuleMeta struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Category    Category   `json:"category"`
	Severity    Severity   `json:"severity"`
	Confidence  Confidence `json:"confidence"`
	Description string     `json:"description"`
	Remediation string     `json:"remediation"`
	Mappings    Mappings   `json:"mappings"`
	// Control marks rules that report whether a protective control
	// (root detection, pinning, …) is present rather than a defect.
	Control bool `json:"control,omitempty"`
}

// Location points at where the evidence was found. Only the fields that
// apply are set: a manifest finding has File and Element, a code finding has
// File (the dex), Class and Method.
type Location struct {
	File    string `json:"file,omitempty"`    // path inside the app, e.g. "AndroidManifest.xml", "classes2.dex"
	Element string `json:"element,omitempty"` // manifest element, e.g. "activity[com.example.Main]", or resource, e.g. "layout/pay"
	Class   string `json:"class,omitempty"`   // Java class name, e.g. "com.example.net.Api"
	Method  string `json:"method,omitempty"`  // method name with descriptor, e.g. "connect(Ljava/lang/String;)V"
	// Line is the line in a text file (assets, XML resources), or for code
	// the line in SourceFile when the DEX carries debug information.
	Line int `json:"line,omitempty"`
	// SourceFile is the source file of the class ("Api.kt") as the DEX
	// records it, "" when stripped.
	SourceFile string `json:"source_file,omitempty"`
}

func (l Location) String() string {
	var parts []string
	if l.File != "" {
		parts = append(parts, l.File)
	}
	if l.Element != "" {
		parts = append(parts, l.Element)
	}
	if l.Class != "" {
		c := l.Class
		if l.Method != "" {
			c += "." + l.Method
		}
		parts = append(parts, c)
	}
	return strings.Join(parts, " ")
}

// Finding is one match of one rule.
type Finding struct {
	RuleID     string     `json:"rule_id"`
	Title      string     `json:"title"`
	Severity   Severity   `json:"severity"`
	Confidence Confidence `json:"confidence"`
	Message    string     `json:"message"` // specific to this match
	Location   Location   `json:"location"`
	Evidence   string     `json:"evidence,omitempty"` // the string, call or attribute that matched (secrets redacted)
	// InLibrary is set when the finding lies in the code (or a manifest
	// entry, or a native library) of a known third-party library, named
	// by Library. Such findings are reported apart and, by default, do
	// not count in the score or for --fail-on.
	InLibrary bool   `json:"in_library"`
	Library   string `json:"library,omitempty"`
	// CWE, MASVS and Remediation repeat the rule's references, so that a
	// reader of the JSON report needs no rule list.
	CWE         []int    `json:"cwe,omitempty"`
	MASVS       []string `json:"masvs,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	// Fingerprint identifies the same finding across versions of an app, so
	// that baselines, suppressions and triage decisions carry over. It must
	// not depend on things that change between builds (dex file index, offsets).
	Fingerprint string `json:"fingerprint"`
}

// ComputeFingerprint fills Fingerprint from the rule, the stable parts of
// the location and the evidence.
func (f *Finding) ComputeFingerprint() {
	h := sha256.New()
	for _, s := range []string{f.RuleID, f.Location.Element, f.Location.Class, f.Location.Method, stableFile(f.Location.File), f.Evidence} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	f.Fingerprint = hex.EncodeToString(h.Sum(nil)[:16])
}

// stableFile drops the multidex index: R8 moves classes between
// classes.dex and classes2.dex from one build to the next.
func stableFile(f string) string {
	if strings.HasPrefix(f, "classes") && strings.HasSuffix(f, ".dex") {
		return "classes.dex"
	}
	return f
}
