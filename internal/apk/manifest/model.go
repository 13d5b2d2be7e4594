// Package manifest builds a typed model of AndroidManifest.xml, of the
// network security configuration and of backup rules from the generic
// element tree (package axml, or aabproto for App Bundles), resolving
// resource references through a Resolver (resources.arsc or resources.pb).
//
// The model records what Android would do, not only what is written: a
// component's effective export state, defaults that depend on the target
// SDK, framework attributes identified by resource ID. Every element gets a
// stable locator (activity[com.example.Main]) for findings.
package manifest

import (
	"strings"

	"github.com/dfslab/dfslab/internal/apk/axml"
)

// Resolver resolves a resource ID to its value in the best configuration;
// *arsc.Table implements it for both APKs and App Bundles.
type Resolver interface {
	Resolve(id uint32) (axml.Value, error)
}

// OptBool is a boolean attribute that may be absent.
type OptBool struct {
	Set   bool
	Value bool
	// Ref is the resource the value came from (@bool/x), 0 if literal.
	Ref uint32
}

// Or returns the value, or def when the attribute is absent.
func (b OptBool) Or(def bool) bool {
	if b.Set {
		return b.Value
	}
	return def
}

// IsTrue reports an explicit true.
func (b OptBool) IsTrue() bool { return b.Set && b.Value }

// IsFalse reports an explicit false.
func (b OptBool) IsFalse() bool { return b.Set && !b.Value }

// OptString is a string attribute that may be absent; an explicitly empty
// value (taskAffinity="") means something different from an absent one.
type OptString struct {
	Set   bool
	Value string
}

// ResFile is an attribute pointing at a resource file, such as
// android:networkSecurityConfig="@xml/nsc".
type ResFile struct {
	Set bool
	// ResID is the referenced resource, 0 when the value was not a
	// reference.
	ResID uint32
	// Path is the file inside the APK (res/xml/nsc.xml) once resolved.
	Path string
	// Disabled is set when the attribute holds the boolean false
	// (fullBackupContent="false" turns backup off).
	Disabled bool
}

// Manifest is the typed AndroidManifest.xml.
type Manifest struct {
	Package     string
	VersionCode int64
	VersionName string
	// SDK levels; MinSDK is 1 when uses-sdk is absent (Android's default)
	// and TargetSDK defaults to MinSDK. A preview codename ("Q") sets the
	// matching *Codename field and the number to CurDevelopment.
	MinSDK, TargetSDK, MaxSDK int
	MinSDKCodename            string
	TargetSDKCodename         string
	CompileSDK                int
	SharedUserID              string
	SharedUserLabel           string
	// InstallLocation is "auto", "internalOnly", "preferExternal", or ""
	// when not declared.
	InstallLocation string

	Application     Application
	UsesPermissions []UsesPermission
	Permissions     []Permission
	UsesFeatures    []string
	Queries         Queries

	// Anomalies lists what could not be interpreted (unresolvable
	// references, required attributes missing) without failing the parse.
	Anomalies []string
}

// Application is the <application> element.
type Application struct {
	Present bool
	Locator string
	Name    string // Application subclass, fully qualified
	Label   string
	Icon    uint32

	Debuggable                   OptBool
	AllowBackup                  OptBool
	FullBackupOnly               OptBool
	UsesCleartextTraffic         OptBool
	TestOnly                     OptBool
	ExtractNativeLibs            OptBool
	RequestLegacyExternalStorage OptBool
	HasFragileUserData           OptBool
	LargeHeap                    OptBool
	Persistent                   OptBool
	DirectBootAware              OptBool

	FullBackupContent     ResFile
	DataExtractionRules   ResFile
	NetworkSecurityConfig ResFile

	BackupAgent         string
	TaskAffinity        OptString
	Permission          string
	Process             string
	AppComponentFactory string
	Theme               uint32

	Components []*Component
	MetaData   []MetaData
}

// Kind is a component type.
type Kind string

// Component kinds, named as the manifest elements.
const (
	Activity      Kind = "activity"
	ActivityAlias Kind = "activity-alias"
	Service       Kind = "service"
	Receiver      Kind = "receiver"
	Provider      Kind = "provider"
)

// ExportReason says why a component is (not) exported.
type ExportReason string

// Why a component is exported or not.
const (
	ExportExplicit      ExportReason = "explicit"               // android:exported set
	ExportIntentFilter  ExportReason = "implicit-intent-filter" // intent filter, targetSdk < 31
	ExportProviderOld   ExportReason = "implicit-provider"      // provider, min or target SDK <= 16
	ExportDefaultClosed ExportReason = "default"                // not exported by default
)

// Component is an activity, activity-alias, service, receiver or provider.
type Component struct {
	Kind    Kind
	Name    string // fully qualified class name
	Locator string // e.g. activity[com.example.Main]
	Line    uint32

	Exported            bool // effective, as Android decides
	ExportReason        ExportReason
	ExportedAttr        OptBool
	Enabled             bool
	Permission          string
	ReadPermission      string // providers
	WritePermission     string
	Authorities         []string // providers
	GrantURIPermissions OptBool  // providers
	// GrantURIPaths lists <grant-uri-permission> path patterns.
	GrantURIPaths []string
	TaskAffinity  OptString
	// LaunchMode is standard, singleTop, singleTask, singleInstance or
	// singleInstancePerTask.
	LaunchMode           string
	TargetActivity       string // activity-alias
	Process              string
	DirectBootAware      bool
	IsolatedProcess      bool
	ExcludeFromRecents   bool
	AllowTaskReparenting bool
	ForegroundService    uint32 // foregroundServiceType flags

	IntentFilters []IntentFilter
	MetaData      []MetaData
}

