package signing

import (
	"bytes"
	"fmt"
	"strings"
)

// mfSection is one section of a JAR manifest or signature file.
type mfSection struct {
	raw   []byte // the section's bytes including its terminating empty line
	attrs []mfAttr
	name  string // value of the Name attribute, "" for the main section
	named bool
}

type mfAttr struct{ key, value string }

func (s *mfSection) get(key string) (string, bool) {
	for _, a := range s.attrs {
		if strings.EqualFold(a.key, key) {
			return a.value, true
		}
	}
	return "", false
}

// maxSections bounds the sections of one manifest; an APK has at most
// 65,536 entries, hence as many sections plus the main one.
const maxSections = 1 << 17

// parseManifest splits a manifest (or .SF file) into its main section and
// its individual sections, keeping each section's exact bytes because the
// signature file digests them.
func parseManifest(b []byte) (main mfSection, sections []mfSection, err error) {
	var cur *mfSection
	start := 0
	var all []mfSection
	flush := func(end int) {
		if cur != nil {
			cur.raw = b[start:end]
			all = append(all, *cur)
			cur = nil
		}
	}
	for pos := 0; pos < len(b); {
		lineStart := pos
		end := pos
		for end < len(b) && b[end] != '\r' && b[end] != '\n' {
			end++
		}
		line := b[pos:end]
		next := end
		if next < len(b) && b[next] == '\r' {
			next++
		}
		if next < len(b) && b[next] == '\n' && (next == end || b[next-1] == '\r') {
			next++
		}
		pos = next
		if len(line) == 0 {
			flush(pos) // the empty line belongs to the section it ends
			continue
		}
		if cur == nil {
			if len(all) >= maxSections {
				return main, nil, fmt.Errorf("%w: more than %d manifest sections", ErrFormat, maxSections)
			}
			cur = &mfSection{}
			start = lineStart
		}
		if line[0] == ' ' {
			if len(cur.attrs) == 0 {
				return main, nil, fmt.Errorf("%w: manifest continuation line without attribute", ErrFormat)
			}
			cur.attrs[len(cur.attrs)-1].value += string(line[1:])
			if last := &cur.attrs[len(cur.attrs)-1]; strings.EqualFold(last.key, "Name") && len(cur.attrs) == 1 {
				cur.name = last.value
			}
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(": "))
		if !ok {
			return main, nil, fmt.Errorf("%w: manifest line %q has no \": \"", ErrFormat, truncate(string(line)))
		}
		cur.attrs = append(cur.attrs, mfAttr{string(k), string(v)})
		if len(cur.attrs) == 1 && strings.EqualFold(string(k), "Name") {
			cur.name, cur.named = string(v), true
		}
	}
	flush(len(b))
	if len(all) == 0 {
		return main, nil, nil
	}
	main = all[0]
	if main.named {
		// The first section is always the main one, even if a tool put a
		// Name in it.
		main.named, main.name = false, ""
	}
	for _, s := range all[1:] {
		if !s.named {
			return main, nil, fmt.Errorf("%w: manifest section without Name (entry names with CR or LF cannot be expressed)", ErrFormat)
		}
	}
	return main, all[1:], nil
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// writeAttr writes "key: value" wrapped at 72 bytes per line, as the JAR
// specification requires.
func writeAttr(buf *bytes.Buffer, key, value string) {
	line := key + ": " + value
	first := true
	for len(line) > 0 {
		max := 72
		if !first {
			max = 71
			buf.WriteByte(' ')
		}
		n := min(max, len(line))
		buf.WriteString(line[:n])
		buf.WriteString("\r\n")
		line = line[n:]
		first = false
	}
}
