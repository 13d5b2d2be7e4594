// Package apktest builds complete Android packages in Go for tests: a zip
// with a binary XML manifest, optional resources.arsc and res/xml files,
// DEX code with chosen classes, methods, strings and call sites, native
// libraries, and v1/v2/v3 signatures from generated keys. Nothing a test
// scans has to be checked in.
package apktest

import (
	"archive/zip"
	"bytes"
	"cmp"
	"crypto/x509/pkix"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/apk/aabproto"
	"github.com/dfslab/dfslab/internal/apk/arsc"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/apk/signing"
	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// App describes a test app. The zero value (plus a package name) is a
// well-behaved app: modern SDK levels, backups off, nothing exported, signed
// with v2 and v3 by a fresh ECDSA P-256 key.
type App struct {
	Package   string // default com.example.app
	MinSDK    int    // default 26; -1 leaves uses-sdk out
	TargetSDK int    // default 34
	// ManifestAttrs and AppAttrs are added to <manifest> and <application>.
	// Attributes the defaults also set (allowBackup) are replaced.
	ManifestAttrs []axml.Attr
	AppAttrs      []axml.Attr
	Permissions   []string        // <uses-permission>
	Elements      []*axml.Element // extra children of <manifest> (permission, …)
	Components    []*axml.Element // children of <application>
	// Strings become string resources; XML become res/xml/<name>.xml files
	// registered as xml resources. Refer to either from manifest attributes
	// with Ref("xml/name") or Ref("string/name").
	Strings map[string]string
	XML     map[string]*axml.Element
	// Layouts become res/layout/<name>.xml files registered as layout
	// resources; Styles become style resources whose items are the
	// attributes given (android: attributes carry their framework ID).
	Layouts map[string]*axml.Element
	Styles  map[string][]axml.Attr
	// Files are added verbatim (assets/…, res/raw/…, lib/<abi>/x.so).
	Files map[string][]byte
	// Extra entries are written after Files, in order, as given: they may
	// repeat names or carry odd names and flags (zip structure tests).
	Extra []Entry
	// Dex, when set, adds classes to classes.dex; Dex2 to classes2.dex.
	Dex, Dex2 func(b *dexbuild.Builder)
	// Dexes adds classes3.dex, classes4.dex, … for apps larger than two
	// files can hold (65,536 method references each).
	Dexes []func(b *dexbuild.Builder)
	// Sign selects the signature; nil means v2+v3 with a fresh EC key.
	Sign *Signature
	// Prefix is written before the first entry with the offsets adjusted,
	// as a Janus-style polyglot does. Only for unsigned apps.
	Prefix []byte
	// Mutate changes the signed (or unsigned) bytes last, e.g. to break
	// a signature or prepend data.
	Mutate func([]byte) []byte
}

// Entry is a raw zip entry.
type Entry struct {
	Name    string
	Data    []byte
	Flags   uint16
	Deflate bool
}

// Signature selects schemes and the key that signs.
type Signature struct {
	None       bool
	V1, V2, V3 bool
	Key        signing.KeySpec // zero value: ECDSA P-256, CN=dfslab test signer
}

// Ref returns a placeholder reference to the app resource "type/name"
// (e.g. "xml/network_security_config"); Build replaces it with the ID.
func Ref(name string) axml.Value { return axml.Value{Type: axml.TypeReference, Str: name} }

// A is an android: attribute.
func A(name string, v axml.Value) axml.Attr { return axml.AndroidAttr(name, v) }

// El builds an element with android: attributes given as name/value pairs;
// values may be string, bool, int or axml.Value.
func El(name string, kv ...any) *axml.Element {
	e := axml.NewElement(name)
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attrs = append(e.Attrs, axml.AndroidAttr(kv[i].(string), val(kv[i+1])))
	}
	return e
}

// Plain builds an element with plain (namespace-less) attributes, as in
// network security configurations and backup rules.
func Plain(name string, kv ...any) *axml.Element {
	e := axml.NewElement(name)
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attrs = append(e.Attrs, axml.PlainAttr(kv[i].(string), val(kv[i+1])))
	}
	return e
}

// Text builds an element with character data (<domain>, <pin>).
func Text(name, text string, kv ...any) *axml.Element {
	e := Plain(name, kv...)
	e.Text = text
	return e
}

func val(v any) axml.Value {
	switch x := v.(type) {
	case axml.Value:
		return x
	case string:
		return axml.Str(x)
	case bool:
		return axml.Bool(x)
	case int:
		return axml.Int(int32(x))
	}
	panic(fmt.Sprintf("apktest: unsupported attribute value %T", v))
}

// Component builds an activity/service/receiver/provider with attributes
// and children (intent filters).
func Component(kind, name string, kv []any, children ...*axml.Element) *axml.Element {
	e := El(kind, append([]any{"name", name}, kv...)...)
	return e.Append(children...)
}

