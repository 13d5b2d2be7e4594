package manifest

import "strings"

// Platform behaviour that depends on the target SDK.
const (
	// SDKCleartextOff is the first target SDK (Android 9) whose default
	// forbids cleartext traffic.
	SDKCleartextOff = 28
	// SDKUserCAsOff is the first target SDK (Android 7) whose default no
	// longer trusts user-installed CAs.
	SDKUserCAsOff = 24
)

// Match returns the domain-config that applies to host followed by its
// enclosing domain-configs, innermost first; nil when only the base config
// applies. As in Android, an exact domain match beats a subdomain match and
// a longer domain beats a shorter one.
func (n *NetworkSecurityConfig) Match(host string) []*DomainConfig {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	var best []*DomainConfig
	bestLen, bestExact := -1, false
	var rec func(d *DomainConfig, chain []*DomainConfig)
	rec = func(d *DomainConfig, chain []*DomainConfig) {
		chain = append([]*DomainConfig{d}, chain...)
		for _, dom := range d.Domains {
			exact := dom.Name == host
			sub := dom.IncludeSubdomains && strings.HasSuffix(host, "."+dom.Name)
			if !exact && !sub {
				continue
			}
			if (exact && !bestExact) || (exact == bestExact && len(dom.Name) > bestLen) {
				best, bestLen, bestExact = chain, len(dom.Name), exact
			}
		}
		for _, c := range d.Children {
			rec(c, chain)
		}
	}
	if host != "" {
		for _, d := range n.Domains {
			rec(d, nil)
		}
	}
	return best
}

// CleartextPermitted reports whether cleartext HTTP to host is allowed for
// an app targeting targetSDK: the matching domain-config, its parents, the
// base-config, then the platform default. host "" asks about the base.
func (n *NetworkSecurityConfig) CleartextPermitted(host string, targetSDK int) bool {
	for _, d := range n.Match(host) {
		if d.CleartextTrafficPermitted.Set {
			return d.CleartextTrafficPermitted.Value
		}
	}
	if n.Base != nil && n.Base.CleartextTrafficPermitted.Set {
		return n.Base.CleartextTrafficPermitted.Value
	}
	return targetSDK < SDKCleartextOff
}

// TrustsUserCAs reports whether connections to host accept certificates
// from user-installed CAs, following the same inheritance. Debug overrides
// count only when debuggable.
func (n *NetworkSecurityConfig) TrustsUserCAs(host string, targetSDK int, debuggable bool) bool {
	if debuggable && n.DebugOverrides.TrustsUser() {
		return true
	}
	for _, d := range n.Match(host) {
		if d.TrustAnchors != nil {
			return d.TrustAnchors.TrustsUser()
		}
	}
	if n.Base != nil && n.Base.TrustAnchors != nil {
		return n.Base.TrustAnchors.TrustsUser()
	}
	return targetSDK < SDKUserCAsOff
}

// CleartextPermitted combines the manifest and its network security config
// (nil when the app has none) the way Android does: from Android 7 a
// network security config replaces android:usesCleartextTraffic.
func (m *Manifest) CleartextPermitted(nsc *NetworkSecurityConfig, host string) bool {
	if nsc != nil {
		return nsc.CleartextPermitted(host, m.TargetSDK)
	}
	return m.Application.UsesCleartextTraffic.Or(m.TargetSDK < SDKCleartextOff)
}

// TrustsUserCAs reports whether the app trusts user-installed CAs for host.
func (m *Manifest) TrustsUserCAs(nsc *NetworkSecurityConfig, host string) bool {
	debuggable := m.Application.Debuggable.IsTrue()
	if nsc != nil {
		return nsc.TrustsUserCAs(host, m.TargetSDK, debuggable)
	}
	return m.TargetSDK < SDKUserCAsOff
}
