package manifest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/apk/axml"
)

// ErrNotManifest is returned when the root element is not <manifest>.
var ErrNotManifest = errors.New("root element is not <manifest>")

// CurDevelopment is the SDK level Android gives a preview codename
// (Build.VERSION_CODES.CUR_DEVELOPMENT).
const CurDevelopment = 10000

// maxAnomalies bounds the anomaly list on hostile manifests.
const maxAnomalies = 100

// resolver wraps a possibly nil Resolver and records what failed.
type resolver struct {
	res       Resolver
	anomalies *[]string
}

func (r resolver) note(format string, args ...any) {
	if len(*r.anomalies) < maxAnomalies {
		*r.anomalies = append(*r.anomalies, fmt.Sprintf(format, args...))
	}
}

// value returns the attribute's value with references resolved when
// possible, and the resource ID it came from.
func (r resolver) value(a *axml.Attr, where string) (axml.Value, uint32) {
	v := a.Value
	if !v.IsReference() {
		return v, 0
	}
	ref := v.Data
	if r.res == nil {
		r.note("%s: %s=%s not resolved: no resource table", where, a.Name, v)
		return v, ref
	}
	rv, err := r.res.Resolve(ref)
	if err != nil {
		r.note("%s: %s=%s: %v", where, a.Name, v, err)
		return v, ref
	}
	return rv, ref
}

type attrs struct {
	r     resolver
	el    *axml.Element
	where string
}

func (p attrs) get(name string) (*axml.Attr, bool) { return p.el.AndroidAttr(name) }

// str returns the text of an android: attribute ("" when absent).
func (p attrs) str(name string) string {
	s, _ := p.optStr(name)
	return s
}

func (p attrs) optStr(name string) (string, bool) {
	a, ok := p.get(name)
	if !ok {
		return "", false
	}
	v, _ := p.r.value(a, p.where)
	if v.Type == axml.TypeString {
		return v.Str, true
	}
	if v.IsNull() && a.Raw != "" {
		return a.Raw, true
	}
	return v.String(), true
}

func (p attrs) boolean(name string) OptBool {
	a, ok := p.get(name)
	if !ok {
		return OptBool{}
	}
	v, ref := p.r.value(a, p.where)
	b, ok := v.AsBool()
	if !ok {
		p.r.note("%s: %s=%q is not a boolean", p.where, name, v.String())
		return OptBool{Ref: ref}
	}
	return OptBool{Set: true, Value: b, Ref: ref}
}

func (p attrs) integer(name string) (int64, bool) {
	a, ok := p.get(name)
	if !ok {
		return 0, false
	}
	v, _ := p.r.value(a, p.where)
	n, ok := v.AsInt()
	return n, ok
}

func (p attrs) ref(name string) uint32 {
	a, ok := p.get(name)
	if !ok || !a.Value.IsReference() {
		return 0
	}
	return a.Value.Data
}

// file reads an attribute naming a resource file, e.g. @xml/nsc.
func (p attrs) file(name string) ResFile {
	a, ok := p.get(name)
	if !ok {
		return ResFile{}
	}
	f := ResFile{Set: true}
	if b, ok := a.Value.AsBool(); ok && a.Value.Type == axml.TypeIntBoolean {
		f.Disabled = !b
		return f
	}
	v, ref := p.r.value(a, p.where)
	f.ResID = ref
	if v.Type == axml.TypeString {
		if v.Str == "false" {
			f.Disabled = true
		} else if ref != 0 {
			f.Path = v.Str
		}
	}
	return f
}

