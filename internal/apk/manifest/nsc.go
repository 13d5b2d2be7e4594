package manifest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/apk/axml"
)

// ErrNotNetworkSecurityConfig is returned for a tree whose root is not
// <network-security-config>.
var ErrNotNetworkSecurityConfig = errors.New("root element is not <network-security-config>")

// NetworkSecurityConfig is res/xml/<file>.xml named by
// android:networkSecurityConfig (Android 7+).
type NetworkSecurityConfig struct {
	// Base is <base-config>, nil when absent (platform defaults apply).
	Base *DomainConfig
	// Domains are the top-level <domain-config> elements; nested ones
	// are in their Children.
	Domains []*DomainConfig
	// DebugOverrides applies only when the app is debuggable.
	DebugOverrides *TrustAnchors
	Anomalies      []string
}

// DomainConfig is <base-config> or <domain-config>.
type DomainConfig struct {
	Locator                   string
	Domains                   []Domain
	CleartextTrafficPermitted OptBool
	// TrustAnchors is nil when the element declares none (inherited).
	TrustAnchors *TrustAnchors
	// PinSet is nil when the element declares none.
	PinSet   *PinSet
	Children []*DomainConfig
}

// Domain is a <domain> of a domain-config.
type Domain struct {
	Name              string
	IncludeSubdomains bool
}

// TrustAnchors is a <trust-anchors> element.
type TrustAnchors struct {
	Locator      string
	Certificates []Certificates
}

// Certificates is a <certificates> element.
type Certificates struct {
	// Source is "system", "user", or the path of a raw resource.
	Source string
	// Ref is the raw resource ID for app-bundled certificates.
	Ref          uint32
	OverridePins bool
}

// PinSet is a <pin-set>.
type PinSet struct {
	Locator string
	// Expiration is the raw expiration attribute (yyyy-MM-dd); Expires is
	// its parsed value, zero when absent or unparsable.
	Expiration string
	Expires    time.Time
	Pins       []Pin
}

// Pin is a <pin digest="SHA-256">base64</pin>.
type Pin struct {
	Digest string
	Value  string
}

// Walk calls fn for the base config and every domain config, nested
// ones included, parents before children.
func (n *NetworkSecurityConfig) Walk(fn func(*DomainConfig)) {
	if n.Base != nil {
		fn(n.Base)
	}
	var rec func(d *DomainConfig)
	rec = func(d *DomainConfig) {
		fn(d)
		for _, c := range d.Children {
			rec(c)
		}
	}
	for _, d := range n.Domains {
		rec(d)
	}
}

// plainAttr finds an attribute without namespace (the NSC and backup rule
// files use none), falling back to any namespace.
func plainAttr(el *axml.Element, name string) (*axml.Attr, bool) {
	if a, ok := el.Attr("", name); ok {
		return a, true
	}
	for i := range el.Attrs {
		if el.Attrs[i].Name == name {
			return &el.Attrs[i], true
		}
	}
	return nil, false
}

func plainStr(r resolver, el *axml.Element, name, where string) (string, uint32, bool) {
	a, ok := plainAttr(el, name)
	if !ok {
		return "", 0, false
	}
	v, ref := r.value(a, where)
	if v.Type == axml.TypeString {
		return v.Str, ref, true
	}
	return v.String(), ref, true
}

func plainBool(r resolver, el *axml.Element, name, where string) OptBool {
	a, ok := plainAttr(el, name)
	if !ok {
		return OptBool{}
	}
	v, ref := r.value(a, where)
	b, ok := v.AsBool()
	if !ok {
		r.note("%s: %s=%q is not a boolean", where, name, v.String())
		return OptBool{Ref: ref}
	}
	return OptBool{Set: true, Value: b, Ref: ref}
}

