package manifest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/apk/arsc"
	"github.com/dfslab/dfslab/internal/apk/axml"
)

var (
	an    = axml.AndroidAttr
	plain = axml.PlainAttr
	el    = axml.NewElement
)

// roundTrip encodes and decodes a tree, so every test also exercises the
// binary XML path the scanner takes.
func roundTrip(t *testing.T, root *axml.Element) *axml.Element {
	t.Helper()
	b, err := axml.Encode(root)
	if err != nil {
		t.Fatal(err)
	}
	out, err := axml.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type fixture struct {
	table                              *arsc.Table
	label, cleartext, nsc, rules, cert uint32
}

func resources() fixture {
	p := arsc.NewPackage(0x7f, "com.example.pay")
	f := fixture{}
	f.label = p.Add("string", "app_name", arsc.Config{}, axml.Str("Example Pay"))
	p.Add("string", "app_name", arsc.Config{Language: "fr"}, axml.Str("Paiement"))
	f.cleartext = p.Add("bool", "a", arsc.Config{}, axml.Bool(true)) // obfuscated name
	f.nsc = p.Add("xml", "b", arsc.Config{}, axml.Str("res/xml/b.xml"))
	f.rules = p.Add("xml", "c", arsc.Config{}, axml.Str("res/xml/c.xml"))
	f.cert = p.Add("raw", "d", arsc.Config{}, axml.Str("res/raw/d.pem"))
	f.table = arsc.NewTable(p)
	return f
}

func TestParseFullManifest(t *testing.T) {
	f := resources()
	root := el("manifest", plain("package", axml.Str("com.example.pay")),
		an("versionCode", axml.Int(120)), an("versionName", axml.Str("1.2.0")),
		an("sharedUserId", axml.Str("com.example.shared")), an("installLocation", axml.Int(2)),
	).Append(
		el("uses-sdk", an("minSdkVersion", axml.Int(19)), an("targetSdkVersion", axml.Int(30))),
		el("uses-permission", an("name", axml.Str("android.permission.RECEIVE_SMS"))),
		el("uses-permission", an("name", axml.Str("android.permission.WRITE_EXTERNAL_STORAGE")), an("maxSdkVersion", axml.Int(28))),
		el("uses-permission-sdk-23", an("name", axml.Str("android.permission.CAMERA"))),
		el("permission", an("name", axml.Str("com.example.pay.PAY")), an("protectionLevel", axml.Hex(0x12))),
		el("permission", an("name", axml.Str("com.example.pay.RAW")), an("protectionLevel", axml.Str("normal"))),
		el("queries").Append(el("package", an("name", axml.Str("com.bank.app")))),
		el("application",
			an("name", axml.Str(".PayApp")), an("label", axml.Ref(f.label)),
			an("debuggable", axml.Bool(true)), an("allowBackup", axml.Bool(false)),
			an("usesCleartextTraffic", axml.Ref(f.cleartext)),
			an("networkSecurityConfig", axml.Ref(f.nsc)),
			an("dataExtractionRules", axml.Ref(f.rules)),
			an("fullBackupContent", axml.Bool(false)),
			an("testOnly", axml.Bool(true)), an("extractNativeLibs", axml.Bool(false)),
			an("requestLegacyExternalStorage", axml.Bool(true)),
			an("taskAffinity", axml.Str("")),
		).Append(
			el("meta-data", an("name", axml.Str("com.google.android.geo.API_KEY")), an("value", axml.Str("AIzaFake"))),
			el("activity", an("name", axml.Str("com.example.pay.Main")), an("launchMode", axml.Int(2))).Append(
				el("intent-filter").Append(
					el("action", an("name", axml.Str("android.intent.action.MAIN"))),
					el("category", an("name", axml.Str("android.intent.category.LAUNCHER"))),
				),
				el("intent-filter", an("autoVerify", axml.Bool(true))).Append(
					el("action", an("name", axml.Str("android.intent.action.VIEW"))),
					el("category", an("name", axml.Str("android.intent.category.BROWSABLE"))),
					el("data", an("scheme", axml.Str("https")), an("host", axml.Str("pay.example.com")), an("pathPrefix", axml.Str("/tx"))),
					el("data", an("scheme", axml.Str("expay"))),
				),
			),
			el("activity", an("name", axml.Str("Settings")), an("exported", axml.Bool(false)), an("taskAffinity", axml.Str("com.other"))),
			el("service", an("name", axml.Str(".Sync")), an("permission", axml.Str("com.example.pay.PAY"))),
			el("receiver", an("name", axml.Str(".Sms"))).Append(
				el("intent-filter", an("priority", axml.Int(999))).Append(el("action", an("name", axml.Str("android.provider.Telephony.SMS_RECEIVED")))),
			),
			el("provider", an("name", axml.Str(".Files")), an("authorities", axml.Str("com.example.pay.files;com.example.pay.more")),
				an("grantUriPermissions", axml.Bool(true)), an("readPermission", axml.Str("com.example.pay.READ"))).Append(
				el("grant-uri-permission", an("pathPrefix", axml.Str("/shared"))),
			),
			el("activity-alias", an("name", axml.Str(".Alias")), an("targetActivity", axml.Str(".Main"))),
		),
	)
	m, err := Parse(roundTrip(t, root), f.table)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Anomalies) != 0 {
		t.Errorf("anomalies: %v", m.Anomalies)
	}
	eq := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	eq("Package", m.Package, "com.example.pay")
	eq("VersionCode", m.VersionCode, int64(120))
	eq("VersionName", m.VersionName, "1.2.0")
	eq("MinSDK", m.MinSDK, 19)
	eq("TargetSDK", m.TargetSDK, 30)
	eq("SharedUserID", m.SharedUserID, "com.example.shared")
	eq("InstallLocation", m.InstallLocation, "preferExternal")
	app := m.Application
	eq("app.Name", app.Name, "com.example.pay.PayApp")
	eq("app.Label", app.Label, "Example Pay")
	eq("Debuggable", app.Debuggable.IsTrue(), true)
	eq("AllowBackup", app.AllowBackup.IsFalse(), true)
	eq("UsesCleartextTraffic", app.UsesCleartextTraffic, OptBool{Set: true, Value: true, Ref: f.cleartext})
	eq("NSC", app.NetworkSecurityConfig, ResFile{Set: true, ResID: f.nsc, Path: "res/xml/b.xml"})
	eq("DataExtractionRules", app.DataExtractionRules.Path, "res/xml/c.xml")
	eq("FullBackupContent", app.FullBackupContent, ResFile{Set: true, Disabled: true})
	eq("TestOnly", app.TestOnly.IsTrue(), true)
	eq("ExtractNativeLibs", app.ExtractNativeLibs.IsFalse(), true)
	eq("RequestLegacyExternalStorage", app.RequestLegacyExternalStorage.IsTrue(), true)
	eq("app.TaskAffinity", app.TaskAffinity, OptString{Set: true, Value: ""})
	eq("app.MetaData", len(app.MetaData), 1)
	eq("app.MetaData[0]", app.MetaData[0].Value, "AIzaFake")
	eq("app.MetaData locator", app.MetaData[0].Locator, "application/meta-data[com.google.android.geo.API_KEY]")

	eq("UsesPermissions", len(m.UsesPermissions), 3)
	eq("RECEIVE_SMS", m.UsesPermission("android.permission.RECEIVE_SMS"), true)
	eq("WRITE_EXTERNAL maxSdk", m.UsesPermissions[1].MaxSDK, 28)
	eq("CAMERA sdk23", m.UsesPermissions[2].SDK23, true)
	eq("uses-permission locator", m.UsesPermissions[0].Locator, "uses-permission[android.permission.RECEIVE_SMS]")
	pay, _ := m.Permission("com.example.pay.PAY")
	eq("PAY level", pay.ProtectionLevel.String(), "signature|privileged")
	raw, _ := m.Permission("com.example.pay.RAW")
	eq("RAW level", raw.ProtectionLevel, ProtectionNormal)
	eq("Queries", strings.Join(m.Queries.Packages, ","), "com.bank.app")

	byLoc := map[string]*Component{}
	for _, c := range app.Components {
		byLoc[c.Locator] = c
	}
	comps := []struct {
		loc      string
		exported bool
		reason   ExportReason
	}{
		{"activity[com.example.pay.Main]", true, ExportIntentFilter},
		{"activity[com.example.pay.Settings]", false, ExportExplicit},
		{"service[com.example.pay.Sync]", false, ExportDefaultClosed},
		{"receiver[com.example.pay.Sms]", true, ExportIntentFilter},
		{"provider[com.example.pay.Files]", false, ExportDefaultClosed},
		{"activity-alias[com.example.pay.Alias]", false, ExportDefaultClosed},
	}
	for _, c := range comps {
		got, ok := byLoc[c.loc]
		if !ok {
			t.Errorf("no component %s (have %v)", c.loc, keys(byLoc))
			continue
		}
		if got.Exported != c.exported || got.ExportReason != c.reason {
			t.Errorf("%s exported = %v (%s), want %v (%s)", c.loc, got.Exported, got.ExportReason, c.exported, c.reason)
		}
	}
	main := byLoc["activity[com.example.pay.Main]"]
	eq("Main.LaunchMode", main.LaunchMode, "singleTask")
	eq("Main.TaskAffinity inherited", main.TaskAffinity, OptString{Set: true, Value: ""})
	eq("Main filters", len(main.IntentFilters), 2)
	deep := main.IntentFilters[1]
	eq("deep link locator", deep.Locator, "activity[com.example.pay.Main]/intent-filter[1]")
	eq("deep link browsable", deep.IsBrowsable(), true)
	eq("deep link autoVerify", deep.AutoVerify, true)
	eq("deep link schemes", strings.Join(deep.Schemes(), ","), "https,expay")
	eq("deep link hosts", strings.Join(deep.Hosts(), ","), "pay.example.com")
	eq("deep link pathPrefix", deep.Data[0].PathPrefix, "/tx")
	eq("Settings.TaskAffinity", byLoc["activity[com.example.pay.Settings]"].TaskAffinity.Value, "com.other")
	eq("Sync.Permission", byLoc["service[com.example.pay.Sync]"].Permission, "com.example.pay.PAY")
	eq("Sms priority", byLoc["receiver[com.example.pay.Sms]"].IntentFilters[0].Priority, 999)
	prov := byLoc["provider[com.example.pay.Files]"]
	eq("provider authorities", strings.Join(prov.Authorities, ","), "com.example.pay.files,com.example.pay.more")
	eq("provider grant", prov.GrantURIPermissions.IsTrue(), true)
	eq("provider read", prov.ReadPermission, "com.example.pay.READ")
	eq("provider grant paths", strings.Join(prov.GrantURIPaths, ","), "/shared")
	eq("alias target", byLoc["activity-alias[com.example.pay.Alias]"].TargetActivity, "com.example.pay.Main")
	eq("Components(Activity)", len(m.Components(Activity)), 2)
}

