package appscan

import (
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/apk"
)

// nscConfigs yields each config of the network security configuration with
// its element name.
func nscConfigs(nc *apk.NetworkConfig, withDebug bool) []struct {
	el  string
	cfg *apk.DomainConfig
} {
	var out []struct {
		el  string
		cfg *apk.DomainConfig
	}
	if nc == nil {
		return out
	}
	add := func(el string, c *apk.DomainConfig) {
		out = append(out, struct {
			el  string
			cfg *apk.DomainConfig
		}{el, c})
	}
	if nc.Base != nil {
		add("base-config", nc.Base)
	}
	for i := range nc.Domains {
		d := &nc.Domains[i]
		names := make([]string, len(d.Domains))
		for j, n := range d.Domains {
			names[j] = n.Name
		}
		add("domain-config["+strings.Join(names, ",")+"]", d)
	}
	if withDebug && nc.Debug != nil {
		add("debug-overrides", nc.Debug)
	}
	return out
}

func (sc *scanCtx) nscLoc(el string) Location {
	return Location{File: cmpOr(sc.man.Application.NetworkSecurityConfig, "res/xml/network_security_config.xml"), Element: el}
}

func networkRules() []*rule {
	return []*rule{
		{RuleMeta: meta("DFS-NET-001", Medium, high, "Network security configuration permits cleartext by default",
			"The base-config of the network security configuration sets cleartextTrafficPermitted=\"true\", so plaintext HTTP is allowed to every host.",
			"Set cleartextTrafficPermitted=\"false\" in base-config and allow cleartext only for named hosts that truly need it.",
			mp("MASVS-NETWORK-1", 319, "M3", "M5", "T3.1")),
			check: func(sc *scanCtx, emit emitFunc) {
				if nc := sc.app.NetworkConfig; nc != nil && nc.Base != nil && isTrue(nc.Base.CleartextPermitted) {
					emit(hit{loc: sc.nscLoc("base-config"), evidence: `cleartextTrafficPermitted="true"`})
				}
			}},
		{RuleMeta: meta("DFS-NET-002", Low, high, "Cleartext permitted for specific domains",
			"A domain-config permits cleartext traffic, so requests to those hosts travel unencrypted.",
			"Serve those hosts over TLS and remove the cleartext exception.",
			mp("MASVS-NETWORK-1", 319, "M3", "M5", "T3.1")),
			check: func(sc *scanCtx, emit emitFunc) {
				for _, c := range nscConfigs(sc.app.NetworkConfig, false) {
					if c.el != "base-config" && isTrue(c.cfg.CleartextPermitted) {
						emit(hit{loc: sc.nscLoc(c.el), evidence: `cleartextTrafficPermitted="true"`})
					}
				}
			}},
		{RuleMeta: meta("DFS-NET-003", High, high, "User-installed CAs trusted",
			"The network security configuration trusts certificates from the user store, so a proxy certificate the user (or malware, or an MDM) installed can intercept the app's TLS traffic.",
			"Trust only system CAs (or pinned CAs) in release builds; put user CAs under debug-overrides only.",
			mp("MASVS-NETWORK-1", 295, "M3", "M5", "T3.2")),
			check: func(sc *scanCtx, emit emitFunc) {
				for _, c := range nscConfigs(sc.app.NetworkConfig, false) {
					for _, t := range c.cfg.TrustAnchors {
						if t.Src == "user" {
							emit(hit{loc: sc.nscLoc(c.el), evidence: `<certificates src="user"/>`})
						}
					}
				}
			}},
		{RuleMeta: meta("DFS-NET-004", Medium, high, "Certificate pins expired",
			"A pin-set has an expiration date in the past; after it Android silently stops enforcing the pins, so pinning is off.",
			"Rotate pins and move the expiration date forward with every release, or drop the expiration.",
			mp("MASVS-NETWORK-2", 295, "M3", "M5", "T3.3")),
			check: func(sc *scanCtx, emit emitFunc) {
				for _, c := range nscConfigs(sc.app.NetworkConfig, false) {
					if c.cfg.PinExpiration == "" || len(c.cfg.Pins) == 0 {
						continue
					}
					if t, err := time.Parse("2006-01-02", c.cfg.PinExpiration); err == nil && t.Before(sc.now) {
						emit(hit{loc: sc.nscLoc(c.el), evidence: "expiration=" + c.cfg.PinExpiration})
					}
				}
			}},
		{RuleMeta: meta("DFS-NET-005", Low, high, "Single certificate pin without backup",
			"A pin-set has only one pin; when that key rotates the app can no longer connect, which tempts teams to remove pinning altogether.",
			"Pin at least two keys: the current one and a backup key kept offline.",
			mp("MASVS-NETWORK-2", 295, "M3", "M5", "T3.3")),
			check: func(sc *scanCtx, emit emitFunc) {
				for _, c := range nscConfigs(sc.app.NetworkConfig, false) {
					if len(c.cfg.Pins) == 1 {
						emit(hit{loc: sc.nscLoc(c.el), evidence: "1 pin"})
					}
				}
			}},
		{RuleMeta: meta("DFS-NET-006", Medium, high, "Trust anchor overrides pins",
			"A <certificates overridePins=\"true\"> entry lets certificates from that anchor bypass the pin-set, which defeats pinning for those CAs.",
			"Remove overridePins from release configurations.",
			mp("MASVS-NETWORK-2", 295, "M3", "M5", "T3.3")),
			check: func(sc *scanCtx, emit emitFunc) {
				for _, c := range nscConfigs(sc.app.NetworkConfig, false) {
					for _, t := range c.cfg.TrustAnchors {
						if t.OverridePins {
							emit(hit{loc: sc.nscLoc(c.el), evidence: `overridePins="true" src=` + t.Src})
						}
					}
				}
			}},
		{RuleMeta: meta("DFS-NET-007", Low, med, "Cleartext allowed for a whole domain tree",
			"A domain-config permits cleartext with includeSubdomains, widening the exception to every subdomain.",
			"Name the exact hosts that need the exception, or better, remove it.",
			mp("MASVS-NETWORK-1", 319, "M3", "M5", "T3.1")),
			check: func(sc *scanCtx, emit emitFunc) {
				nc := sc.app.NetworkConfig
				if nc == nil {
					return
				}
				for _, d := range nc.Domains {
					if !isTrue(d.CleartextPermitted) {
						continue
					}
					if i := slices.IndexFunc(d.Domains, func(x apk.Domain) bool { return x.IncludeSubdomains }); i >= 0 {
						emit(hit{loc: sc.nscLoc("domain-config[" + d.Domains[i].Name + "]"), evidence: "includeSubdomains=\"true\""})
					}
				}
			}},
	}
}
