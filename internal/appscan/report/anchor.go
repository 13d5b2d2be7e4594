package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/dfslab/dfslab/internal/appscan"
)

// SourceRootID is the SARIF uriBaseId of paths in the repository; code
// scanning services resolve it to the checkout the analysis ran on.
const SourceRootID = "%SRCROOT%"

// Anchors map findings into the repository the app was built from, so
// that SARIF results point at source files and lines instead of classes
// inside a DEX: code findings to the class's source file (when the DEX
// keeps SourceFile and line tables), manifest findings to the repository's
// AndroidManifest.xml and the line of the element.
type Anchors struct {
	// Source is the repository checkout (--source-root); files are looked
	// up in it to find where a class's source file lives.
	Source fs.FS
	// Manifest is the slash path, inside Source, of the app's
	// AndroidManifest.xml (--manifest), "" when not given.
	Manifest string
	// Root is the checkout's absolute path on the scanning machine. It is
	// never written: it only turns absolute paths of scanned files into
	// paths relative to the repository.
	Root string

	index    map[string][]string // source file base name -> paths in Source
	elements map[string]int      // manifest element -> line
	appLine  int                 // line of <application>
	pkg      string              // package attribute of the source manifest
}

// NewAnchors prepares anchors over the checkout src (nil: no source files)
// with the manifest at the slash path manifest inside it ("" for none). It
// reads the manifest now and indexes the Java and Kotlin files of src once.
func NewAnchors(src fs.FS, manifest string) (*Anchors, error) {
	a := &Anchors{Source: src, Manifest: manifest, index: map[string][]string{}, elements: map[string]int{}}
	if src == nil {
		return a, nil
	}
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable folder only loses its files
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "build", "node_modules", ".gradle", ".idea":
				return fs.SkipDir
			}
			return nil
		}
		if n := d.Name(); strings.HasSuffix(n, ".java") || strings.HasSuffix(n, ".kt") {
			a.index[n] = append(a.index[n], p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if manifest != "" {
		data, err := fs.ReadFile(src, manifest)
		if err != nil {
			return nil, err
		}
		a.readManifest(data)
	}
	return a, nil
}

// readManifest records the line of each element the rules name.
func (a *Anchors) readManifest(data []byte) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	// The line of an element is where its tag opens; the decoder's own
	// position is past the tag's attributes.
	line, counted := 1, 0
	for {
		start := int(dec.InputOffset())
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		line += bytes.Count(data[counted:start], []byte("\n"))
		counted = start
		name := ""
		for _, at := range se.Attr {
			switch {
			case at.Name.Local == "package" && se.Name.Local == "manifest":
				a.pkg = at.Value
			case at.Name.Local == "name" && at.Name.Space != "":
				name = at.Value
			}
		}
		key := se.Name.Local
		switch key {
		case "application":
			a.appLine = line
		case "activity", "activity-alias", "service", "receiver", "provider", "uses-permission", "permission":
			if name == "" {
				continue
			}
			key += "[" + name + "]"
		case "manifest", "uses-sdk":
		default:
			continue
		}
		if _, dup := a.elements[key]; !dup {
			a.elements[key] = line
		}
	}
}

// manifestLine returns the line of a finding's manifest element in the
// source manifest of app package pkg: the element itself, or (for entries
// merged from libraries, and app-wide findings) the <application> line.
func (a *Anchors) manifestLine(el, pkg string) int {
	if n, ok := a.elements[el]; ok {
		return n
	}
	// Source manifests often name components relative to the package.
	if kind, name, ok := strings.Cut(el, "["); ok {
		for _, p := range []string{pkg, a.pkg} {
			if p != "" && strings.HasPrefix(name, p+".") {
				short := strings.TrimPrefix(strings.TrimSuffix(name, "]"), p)
				if n, ok := a.elements[kind+"["+short+"]"]; ok {
					return n
				}
			}
		}
	}
	return max(a.appLine, 1)
}

// sourcePath returns the path in the repository of the source file of a
// class: the indexed file whose folder matches the class's package, or,
// when the checkout has no such file, the conventional
// app/src/main/java/<package path>/<file>.
func (a *Anchors) sourcePath(class, file string) string {
	pkgPath := ""
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		pkgPath = strings.ReplaceAll(class[:i], ".", "/")
	}
	for _, p := range a.index[file] {
		if pkgPath == "" || strings.HasSuffix(path.Dir(p), "/"+pkgPath) || path.Dir(p) == pkgPath {
			return p
		}
	}
	return path.Join("app/src/main/java", pkgPath, file)
}

// anchor returns the repository location of f, or ok false when f has
// none (no source file recorded, no manifest given).
func (a *Anchors) anchor(f appscan.Finding, pkg string) (uri string, line int, ok bool) {
	if a == nil {
		return "", 0, false
	}
	l := f.Location
	switch {
	case l.SourceFile != "" && l.Class != "" && a.Source != nil:
		// Kotlin and Java put one name in SourceFile; file names with a
		// folder or odd characters are not a source file of this repo.
		if strings.ContainsAny(l.SourceFile, "/\\") || !(strings.HasSuffix(l.SourceFile, ".java") || strings.HasSuffix(l.SourceFile, ".kt")) {
			return "", 0, false
		}
		return a.sourcePath(l.Class, l.SourceFile), max(l.Line, 1), true
	case a.Manifest != "" && (l.File == "AndroidManifest.xml" || strings.HasSuffix(l.File, "/AndroidManifest.xml")) && l.Element != "":
		return a.Manifest, a.manifestLine(l.Element, pkg), true
	}
	return "", 0, false
}