func keys(m map[string]*Component) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestExportedRules(t *testing.T) {
	filter := el("intent-filter").Append(el("action", an("name", axml.Str("x.ACTION"))))
	tests := []struct {
		name          string
		min, target   int32
		comp          *axml.Element
		want          bool
		reason        ExportReason
		wantAnomalies bool
	}{
		{"filter under 31", 21, 30, el("receiver", an("name", axml.Str(".R"))).Append(filter), true, ExportIntentFilter, false},
		{"filter at 31 without attribute", 21, 31, el("receiver", an("name", axml.Str(".R"))).Append(filter), false, ExportDefaultClosed, true},
		{"explicit true", 21, 34, el("service", an("name", axml.Str(".S")), an("exported", axml.Bool(true))), true, ExportExplicit, false},
		{"explicit false beats filter", 21, 30, el("activity", an("name", axml.Str(".A")), an("exported", axml.Bool(false))).Append(filter), false, ExportExplicit, false},
		{"no filter", 21, 30, el("activity", an("name", axml.Str(".A"))), false, ExportDefaultClosed, false},
		{"provider old min sdk", 16, 30, el("provider", an("name", axml.Str(".P")), an("authorities", axml.Str("a"))), true, ExportProviderOld, false},
		{"provider old target", 8, 16, el("provider", an("name", axml.Str(".P")), an("authorities", axml.Str("a"))), true, ExportProviderOld, false},
		{"provider modern", 17, 30, el("provider", an("name", axml.Str(".P")), an("authorities", axml.Str("a"))), false, ExportDefaultClosed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := el("manifest", plain("package", axml.Str("p"))).Append(
				el("uses-sdk", an("minSdkVersion", axml.Int(tt.min)), an("targetSdkVersion", axml.Int(tt.target))),
				el("application").Append(tt.comp),
			)
			m, err := Parse(roundTrip(t, root), nil)
			if err != nil {
				t.Fatal(err)
			}
			c := m.Application.Components[0]
			if c.Exported != tt.want || c.ExportReason != tt.reason {
				t.Errorf("exported = %v (%s), want %v (%s)", c.Exported, c.ExportReason, tt.want, tt.reason)
			}
			if got := len(m.Anomalies) > 0; got != tt.wantAnomalies {
				t.Errorf("anomalies = %v", m.Anomalies)
			}
		})
	}
}

