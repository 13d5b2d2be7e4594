package apk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/dfslab/dfslab/internal/apk/aabproto"
	"github.com/dfslab/dfslab/internal/apk/arsc"
	"github.com/dfslab/dfslab/internal/apk/signing"
	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// ErrUnsupported means the file is a zip but not an app container.
var ErrUnsupported = errors.New("not an Android app container (no manifest and no split APKs)")

// Limits bound what the loader reads from one app.
type Limits struct {
	Zip zipfs.Limits
	// MaxSplits caps the APKs read from an APKS/XAPK set (default 64).
	MaxSplits int
	// MaxSplitSize caps one nested APK, which is read into memory (default 512 MiB).
	MaxSplitSize int64
	// MaxTextSize caps one asset or raw resource read for secret scanning (default 1 MiB).
	MaxTextSize int64
	// MaxNativeSize caps one native library (default 64 MiB).
	MaxNativeSize int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxSplits <= 0 {
		l.MaxSplits = 64
	}
	if l.MaxSplitSize <= 0 {
		l.MaxSplitSize = 512 << 20
	}
	if l.MaxTextSize <= 0 {
		l.MaxTextSize = 1 << 20
	}
	if l.MaxNativeSize <= 0 {
		l.MaxNativeSize = 64 << 20
	}
	return l
}

// Open reads the app at path.
func Open(ctx context.Context, path string) (*App, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return OpenReader(ctx, f, fi.Size())
}

// OpenReader reads an app from r with the default limits.
func OpenReader(ctx context.Context, r io.ReaderAt, size int64) (*App, error) {
	return OpenWithLimits(ctx, r, size, Limits{})
}

// OpenWithLimits reads an app from r. It fails only when the container
// itself cannot be read; every unreadable part becomes a warning.
func OpenWithLimits(ctx context.Context, r io.ReaderAt, size int64, lim Limits) (*App, error) {
	lim = lim.withDefaults()
	z, err := zipfs.Open(r, size, lim.Zip)
	if err != nil {
		return nil, err
	}
	l := &loader{ctx: ctx, lim: lim, app: &App{}}
	switch {
	case z.Lookup("AndroidManifest.xml") != nil:
		l.app.Format = FormatAPK
		l.loadAPK(z, "", true)
	case z.Lookup("base/manifest/AndroidManifest.xml") != nil:
		l.app.Format = FormatAAB
		l.loadAAB(z)
	default:
		splits := splitNames(z)
		if len(splits) == 0 {
			return nil, ErrUnsupported
		}
		l.app.Format = FormatAPKS
		if z.Lookup("manifest.json") != nil || z.Lookup("info.json") != nil {
			l.app.Format = FormatXAPK
		}
		l.loadSplits(z, splits)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := l.loadCode(); err != nil {
		return nil, err
	}
	return l.app, nil
}

// loader accumulates one app from one or more archives.
type loader struct {
	ctx  context.Context
	lim  Limits
	app  *App
	dexs []dexInput
	// res is the resource table of the base APK, for resolving manifest
	// references; nil when absent or unreadable.
	res *arsc.Table
}

type dexInput struct {
	name string
	data []byte
}

func (l *loader) warnf(format string, args ...any) {
	l.app.Warnings = append(l.app.Warnings, fmt.Sprintf(format, args...))
}

// loadAPK reads one APK; base is false for the splits of a set, whose
// manifests add components but do not replace the base identity.
func (l *loader) loadAPK(z *zipfs.Archive, prefix string, base bool) {
	l.zipIssues(z, prefix)
	for _, e := range z.Entries {
		l.app.Files = append(l.app.Files, prefix+e.Name)
	}
	// table is this archive's own resource table: a split's layouts are
	// named in the split's table, not in the base's.
	var table *arsc.Table
	l.part(prefix+"resources.arsc", func() {
		data, err := z.ReadFile("resources.arsc", 0)
		if err != nil {
			if !errors.Is(err, zipfs.ErrNotFound) {
				l.warnf("%sresources.arsc: %v", prefix, err)
			}
			return
		}
		t, err := arsc.Decode(data)
		if err != nil {
			l.warnf("%sresources.arsc: %v", prefix, err)
			return
		}
		table = t
		if base || l.res == nil {
			l.res = t
		}
		l.resourceTexts(t, prefix+"resources.arsc")
	})
	l.part(prefix+"AndroidManifest.xml", func() {
		if data, err := z.ReadFile("AndroidManifest.xml", 0); err != nil {
			l.warnf("%sAndroidManifest.xml: %v", prefix, err)
		} else if m, _, err := decodeManifest(data, binaryXML, l.res); err != nil {
			l.warnf("%sAndroidManifest.xml: %v", prefix, err)
		} else if base || l.app.Manifest == nil {
			l.app.Manifest = m
			l.loadXMLConfigs(z, prefix, "", binaryXML)
		} else {
			l.app.Manifest.Application.Components = append(l.app.Manifest.Application.Components, m.Application.Components...)
			l.app.Manifest.UsesPermissions = appendNew(l.app.Manifest.UsesPermissions, m.UsesPermissions...)
		}
	})
	if table != nil {
		l.part(prefix+"res/layout", func() { l.touchFilters(z, table, prefix, "", "resources.arsc", binaryXML) })
	}
	if base {
		l.part(prefix+"signatures", func() { l.loadSigning(z, prefix) })
	}
	for _, e := range z.Entries {
		if l.ctx.Err() != nil {
			return
		}
		name := e.Name
		switch {
		case isDexName(name, ""):
			l.part(prefix+name, func() { l.readDex(e, prefix) })
		case strings.HasPrefix(name, "lib/") && strings.HasSuffix(name, ".so"):
			l.part(prefix+name, func() { l.readNative(e, prefix) })
		case isTextResource(name):
			l.part(prefix+name, func() { l.readText(e, prefix) })
		}
	}
}

// part runs one step of loading. A panic there (a reader bug met on
// hostile input) becomes a warning, so the rest of the app is still
// scanned and a batch scan does not die on one file.
func (l *loader) part(name string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			l.warnf("%s: internal error while reading: %v", name, r)
		}
	}()
	fn()
}

