package manifest

import (
	"testing"

	"github.com/dfslab/dfslab/internal/apk/axml"
)

func TestEffectiveNetworkPolicy(t *testing.T) {
	tr := plain
	root := el("network-security-config").Append(
		el("base-config", tr("cleartextTrafficPermitted", axml.Str("false"))),
		el("domain-config", tr("cleartextTrafficPermitted", axml.Str("true"))).Append(
			text("domain", "example.com", tr("includeSubdomains", axml.Str("true"))),
			el("trust-anchors").Append(el("certificates", tr("src", axml.Str("user")))),
			el("domain-config").Append( // inherits cleartext=true and user CAs
				text("domain", "api.example.com"),
			),
			el("domain-config", tr("cleartextTrafficPermitted", axml.Str("false"))).Append(
				text("domain", "pay.example.com", tr("includeSubdomains", axml.Str("true"))),
				el("trust-anchors").Append(el("certificates", tr("src", axml.Str("system")))),
			),
		),
		el("debug-overrides").Append(el("trust-anchors").Append(el("certificates", tr("src", axml.Str("user"))))),
	)
	n, err := ParseNetworkSecurityConfig(roundTrip(t, root), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host            string
		cleartext, user bool
	}{
		{"", false, false},                   // base config
		{"other.org", false, false},          // base config
		{"example.com", true, true},          // exact
		{"www.example.com", true, true},      // subdomain
		{"api.example.com", true, true},      // nested, inherits both
		{"pay.example.com", false, false},    // nested, overrides both
		{"v2.pay.example.com", false, false}, // longest subdomain match wins
		{"notexample.com", false, false},     // suffix without dot is no match
		{"API.Example.com.", true, true},     // case and trailing dot
	}
	for _, tt := range tests {
		if got := n.CleartextPermitted(tt.host, 30); got != tt.cleartext {
			t.Errorf("CleartextPermitted(%q) = %v", tt.host, got)
		}
		if got := n.TrustsUserCAs(tt.host, 30, false); got != tt.user {
			t.Errorf("TrustsUserCAs(%q) = %v", tt.host, got)
		}
	}
	if !n.TrustsUserCAs("other.org", 30, true) {
		t.Error("debug overrides ignored for a debuggable app")
	}
	// Platform defaults when nothing is configured.
	empty := &NetworkSecurityConfig{}
	for _, tt := range []struct {
		sdk             int
		cleartext, user bool
	}{{23, true, true}, {24, true, false}, {27, true, false}, {28, false, false}} {
		if empty.CleartextPermitted("x", tt.sdk) != tt.cleartext || empty.TrustsUserCAs("x", tt.sdk, false) != tt.user {
			t.Errorf("defaults at sdk %d wrong", tt.sdk)
		}
	}
	// Manifest level: a config replaces usesCleartextTraffic.
	m := &Manifest{TargetSDK: 30}
	m.Application.UsesCleartextTraffic = OptBool{Set: true, Value: true}
	if !m.CleartextPermitted(nil, "x") || m.CleartextPermitted(n, "other.org") {
		t.Error("manifest-level cleartext resolution wrong")
	}
	m.Application.UsesCleartextTraffic = OptBool{}
	if m.CleartextPermitted(nil, "x") {
		t.Error("targetSdk 30 default must forbid cleartext")
	}
}
