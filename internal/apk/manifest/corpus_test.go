package manifest

import (
	"archive/zip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/apk/arsc"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// apkFiles reads entries of an APK with archive/zip: the corpus is trusted
// test input, the hardened reader (package zipfs) is tested elsewhere.
type apkFiles struct{ z *zip.ReadCloser }

func (a apkFiles) read(name string) ([]byte, error) {
	f, err := a.z.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 64<<20))
}

// scanned is what the corpus test learns from one APK.
type scanned struct {
	m      *Manifest
	nsc    *NetworkSecurityConfig
	backup []*BackupRules
}

// scanAPK runs the full pipeline the scanner will run: manifest, resource
// table, then the XML files the manifest points at.
func scanAPK(path string) (*scanned, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	defer z.Close()
	a := apkFiles{z}
	mb, err := a.read("AndroidManifest.xml")
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	tree, err := axml.Decode(mb)
	if err != nil {
		return nil, err
	}
	var res Resolver
	if rb, err := a.read("resources.arsc"); err == nil {
		tab, err := arsc.Decode(rb)
		if err != nil {
			return nil, err
		}
		res = tab
	}
	m, err := Parse(tree, res)
	if err != nil {
		return nil, err
	}
	s := &scanned{m: m}
	xmlFile := func(f ResFile) *axml.Element {
		if f.Path == "" {
			return nil
		}
		b, err := a.read(f.Path)
		if err != nil {
			return nil
		}
		t, err := axml.Decode(b)
		if err != nil {
			return nil
		}
		return t
	}
	if t := xmlFile(m.Application.NetworkSecurityConfig); t != nil {
		if s.nsc, err = ParseNetworkSecurityConfig(t, res); err != nil {
			return nil, err
		}
	}
	for _, f := range []ResFile{m.Application.FullBackupContent, m.Application.DataExtractionRules} {
		if t := xmlFile(f); t != nil {
			b, err := ParseBackupRules(t, res)
			if err != nil {
				return nil, err
			}
			s.backup = append(s.backup, b)
		}
	}
	return s, nil
}

func corpusAPKs(t testing.TB) []string {
	dir := testenv.AndroguardDir(t)
	var apks []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".apk") {
			apks = append(apks, p)
		}
		return nil
	})
	if len(apks) == 0 {
		testenv.Missing(t, "androguard APK samples")
	}
	return apks
}

// TestCorpusAPKs runs every corpus APK through the pipeline: each must parse
// or fail with a typed error; none may panic.
func TestCorpusAPKs(t *testing.T) {
	apks := corpusAPKs(t)
	ok, zipErr := 0, 0
	for _, p := range apks {
		s, err := scanAPK(p)
		switch {
		case err == nil:
			ok++
			if s.m.Package == "" && !strings.Contains(p, "Invalid") {
				t.Logf("%s: no package name", p)
			}
		case strings.HasPrefix(err.Error(), "zip: "):
			zipErr++ // not ours: malformed archives are zipfs's job
		case errors.Is(err, axml.ErrFormat), errors.Is(err, axml.ErrLimit), errors.Is(err, arsc.ErrLimit), errors.Is(err, ErrNotManifest):
			t.Logf("%s: %v", filepath.Base(p), err)
		default:
			t.Errorf("%s: untyped error %v", filepath.Base(p), err)
		}
	}
	t.Logf("%d APKs: %d parsed, %d unreadable archives", len(apks), ok, zipErr)
	// Nearly every archive that opens has a readable manifest; a drop
	// here means a decoder regression.
	if ok < (len(apks)-zipErr)*9/10 {
		t.Errorf("only %d of %d readable APKs parsed", ok, len(apks)-zipErr)
	}
}

// summary is the golden form of a parsed manifest: the decoded structure,
// compact enough to review.
func summary(s *scanned) string {
	m := s.m
	var b strings.Builder
	fmt.Fprintf(&b, "package %s version %d %q sdk min %d target %d max %d\n", m.Package, m.VersionCode, m.VersionName, m.MinSDK, m.TargetSDK, m.MaxSDK)
	app := m.Application
	fmt.Fprintf(&b, "application %q label %q debuggable %v allowBackup %v cleartext %v nsc %q\n",
		app.Name, app.Label, app.Debuggable, app.AllowBackup, app.UsesCleartextTraffic, app.NetworkSecurityConfig.Path)
	for _, p := range m.UsesPermissions {
		fmt.Fprintf(&b, "uses %s\n", p.Locator)
	}
	for _, p := range m.Permissions {
		fmt.Fprintf(&b, "declares %s %s\n", p.Locator, p.ProtectionLevel)
	}
	for _, c := range app.Components {
		fmt.Fprintf(&b, "%s exported=%v (%s) permission=%q launchMode=%q\n", c.Locator, c.Exported, c.ExportReason, c.Permission, c.LaunchMode)
		for _, f := range c.IntentFilters {
			fmt.Fprintf(&b, "  %s actions=%v categories=%v schemes=%v hosts=%v\n", f.Locator, f.Actions, f.Categories, f.Schemes(), f.Hosts())
		}
	}
	for _, a := range m.Anomalies {
		fmt.Fprintf(&b, "! %s\n", a)
	}
	return b.String()
}

func TestCorpusGolden(t *testing.T) {
	dir := testenv.AndroguardDir(t)
	for _, name := range []string{
		"tests/com.test.intent_filter.apk",
		"tests/duplicate.permisssions_9999999.apk",
		"tests/hello-world.apk",
	} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			s, err := scanAPK(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(filepath.Base(name), ".apk")+".txt")
			testenv.Golden(t, golden, []byte(summary(s)), *update)
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, root := range []*axml.Element{
		el("manifest", plain("package", axml.Str("p"))).Append(
			el("uses-sdk", an("minSdkVersion", axml.Int(21))),
			el("application", an("debuggable", axml.Bool(true))).Append(
				el("activity", an("name", axml.Str(".A"))).Append(el("intent-filter").Append(el("action", an("name", axml.Str("x"))))),
			),
		),
		el("network-security-config").Append(el("domain-config").Append(el("domain"), el("pin-set", plain("expiration", axml.Str("2020-01-01"))))),
		el("data-extraction-rules").Append(el("cloud-backup").Append(el("include", plain("domain", axml.Str("root"))))),
	} {
		b, err := axml.Encode(root)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := axml.Decode(data)
		if err != nil {
			return
		}
		// The parsers accept any tree; only the root name may refuse it.
		if _, err := Parse(tree, nil); err != nil && !errors.Is(err, ErrNotManifest) {
			t.Fatal(err)
		}
		if _, err := ParseNetworkSecurityConfig(tree, nil); err != nil && !errors.Is(err, ErrNotNetworkSecurityConfig) {
			t.Fatal(err)
		}
		if _, err := ParseBackupRules(tree, nil); err != nil && !errors.Is(err, ErrNotBackupRules) {
			t.Fatal(err)
		}
	})
}

func BenchmarkScanFrameworkRes(b *testing.B) {
	dir := testenv.AndroguardDir(b)
	p := filepath.Join(dir, "tests", "lineageos_nexus5_framework-res.apk")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scanAPK(p); err != nil {
			b.Fatal(err)
		}
	}
}
