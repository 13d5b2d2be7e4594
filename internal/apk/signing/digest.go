package signing

import (
	"crypto"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
)

const chunkSize = 1 << 20

// section is a byte range of the APK, or literal bytes (the patched EOCD).
type section struct {
	off, n int64
	lit    []byte
}

// chunkedDigests computes the APK Signature Scheme v2/v3 content digest for
// each hash: every section is cut into 1 MiB chunks, each chunk hashed as
// 0xa5 || uint32 length || bytes, and the result is the hash of
// 0x5a || uint32 chunk count || chunk digests. One read pass serves all
// hashes.
func chunkedDigests(r io.ReaderAt, sections []section, hashes []crypto.Hash) (map[crypto.Hash][]byte, error) {
	var chunks int64
	for _, s := range sections {
		n := s.n
		if s.lit != nil {
			n = int64(len(s.lit))
		}
		chunks += (n + chunkSize - 1) / chunkSize
	}
	if chunks > 1<<31 {
		return nil, fmt.Errorf("%w: %d chunks", ErrFormat, chunks)
	}
	type state struct {
		top   hash.Hash
		chunk hash.Hash
	}
	st := make([]state, len(hashes))
	var hdr [5]byte
	for i, h := range hashes {
		st[i] = state{top: h.New(), chunk: h.New()}
		hdr[0] = 0x5a
		binary.LittleEndian.PutUint32(hdr[1:], uint32(chunks))
		st[i].top.Write(hdr[:])
	}
	buf := make([]byte, chunkSize)
	var sum []byte
	for _, s := range sections {
		n := s.n
		if s.lit != nil {
			n = int64(len(s.lit))
		}
		for done := int64(0); done < n; {
			c := min(n-done, chunkSize)
			var data []byte
			if s.lit != nil {
				data = s.lit[done : done+c]
			} else {
				data = buf[:c]
				if _, err := r.ReadAt(data, s.off+done); err != nil {
					return nil, fmt.Errorf("reading APK at %d: %w", s.off+done, err)
				}
			}
			hdr[0] = 0xa5
			binary.LittleEndian.PutUint32(hdr[1:], uint32(c))
			for i := range st {
				st[i].chunk.Reset()
				st[i].chunk.Write(hdr[:])
				st[i].chunk.Write(data)
				sum = st[i].chunk.Sum(sum[:0])
				st[i].top.Write(sum)
			}
			done += c
		}
	}
	out := make(map[crypto.Hash][]byte, len(hashes))
	for i, h := range hashes {
		out[h] = st[i].top.Sum(nil)
	}
	return out, nil
}