// Filter builds an intent filter from actions, categories and data
// elements; pass strings starting with "action:", "category:" or "scheme:",
// or *axml.Element for anything else.
func Filter(kv []any, items ...any) *axml.Element {
	f := El("intent-filter", kv...)
	for _, it := range items {
		switch x := it.(type) {
		case string:
			k, v, _ := strings.Cut(x, ":")
			switch k {
			case "action", "category":
				f.Append(El(k, "name", v))
			case "scheme":
				scheme, host, _ := strings.Cut(v, "://")
				d := El("data", "scheme", scheme)
				if host != "" {
					d.Attrs = append(d.Attrs, axml.AndroidAttr("host", axml.Str(host)))
				}
				f.Append(d)
			}
		case *axml.Element:
			f.Append(x)
		}
	}
	return f
}

// parts is an app before encoding: XML trees and the resource table are
// kept as models so that Build and BuildAAB can encode them their way.
type parts struct {
	man   *axml.Element
	table *arsc.Table
	xml   map[string]*axml.Element // path -> tree
	files map[string][]byte
}

func (a *App) parts() (*parts, error) {
	pkg := cmp.Or(a.Package, "com.example.app")
	p := &parts{xml: map[string]*axml.Element{}, files: map[string][]byte{}}
	maps.Copy(p.files, a.Files)

	// Resources first: manifest references need their IDs.
	ids := map[string]uint32{}
	if len(a.Strings) > 0 || len(a.XML) > 0 || len(a.Layouts) > 0 || len(a.Styles) > 0 {
		rp := arsc.NewPackage(0x7f, pkg)
		for _, k := range slices.Sorted(maps.Keys(a.Strings)) {
			ids["string/"+k] = rp.Add("string", k, arsc.Config{}, axml.Str(a.Strings[k]))
		}
		for _, k := range slices.Sorted(maps.Keys(a.XML)) {
			path := "res/xml/" + k + ".xml"
			ids["xml/"+k] = rp.Add("xml", k, arsc.Config{}, axml.Str(path))
			p.xml[path] = a.XML[k]
		}
		for _, k := range slices.Sorted(maps.Keys(a.Layouts)) {
			path := "res/layout/" + k + ".xml"
			ids["layout/"+k] = rp.Add("layout", k, arsc.Config{}, axml.Str(path))
			p.xml[path] = a.Layouts[k]
		}
		for _, k := range slices.Sorted(maps.Keys(a.Styles)) {
			var items []arsc.Item
			for _, at := range a.Styles[k] {
				items = append(items, arsc.Item{Name: at.ResID, Value: at.Value})
			}
			ids["style/"+k] = rp.AddComplex("style", k, arsc.Config{}, 0, items)
		}
		p.table = arsc.NewTable(rp)
	}

	p.man = a.manifest(pkg)
	var refErr error
	resolve := func(el *axml.Element, _ int) {
		for i := range el.Attrs {
			v := &el.Attrs[i].Value
			if v.Type == axml.TypeReference && v.Data == 0 && v.Str != "" {
				id, ok := ids[v.Str]
				if !ok {
					refErr = fmt.Errorf("apktest: reference to undefined resource %q", v.Str)
				}
				*v = axml.Ref(id)
			}
		}
	}
	p.man.Walk(resolve)
	for _, k := range slices.Sorted(maps.Keys(p.xml)) {
		p.xml[k].Walk(resolve)
	}
	if refErr != nil {
		return nil, refErr
	}
	dexes := map[string]func(*dexbuild.Builder){"classes.dex": a.Dex, "classes2.dex": a.Dex2}
	for k, fn := range a.Dexes {
		dexes[fmt.Sprintf("classes%d.dex", k+3)] = fn
	}
	for name, fn := range dexes {
		if fn == nil {
			continue
		}
		b := dexbuild.New()
		fn(b)
		d, err := b.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		p.files[name] = d
	}
	return p, nil
}

// Build produces the APK bytes.
func (a *App) Build() ([]byte, error) {
	p, err := a.parts()
	if err != nil {
		return nil, err
	}
	files := p.files
	if p.table != nil {
		data, err := arsc.Encode(p.table)
		if err != nil {
			return nil, fmt.Errorf("resources.arsc: %w", err)
		}
		files["resources.arsc"] = data
	}
	for path, tree := range p.xml {
		data, err := axml.EncodeOptions{UTF8: true}.Encode(tree)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		files[path] = data
	}
	data, err := axml.Encode(p.man)
	if err != nil {
		return nil, fmt.Errorf("AndroidManifest.xml: %w", err)
	}
	files["AndroidManifest.xml"] = data

	out, err := zipFiles(files, a.Extra, len(a.Prefix))
	if err != nil {
		return nil, err
	}
	if len(a.Prefix) > 0 {
		if a.Sign == nil || !a.Sign.None {
			return nil, fmt.Errorf("apktest: Prefix needs an unsigned app")
		}
		out = append(slices.Clone(a.Prefix), out...)
	}
	if out, err = a.sign(out); err != nil {
		return nil, err
	}
	if a.Mutate != nil {
		out = a.Mutate(out)
	}
	return out, nil
}