func isDexName(name, dir string) bool {
	if !strings.HasPrefix(name, dir) {
		return false
	}
	base := name[len(dir):]
	return strings.HasPrefix(base, "classes") && strings.HasSuffix(base, ".dex") && !strings.Contains(base, "/")
}

func (l *loader) readDex(e *zipfs.Entry, prefix string) {
	data, err := e.ReadAll(0)
	if err != nil {
		l.warnf("%s%s: %v", prefix, e.Name, err)
		return
	}
	l.dexs = append(l.dexs, dexInput{name: prefix + path.Base(e.Name), data: data})
}

// loadAAB reads an Android App Bundle: modules are top-level folders with
// manifest/, dex/, res/, lib/, assets/, and XML and resources in aapt2's
// protobuf form.
func (l *loader) loadAAB(z *zipfs.Archive) {
	l.zipIssues(z, "")
	for _, e := range z.Entries {
		l.app.Files = append(l.app.Files, e.Name)
	}
	l.part("base/resources.pb", func() {
		if data, err := z.ReadFile("base/resources.pb", 0); err == nil {
			if t, err := aabproto.DecodeResourceTable(data); err == nil {
				l.res = t
				l.resourceTexts(t, "base/resources.pb")
				l.touchFilters(z, t, "", "base/", "base/resources.pb", protoXML)
			} else {
				l.warnf("base/resources.pb: %v", err)
			}
		} else if !errors.Is(err, zipfs.ErrNotFound) {
			l.warnf("base/resources.pb: %v", err)
		}
	})
	l.part("base/manifest/AndroidManifest.xml", func() {
		if data, err := z.ReadFile("base/manifest/AndroidManifest.xml", 0); err != nil {
			l.warnf("base/manifest/AndroidManifest.xml: %v", err)
		} else if m, _, err := decodeManifest(data, protoXML, l.res); err != nil {
			l.warnf("base/manifest/AndroidManifest.xml: %v", err)
		} else {
			l.app.Manifest = m
			l.loadXMLConfigs(z, "", "base/", protoXML)
		}
	})
	l.part("signatures", func() { l.loadSigning(z, "") })
	for _, e := range z.Entries {
		if l.ctx.Err() != nil {
			return
		}
		mod, rest, ok := strings.Cut(e.Name, "/")
		if !ok || mod == "BUNDLE-METADATA" || mod == "META-INF" {
			continue
		}
		switch {
		case isDexName(rest, "dex/"):
			data, err := e.ReadAll(0)
			if err != nil {
				l.warnf("%s: %v", e.Name, err)
				continue
			}
			l.dexs = append(l.dexs, dexInput{name: mod + "/" + path.Base(rest), data: data})
		case strings.HasPrefix(rest, "lib/") && strings.HasSuffix(rest, ".so"):
			l.part(e.Name, func() { l.readNative(e, "") })
		case isTextResource(rest):
			l.part(e.Name, func() { l.readText(e, "") })
		}
	}
}