func TestObfuscatedAttributeNames(t *testing.T) {
	// Names blanked in the string pool, namespace dropped: only resource
	// IDs remain, which is all Android looks at.
	root := el("manifest", plain("package", axml.Str("p"))).Append(
		el("application",
			axml.Attr{ResID: 0x0101000f, Value: axml.Bool(true)},
			axml.Attr{ResID: 0x01010280, Value: axml.Bool(true)},
		).Append(el("activity", axml.Attr{ResID: 0x01010003, Value: axml.Str(".X")}, axml.Attr{ResID: 0x01010010, Value: axml.Bool(true)})),
	)
	m, err := Parse(roundTrip(t, root), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Application.Debuggable.IsTrue() || !m.Application.AllowBackup.IsTrue() {
		t.Errorf("application flags lost: %+v", m.Application)
	}
	c := m.Application.Components[0]
	if c.Name != "p.X" || !c.Exported {
		t.Errorf("component = %+v", c)
	}
}

func TestDefaultsAndCodenames(t *testing.T) {
	m, err := Parse(roundTrip(t, el("manifest", plain("package", axml.Str("p")))), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.MinSDK != 1 || m.TargetSDK != 1 || m.Application.Present {
		t.Errorf("defaults: min %d target %d app %v", m.MinSDK, m.TargetSDK, m.Application.Present)
	}
	m, err = Parse(roundTrip(t, el("manifest", plain("package", axml.Str("p"))).Append(
		el("uses-sdk", an("minSdkVersion", axml.Str("24")), an("targetSdkVersion", axml.Str("VanillaIceCream"))))), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.MinSDK != 24 || m.TargetSDK != CurDevelopment || m.TargetSDKCodename != "VanillaIceCream" {
		t.Errorf("sdk: min %d target %d %q", m.MinSDK, m.TargetSDK, m.TargetSDKCodename)
	}
}

func TestUnresolvedReferencesAreAnomalies(t *testing.T) {
	root := el("manifest", plain("package", axml.Str("p"))).Append(
		el("application", an("label", axml.Ref(0x7f010000)), an("networkSecurityConfig", axml.Ref(0x7f020000))),
	)
	m, err := Parse(roundTrip(t, root), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Application.Label != "@0x7f010000" {
		t.Errorf("label = %q", m.Application.Label)
	}
	nsc := m.Application.NetworkSecurityConfig
	if !nsc.Set || nsc.ResID != 0x7f020000 || nsc.Path != "" {
		t.Errorf("nsc = %+v", nsc)
	}
	if len(m.Anomalies) < 2 {
		t.Errorf("anomalies = %v", m.Anomalies)
	}
}

func TestDuplicateComponentLocators(t *testing.T) {
	root := el("manifest", plain("package", axml.Str("p"))).Append(el("application").Append(
		el("activity", an("name", axml.Str(".A"))),
		el("activity", an("name", axml.Str(".A"))).Append(el("intent-filter")),
	))
	m, err := Parse(roundTrip(t, root), nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := m.Application.Components
	if cs[0].Locator != "activity[p.A]" || cs[1].Locator != "activity[p.A]#1" || cs[1].IntentFilters[0].Locator != "activity[p.A]#1/intent-filter[0]" {
		t.Errorf("locators %q %q %q", cs[0].Locator, cs[1].Locator, cs[1].IntentFilters[0].Locator)
	}
}

func TestParseRejectsOtherRoots(t *testing.T) {
	if _, err := Parse(el("network-security-config"), nil); !errors.Is(err, ErrNotManifest) {
		t.Errorf("err = %v", err)
	}
	if _, err := ParseNetworkSecurityConfig(el("manifest"), nil); !errors.Is(err, ErrNotNetworkSecurityConfig) {
		t.Errorf("err = %v", err)
	}
	if _, err := ParseBackupRules(el("manifest"), nil); !errors.Is(err, ErrNotBackupRules) {
		t.Errorf("err = %v", err)
	}
}

func text(name, s string, attrs ...axml.Attr) *axml.Element {
	e := el(name, attrs...)
	e.Text = s
	return e
}

func TestParseNetworkSecurityConfig(t *testing.T) {
	f := resources()
	tr := plain
	root := el("network-security-config").Append(
		el("base-config", tr("cleartextTrafficPermitted", axml.Str("false"))).Append(
			el("trust-anchors").Append(
				el("certificates", tr("src", axml.Str("system"))),
				el("certificates", tr("src", axml.Str("user"))),
			),
		),
		el("domain-config", tr("cleartextTrafficPermitted", axml.Str("true"))).Append(
			text("domain", " Legacy.Example.com ", tr("includeSubdomains", axml.Str("true"))),
			text("domain", "api.example.com"),
			el("pin-set", tr("expiration", axml.Str("2020-01-31"))).Append(
				text("pin", "7HIpactkIAq2Y49orFOOQKurWxmmSFZhBCoQYcRhJ3Y=", tr("digest", axml.Str("SHA-256"))),
			),
			el("domain-config", tr("cleartextTrafficPermitted", axml.Bool(false))).Append(
				text("domain", "secure.legacy.example.com"),
				el("trust-anchors").Append(el("certificates", tr("src", axml.Ref(f.cert)), tr("overridePins", axml.Str("true")))),
			),
		),
		el("debug-overrides").Append(el("trust-anchors").Append(el("certificates", tr("src", axml.Str("user"))))),
	)
	n, err := ParseNetworkSecurityConfig(roundTrip(t, root), f.table)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Anomalies) != 0 {
		t.Errorf("anomalies: %v", n.Anomalies)
	}
	if n.Base == nil || !n.Base.CleartextTrafficPermitted.IsFalse() || n.Base.TrustAnchors == nil ||
		!slices.ContainsFunc(n.Base.TrustAnchors.Certificates, func(c Certificates) bool { return c.Source == "user" }) {
		t.Errorf("base = %+v", n.Base)
	}
	if len(n.Domains) != 1 {
		t.Fatalf("domains = %d", len(n.Domains))
	}
	d := n.Domains[0]
	if d.Locator != "domain-config[legacy.example.com]" || !d.CleartextTrafficPermitted.IsTrue() {
		t.Errorf("domain config = %+v", d)
	}
	if len(d.Domains) != 2 || !d.Domains[0].IncludeSubdomains || d.Domains[1].IncludeSubdomains || d.Domains[0].Name != "legacy.example.com" {
		t.Errorf("domains = %+v", d.Domains)
	}
	if d.TrustAnchors != nil {
		t.Errorf("trust anchors should be inherited (nil), got %+v", d.TrustAnchors)
	}
	ps := d.PinSet
	if ps == nil || !ps.Expires.Equal(time.Date(2020, 1, 31, 0, 0, 0, 0, time.UTC)) || len(ps.Pins) != 1 ||
		ps.Pins[0].Digest != "SHA-256" || ps.Pins[0].Value != "7HIpactkIAq2Y49orFOOQKurWxmmSFZhBCoQYcRhJ3Y=" ||
		ps.Locator != "domain-config[legacy.example.com]/pin-set" {
		t.Errorf("pin set = %+v", ps)
	}
	if len(d.Children) != 1 {
		t.Fatalf("children = %d", len(d.Children))
	}
	c := d.Children[0]
	if c.Locator != "domain-config[legacy.example.com]/domain-config[secure.legacy.example.com]" || !c.CleartextTrafficPermitted.IsFalse() {
		t.Errorf("child = %+v", c)
	}
	certs := c.TrustAnchors.Certificates
	if len(certs) != 1 || certs[0].Source != "res/raw/d.pem" || certs[0].Ref != f.cert || !certs[0].OverridePins {
		t.Errorf("child certificates = %+v", certs)
	}
	if n.DebugOverrides == nil || !slices.ContainsFunc(n.DebugOverrides.Certificates, func(c Certificates) bool { return c.Source == "user" }) {
		t.Error("debug overrides lost")
	}
	var walked []string
	n.Walk(func(d *DomainConfig) { walked = append(walked, d.Locator) })
	if len(walked) != 3 || walked[0] != "base-config" {
		t.Errorf("walk = %v", walked)
	}
}

func TestBadPinExpirationIsAnomaly(t *testing.T) {
	root := el("network-security-config").Append(el("domain-config").Append(
		text("domain", "a.example"), el("pin-set", plain("expiration", axml.Str("31/01/2020"))),
	))
	n, err := ParseNetworkSecurityConfig(roundTrip(t, root), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !n.Domains[0].PinSet.Expires.IsZero() || len(n.Anomalies) != 1 {
		t.Errorf("pin set %+v anomalies %v", n.Domains[0].PinSet, n.Anomalies)
	}
}

func TestParseBackupRules(t *testing.T) {
	tests := []struct {
		name     string
		root     *axml.Element
		sections []string
		include  int
		exclude  int
	}{
		{
			"full backup content",
			el("full-backup-content").Append(
				el("include", plain("domain", axml.Str("sharedpref")), plain("path", axml.Str("."))),
				el("exclude", plain("domain", axml.Str("sharedpref")), plain("path", axml.Str("token.xml"))),
			),
			[]string{"full-backup-content"}, 1, 1,
		},
		{
			"data extraction rules",
			el("data-extraction-rules").Append(
				el("cloud-backup", plain("disableIfNoEncryptionCapabilities", axml.Str("true"))).Append(
					el("exclude", plain("domain", axml.Str("database")), plain("path", axml.Str("wallet.db"))),
				),
				el("device-transfer").Append(el("include", plain("domain", axml.Str("root")), plain("path", axml.Str(".")))),
			),
			[]string{"cloud-backup", "device-transfer"}, 1, 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ParseBackupRules(roundTrip(t, tt.root), nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			inc, exc := 0, 0
			for _, s := range b.Sections {
				names = append(names, s.Name)
				inc += len(s.Include)
				exc += len(s.Exclude)
			}
			if !slices.Equal(names, tt.sections) || inc != tt.include || exc != tt.exclude {
				t.Errorf("sections %v include %d exclude %d", names, inc, exc)
			}
		})
	}
	b, _ := ParseBackupRules(roundTrip(t, tests[1].root), nil)
	cb := b.Sections[0]
	if !cb.DisableIfNoEncryptionCapabilities.IsTrue() || cb.Exclude[0].Domain != "database" || cb.Exclude[0].Path != "wallet.db" || cb.Locator != "data-extraction-rules/cloud-backup" {
		t.Errorf("cloud backup = %+v", cb)
	}
}

func TestProtectionLevel(t *testing.T) {
	tests := []struct {
		in   string
		want ProtectionLevel
		ok   bool
	}{
		{"normal", ProtectionNormal, true},
		{"dangerous", ProtectionDangerous, true},
		{"signature|privileged", ProtectionSignature | 0x10, true},
		{"signatureOrSystem", ProtectionSignatureOrSystem, true},
		{"bogus", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseProtectionLevel(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parse(%q) = %v, %v", tt.in, got, ok)
		}
		if ok && got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}
