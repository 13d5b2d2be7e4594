package applab

import (
	"slices"

	"github.com/dfslab/dfslab/internal/appscan"
)

// Test is one test of the ITU DFS Security Lab's app test list.
type Test struct {
	ID       string
	Category string // OWASP Mobile 2016 category
	Title    string
	Pass     string // pass criterion
	// Dynamic tests need a device or an intercepting proxy: the static
	// scan only gives a hint, a tester's recorded result decides.
	Dynamic bool
}

// tests is the lab's test list as far as it is public, in the words of
// this project.
var tests = []Test{
	{ID: "T1.1", Category: "M1 Improper platform usage", Title: "Backup of app data", Pass: "android:allowBackup is false"},
	{ID: "T1.2", Category: "M1 Improper platform usage", Title: "Debuggable build", Pass: "android:debuggable is false"},
	{ID: "T1.3", Category: "M1 Improper platform usage", Title: "Install location", Pass: "the app cannot be installed on external storage"},
	{ID: "T1.4", Category: "M1 Improper platform usage", Title: "Dangerous permissions", Pass: "only the permissions the app's functions need"},
	{ID: "T2.1", Category: "M2 Insecure data storage", Title: "External storage", Pass: "no WRITE_EXTERNAL_STORAGE without a good reason"},
	{ID: "T3.1", Category: "M3 Insecure communication", Title: "HTTPS only", Pass: "no cleartext protocol between app and server"},
	{ID: "T3.2", Category: "M3 Insecure communication", Title: "MITM with an untrusted certificate", Pass: "the app refuses a proxy whose certificate is not trusted", Dynamic: true},
	{ID: "T3.3", Category: "M3 Insecure communication", Title: "MITM with a trusted certificate (pinning)", Pass: "the app refuses even a proxy certificate from a trusted CA", Dynamic: true},
	{ID: "T4.1", Category: "M4 Insecure authentication", Title: "Authentication before sensitive data", Pass: "PIN, password or biometrics before the balance or a payment", Dynamic: true},
	{ID: "T5.1", Category: "M5 Insufficient cryptography", Title: "Weak cryptography", Pass: "no MD5, SHA-1, RC4, DES, 3DES, Blowfish, ECB or non-cryptographic RNG"},
	{ID: "T8.1", Category: "M8 Code tampering", Title: "Rooted device", Pass: "the app refuses to run on a rooted device", Dynamic: true},
	{ID: "T9.1", Category: "M9 Reverse engineering", Title: "Obfuscation", Pass: "the code is obfuscated"},
}

// Tests returns the test list.
func Tests() []Test { return slices.Clone(tests) }

func testByID(id string) (Test, bool) {
	i := slices.IndexFunc(tests, func(t Test) bool { return t.ID == id })
	if i < 0 {
		return Test{}, false
	}
	return tests[i], true
}

// TestRow is one line of a version's audit matrix.
type TestRow struct {
	Test
	Rules    []string          // scanner rules mapped to the test
	Findings []appscan.Finding // open or accepted findings of those rules in the app's own code
	// Library holds the open or accepted findings of those rules in the
	// code of known libraries: shown, but they do not fail the test.
	Library  []appscan.Finding
	Controls []appscan.ControlStatus // the protective controls mapped to the test, as the scan saw them
	Static   ITUResult               // from the scan; NotTested when no rule covers it
	Recorded *Recorded               // the tester's result, if any
	Result   ITUResult               // what the audit reports
	Source   string                  // "tester", "static scan" or ""
}

// Matrix derives the audit matrix of one version: static results from the
// findings of the rules mapped to each test (findings triaged as false
// positive do not count; accepted risks still fail the test, with the
// acceptance on record; findings in library code are listed apart and do
// not fail a test, as they do not count in the scanner's summary) and from
// the protective controls mapped to it (an
// absent control fails a static test), overridden by what a tester
// recorded. A dynamic
// test is never passed by the static scan alone: absence of a finding
// there proves nothing about behaviour on a device.
func Matrix(rules []appscan.RuleMeta, res *appscan.Result, tri map[string]Triage, rec map[string]Recorded, today string) []TestRow {
	byTest := map[string][]string{}
	for _, r := range rules {
		for _, t := range r.Mappings.ITUTest {
			byTest[t] = append(byTest[t], r.ID)
		}
	}
	out := make([]TestRow, 0, len(tests))
	for _, t := range tests {
		row := TestRow{Test: t, Rules: byTest[t.ID]}
		if res != nil && len(row.Rules) > 0 {
			for _, f := range res.Findings {
				if !slices.Contains(row.Rules, f.RuleID) {
					continue
				}
				if d := tri[f.Fingerprint].Effective(today); d == FalsePositive || d == Fixed {
					continue
				}
				if f.InLibrary {
					row.Library = append(row.Library, f)
					continue
				}
				row.Findings = append(row.Findings, f)
			}
			absent := false
			for _, c := range res.Controls {
				if slices.Contains(row.Rules, c.RuleID) {
					row.Controls = append(row.Controls, c)
					absent = absent || !c.Present
				}
			}
			switch {
			case len(row.Findings) > 0:
				row.Static = Fail
			case t.Dynamic:
				// Only a device or a proxy decides; the controls the
				// scan saw (or missed) are shown as a hint.
			case absent:
				// A protective control the test asks for (obfuscation)
				// was not found, even if the rule reported no finding.
				row.Static = Fail
			default:
				row.Static = Pass
			}
		}
		row.Result, row.Source = row.Static, ""
		if row.Static != NotTested {
			row.Source = "static scan"
		}
		if r, ok := rec[t.ID]; ok {
			row.Recorded = &r
			row.Result, row.Source = r.Result, "tester"
		}
		out = append(out, row)
	}
	return out
}

// MatrixCounts summarises a matrix.
type MatrixCounts struct{ Pass, Fail, NA, NotTested int }

// Summary counts the results of a matrix.
func Summary(rows []TestRow) MatrixCounts {
	var c MatrixCounts
	for _, r := range rows {
		switch r.Result {
		case Pass:
			c.Pass++
		case Fail:
			c.Fail++
		case NA:
			c.NA++
		default:
			c.NotTested++
		}
	}
	return c
}

// DiffRow is one finding in the comparison of two versions.
type DiffRow struct {
	Finding appscan.Finding
	Change  string // "new", "fixed", "unchanged"
}

// Diff compares the findings of two versions by fingerprint: new in cur,
// fixed (in prev, gone from cur) and unchanged.
func Diff(prev, cur []appscan.Finding) (added, fixed, same []appscan.Finding) {
	in := func(fs []appscan.Finding) map[string]bool {
		m := make(map[string]bool, len(fs))
		for _, f := range fs {
			m[f.Fingerprint] = true
		}
		return m
	}
	p, c := in(prev), in(cur)
	for _, f := range cur {
		if p[f.Fingerprint] {
			same = append(same, f)
		} else {
			added = append(added, f)
		}
	}
	for _, f := range prev {
		if !c[f.Fingerprint] {
			fixed = append(fixed, f)
		}
	}
	return added, fixed, same
}
