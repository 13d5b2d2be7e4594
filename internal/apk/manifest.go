package apk

import (
	"errors"
	"strings"

	"github.com/dfslab/dfslab/internal/apk/arsc"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// errNoProtoReader is reported for App Bundles until the protobuf manifest
// reader is wired in.
var errNoProtoReader = errors.New("protobuf manifest of App Bundles not supported yet")

func decodeProtoManifest([]byte) (*Manifest, error) { return nil, errNoProtoReader }

// attrs reads android: attributes of one element, resolving resource
// references through the resource table when there is one.
type attrs struct {
	el  *axml.Element
	res *arsc.Table
}

func (a attrs) value(name string) (axml.Value, bool) {
	at, ok := a.el.AndroidAttr(name)
	if !ok {
		return axml.Value{}, false
	}
	v := at.Value
	if v.IsReference() && a.res != nil {
		if r, err := a.res.ResolveValue(v); err == nil {
			v = r
		}
	}
	if v.Type == axml.TypeNull && at.Raw != "" {
		v = axml.Str(at.Raw)
	}
	return v, true
}

func (a attrs) str(name string) string {
	v, ok := a.value(name)
	if !ok {
		return ""
	}
	if v.Type == axml.TypeString {
		return v.Str
	}
	return v.String()
}

func (a attrs) boolPtr(name string) *bool {
	v, ok := a.value(name)
	if !ok {
		return nil
	}
	b, ok := v.AsBool()
	if !ok {
		return nil
	}
	return &b
}

func (a attrs) flag(name string) bool { b := a.boolPtr(name); return b != nil && *b }

func (a attrs) int(name string) int64 {
	v, ok := a.value(name)
	if !ok {
		return 0
	}
	i, _ := v.AsInt()
	return i
}

func (a attrs) strPtr(name string) *string {
	if _, ok := a.value(name); !ok {
		return nil
	}
	s := a.str(name)
	return &s
}

// plain reads an attribute without namespace (manifest's package).
func plain(el *axml.Element, name string) string {
	if at, ok := el.Attr("", name); ok {
		if at.Value.Type == axml.TypeString {
			return at.Value.Str
		}
		return at.Raw
	}
	return ""
}

var installLocations = map[string]string{"0": "auto", "1": "internalOnly", "2": "preferExternal"}
var launchModes = map[string]string{"0": "standard", "1": "singleTop", "2": "singleTask", "3": "singleInstance", "4": "singleInstancePerTask"}
var protectionLevels = map[int64]string{0: "normal", 1: "dangerous", 2: "signature", 3: "signatureOrSystem"}

// decodeManifest turns binary AndroidManifest.xml into the model.
func decodeManifest(data []byte, res *arsc.Table) (*Manifest, error) {
	root, err := axml.Decode(data)
	if err != nil {
		return nil, err
	}
	if root.Name != "manifest" {
		return nil, errors.New("root element is <" + root.Name + ">, not <manifest>")
	}
	a := attrs{root, res}
	m := &Manifest{Package: plain(root, "package"), VersionCode: a.int("versionCode"), VersionName: a.str("versionName"),
		SharedUserID: a.str("sharedUserId")}
	if v, ok := a.value("installLocation"); ok {
		m.InstallLocation = v.String()
		if i, ok := v.AsInt(); ok {
			m.InstallLocation = installLocations[itoa(i)]
		}
	}
	for _, c := range root.Children {
		ca := attrs{c, res}
		switch c.Name {
		case "uses-sdk":
			m.MinSDK = int(ca.int("minSdkVersion"))
			m.TargetSDK = int(ca.int("targetSdkVersion"))
		case "uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m":
			if n := ca.str("name"); n != "" {
				m.UsesPermissions = appendNew(m.UsesPermissions, n)
			}
		case "permission":
			p := PermissionDecl{Name: ca.str("name")}
			if v, ok := ca.value("protectionLevel"); ok {
				if i, ok := v.AsInt(); ok {
					p.ProtectionLevel = protectionLevels[i&0xf]
					if p.ProtectionLevel == "" {
						p.ProtectionLevel = "signature"
					}
				} else {
					p.ProtectionLevel = v.String()
				}
			}
			m.Permissions = append(m.Permissions, p)
		case "application":
			m.Application = decodeApplication(c, res, m.Package)
		}
	}
	return m, nil
}

func decodeApplication(el *axml.Element, res *arsc.Table, pkg string) Application {
	a := attrs{el, res}
	app := Application{Name: className(a.str("name"), pkg), Label: a.str("label"), Debuggable: a.boolPtr("debuggable"),
		AllowBackup: a.boolPtr("allowBackup"), TestOnly: a.flag("testOnly"), UsesCleartextTraffic: a.boolPtr("usesCleartextTraffic"),
		NetworkSecurityConfig: a.str("networkSecurityConfig"), FullBackupContent: a.str("fullBackupContent"),
		DataExtractionRules: a.str("dataExtractionRules"), TaskAffinity: a.strPtr("taskAffinity"), Permission: a.str("permission")}
	for _, c := range el.Children {
		switch c.Name {
		case "activity", "activity-alias", "service", "receiver", "provider":
		default:
			continue
		}
		ca := attrs{c, res}
		comp := Component{Kind: c.Name, Name: className(ca.str("name"), pkg), Exported: ca.boolPtr("exported"), Enabled: ca.boolPtr("enabled"),
			Permission: ca.str("permission"), ReadPermission: ca.str("readPermission"), WritePermission: ca.str("writePermission"),
			Authorities: ca.str("authorities"), GrantURIPermissions: ca.flag("grantUriPermissions"), TaskAffinity: ca.strPtr("taskAffinity")}
		if v, ok := ca.value("launchMode"); ok {
			if i, ok := v.AsInt(); ok {
				comp.LaunchMode = launchModes[itoa(i)]
			}
		}
		for _, f := range c.ChildrenNamed("intent-filter") {
			fa := attrs{f, res}
			filter := IntentFilter{AutoVerify: fa.flag("autoVerify"), Priority: int(fa.int("priority"))}
			for _, x := range f.Children {
				xa := attrs{x, res}
				switch x.Name {
				case "action":
					filter.Actions = append(filter.Actions, xa.str("name"))
				case "category":
					filter.Categories = append(filter.Categories, xa.str("name"))
				case "data":
					filter.Data = append(filter.Data, IntentData{Scheme: xa.str("scheme"), Host: xa.str("host"), Path: xa.str("path"),
						PathPrefix: xa.str("pathPrefix"), PathPattern: xa.str("pathPattern"), MimeType: xa.str("mimeType")})
				}
			}
			comp.Filters = append(comp.Filters, filter)
		}
		app.Components = append(app.Components, comp)
	}
	return app
}

// className expands ".Main" and "Main" against the package, as Android does.
func className(n, pkg string) string {
	switch {
	case strings.HasPrefix(n, "."):
		return pkg + n
	case n != "" && !strings.Contains(n, "."):
		return pkg + "." + n
	}
	return n
}

// loadXMLConfigs reads the network security configuration and the backup
// rules the manifest points to.
func (l *loader) loadXMLConfigs(z *zipfs.Archive, prefix string) {
	app := &l.app.Manifest.Application
	if p := app.NetworkSecurityConfig; p != "" {
		if el := l.readXML(z, prefix, p); el != nil {
			l.app.NetworkConfig = parseNetworkConfig(el)
		}
	}
	for _, p := range []string{app.FullBackupContent, app.DataExtractionRules} {
		if p == "" || p == "true" || p == "false" {
			continue
		}
		if el := l.readXML(z, prefix, p); el != nil {
			b := parseBackupRules(el, p)
			if l.app.Backup == nil {
				l.app.Backup = b
			} else {
				l.app.Backup.Includes = append(l.app.Backup.Includes, b.Includes...)
				l.app.Backup.Excludes = append(l.app.Backup.Excludes, b.Excludes...)
			}
		}
	}
}

func (l *loader) readXML(z *zipfs.Archive, prefix, name string) *axml.Element {
	data, err := z.ReadFile(name, l.lim.MaxTextSize*4)
	if err != nil {
		l.warnf("%s%s: %v", prefix, name, err)
		return nil
	}
	el, err := axml.Decode(data)
	if err != nil {
		l.warnf("%s%s: %v", prefix, name, err)
		return nil
	}
	return el
}

// parseNetworkConfig reads <network-security-config>. Its attributes are
// plain (not android:) names.
func parseNetworkConfig(root *axml.Element) *NetworkConfig {
	nc := &NetworkConfig{}
	for _, c := range root.Children {
		switch c.Name {
		case "base-config":
			d := parseDomainConfig(c)
			nc.Base = &d
		case "domain-config":
			nc.Domains = append(nc.Domains, parseDomainConfig(c))
			// nested domain-configs inherit nothing we check; flatten them
			for _, n := range c.ChildrenNamed("domain-config") {
				nc.Domains = append(nc.Domains, parseDomainConfig(n))
			}
		case "debug-overrides":
			d := parseDomainConfig(c)
			nc.Debug = &d
		}
	}
	return nc
}

func plainBool(el *axml.Element, name string) *bool {
	at, ok := el.Attr("", name)
	if !ok {
		return nil
	}
	v := at.Value
	if v.Type == axml.TypeNull {
		v = axml.Str(at.Raw)
	}
	b, ok := v.AsBool()
	if !ok {
		return nil
	}
	return &b
}

func parseDomainConfig(el *axml.Element) DomainConfig {
	d := DomainConfig{CleartextPermitted: plainBool(el, "cleartextTrafficPermitted")}
	for _, c := range el.Children {
		switch c.Name {
		case "domain":
			d.Domains = append(d.Domains, Domain{Name: strings.TrimSpace(c.Text), IncludeSubdomains: isTrueP(plainBool(c, "includeSubdomains"))})
		case "trust-anchors":
			for _, t := range c.ChildrenNamed("certificates") {
				d.TrustAnchors = append(d.TrustAnchors, TrustAnchor{Src: plain(t, "src"), OverridePins: isTrueP(plainBool(t, "overridePins"))})
			}
		case "pin-set":
			d.PinExpiration = plain(c, "expiration")
			for _, p := range c.ChildrenNamed("pin") {
				d.Pins = append(d.Pins, strings.TrimSpace(p.Text))
			}
		}
	}
	return d
}

func isTrueP(b *bool) bool { return b != nil && *b }

// parseBackupRules reads full-backup-content or data-extraction-rules.
func parseBackupRules(root *axml.Element, file string) *BackupRules {
	b := &BackupRules{File: file}
	root.Walk(func(el *axml.Element, _ int) {
		rule := plain(el, "domain") + ":" + plain(el, "path")
		switch el.Name {
		case "include":
			b.Includes = append(b.Includes, rule)
		case "exclude":
			b.Excludes = append(b.Excludes, rule)
		}
	})
	return b
}
