package signing

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrFormat reports a malformed signature structure.
var ErrFormat = errors.New("signing: malformed structure")

// reader walks the little-endian, uint32-length-prefixed structures of the
// APK Signing Block. Every length is checked against what is left before it
// is used, so hostile lengths end in ErrFormat, never in a large allocation
// or a panic. Slices returned alias the input.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrFormat, what)
	}
}

func (r *reader) empty() bool { return r.err != nil || len(r.b) == 0 }

func (r *reader) uint32(what string) uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 4 {
		r.fail(what + ": truncated")
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

// prefixed returns the next uint32-length-prefixed slice.
func (r *reader) prefixed(what string) []byte {
	n := r.uint32(what)
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)) {
		r.fail(fmt.Sprintf("%s: length %d exceeds the %d bytes left", what, n, len(r.b)))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// seq splits a length-prefixed sequence of length-prefixed items.
func seq(b []byte, what string, max int) ([][]byte, error) {
	r := reader{b: b}
	var out [][]byte
	for !r.empty() {
		if len(out) == max {
			return nil, fmt.Errorf("%w: more than %d %s", ErrFormat, max, what)
		}
		out = append(out, r.prefixed(what))
	}
	return out, r.err
}

// writer builds the same structures for the test signer.
type writer struct{ b []byte }

func (w *writer) uint32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *writer) prefixed(b []byte) {
	w.uint32(uint32(len(b)))
	w.b = append(w.b, b...)
}

func prefixedSeq(items ...[]byte) []byte {
	var w writer
	for _, it := range items {
		w.prefixed(it)
	}
	return w.b
}