// Parse builds the typed manifest from the decoded AndroidManifest.xml.
// res may be nil; references then stay unresolved and are listed in
// Manifest.Anomalies.
func Parse(tree *axml.Element, res Resolver) (*Manifest, error) {
	if tree == nil || tree.Name != "manifest" {
		name := "<nil>"
		if tree != nil {
			name = tree.Name
		}
		return nil, fmt.Errorf("%w (found <%s>)", ErrNotManifest, name)
	}
	m := &Manifest{}
	r := resolver{res: res, anomalies: &m.Anomalies}
	at := attrs{r: r, el: tree, where: "manifest"}
	if a, ok := tree.Attr("", "package"); ok {
		v, _ := r.value(a, "manifest")
		m.Package = v.Str
	}
	if m.Package == "" {
		r.note("manifest: no package name")
	}
	m.VersionCode, _ = at.integer("versionCode")
	m.VersionName = at.str("versionName")
	m.SharedUserID = at.str("sharedUserId")
	if n, ok := at.integer("compileSdkVersion"); ok {
		m.CompileSDK = int(n)
	}
	if n, ok := at.integer("installLocation"); ok {
		m.InstallLocation = installLocation(n)
	} else if s, ok := at.optStr("installLocation"); ok {
		m.InstallLocation = s
	}

	sawSDK := false
	for _, c := range tree.Children {
		switch c.Name {
		case "uses-sdk":
			if !sawSDK {
				sawSDK = true
				parseUsesSDK(m, attrs{r: r, el: c, where: "uses-sdk"})
			}
		case "uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m":
			a := attrs{r: r, el: c, where: c.Name}
			up := UsesPermission{Name: a.str("name"), SDK23: c.Name != "uses-permission"}
			if n, ok := a.integer("maxSdkVersion"); ok {
				up.MaxSDK = int(n)
			}
			if n, ok := a.integer("usesPermissionFlags"); ok && n&0x10000 != 0 {
				up.NeverForLocation = true
			}
			up.Locator = fmt.Sprintf("%s[%s]", c.Name, up.Name)
			m.UsesPermissions = append(m.UsesPermissions, up)
		case "permission":
			a := attrs{r: r, el: c, where: "permission"}
			p := Permission{Name: a.str("name"), Group: a.str("permissionGroup")}
			p.Locator = "permission[" + p.Name + "]"
			if n, ok := a.integer("protectionLevel"); ok {
				p.ProtectionLevel = ProtectionLevel(n)
			} else if s, ok := a.optStr("protectionLevel"); ok {
				if lvl, ok := parseProtectionLevel(s); ok {
					p.ProtectionLevel = lvl
				} else {
					r.note("%s: unknown protectionLevel %q", p.Locator, s)
				}
			}
			m.Permissions = append(m.Permissions, p)
		case "uses-feature":
			if n := (attrs{r: r, el: c, where: "uses-feature"}).str("name"); n != "" {
				m.UsesFeatures = append(m.UsesFeatures, n)
			}
		case "queries":
			parseQueries(m, r, c)
		}
	}
	if !sawSDK {
		m.MinSDK = 1
	}
	if m.TargetSDK == 0 && m.TargetSDKCodename == "" {
		m.TargetSDK = m.MinSDK
	}
	// Android uses the first <application>; later ones are ignored.
	if apps := tree.ChildrenNamed("application"); len(apps) > 0 {
		if len(apps) > 1 {
			r.note("manifest: %d <application> elements, the first is used", len(apps))
		}
		parseApplication(m, r, apps[0])
	}
	return m, nil
}

func installLocation(n int64) string {
	switch n {
	case 0:
		return "auto"
	case 1:
		return "internalOnly"
	case 2:
		return "preferExternal"
	}
	return strconv.FormatInt(n, 10)
}

func parseUsesSDK(m *Manifest, a attrs) {
	sdk := func(name string) (int, string) {
		if n, ok := a.integer(name); ok {
			return int(n), ""
		}
		if s, ok := a.optStr(name); ok && s != "" {
			// A codename means a preview platform; Android compares it
			// as CUR_DEVELOPMENT.
			return CurDevelopment, s
		}
		return 0, ""
	}
	m.MinSDK, m.MinSDKCodename = sdk("minSdkVersion")
	if _, ok := a.get("minSdkVersion"); !ok {
		m.MinSDK = 1
	}
	m.TargetSDK, m.TargetSDKCodename = sdk("targetSdkVersion")
	m.MaxSDK, _ = sdk("maxSdkVersion")
}

// className expands ".Main" and "Main" against the package, as
// PackageParser does.
func className(pkg, name string) string {
	switch {
	case name == "":
		return ""
	case strings.HasPrefix(name, "."):
		return pkg + name
	case !strings.Contains(name, "."):
		return pkg + "." + name
	}
	return name
}

