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

const verityPage = 4096

// verityDigest computes the digest the verity signature algorithms sign:
// the root of a SHA-256 Merkle tree over the same sections, in 4 KiB pages
// (the last one zero-padded, each level zero-padded to whole pages), every
// hash salted with 8 zero bytes, followed by the covered length as a
// little-endian uint64.
func verityDigest(r io.ReaderAt, sections []section) ([]byte, error) {
	var total int64
	for _, s := range sections {
		if s.lit != nil {
			total += int64(len(s.lit))
		} else {
			total += s.n
		}
	}
	if total > 1<<40 {
		return nil, fmt.Errorf("%w: %d bytes to hash", ErrFormat, total)
	}
	var salt [8]byte
	h := crypto.SHA256.New()
	level := make([]byte, 0, (total+verityPage-1)/verityPage*32)
	page := make([]byte, verityPage)
	fill := 0
	flush := func() {
		clear(page[fill:])
		h.Reset()
		h.Write(salt[:])
		h.Write(page)
		level = h.Sum(level)
		fill = 0
	}
	for _, s := range sections {
		n := s.n
		if s.lit != nil {
			n = int64(len(s.lit))
		}
		for done := int64(0); done < n; {
			c := min(n-done, int64(verityPage-fill))
			dst := page[fill : fill+int(c)]
			if s.lit != nil {
				copy(dst, s.lit[done:done+c])
			} else if _, err := r.ReadAt(dst, s.off+done); err != nil {
				return nil, fmt.Errorf("reading APK at %d: %w", s.off+done, err)
			}
			fill += int(c)
			done += c
			if fill == verityPage {
				flush()
			}
		}
	}
	if fill > 0 {
		flush()
	}
	for len(level) > verityPage {
		next := make([]byte, 0, (len(level)+verityPage-1)/verityPage*32)
		for off := 0; off < len(level); off += verityPage {
			clear(page)
			copy(page, level[off:min(off+verityPage, len(level))])
			h.Reset()
			h.Write(salt[:])
			h.Write(page)
			next = h.Sum(next)
		}
		level = next
	}
	clear(page)
	copy(page, level)
	h.Reset()
	h.Write(salt[:])
	h.Write(page)
	out := h.Sum(nil)
	return binary.LittleEndian.AppendUint64(out, uint64(total)), nil
}