// IntentFilter is an <intent-filter>.
type IntentFilter struct {
	Locator    string
	Actions    []string
	Categories []string
	Data       []Data
	AutoVerify bool
	Priority   int
}

// Data is a <data> element of an intent filter.
type Data struct {
	Scheme, Host, Port                                             string
	Path, PathPrefix, PathPattern, PathSuffix, PathAdvancedPattern string
	MimeType                                                       string
}

// Schemes returns the distinct schemes of the filter.
func (f IntentFilter) Schemes() []string {
	return distinct(f.Data, func(d Data) string { return d.Scheme })
}

// Hosts returns the distinct hosts of the filter.
func (f IntentFilter) Hosts() []string {
	return distinct(f.Data, func(d Data) string { return d.Host })
}

// HasAction reports whether the filter lists action a.
func (f IntentFilter) HasAction(a string) bool { return contains(f.Actions, a) }

// HasCategory reports whether the filter lists category c.
func (f IntentFilter) HasCategory(c string) bool { return contains(f.Categories, c) }

// IsBrowsable reports a deep-link filter: VIEW + BROWSABLE.
func (f IntentFilter) IsBrowsable() bool {
	return f.HasAction("android.intent.action.VIEW") && f.HasCategory("android.intent.category.BROWSABLE")
}

// MetaData is a <meta-data> element.
type MetaData struct {
	Locator string
	Name    string
	Value   string // resolved text of android:value
	// Resource is android:resource (or a reference in android:value).
	Resource uint32
}

// UsesPermission is a <uses-permission> (or uses-permission-sdk-23).
type UsesPermission struct {
	Locator          string
	Name             string
	MaxSDK           int
	SDK23            bool // declared with uses-permission-sdk-23
	NeverForLocation bool // usesPermissionFlags="neverForLocation"
}

// Permission is a custom <permission> the app declares.
type Permission struct {
	Locator         string
	Name            string
	ProtectionLevel ProtectionLevel
	Group           string
}

// Queries is the <queries> element (package visibility, Android 11+).
type Queries struct {
	Packages  []string
	Intents   []IntentFilter
	Providers []string
}

// Components returns the components of one kind.
func (m *Manifest) Components(k Kind) []*Component {
	var out []*Component
	for _, c := range m.Application.Components {
		if c.Kind == k {
			out = append(out, c)
		}
	}
	return out
}

// UsesPermission reports whether the app requests permission name.
func (m *Manifest) UsesPermission(name string) bool {
	for _, p := range m.UsesPermissions {
		if p.Name == name {
			return true
		}
	}
	return false
}

// Permission returns the custom permission declared with name.
func (m *Manifest) Permission(name string) (Permission, bool) {
	for _, p := range m.Permissions {
		if p.Name == name {
			return p, true
		}
	}
	return Permission{}, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func distinct(ds []Data, f func(Data) string) []string {
	var out []string
	for _, d := range ds {
		if v := f(d); v != "" && !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// ProtectionLevel is android:protectionLevel: a base level plus flags.
type ProtectionLevel uint32

// Base protection levels and flags (android.content.pm.PermissionInfo).
const (
	ProtectionNormal            ProtectionLevel = 0
	ProtectionDangerous         ProtectionLevel = 1
	ProtectionSignature         ProtectionLevel = 2
	ProtectionSignatureOrSystem ProtectionLevel = 3
	protectionBaseMask          ProtectionLevel = 0xf
)

var protectionFlagNames = [...]struct {
	bit  ProtectionLevel
	name string
}{
	{0x10, "privileged"}, {0x20, "development"}, {0x40, "appop"}, {0x80, "pre23"},
	{0x100, "installer"}, {0x200, "verifier"}, {0x400, "preinstalled"}, {0x800, "setup"},
	{0x1000, "instant"}, {0x2000, "runtime"}, {0x4000, "oem"}, {0x8000, "vendorPrivileged"},
	{0x10000, "textClassifier"}, {0x20000, "configurator"}, {0x40000, "incidentReportApprover"},
	{0x80000, "appPredictor"}, {0x100000, "module"}, {0x200000, "companion"},
	{0x400000, "retailDemo"}, {0x800000, "recents"}, {0x1000000, "role"},
	{0x2000000, "knownSigner"},
}

// Base returns the base level without flags.
func (p ProtectionLevel) Base() ProtectionLevel { return p & protectionBaseMask }

// String renders the level as in the manifest ("signature|privileged").
func (p ProtectionLevel) String() string {
	var parts []string
	switch p.Base() {
	case ProtectionNormal:
		parts = append(parts, "normal")
	case ProtectionDangerous:
		parts = append(parts, "dangerous")
	case ProtectionSignature:
		parts = append(parts, "signature")
	case ProtectionSignatureOrSystem:
		parts = append(parts, "signatureOrSystem")
	default:
		parts = append(parts, "unknown")
	}
	for _, f := range protectionFlagNames {
		if p&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, "|")
}

// parseProtectionLevel reads a textual level kept raw by some compilers.
func parseProtectionLevel(s string) (ProtectionLevel, bool) {
	var p ProtectionLevel
	for part := range strings.SplitSeq(s, "|") {
		switch part = strings.TrimSpace(part); part {
		case "normal":
		case "dangerous":
			p |= ProtectionDangerous
		case "signature":
			p |= ProtectionSignature
		case "signatureOrSystem", "system":
			p |= ProtectionSignatureOrSystem
		default:
			found := false
			for _, f := range protectionFlagNames {
				if f.name == part {
					p |= f.bit
					found = true
				}
			}
			if !found {
				return 0, false
			}
		}
	}
	return p, true
}
