package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dfslab/dfslab/internal/appscan"
)

// repoFS is a checkout of the app the anchored fixture was built from.
func repoFS() fstest.MapFS {
	return fstest.MapFS{
		"wallet/src/main/java/com/example/wallet/crypto/Vault.kt": {Data: []byte("package com.example.wallet.crypto\n")},
		"wallet/src/main/AndroidManifest.xml": {Data: []byte(`<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android">
    <uses-permission android:name="android.permission.RECEIVE_SMS" />
    <application
        android:debuggable="true"
        android:label="Wallet">
        <activity
            android:name=".MainActivity"
            android:exported="true" />
    </application>
</manifest>
`)},
		"build/cache/Vault.kt": {Data: []byte("a build copy, never a source")},
	}
}

// anchoredDoc is the fixture with source files and lines on code findings,
// scanned from an absolute path.
func anchoredDoc() *Document {
	d := fixtureDoc()
	w := d.Results[0]
	w.Target.Path = "/srv/checkout/example-wallet/wallet/build/outputs/apk/release/wallet-release.apk"
	for i := range w.Findings {
		f := &w.Findings[i]
		switch f.RuleID {
		case "DFS-CRY-003":
			f.Location.SourceFile, f.Location.Line = "Vault.kt", 42
		case "DFS-NET-002":
			if !f.InLibrary {
				f.Location.SourceFile, f.Location.Line = "OpenTrust.java", 17
			}
		}
	}
	w.Findings = append(w.Findings, finding("DFS-MAN-006", appscan.Medium, "Exported activity", "",
		appscan.Location{File: "AndroidManifest.xml", Element: "activity[com.example.wallet.MainActivity]"}, "exported=true"))
	return d
}

// TestSARIFAnchored checks results mapped into the repository: source files
// found in the checkout (or the conventional path), manifest elements at
// their lines, %SRCROOT% as base, and what GitHub code scanning requires of
// every result (a location with a region) and of every URI (not absolute).
func TestSARIFAnchored(t *testing.T) {
	a, err := NewAnchors(repoFS(), "wallet/src/main/AndroidManifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	a.Root = "/srv/checkout/example-wallet"
	var buf bytes.Buffer
	if err := WriteSARIFAnchored(&buf, anchoredDoc(), a); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, loadSARIFSchema(t), buf.Bytes())
	if strings.Contains(buf.String(), "/home/ci") || strings.Contains(buf.String(), "file:") {
		t.Errorf("SARIF holds an absolute path of the scanning machine")
	}
	var log struct {
		Runs []struct {
			Artifacts []struct {
				Location struct{ URI string } `json:"location"`
			} `json:"artifacts"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				Properties map[string]any `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if got := run.Artifacts[0].Location.URI; got != "wallet/build/outputs/apk/release/wallet-release.apk" {
		t.Errorf("scanned file URI %q, want the path relative to the checkout", got)
	}
	type place struct {
		uri  string
		line int
	}
	got := map[string]place{}
	for _, r := range run.Results {
		if len(r.Locations) == 0 || r.Locations[0].PhysicalLocation == nil || r.Locations[0].PhysicalLocation.Region == nil ||
			r.Locations[0].PhysicalLocation.Region.StartLine < 1 || r.Locations[0].PhysicalLocation.ArtifactLocation.URI == "" {
			t.Errorf("%s: no physical location with a region (GitHub requires one)", r.RuleID)
			continue
		}
		pl := r.Locations[0].PhysicalLocation
		if strings.HasPrefix(pl.ArtifactLocation.URI, "/") {
			t.Errorf("%s: absolute URI %q", r.RuleID, pl.ArtifactLocation.URI)
		}
		if pl.ArtifactLocation.URIBaseID != "" && pl.ArtifactLocation.URIBaseID != SourceRootID {
			t.Errorf("%s: uriBaseId %q", r.RuleID, pl.ArtifactLocation.URIBaseID)
		}
		if pl.ArtifactLocation.URIBaseID == SourceRootID && r.Properties["app"] == "com.example.wallet" {
			k := r.RuleID
			if r.Properties["in_library"] == true {
				k += "/lib"
			}
			got[k] = place{pl.ArtifactLocation.URI, pl.Region.StartLine}
		}
	}
	want := map[string]place{
		"DFS-CRY-003": {"wallet/src/main/java/com/example/wallet/crypto/Vault.kt", 42},
		// Not in the checkout: the conventional path.
		"DFS-NET-002": {"app/src/main/java/com/example/wallet/net/OpenTrust.java", 17},
		"DFS-MAN-001": {"wallet/src/main/AndroidManifest.xml", 4},
		"DFS-MAN-006": {"wallet/src/main/AndroidManifest.xml", 7},
		// A missing control points at <application>.
		"DFS-RES-001": {"wallet/src/main/AndroidManifest.xml", 4},
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s anchored at %+v, want %+v", k, got[k], w)
		}
	}
	if _, ok := got["DFS-NET-002/lib"]; ok {
		t.Error("a library finding without a source file was anchored in the repository")
	}
}
