// Package apk opens Android app containers (APK, AAB, APKS/XAPK split sets)
// and turns what the format readers in its sub-packages extract into one
// App model that the scan engine consumes. The model is deliberately flat
// and reader-neutral: rules see "a class with methods and call sites", not
// DEX offsets or binary XML chunks, so that a change in a reader never
// ripples into the rules.
package apk

import "crypto/x509"

// Format names the kind of container that was opened.
type Format string

// Container formats.
const (
	FormatAPK  Format = "apk"
	FormatAAB  Format = "aab"
	FormatAPKS Format = "apks"
	FormatXAPK Format = "xapk"
)

// App is everything the scanner needs to know about one app. Parts that could
// not be read are left empty and explained in Warnings.
type App struct {
	Format   Format
	Manifest *Manifest // nil when the manifest could not be read
	// NetworkConfig is the parsed network security configuration referenced
	// by the manifest, nil when there is none.
	NetworkConfig *NetworkConfig
	// Backup holds the include/exclude rules of fullBackupContent and
	// dataExtractionRules, nil when the app declares none.
	Backup *BackupRules
	// Classes from every classes*.dex of the base and split APKs.
	Classes  []Class
	DexFiles int
	// Hierarchy gives the direct supertypes (superclass first, then
	// interfaces) of the framework and library classes the code calls but
	// does not define, from the DEX reader's framework table, so that rules
	// can resolve calls made through subclasses.
	Hierarchy map[string][]string
	Signing   Signing
	Native    []NativeLib
	// Texts are strings worth scanning for secrets: resource strings,
	// text assets, raw resources.
	Texts []TextSource
	// TouchFilters are the layouts and styles of the app's compiled
	// resources that set android:filterTouchesWhenObscured to true.
	TouchFilters []ResourceUse
	ZipIssues    []ZipIssue
	// Files lists the entry names of the container (and of nested splits,
	// prefixed with the split's name and "!/").
	Files    []string
	Warnings []string
}

// Manifest is the subset of AndroidManifest.xml the rules need. Boolean
// attributes that Android defaults differently by target SDK are pointers:
// nil means "not declared", which matters (allowBackup defaults to true,
// exported depends on intent filters and targetSdkVersion).
type Manifest struct {
	Package         string
	VersionCode     int64
	VersionName     string
	MinSDK          int // 0 when absent (Android then assumes 1)
	TargetSDK       int // 0 when absent (Android then assumes MinSDK)
	SharedUserID    string
	InstallLocation string // "", auto, internalOnly, preferExternal
	UsesPermissions []string
	Permissions     []PermissionDecl // <permission> elements the app defines
	Application     Application
}

// PermissionDecl is a custom permission defined by the app.
type PermissionDecl struct {
	Name            string
	ProtectionLevel string // normal, dangerous, signature, signatureOrSystem, …
}

// Application is the <application> element.
type Application struct {
	Name                  string
	Label                 string
	Debuggable            *bool
	AllowBackup           *bool
	TestOnly              bool
	UsesCleartextTraffic  *bool
	NetworkSecurityConfig string // resource path, e.g. res/xml/network_security_config.xml
	FullBackupContent     string // resource path or "false"/"true"
	DataExtractionRules   string // resource path
	TaskAffinity          *string
	Permission            string
	Components            []Component
}

// Component is an activity, activity-alias, service, receiver or provider.
type Component struct {
	Kind                string // activity, activity-alias, service, receiver, provider
	Name                string
	Exported            *bool
	Enabled             *bool
	Permission          string
	ReadPermission      string
	WritePermission     string
	Authorities         string
	GrantURIPermissions bool
	TaskAffinity        *string
	LaunchMode          string // standard, singleTop, singleTask, singleInstance, singleInstancePerTask
	// TargetActivity is the activity an activity-alias starts, whose
	// launch mode and task affinity apply.
	TargetActivity string
	Filters        []IntentFilter
}

// ResourceUse names one compiled resource: a layout file
// (File "res/layout/pay.xml", Name "layout/pay") or a style, which lives in
// the resource table (File "resources.arsc", Name "style/Theme.Pay").
// Inside a split APK, File carries the split's prefix.
type ResourceUse struct {
	File string
	Name string
}

// IntentFilter is an <intent-filter>.
type IntentFilter struct {
	Actions    []string
	Categories []string
	Data       []IntentData
	AutoVerify bool
	Priority   int
}

// IntentData is one <data> element.
type IntentData struct {
	Scheme, Host, Path, PathPrefix, PathPattern, MimeType string
}

// NetworkConfig is a parsed network security configuration.
type NetworkConfig struct {
	Base    *DomainConfig // <base-config>, nil when absent
	Domains []DomainConfig
	Debug   *DomainConfig // <debug-overrides>
}

// DomainConfig is a base-config, domain-config or debug-overrides element.
type DomainConfig struct {
	Domains            []Domain
	CleartextPermitted *bool
	TrustAnchors       []TrustAnchor
	Pins               []string // base64 SHA-256 digests
	PinExpiration      string   // yyyy-MM-dd as written, "" when absent
}

// Domain is one <domain> of a domain-config.
type Domain struct {
	Name              string
	IncludeSubdomains bool
}

// TrustAnchor is a <certificates> element.
type TrustAnchor struct {
	Src          string // system, user, or a resource such as @raw/ca
	OverridePins bool
}

// BackupRules are the include/exclude paths of the backup configuration.
type BackupRules struct {
	File     string
	Includes []string // "domain:path"
	Excludes []string
}

