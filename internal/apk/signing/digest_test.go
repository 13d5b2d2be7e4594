package signing

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// refVerity is the verity tree written the obvious way over one buffer, to
// check the streaming implementation across section and page boundaries
// and for trees of more than one level (the corpus only has one).
func refVerity(data []byte) []byte {
	salted := func(p []byte) []byte {
		s := sha256.Sum256(append(make([]byte, 8), p...))
		return s[:]
	}
	pages := func(b []byte) [][]byte {
		var out [][]byte
		for off := 0; off < len(b); off += 4096 {
			p := make([]byte, 4096)
			copy(p, b[off:min(off+4096, len(b))])
			out = append(out, p)
		}
		return out
	}
	var level []byte
	for _, p := range pages(data) {
		level = append(level, salted(p)...)
	}
	for len(level) > 4096 {
		var next []byte
		for _, p := range pages(level) {
			next = append(next, salted(p)...)
		}
		level = next
	}
	root := make([]byte, 4096)
	copy(root, level)
	return binary.LittleEndian.AppendUint64(salted(root), uint64(len(data)))
}

// refChunked is the v2 chunked digest over one buffer.
func refChunked(parts [][]byte) []byte {
	var chunks [][]byte
	for _, p := range parts {
		for off := 0; off < len(p); off += chunkSize {
			chunks = append(chunks, p[off:min(off+chunkSize, len(p))])
		}
	}
	top := binary.LittleEndian.AppendUint32([]byte{0x5a}, uint32(len(chunks)))
	for _, c := range chunks {
		s := sha256.Sum256(append(binary.LittleEndian.AppendUint32([]byte{0xa5}, uint32(len(c))), c...))
		top = append(top, s[:]...)
	}
	s := sha256.Sum256(top)
	return s[:]
}

func TestContentDigests(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, sizes := range [][3]int{
		{0, 0, 22}, {1, 46, 22}, {4096, 100, 22}, {4097, 4095, 22},
		{129*4096 + 5, 300, 40}, {3<<20 + 17, 5000, 22}, {200 * 4096 * 128 / 100, 1, 22},
	} {
		file := make([]byte, sizes[0]+sizes[1]+77) // 77 bytes stand for a signing block
		for i := range file {
			file[i] = byte(rng.Uint32())
		}
		eocd := make([]byte, sizes[2])
		eocd[0] = 0x50
		secs := []section{{off: 0, n: int64(sizes[0])}, {off: int64(sizes[0] + 77), n: int64(sizes[1])}, {lit: eocd}}
		flat := slices.Concat(file[:sizes[0]], file[sizes[0]+77:], eocd)
		got, err := verityDigest(bytes.NewReader(file), secs)
		if err != nil || !bytes.Equal(got, refVerity(flat)) {
			t.Errorf("verity %v: %x, %v", sizes, got, err)
		}
		sums, err := chunkedDigests(bytes.NewReader(file), secs, []crypto.Hash{crypto.SHA256, crypto.SHA512})
		if err != nil || !bytes.Equal(sums[crypto.SHA256], refChunked([][]byte{file[:sizes[0]], file[sizes[0]+77:], eocd})) || len(sums[crypto.SHA512]) != 64 {
			t.Errorf("chunked %v: %x, %v", sizes, sums[crypto.SHA256], err)
		}
	}
}
