package apk

import (
	"bytes"
	"path"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/apk/arsc"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// textExts are the asset and raw-resource types worth scanning for secrets.
var textExts = map[string]bool{".json": true, ".xml": true, ".txt": true, ".properties": true, ".js": true, ".html": true,
	".htm": true, ".cfg": true, ".conf": true, ".config": true, ".yaml": true, ".yml": true, ".env": true, ".pem": true,
	".key": true, ".ini": true, ".plist": true, ".toml": true, ".csv": true, "": true}

func isTextResource(name string) bool {
	if !strings.HasPrefix(name, "assets/") && !strings.HasPrefix(name, "res/raw/") {
		return false
	}
	return textExts[strings.ToLower(path.Ext(name))]
}

// readText keeps assets and raw resources that look like text.
func (l *loader) readText(e *zipfs.Entry, prefix string) {
	if e.IsDir() || e.UncompressedSize > l.lim.MaxTextSize {
		return
	}
	data, err := e.ReadAll(l.lim.MaxTextSize)
	if err != nil {
		l.warnf("%s%s: %v", prefix, e.Name, err)
		return
	}
	if bytes.IndexByte(data[:min(len(data), 512)], 0) >= 0 {
		return // binary
	}
	l.app.Texts = append(l.app.Texts, TextSource{File: prefix + e.Name, Text: string(data)})
}

// resourceTexts keeps string resources; their names give secret rules
// context ("api_key", "client_secret").
func (l *loader) resourceTexts(t *arsc.Table, file string) {
	for e := range t.All() {
		// Translations repeat the default text in every language and
		// secrets are not translated: the default configuration suffices
		// (framework-res has a hundred locales).
		if e.Complex || e.Type != "string" || e.Value.Type != axml.TypeString || len(e.Value.Str) < 8 || !e.Config.IsDefault() {
			continue
		}
		l.app.Texts = append(l.app.Texts, TextSource{File: file, Name: e.Name(), Text: e.Value.Str})
	}
}