// Class is one class of the app's DEX code, with Java-style dotted names.
type Class struct {
	Name        string
	Super       string
	Interfaces  []string
	AccessFlags uint32
	Source      string // dex file inside the container, e.g. classes2.dex
	// SourceFile is the source file the class was compiled from
	// ("Api.kt"), as the DEX records it; "" when stripped.
	SourceFile string
	Methods    []Method
}

// Method is one method with a summary of its code.
type Method struct {
	Name       string
	Descriptor string // e.g. (Ljava/lang/String;)V
	Calls      []Call
	Strings    []string // const-string operands, in order
	StaticGets []string // static fields read, as "pkg.Class.field"
	// Throws is true when the body contains a throw instruction.
	Throws bool
	// Insns is the number of instructions; 0 for abstract or native methods.
	Insns int
	// ReturnsConst is set when every return of the method returns the same
	// integer constant (ConstReturn): "return true" in a HostnameVerifier.
	ReturnsConst bool
	ConstReturn  int64
	// Line is the first source line of the method, 0 without debug info.
	Line int
	// FieldWrites are the stores into String, byte[] and char[] fields
	// whose value the analysis knows (a constant, a parameter, another
	// field, a string built from parts), so that a key kept in a field by
	// one method can be followed from its use in another.
	FieldWrites []FieldWrite
	// Ops flags instructions of interest (OpXor, …).
	Ops Ops
	// Static is set for static methods (whose parameter 0 is the first
	// declared one; an instance method's receiver is not a parameter).
	Static bool
}

// FieldWrite is a store into a field: "pkg.Class.field" and the value.
type FieldWrite struct {
	Field string
	Value Value
}

// Ops is a set of instruction kinds found in a method body.
type Ops uint8

// Instruction kinds.
const (
	OpXor        Ops = 1 << iota // xor-int with two registers
	OpXorLit                     // xor-int with a literal
	OpArrayRead                  // aget-byte or aget-char
	OpArrayWrite                 // aput-byte or aput-char
)

// Call is one invoke instruction.
type Call struct {
	Class      string // dotted name of the declaring class as written in the call
	Name       string
	Descriptor string
	// Args are the explicit arguments (without the receiver), with what is
	// known about each value at the call site.
	Args []Value
	// Line is the source line of the call, 0 without debug info.
	Line int32
}

// ValueKind says what is statically known about an argument.
type ValueKind uint8

// Kinds of argument values.
const (
	ValueUnknown ValueKind = iota
	ValueString            // a string constant
	ValueInt               // an integer constant
	ValueBytes             // a byte array filled from constant data
	// ValueConcat is a string built by concatenation (StringBuilder,
	// String.concat): Str is its text with each part that is not a
	// constant written as ConcatHole, Int the number of such parts (never
	// 0: a concatenation of constants is a ValueString). Str is empty when
	// the parts were not followed (invoke-custom, String.format).
	ValueConcat
	// ValueField is a value read from field Str ("pkg.Class.field").
	ValueField
	// ValueParam is parameter Int (0 is the first declared one) of the
	// method the value is used in.
	ValueParam
)

// ConcatHole stands for a part of a ValueConcat that is not a constant.
const ConcatHole = "\x00"

// Conv is what the code made of a ValueField or ValueParam before using
// it: its bytes (getBytes, toCharArray) or their Base64 decoding.
type Conv uint8

// Conversions.
const (
	ConvNone   Conv = iota
	ConvBytes       // String.getBytes or toCharArray
	ConvBase64      // Base64 decoding
)

// Value is an argument value. For ValueBytes, Str holds the bytes (a
// string keeps the model small and immutable).
type Value struct {
	Kind ValueKind
	Conv Conv
	Int  int64
	Str  string
}

// Signing summarises the app's signatures.
type Signing struct {
	Schemes []SchemeResult
	Signers []Signer
}

// SchemeResult is one signature scheme: present or not, verified or not.
type SchemeResult struct {
	Scheme   string // v1, v2, v3, v3.1
	Present  bool
	Verified bool
	Err      string
}

// Signer is one certificate chain head and the schemes it signs under.
type Signer struct {
	Cert    *x509.Certificate
	Schemes []string
}

// NativeLib is one ELF library with its hardening properties.
type NativeLib struct {
	Path      string
	Arch      string
	PIE       bool
	NX        bool
	Canary    bool
	RELRO     string // none, partial, full
	Fortify   bool
	RPath     string
	Stripped  bool
	Imports   []string
	Dangerous []string
	// Strings are printable strings from the read-only data, for secrets.
	Strings []string
}

// TextSource is a named text that may hold secrets.
type TextSource struct {
	File string // path inside the container
	Name string // resource name (e.g. "api_key") when the text is a resource string
	Text string
}

// ZipIssue is a structural anomaly of the container.
type ZipIssue struct {
	Kind ZipIssueKind
	Name string
	Note string
}

// ZipIssueKind classifies zip anomalies.
type ZipIssueKind string

// Zip anomalies that become findings.
const (
	ZipDuplicate ZipIssueKind = "duplicate" // two entries with the same name
	ZipTraversal ZipIssueKind = "traversal" // ".." or absolute name
	ZipLimit     ZipIssueKind = "limit"     // size, ratio or count cap hit
	ZipPrefix    ZipIssueKind = "prefix"    // data before the first entry
	ZipEncrypted ZipIssueKind = "encrypted" // encryption flag set (ignored by Android)
	ZipMismatch  ZipIssueKind = "mismatch"  // local header disagrees with the central directory
)