// ParseNetworkSecurityConfig builds the typed network security config.
func ParseNetworkSecurityConfig(tree *axml.Element, res Resolver) (*NetworkSecurityConfig, error) {
	if tree == nil || tree.Name != "network-security-config" {
		return nil, ErrNotNetworkSecurityConfig
	}
	n := &NetworkSecurityConfig{}
	r := resolver{res: res, anomalies: &n.Anomalies}
	for _, c := range tree.Children {
		switch c.Name {
		case "base-config":
			if n.Base != nil {
				r.note("more than one <base-config>; the first is used")
				continue
			}
			n.Base = parseDomainConfig(r, "base-config", c)
		case "domain-config":
			n.Domains = append(n.Domains, parseDomainConfig(r, "", c))
		case "debug-overrides":
			if ta := c.ChildrenNamed("trust-anchors"); len(ta) > 0 {
				n.DebugOverrides = parseTrustAnchors(r, "debug-overrides/trust-anchors", ta[0])
			} else {
				n.DebugOverrides = &TrustAnchors{Locator: "debug-overrides/trust-anchors"}
			}
		}
	}
	return n, nil
}

func parseDomainConfig(r resolver, loc string, el *axml.Element) *DomainConfig {
	d := &DomainConfig{}
	for _, c := range el.ChildrenNamed("domain") {
		d.Domains = append(d.Domains, Domain{
			Name:              strings.ToLower(strings.TrimSpace(c.Text)),
			IncludeSubdomains: plainBool(r, c, "includeSubdomains", "domain").IsTrue(),
		})
	}
	if loc == "" {
		name := ""
		if len(d.Domains) > 0 {
			name = d.Domains[0].Name
		}
		loc = fmt.Sprintf("domain-config[%s]", name)
	}
	d.Locator = loc
	d.CleartextTrafficPermitted = plainBool(r, el, "cleartextTrafficPermitted", loc)
	for _, c := range el.Children {
		switch c.Name {
		case "trust-anchors":
			if d.TrustAnchors == nil {
				d.TrustAnchors = parseTrustAnchors(r, loc+"/trust-anchors", c)
			}
		case "pin-set":
			if d.PinSet == nil {
				d.PinSet = parsePinSet(r, loc+"/pin-set", c)
			}
		case "domain-config":
			// Depth is bounded by the XML decoder; nesting is legal.
			child := parseDomainConfig(r, "", c)
			child.relocate(loc + "/" + child.Locator)
			d.Children = append(d.Children, child)
		}
	}
	return d
}

func (d *DomainConfig) relocate(loc string) {
	old := d.Locator
	d.Locator = loc
	if d.TrustAnchors != nil {
		d.TrustAnchors.Locator = loc + strings.TrimPrefix(d.TrustAnchors.Locator, old)
	}
	if d.PinSet != nil {
		d.PinSet.Locator = loc + strings.TrimPrefix(d.PinSet.Locator, old)
	}
	for _, c := range d.Children {
		c.relocate(loc + strings.TrimPrefix(c.Locator, old))
	}
}

func parseTrustAnchors(r resolver, loc string, el *axml.Element) *TrustAnchors {
	t := &TrustAnchors{Locator: loc}
	for _, c := range el.ChildrenNamed("certificates") {
		src, ref, _ := plainStr(r, c, "src", loc)
		t.Certificates = append(t.Certificates, Certificates{
			Source:       src,
			Ref:          ref,
			OverridePins: plainBool(r, c, "overridePins", loc).IsTrue(),
		})
	}
	return t
}

func parsePinSet(r resolver, loc string, el *axml.Element) *PinSet {
	p := &PinSet{Locator: loc}
	p.Expiration, _, _ = plainStr(r, el, "expiration", loc)
	if p.Expiration != "" {
		t, err := time.Parse("2006-01-02", strings.TrimSpace(p.Expiration))
		if err != nil {
			r.note("%s: expiration %q is not yyyy-MM-dd", loc, p.Expiration)
		} else {
			p.Expires = t
		}
	}
	for _, c := range el.ChildrenNamed("pin") {
		dg, _, _ := plainStr(r, c, "digest", loc)
		p.Pins = append(p.Pins, Pin{Digest: dg, Value: strings.TrimSpace(c.Text)})
	}
	return p
}
