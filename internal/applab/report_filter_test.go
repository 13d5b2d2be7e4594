package applab

import (
	"net/url"
	"testing"

	"github.com/dfslab/dfslab/internal/appscan"
)

// TestFindingFilterAndPager: each filter narrows by its own field only,
// and the pager's links keep the filter and stay within the pages.
func TestFindingFilterAndPager(t *testing.T) {
	row := func(rule string, sev appscan.Severity, lib bool, d Decision, masvs ...string) findingRow {
		return findingRow{Finding: appscan.Finding{RuleID: rule, Severity: sev, InLibrary: lib, MASVS: masvs}, Effective: d}
	}
	rows := []findingRow{
		row("DFS-NET-001", appscan.High, false, Open, "MASVS-NETWORK-1"),
		row("DFS-NET-001", appscan.High, false, FalsePositive, "MASVS-NETWORK-1"),
		row("DFS-STO-002", appscan.Medium, false, Open, "MASVS-STORAGE-2", "MASVS-PRIVACY-1"),
		row("DFS-NET-001", appscan.High, true, Open, "MASVS-NETWORK-1"),
	}
	count := func(q string) int {
		t.Helper()
		v, _ := url.ParseQuery(q)
		f, problem := parseFilter(v)
		if problem != "" {
			t.Fatalf("%s: %s", q, problem)
		}
		n := 0
		for _, r := range rows {
			if f.match(r) {
				n++
			}
		}
		return n
	}
	for q, want := range map[string]int{
		"": 3, "scope=library": 1, "severity=high": 2, "severity=medium": 1, "status=open": 2, "status=false_positive": 1,
		"rule=DFS-STO-002": 1, "masvs=privacy": 1, "masvs=NETWORK&status=open": 1, "scope=library&severity=medium": 0,
	} {
		if got := count(q); got != want {
			t.Errorf("%q matches %d, want %d", q, got, want)
		}
	}
	for _, q := range []string{"severity=urgent", "status=done", "page=-1", "page=x"} {
		v, _ := url.ParseQuery(q)
		if _, problem := parseFilter(v); problem == "" {
			t.Errorf("%q: no problem reported", q)
		}
	}

	q := url.Values{"severity": {"high"}}
	p := newPager("/r", q, 1, 250)
	if p.Pages != 3 || p.Prev != "" || p.Next != "/r?page=2&severity=high#findings-title" {
		t.Errorf("first page: %+v", p)
	}
	p = newPager("/r", q, 3, 250)
	if p.Next != "" || p.Prev != "/r?page=2&severity=high#findings-title" {
		t.Errorf("last page: %+v", p)
	}
	if p := newPager("/r", url.Values{}, 2, 100); p.Pages != 1 || p.Prev != "/r#findings-title" || p.Next != "" {
		t.Errorf("page past the end: %+v", p)
	}
	if p := newPager("/r", url.Values{}, 1, 0); p.Pages != 1 || p.Prev != "" || p.Next != "" {
		t.Errorf("no findings: %+v", p)
	}
}