// splitNames lists the nested APKs of an APKS/XAPK set, base first.
func splitNames(z *zipfs.Archive) []string {
	var names []string
	for _, e := range z.Entries {
		if strings.HasSuffix(strings.ToLower(e.Name), ".apk") && !e.IsDir() {
			names = append(names, e.Name)
		}
	}
	isBase := func(n string) bool {
		b := path.Base(n)
		return b == "base.apk" || b == "base-master.apk" || strings.HasPrefix(b, "base-master")
	}
	slices.SortStableFunc(names, func(a, b string) int {
		switch {
		case isBase(a) && !isBase(b):
			return -1
		case isBase(b) && !isBase(a):
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

// loadSplits reads the APKs of a set as one app. Nesting is bounded to one
// level: an APK inside a split is not opened.
func (l *loader) loadSplits(z *zipfs.Archive, names []string) {
	l.zipIssues(z, "")
	if len(names) > l.lim.MaxSplits {
		l.warnf("%d split APKs, only the first %d read", len(names), l.lim.MaxSplits)
		names = names[:l.lim.MaxSplits]
	}
	for i, n := range names {
		if l.ctx.Err() != nil {
			return
		}
		data, err := z.ReadFile(n, l.lim.MaxSplitSize)
		if err != nil {
			l.warnf("%s: %v", n, err)
			continue
		}
		sz, err := zipfs.Open(bytes.NewReader(data), int64(len(data)), l.lim.Zip)
		if err != nil {
			l.warnf("%s: %v", n, err)
			continue
		}
		if sz.Lookup("AndroidManifest.xml") == nil {
			l.warnf("%s: no AndroidManifest.xml", n)
			continue
		}
		l.loadAPK(sz, n+"!/", i == 0)
	}
}

func (l *loader) loadSigning(z *zipfs.Archive, prefix string) {
	res, err := signing.Verify(l.ctx, z)
	if err != nil {
		l.warnf("%ssignatures: %v", prefix, err)
		return
	}
	for _, s := range res.Schemes {
		l.app.Signing.Schemes = append(l.app.Signing.Schemes, SchemeResult{Scheme: s.Name, Present: s.Present, Verified: s.Verified, Err: s.Error()})
	}
	for _, c := range res.Certificates {
		if c.Cert == nil {
			continue
		}
		l.app.Signing.Signers = append(l.app.Signing.Signers, Signer{Cert: c.Cert, Schemes: slices.Clone(c.Schemes)})
	}
}

// zipIssues maps the archive's structural issues onto the model.
func (l *loader) zipIssues(z *zipfs.Archive, prefix string) {
	for _, is := range z.Issues {
		var k ZipIssueKind
		switch is.Kind {
		case zipfs.IssueDuplicateName:
			k = ZipDuplicate
		case zipfs.IssueDotDot, zipfs.IssueAbsoluteName:
			k = ZipTraversal
		case zipfs.IssueLimit:
			k = ZipLimit
		case zipfs.IssueLeadingData:
			// A local file header that the central directory does not
			// list is a padding or stub entry some build tools write,
			// not a DEX or other payload hidden in front (Janus).
			if unreferencedEntryFirst(z) {
				l.warnf("%s%s; it is an unreferenced zip entry (padding), not a hidden payload", prefix, is.Detail)
				continue
			}
			k = ZipPrefix
		case zipfs.IssueEncrypted:
			k = ZipEncrypted
		case zipfs.IssueLocalNameMismatch, zipfs.IssueMethodMismatch, zipfs.IssueStoredSizeMismatch:
			k = ZipMismatch
		default:
			continue
		}
		l.app.ZipIssues = append(l.app.ZipIssues, ZipIssue{Kind: k, Name: prefix + is.Name, Note: is.Detail})
	}
}

// unreferencedEntryFirst reports whether the archive starts with a zip
// local file header, although no central directory record points at
// offset 0.
func unreferencedEntryFirst(z *zipfs.Archive) bool {
	var sig [4]byte
	if _, err := z.ReaderAt().ReadAt(sig[:], 0); err != nil {
		return false
	}
	return string(sig[:]) == "PK\x03\x04"
}

func appendNew(dst []string, src ...string) []string {
	for _, s := range src {
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}
