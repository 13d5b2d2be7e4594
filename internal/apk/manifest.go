package apk

import (
	"path"
	"strings"

	"github.com/dfslab/dfslab/internal/apk/aabproto"
	"github.com/dfslab/dfslab/internal/apk/arsc"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/apk/manifest"
	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// xmlFormat says how the XML files of a container are compiled.
type xmlFormat int

const (
	binaryXML xmlFormat = iota // APK: binary XML
	protoXML                   // AAB: aapt2 protobuf XmlNode
)

func decodeXML(data []byte, f xmlFormat) (*axml.Element, error) {
	if f == protoXML {
		return aabproto.DecodeXML(data)
	}
	return axml.Decode(data)
}

// resolver returns t as a manifest.Resolver, or a nil interface (not a
// typed nil) when there is no resource table.
func resolver(t *arsc.Table) manifest.Resolver {
	if t == nil {
		return nil
	}
	return t
}

// decodeManifest parses a manifest with the manifest package and converts
// it into the scanner's model.
func decodeManifest(data []byte, f xmlFormat, res *arsc.Table) (*Manifest, *manifest.Manifest, error) {
	tree, err := decodeXML(data, f)
	if err != nil {
		return nil, nil, err
	}
	m, err := manifest.Parse(tree, resolver(res))
	if err != nil {
		return nil, nil, err
	}
	return convertManifest(m), m, nil
}

func optBool(b manifest.OptBool) *bool {
	if !b.Set {
		return nil
	}
	v := b.Value
	return &v
}

func optString(s manifest.OptString) *string {
	if !s.Set {
		return nil
	}
	v := s.Value
	return &v
}

func convertManifest(m *manifest.Manifest) *Manifest {
	out := &Manifest{Package: m.Package, VersionCode: m.VersionCode, VersionName: m.VersionName, MinSDK: m.MinSDK,
		TargetSDK: m.TargetSDK, SharedUserID: m.SharedUserID, InstallLocation: m.InstallLocation}
	for _, p := range m.UsesPermissions {
		out.UsesPermissions = appendNew(out.UsesPermissions, p.Name)
	}
	for _, p := range m.Permissions {
		out.Permissions = append(out.Permissions, PermissionDecl{Name: p.Name, ProtectionLevel: p.ProtectionLevel.String()})
	}
	a := &m.Application
	out.Application = Application{Name: a.Name, Label: a.Label, Debuggable: optBool(a.Debuggable), AllowBackup: optBool(a.AllowBackup),
		TestOnly: a.TestOnly.IsTrue(), UsesCleartextTraffic: optBool(a.UsesCleartextTraffic), NetworkSecurityConfig: resPath(a.NetworkSecurityConfig),
		FullBackupContent: resPath(a.FullBackupContent), DataExtractionRules: resPath(a.DataExtractionRules),
		TaskAffinity: optString(a.TaskAffinity), Permission: a.Permission}
	for _, c := range m.Application.Components {
		comp := Component{Kind: string(c.Kind), Name: c.Name, Exported: optBool(c.ExportedAttr), Permission: c.Permission,
			ReadPermission: c.ReadPermission, WritePermission: c.WritePermission, Authorities: strings.Join(c.Authorities, ";"),
			GrantURIPermissions: c.GrantURIPermissions.IsTrue(), TaskAffinity: optString(c.TaskAffinity), LaunchMode: c.LaunchMode,
			TargetActivity: c.TargetActivity}
		if !c.Enabled {
			f := false
			comp.Enabled = &f
		}
		for _, f := range c.IntentFilters {
			filter := IntentFilter{Actions: f.Actions, Categories: f.Categories, AutoVerify: f.AutoVerify, Priority: f.Priority}
			for _, d := range f.Data {
				filter.Data = append(filter.Data, IntentData{Scheme: d.Scheme, Host: d.Host, Path: d.Path, PathPrefix: d.PathPrefix,
					PathPattern: d.PathPattern, MimeType: d.MimeType})
			}
			comp.Filters = append(comp.Filters, filter)
		}
		out.Application.Components = append(out.Application.Components, comp)
	}
	return out
}

// resPath is the file a resource attribute points to, "false" when the
// attribute disables the feature, "" when absent.
func resPath(r manifest.ResFile) string {
	switch {
	case !r.Set:
		return ""
	case r.Disabled:
		return "false"
	}
	return r.Path
}

// loadXMLConfigs reads the network security configuration and the backup
// rules the manifest points to. dir is the module folder of an App Bundle
// ("base/"), "" in an APK.
func (l *loader) loadXMLConfigs(z *zipfs.Archive, prefix, dir string, f xmlFormat) {
	app := &l.app.Manifest.Application
	if p := app.NetworkSecurityConfig; p != "" && p != "false" {
		if tree := l.readXML(z, prefix, dir+p, f); tree != nil {
			if nc, err := manifest.ParseNetworkSecurityConfig(tree, resolver(l.res)); err != nil {
				l.warnf("%s%s: %v", prefix, dir+p, err)
			} else {
				l.app.NetworkConfig = convertNSC(nc)
			}
		}
	}
	for _, p := range []string{app.FullBackupContent, app.DataExtractionRules} {
		if p == "" || p == "false" {
			continue
		}
		tree := l.readXML(z, prefix, dir+p, f)
		if tree == nil {
			continue
		}
		br, err := manifest.ParseBackupRules(tree, resolver(l.res))
		if err != nil {
			l.warnf("%s%s: %v", prefix, dir+p, err)
			continue
		}
		if l.app.Backup == nil {
			l.app.Backup = &BackupRules{File: prefix + dir + p}
		}
		for _, s := range br.Sections {
			for _, x := range s.Include {
				l.app.Backup.Includes = append(l.app.Backup.Includes, x.Domain+":"+x.Path)
			}
			for _, x := range s.Exclude {
				l.app.Backup.Excludes = append(l.app.Backup.Excludes, x.Domain+":"+x.Path)
			}
		}
	}
}

func (l *loader) readXML(z *zipfs.Archive, prefix, name string, f xmlFormat) *axml.Element {
	name = path.Clean(name)
	data, err := z.ReadFile(name, l.lim.MaxTextSize*4)
	if err != nil {
		l.warnf("%s%s: %v", prefix, name, err)
		return nil
	}
	tree, err := decodeXML(data, f)
	if err != nil {
		l.warnf("%s%s: %v", prefix, name, err)
		return nil
	}
	return tree
}

func convertNSC(n *manifest.NetworkSecurityConfig) *NetworkConfig {
	out := &NetworkConfig{}
	conv := func(d *manifest.DomainConfig) DomainConfig {
		c := DomainConfig{CleartextPermitted: optBool(d.CleartextTrafficPermitted), TrustAnchors: anchors(d.TrustAnchors)}
		for _, x := range d.Domains {
			c.Domains = append(c.Domains, Domain{Name: x.Name, IncludeSubdomains: x.IncludeSubdomains})
		}
		if d.PinSet != nil {
			c.PinExpiration = d.PinSet.Expiration
			for _, p := range d.PinSet.Pins {
				c.Pins = append(c.Pins, p.Value)
			}
		}
		return c
	}
	n.Walk(func(d *manifest.DomainConfig) {
		c := conv(d)
		if d == n.Base {
			out.Base = &c
		} else {
			out.Domains = append(out.Domains, c)
		}
	})
	if n.DebugOverrides != nil {
		out.Debug = &DomainConfig{TrustAnchors: anchors(n.DebugOverrides)}
	}
	return out
}

func anchors(t *manifest.TrustAnchors) []TrustAnchor {
	if t == nil {
		return nil
	}
	var out []TrustAnchor
	for _, c := range t.Certificates {
		out = append(out, TrustAnchor{Src: c.Source, OverridePins: c.OverridePins})
	}
	return out
}
