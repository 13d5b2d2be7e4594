package apk

import (
	"path"
	"strings"

	"github.com/dfslab/dfslab/internal/apk/native"
	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// readNative summarises one ELF library's hardening and keeps its readable
// strings for secret scanning.
func (l *loader) readNative(e *zipfs.Entry, prefix string) {
	if e.UncompressedSize > l.lim.MaxNativeSize {
		l.warnf("%s%s: %d bytes, not analysed", prefix, e.Name, e.UncompressedSize)
		return
	}
	data, err := e.ReadAll(l.lim.MaxNativeSize)
	if err != nil {
		l.warnf("%s%s: %v", prefix, e.Name, err)
		return
	}
	info, err := native.Analyze(data, native.Options{MinStringLen: 12})
	if err != nil {
		l.warnf("%s%s: %v", prefix, e.Name, err)
		return
	}
	lib := NativeLib{Path: prefix + e.Name, Arch: abiOf(e.Name, info.Arch), PIE: info.PIE, NX: info.NX, Canary: info.Canary,
		RELRO: info.RELRO, Fortify: info.Fortify, RPath: info.RPath, Stripped: info.Stripped, Imports: info.Imports,
		Dangerous: info.Dangerous, Strings: info.Strings}
	if lib.RPath == "" {
		lib.RPath = info.RunPath
	}
	l.app.Native = append(l.app.Native, lib)
}

// abiOf prefers the ABI folder name (lib/arm64-v8a/…), which is what
// Android installs by, over the ELF machine.
func abiOf(name, arch string) string {
	if dir := path.Base(path.Dir(name)); dir != "lib" && dir != "." && !strings.Contains(dir, "/") {
		return dir
	}
	return arch
}