func parseApplication(m *Manifest, r resolver, el *axml.Element) {
	app := &m.Application
	app.Present = true
	app.Locator = "application"
	a := attrs{r: r, el: el, where: "application"}
	app.Name = className(m.Package, a.str("name"))
	app.Label = a.str("label")
	app.Icon = a.ref("icon")
	app.Theme = a.ref("theme")
	app.Debuggable = a.boolean("debuggable")
	app.AllowBackup = a.boolean("allowBackup")
	app.FullBackupOnly = a.boolean("fullBackupOnly")
	app.UsesCleartextTraffic = a.boolean("usesCleartextTraffic")
	app.TestOnly = a.boolean("testOnly")
	app.ExtractNativeLibs = a.boolean("extractNativeLibs")
	app.RequestLegacyExternalStorage = a.boolean("requestLegacyExternalStorage")
	app.HasFragileUserData = a.boolean("hasFragileUserData")
	app.LargeHeap = a.boolean("largeHeap")
	app.Persistent = a.boolean("persistent")
	app.DirectBootAware = a.boolean("directBootAware")
	app.FullBackupContent = a.file("fullBackupContent")
	app.DataExtractionRules = a.file("dataExtractionRules")
	app.NetworkSecurityConfig = a.file("networkSecurityConfig")
	if app.NetworkSecurityConfig.Set && app.NetworkSecurityConfig.Path == "" {
		r.note("application: networkSecurityConfig does not resolve to a file")
	}
	app.BackupAgent = className(m.Package, a.str("backupAgent"))
	if s, ok := a.optStr("taskAffinity"); ok {
		app.TaskAffinity = OptString{Set: true, Value: s}
	}
	app.Permission = a.str("permission")
	app.Process = a.str("process")
	app.AppComponentFactory = className(m.Package, a.str("appComponentFactory"))

	counts := map[string]int{}
	for _, c := range el.Children {
		switch k := Kind(c.Name); k {
		case Activity, ActivityAlias, Service, Receiver, Provider:
			comp := parseComponent(m, r, k, c)
			// Duplicate names get an index so locators stay unique.
			base := comp.Locator
			if n := counts[base]; n > 0 {
				comp.relocate(fmt.Sprintf("%s#%d", base, n))
			}
			counts[base]++
			app.Components = append(app.Components, comp)
		case "meta-data":
			app.MetaData = append(app.MetaData, parseMetaData(r, "application", c))
		}
	}
}

func parseComponent(m *Manifest, r resolver, k Kind, el *axml.Element) *Component {
	c := &Component{Kind: k, Line: el.Line}
	a := attrs{r: r, el: el, where: string(k)}
	c.Name = className(m.Package, a.str("name"))
	c.Locator = fmt.Sprintf("%s[%s]", k, c.Name)
	a.where = c.Locator
	c.ExportedAttr = a.boolean("exported")
	c.Enabled = a.boolean("enabled").Or(true)
	c.Permission = a.str("permission")
	if c.Permission == "" {
		c.Permission = m.Application.Permission // inherited from <application>
	}
	c.ReadPermission = a.str("readPermission")
	c.WritePermission = a.str("writePermission")
	if k == Provider {
		for au := range strings.SplitSeq(a.str("authorities"), ";") {
			if au = strings.TrimSpace(au); au != "" {
				c.Authorities = append(c.Authorities, au)
			}
		}
		c.GrantURIPermissions = a.boolean("grantUriPermissions")
		// Read and write access fall back to android:permission.
		if c.ReadPermission == "" {
			c.ReadPermission = c.Permission
		}
		if c.WritePermission == "" {
			c.WritePermission = c.Permission
		}
	}
	if s, ok := a.optStr("taskAffinity"); ok {
		c.TaskAffinity = OptString{Set: true, Value: s}
	} else if m.Application.TaskAffinity.Set {
		c.TaskAffinity = m.Application.TaskAffinity
	}
	if n, ok := a.integer("launchMode"); ok {
		c.LaunchMode = launchMode(n)
	} else if k == Activity || k == ActivityAlias {
		c.LaunchMode = "standard"
	}
	c.TargetActivity = className(m.Package, a.str("targetActivity"))
	c.Process = a.str("process")
	c.DirectBootAware = a.boolean("directBootAware").IsTrue()
	c.IsolatedProcess = a.boolean("isolatedProcess").IsTrue()
	c.ExcludeFromRecents = a.boolean("excludeFromRecents").IsTrue()
	c.AllowTaskReparenting = a.boolean("allowTaskReparenting").IsTrue()
	if n, ok := a.integer("foregroundServiceType"); ok {
		c.ForegroundService = uint32(n)
	}
	fi := 0
	for _, ch := range el.Children {
		switch ch.Name {
		case "intent-filter":
			f := parseIntentFilter(r, fmt.Sprintf("%s/intent-filter[%d]", c.Locator, fi), ch)
			fi++
			c.IntentFilters = append(c.IntentFilters, f)
		case "meta-data":
			c.MetaData = append(c.MetaData, parseMetaData(r, c.Locator, ch))
		case "grant-uri-permission":
			g := attrs{r: r, el: ch, where: c.Locator}
			for _, n := range []string{"path", "pathPrefix", "pathPattern", "pathSuffix", "pathAdvancedPattern"} {
				if s := g.str(n); s != "" {
					c.GrantURIPaths = append(c.GrantURIPaths, s)
				}
			}
		}
	}
	c.Exported, c.ExportReason = exported(m, c)
	if !c.ExportedAttr.Set && len(c.IntentFilters) > 0 && m.TargetSDK >= 31 {
		r.note("%s: has intent filters but no android:exported (required from targetSdk 31; Android refuses to install)", c.Locator)
	}
	return c
}

