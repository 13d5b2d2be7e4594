package signing

import (
	"encoding/binary"
	"fmt"

	"github.com/dfslab/dfslab/internal/apk/zipfs"
)

// maxBlockSize bounds the APK Signing Block read into memory.
const maxBlockSize = 64 << 20

// signingBlock is the APK Signing Block found before the central directory.
type signingBlock struct {
	start int64             // offset of the block (where the content digest's first section ends)
	pairs map[uint32][]byte // first value of each ID
	ids   []uint32          // IDs in file order
	err   error             // why no block was found, nil if found or simply absent
}

// findSigningBlock locates and splits the APK Signing Block. A missing or
// malformed block is not an error of the APK: Android then ignores it and
// falls back to the JAR signature, so the result is "no v2/v3".
func findSigningBlock(a *zipfs.Archive) *signingBlock {
	cd := a.CentralDirectoryOffset
	if a.Zip64 {
		return &signingBlock{err: fmt.Errorf("%w: ZIP64 archives cannot carry an APK Signing Block", ErrFormat)}
	}
	if cd+a.CentralDirectorySize != a.EOCDOffset {
		return &signingBlock{err: fmt.Errorf("%w: central directory is not immediately followed by its end record", ErrFormat)}
	}
	if cd < 32 {
		return &signingBlock{}
	}
	var foot [24]byte
	if _, err := a.ReaderAt().ReadAt(foot[:], cd-24); err != nil {
		return &signingBlock{err: err}
	}
	if string(foot[8:]) != blockMagic {
		return &signingBlock{}
	}
	size := binary.LittleEndian.Uint64(foot[:])
	if size < 24 || size > uint64(cd-8) || size > maxBlockSize {
		return &signingBlock{err: fmt.Errorf("%w: APK Signing Block size %d out of range", ErrFormat, size)}
	}
	start := cd - int64(size) - 8
	buf := make([]byte, size+8)
	if _, err := a.ReaderAt().ReadAt(buf, start); err != nil {
		return &signingBlock{err: err}
	}
	if binary.LittleEndian.Uint64(buf) != size {
		return &signingBlock{err: fmt.Errorf("%w: APK Signing Block header and footer sizes differ", ErrFormat)}
	}
	pairs, ids, err := splitPairs(buf[8 : len(buf)-24])
	if err != nil {
		return &signingBlock{err: err}
	}
	return &signingBlock{start: start, pairs: pairs, ids: ids}
}

// splitPairs splits the ID-value pairs of a signing block body; for an ID
// given twice the first value wins.
func splitPairs(p []byte) (map[uint32][]byte, []uint32, error) {
	pairs := map[uint32][]byte{}
	var ids []uint32
	for len(p) > 0 {
		if len(p) < 8 {
			return nil, nil, fmt.Errorf("%w: truncated ID-value pair in APK Signing Block", ErrFormat)
		}
		n := binary.LittleEndian.Uint64(p)
		p = p[8:]
		if n < 4 || n > uint64(len(p)) {
			return nil, nil, fmt.Errorf("%w: ID-value pair of %d bytes in APK Signing Block", ErrFormat, n)
		}
		id := binary.LittleEndian.Uint32(p)
		if _, dup := pairs[id]; !dup {
			pairs[id] = p[4:n]
			ids = append(ids, id)
		}
		p = p[n:]
	}
	return pairs, ids, nil
}

// ParseSigningBlock splits an APK Signing Block (as found before the
// central directory, size fields and magic included) into its ID-value
// pairs. It exists for fuzzing and tools; Verify finds the block itself.
func ParseSigningBlock(block []byte) (map[uint32][]byte, error) {
	if len(block) < 32 || string(block[len(block)-16:]) != blockMagic {
		return nil, fmt.Errorf("%w: no APK Signing Block magic", ErrFormat)
	}
	size := binary.LittleEndian.Uint64(block)
	if size != uint64(len(block)-8) || binary.LittleEndian.Uint64(block[len(block)-24:]) != size {
		return nil, fmt.Errorf("%w: APK Signing Block sizes inconsistent", ErrFormat)
	}
	pairs, _, err := splitPairs(block[8 : len(block)-24])
	return pairs, err
}
