package appscan

import "time"

// SchemaVersion is the version of the JSON report schema (docs/report-schema.md).
// Bump the minor part for additions, the major part for changes that break readers.
const SchemaVersion = "1.1"

// Result is everything one scan of one app produced. The scan engine fills
// it; the report writers only render it. It is also the JSON report body, so
// field names are part of the documented schema.
type Result struct {
	Target       Target          `json:"target"`
	App          AppInfo         `json:"app"`
	Findings     []Finding       `json:"findings"`
	Permissions  []Permission    `json:"permissions,omitempty"`
	Components   []Component     `json:"components,omitempty"`
	Signing      []SchemeStatus  `json:"signing,omitempty"`
	Certificates []Certificate   `json:"certificates,omitempty"`
	NativeLibs   []NativeLib     `json:"native_libs,omitempty"`
	SDKs         []SDK           `json:"sdks,omitempty"`
	Controls     []ControlStatus `json:"controls,omitempty"`
	// Score is 0–100, higher is better; derived from the findings so that
	// two reports of the same app compare at a glance.
	Score int `json:"score"`
	// Warnings are non-fatal problems met while reading the app (a DEX that
	// could not be parsed, an unreadable resource); the scan went on.
	Warnings []string      `json:"warnings,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Target identifies the scanned file.
type Target struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Format string `json:"format"` // apk, aab, apks, xapk
}

// AppInfo is the app's identity as declared in its manifest.
type AppInfo struct {
	Package     string `json:"package"`
	Label       string `json:"label,omitempty"`
	VersionName string `json:"version_name,omitempty"`
	VersionCode int64  `json:"version_code,omitempty"`
	MinSDK      int    `json:"min_sdk,omitempty"`
	TargetSDK   int    `json:"target_sdk,omitempty"`
	DexFiles    int    `json:"dex_files"`
	Classes     int    `json:"classes"`
	Methods     int    `json:"methods"`
}

// Permission is one requested permission.
type Permission struct {
	Name      string `json:"name"`
	Dangerous bool   `json:"dangerous"` // protection level "dangerous" or a special-access permission
	Reason    string `json:"reason,omitempty"`
}

// Component is a declared activity, service, receiver or provider.
type Component struct {
	Kind       string `json:"kind"` // activity, activity-alias, service, receiver, provider
	Name       string `json:"name"`
	Exported   bool   `json:"exported"`
	Permission string `json:"permission,omitempty"`
}

// SchemeStatus reports one APK signature scheme.
type SchemeStatus struct {
	Scheme   string `json:"scheme"` // v1, v2, v3, v3.1
	Present  bool   `json:"present"`
	Verified bool   `json:"verified"`
	Error    string `json:"error,omitempty"`
}

// Certificate describes a signer certificate.
type Certificate struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	Serial             string    `json:"serial"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	KeyAlgorithm       string    `json:"key_algorithm"`
	KeyBits            int       `json:"key_bits"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
	SHA256             string    `json:"sha256"`
	Schemes            []string  `json:"schemes"` // schemes this certificate signs under
}

// NativeLib summarises the hardening of one bundled ELF library.
type NativeLib struct {
	Path      string   `json:"path"`
	Arch      string   `json:"arch"`
	PIE       bool     `json:"pie"`
	NX        bool     `json:"nx"`
	Canary    bool     `json:"stack_canary"`
	RELRO     string   `json:"relro"` // none, partial, full
	Fortify   bool     `json:"fortify"`
	RPath     string   `json:"rpath,omitempty"`
	Stripped  bool     `json:"stripped"`
	Dangerous []string `json:"dangerous_imports,omitempty"`
}

// SDK is an embedded third-party library recognised by its package prefix.
type SDK struct {
	Name     string `json:"name"`
	Category string `json:"category"` // analytics, ads, crash-reporting, payments, social, …
	Package  string `json:"package"`
}

// ControlStatus reports a resilience or DFS control as present or absent
// (root detection, pinning, FLAG_SECURE, …), with where it was seen.
type ControlStatus struct {
	RuleID   string `json:"rule_id"`
	Name     string `json:"name"`
	Present  bool   `json:"present"`
	Evidence string `json:"evidence,omitempty"`
}

// The scan engine (engine.go, rules) implements, with these exact signatures:
//
//	func NewScanner(opts Options) *Scanner
//	func (s *Scanner) ScanFile(ctx context.Context, path string) (*Result, error)
//	func Rules() []RuleMeta // every rule, sorted by ID
//
// Report writers, baselines, suppressions and the CLI build on Result and
// RuleMeta only.