// BuildAAB produces an Android App Bundle with one module, base/: the
// manifest, XML resources and resource table in aapt2's protobuf form, code
// under base/dex/. Bundles are uploaded unsigned (or JAR-signed), so
// Sign is ignored; Extra, Prefix and Mutate are not applied.
func (a *App) BuildAAB() ([]byte, error) {
	p, err := a.parts()
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"BundleConfig.pb": {}}
	for name, data := range p.files {
		switch {
		case strings.HasPrefix(name, "classes") && strings.HasSuffix(name, ".dex"):
			files["base/dex/"+name] = data
		default:
			files["base/"+name] = data
		}
	}
	if p.table != nil {
		data, err := aabproto.EncodeResourceTable(p.table)
		if err != nil {
			return nil, fmt.Errorf("resources.pb: %w", err)
		}
		files["base/resources.pb"] = data
	}
	for path, tree := range p.xml {
		data, err := aabproto.EncodeXML(tree)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		files["base/"+path] = data
	}
	data, err := aabproto.EncodeXML(p.man)
	if err != nil {
		return nil, fmt.Errorf("AndroidManifest.xml: %w", err)
	}
	files["base/manifest/AndroidManifest.xml"] = data
	return zipFiles(files, nil, 0)
}

func (a *App) manifest(pkg string) *axml.Element {
	min, target := cmp.Or(a.MinSDK, 26), cmp.Or(a.TargetSDK, 34)
	m := axml.NewElement("manifest", axml.PlainAttr("package", axml.Str(pkg)),
		axml.AndroidAttr("versionCode", axml.Int(1)), axml.AndroidAttr("versionName", axml.Str("1.0")))
	m.Attrs = merge(m.Attrs, a.ManifestAttrs)
	if min >= 0 {
		m.Append(El("uses-sdk", "minSdkVersion", min, "targetSdkVersion", target))
	}
	for _, p := range a.Permissions {
		m.Append(El("uses-permission", "name", p))
	}
	m.Append(a.Elements...)
	app := axml.NewElement("application", axml.AndroidAttr("label", axml.Str("Test")), axml.AndroidAttr("allowBackup", axml.Bool(false)))
	app.Attrs = merge(app.Attrs, a.AppAttrs)
	app.Append(a.Components...)
	return m.Append(app)
}

// merge returns base with attributes replaced or added from extra.
func merge(base, extra []axml.Attr) []axml.Attr {
	out := slices.Clone(base)
	for _, x := range extra {
		if i := slices.IndexFunc(out, func(b axml.Attr) bool { return b.Name == x.Name && b.Namespace == x.Namespace }); i >= 0 {
			out[i] = x
		} else {
			out = append(out, x)
		}
	}
	return out
}

func zipFiles(files map[string][]byte, extra []Entry, offset int) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.SetOffset(int64(offset))
	names := slices.Sorted(maps.Keys(files))
	// Android expects the manifest early; put it first as aapt does.
	slices.SortStableFunc(names, func(x, y string) int {
		return cmp.Compare(boolInt(y == "AndroidManifest.xml"), boolInt(x == "AndroidManifest.xml"))
	})
	for _, n := range names {
		method := zip.Deflate
		if n == "resources.arsc" || strings.HasSuffix(n, ".so") || strings.HasSuffix(n, ".bin") {
			method = zip.Store // as Android requires for mmap
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: method, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(files[n]); err != nil {
			return nil, err
		}
	}
	for _, e := range extra {
		method := zip.Store
		if e.Deflate {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: method, Flags: e.Flags})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(e.Data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (a *App) sign(apk []byte) ([]byte, error) {
	s := a.Sign
	if s == nil {
		s = &Signature{V2: true, V3: true}
	}
	if s.None {
		return apk, nil
	}
	spec := s.Key
	if spec.Algorithm == "" {
		spec.Algorithm = "ecdsa"
	}
	if spec.Subject.CommonName == "" && len(spec.Subject.Organization) == 0 {
		spec.Subject = pkix.Name{CommonName: "dfslab test signer", Organization: []string{"dfslab"}}
	}
	if spec.NotBefore.IsZero() {
		spec.NotBefore = time.Now().Add(-time.Hour)
	}
	if spec.NotAfter.IsZero() {
		// 25 years, as Android recommends for signing keys (and past the
		// date Google Play requires), so that a default test app raises
		// no signing-validity finding.
		spec.NotAfter = spec.NotBefore.AddDate(25, 0, 0)
	}
	key, err := signing.NewKey(spec)
	if err != nil {
		return nil, fmt.Errorf("apktest: key: %w", err)
	}
	return signing.Sign(apk, key, signing.SignOptions{V1: s.V1, V2: s.V2, V3: s.V3})
}
