package dex

// Position maps a code address (in 16-bit units) to a source line, as the
// line table of a debug_info_item says.
type Position struct {
	PC   uint32
	Line uint32
}

// Debug-info opcodes (the state machine of debug_info_item).
const (
	dbgEndSequence        = 0x00
	dbgAdvancePC          = 0x01
	dbgAdvanceLine        = 0x02
	dbgStartLocal         = 0x03
	dbgStartLocalExtended = 0x04
	dbgEndLocal           = 0x05
	dbgRestartLocal       = 0x06
	dbgSetPrologueEnd     = 0x07
	dbgSetEpilogueBegin   = 0x08
	dbgSetFile            = 0x09
	dbgFirstSpecial       = 0x0a
	dbgLineBase           = -4
	dbgLineRange          = 15
)

// sleb128 decodes a signed LEB128 at off.
func (f *File) sleb128(off uint32) (int32, uint32, bool) {
	var v uint32
	end := f.end()
	for i := uint32(0); i < 5; i++ {
		if off+i >= end {
			return 0, 0, false
		}
		b := f.s[off+i]
		v |= uint32(b&0x7f) << (7 * i)
		if b < 0x80 {
			shift := 32 - 7*(i+1)
			if shift > 0 && shift < 32 {
				return int32(v<<shift) >> shift, off + i + 1, true
			}
			return int32(v), off + i + 1, true
		}
	}
	return 0, 0, false
}

// Lines decodes the line table of c's debug_info_item into dst (reset
// first) and returns it, ordered by address as the format requires. A code
// item without debug information (R8 release builds often strip it) gives
// an empty table. Local-variable entries are skipped.
//
// The table is bounded by the code: a debug_info_item cannot hold more
// positions than the method has code units plus one, so a hostile item
// costs no more than the code it describes.
func (f *File) Lines(c *Code, dst []Position) ([]Position, error) {
	dst = dst[:0]
	if c.DebugInfo == 0 {
		return dst, nil
	}
	off := c.DebugInfo
	if off < headerSize || off >= f.end() {
		return dst, formatErr("debug_info", int64(off), ErrOutOfRange, "debug_info_item")
	}
	bad := func(at uint32) ([]Position, error) {
		return dst, formatErr("debug_info", int64(at), ErrTruncated, "debug_info_item")
	}
	line, p, ok := f.uleb128(off)
	if !ok {
		return bad(off)
	}
	params, p, ok := f.uleb128(p)
	if !ok || params > uint32(c.Ins)+1 {
		return bad(p)
	}
	for range params {
		if _, p, ok = f.uleb128(p); !ok {
			return bad(p)
		}
	}
	maxPos := c.Len() + 1
	pc := uint32(0)
	for steps := 0; ; steps++ {
		// Every opcode takes at least one byte; the bound keeps a loop of
		// zero-length advances from running past the item.
		if p >= f.end() || steps > 4*maxPos+64 {
			return bad(p)
		}
		op := f.s[p]
		p++
		switch op {
		case dbgEndSequence:
			return dst, nil
		case dbgAdvancePC:
			var d uint32
			if d, p, ok = f.uleb128(p); !ok {
				return bad(p)
			}
			pc += d
		case dbgAdvanceLine:
			var d int32
			if d, p, ok = f.sleb128(p); !ok {
				return bad(p)
			}
			line = uint32(int32(line) + d)
		case dbgStartLocal, dbgStartLocalExtended:
			n := 3
			if op == dbgStartLocalExtended {
				n = 4
			}
			for range n {
				if _, p, ok = f.uleb128(p); !ok {
					return bad(p)
				}
			}
		case dbgEndLocal, dbgRestartLocal, dbgSetFile:
			if _, p, ok = f.uleb128(p); !ok {
				return bad(p)
			}
		case dbgSetPrologueEnd, dbgSetEpilogueBegin:
		default:
			adj := int32(op) - dbgFirstSpecial
			line = uint32(int32(line) + dbgLineBase + adj%dbgLineRange)
			pc += uint32(adj / dbgLineRange)
			if len(dst) >= maxPos {
				return dst, formatErr("debug_info", int64(p), ErrLimit, "more positions than code units")
			}
			dst = append(dst, Position{PC: pc, Line: line})
		}
	}
}

// LineAt returns the line of the instruction at pc from a table of Lines:
// the line of the last position at or before pc, or 0 when none is.
func LineAt(table []Position, pc uint32) uint32 {
	lo, hi := 0, len(table)
	for lo < hi {
		m := (lo + hi) / 2
		if table[m].PC <= pc {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0
	}
	return table[lo-1].Line
}
