package appscan

import (
	"strings"

	"github.com/dfslab/dfslab/internal/catalog"
)

// allRules builds the rule set. It is a function, not a package variable,
// so that no scanner can change what another one runs.
func allRules() []*rule {
	var rs []*rule
	for _, group := range [][]*rule{manifestRules(), networkRules(), codeRules(), cryptoRules(),
		secretRules(), moreSecretRules(), signingRules(), nativeRules(), resilienceRules(), zipRules(), platformRules()} {
		rs = append(rs, group...)
	}
	recs := recommendationIndex()
	for _, r := range rs {
		r.Control = r.controlName != ""
		// A control is the app's: root checks inside an SDK, or an SDK
		// pinning its own server, protect nothing of the app's.
		r.appOnly = r.appOnly || r.Control
		r.Mappings.DFSRecs = recs[r.ID]
	}
	return rs
}

// recommendationIndex maps rule IDs to the DFS security recommendations
// that name them. The catalogue is the one place the links are written
// (each recommendation lists its rules), so the two cannot disagree; a
// test in internal/catalog checks that every rule is linked.
func recommendationIndex() map[string][]string {
	c, err := catalog.Default()
	if err != nil {
		// The embedded catalogue is validated by its tests; a broken
		// one must not stop scans, it only loses the links.
		return nil
	}
	return c.ScanRuleIndex()
}

// categoryOf derives the category from the ID prefix, so the two cannot drift.
func categoryOf(id string) Category {
	switch {
	case strings.HasPrefix(id, "DFS-MAN-"):
		return CategoryManifest
	case strings.HasPrefix(id, "DFS-NET-"):
		return CategoryNetwork
	case strings.HasPrefix(id, "DFS-CODE-"):
		return CategoryCode
	case strings.HasPrefix(id, "DFS-CRYPTO-"):
		return CategoryCrypto
	case strings.HasPrefix(id, "DFS-SECRET-"):
		return CategorySecrets
	case strings.HasPrefix(id, "DFS-SIGN-"):
		return CategorySigning
	case strings.HasPrefix(id, "DFS-NATIVE-"):
		return CategoryNative
	case strings.HasPrefix(id, "DFS-RES-"):
		return CategoryResilience
	case strings.HasPrefix(id, "DFS-ZIP-"):
		return CategoryContainer
	case strings.HasPrefix(id, "DFS-PRIV-"):
		return CategoryPrivacy
	}
	return ""
}

func meta(id string, sev Severity, conf Confidence, title, desc, fix string, m Mappings) RuleMeta {
	return RuleMeta{ID: id, Title: title, Category: categoryOf(id), Severity: sev, Confidence: conf,
		Description: desc, Remediation: fix, Mappings: m}
}

// mp builds mappings: MASVS control, CWE, OWASP Mobile 2016 and 2024
// categories, and the ITU lab tests that apply.
func mp(masvs string, cwe int, m2016, m2024 string, itu ...string) Mappings {
	return Mappings{MASVS: []string{masvs}, CWE: []int{cwe}, OWASPMobile2016: []string{m2016},
		OWASPMobile2024: []string{m2024}, ITUTest: itu}
}

const (
	high = ConfidenceHigh
	med  = ConfidenceMedium
	low  = ConfidenceLow
)