// exported applies PackageParser's rules for android:exported.
func exported(m *Manifest, c *Component) (bool, ExportReason) {
	if c.ExportedAttr.Set {
		return c.ExportedAttr.Value, ExportExplicit
	}
	if c.Kind == Provider {
		// Providers were exported by default up to API 16.
		if m.MinSDK <= 16 || m.TargetSDK <= 16 {
			return true, ExportProviderOld
		}
		return false, ExportDefaultClosed
	}
	if len(c.IntentFilters) > 0 && m.TargetSDK < 31 {
		return true, ExportIntentFilter
	}
	return false, ExportDefaultClosed
}

func launchMode(n int64) string {
	switch n {
	case 0:
		return "standard"
	case 1:
		return "singleTop"
	case 2:
		return "singleTask"
	case 3:
		return "singleInstance"
	case 4:
		return "singleInstancePerTask"
	}
	return strconv.FormatInt(n, 10)
}

func parseIntentFilter(r resolver, loc string, el *axml.Element) IntentFilter {
	f := IntentFilter{Locator: loc}
	a := attrs{r: r, el: el, where: loc}
	f.AutoVerify = a.boolean("autoVerify").IsTrue()
	if n, ok := a.integer("priority"); ok {
		f.Priority = int(n)
	}
	for _, ch := range el.Children {
		ca := attrs{r: r, el: ch, where: loc}
		switch ch.Name {
		case "action":
			f.Actions = append(f.Actions, ca.str("name"))
		case "category":
			f.Categories = append(f.Categories, ca.str("name"))
		case "data":
			f.Data = append(f.Data, Data{
				Scheme: ca.str("scheme"), Host: ca.str("host"), Port: ca.str("port"),
				Path: ca.str("path"), PathPrefix: ca.str("pathPrefix"), PathPattern: ca.str("pathPattern"),
				PathSuffix: ca.str("pathSuffix"), PathAdvancedPattern: ca.str("pathAdvancedPattern"),
				MimeType: ca.str("mimeType"),
			})
		}
	}
	return f
}

func parseMetaData(r resolver, parent string, el *axml.Element) MetaData {
	a := attrs{r: r, el: el, where: parent + "/meta-data"}
	md := MetaData{Name: a.str("name")}
	md.Locator = fmt.Sprintf("%s/meta-data[%s]", parent, md.Name)
	a.where = md.Locator
	md.Resource = a.ref("resource")
	if md.Resource == 0 {
		md.Resource = a.ref("value")
	}
	md.Value = a.str("value")
	return md
}

func parseQueries(m *Manifest, r resolver, el *axml.Element) {
	for i, ch := range el.Children {
		a := attrs{r: r, el: ch, where: "queries"}
		switch ch.Name {
		case "package":
			m.Queries.Packages = append(m.Queries.Packages, a.str("name"))
		case "intent":
			m.Queries.Intents = append(m.Queries.Intents, parseIntentFilter(r, fmt.Sprintf("queries/intent[%d]", i), ch))
		case "provider":
			m.Queries.Providers = append(m.Queries.Providers, a.str("authorities"))
		}
	}
}

// relocate renames c's locator and those of its children.
func (c *Component) relocate(loc string) {
	old := c.Locator
	c.Locator = loc
	for i := range c.IntentFilters {
		c.IntentFilters[i].Locator = loc + strings.TrimPrefix(c.IntentFilters[i].Locator, old)
	}
	for i := range c.MetaData {
		c.MetaData[i].Locator = loc + strings.TrimPrefix(c.MetaData[i].Locator, old)
	}
}
