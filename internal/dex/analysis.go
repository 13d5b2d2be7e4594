package dex

import (
	"iter"
	"sync/atomic"
)

// ValueKind says what the analysis knows about a register's value.
type ValueKind uint8

// Value kinds.
const (
	Unknown     ValueKind = iota
	ConstString           // Str is the string
	ConstInt              // Int is the value (const, const/4, const-wide, …)
	ConstClass            // Str is the type descriptor
	NewObject             // Str is the class of a new-instance
	NewArray              // Str is the array type; Int the length when constant, else -1
	ArrayData             // Str holds the raw little-endian elements of fill-array-data; Int is the element width
	StringBytes           // Str is the constant string whose getBytes()/toCharArray() this is
	Result                // the result of calling method Ref; Str is its first constant string argument, if any
	FieldValue            // read from field Ref (iget/sget)
)

var valueKindNames = [...]string{"unknown", "const-string", "const-int", "const-class", "new-object",
	"new-array", "array-data", "string-bytes", "result", "field-value"}

func (k ValueKind) String() string {
	if int(k) < len(valueKindNames) {
		return valueKindNames[k]
	}
	return "kind?"
}

// Value is what a register holds at a point of the method, as far as a
// linear pass can tell: the last constant-like instruction that wrote it.
// The pass ignores control flow (a value written on one branch is seen on
// the other), which is the right trade-off for spotting constants that
// reach sensitive calls.
type Value struct {
	Str  string
	Int  int64
	Ref  uint32 // method index (Result) or field index (FieldValue) in the same File
	Kind ValueKind
}

// Bytes returns the bytes a value is known to hold: the payload of a
// fill-array-data (byte arrays only) or the bytes of a constant string.
func (v Value) Bytes() ([]byte, bool) {
	switch {
	case v.Kind == ArrayData && v.Int == 1, v.Kind == StringBytes:
		return []byte(v.Str), true
	}
	return nil, false
}

// CallSite is one invoke instruction. It holds no pointers, so that the
// millions of them in a large app cost the garbage collector nothing.
type CallSite struct {
	Caller uint32 // method_ids index of the calling method
	PC     uint32 // offset in code units
	// Method is the method_ids index of the target; for invoke-custom it is
	// the call_site_ids index.
	Method uint32
	argsAt uint32 // arguments are Facts.Values[argsAt : argsAt+NArgs]
	NArgs  uint16 // argument registers, receiver first; a long or double takes two
	Op     Opcode
}

// StringUse is a const-string or const-string/jumbo.
type StringUse struct {
	Caller uint32
	PC     uint32
	Index  uint32 // string_ids index
}

// FieldAccess is an iget/iput/sget/sput.
type FieldAccess struct {
	Caller  uint32
	PC      uint32
	Field   uint32 // field_ids index
	valueAt int32  // index in Facts.Values of the value stored, or -1
	Op      Opcode
	Write   bool
}

// TypeUse is a new-instance, new-array, const-class or check-cast.
type TypeUse struct {
	Caller uint32
	PC     uint32
	Type   uint32 // type_ids index
	Op     Opcode
}

// Facts collects what the analysis found. Analyses append to it, so one
// Facts can gather a whole class or file.
type Facts struct {
	Calls   []CallSite
	Strings []StringUse
	Fields  []FieldAccess
	Types   []TypeUse
	// Values holds call arguments and stored field values; read them
	// with Args and Stored.
	Values []Value
	// Errors lists methods whose code was malformed; the facts found
	// before the problem are kept.
	Errors []error
}

// Args returns the argument values of a call site (nil when the analysis
// ran without values).
func (f *Facts) Args(cs *CallSite) []Value {
	if int(cs.argsAt)+int(cs.NArgs) > len(f.Values) {
		return nil
	}
	return f.Values[cs.argsAt : cs.argsAt+uint32(cs.NArgs) : cs.argsAt+uint32(cs.NArgs)]
}

// Stored returns the value written by a field write, if known.
func (f *Facts) Stored(fa *FieldAccess) Value {
	if fa.valueAt < 0 || int(fa.valueAt) >= len(f.Values) {
		return Value{}
	}
	return f.Values[fa.valueAt]
}

// Reset empties f keeping its storage.
func (f *Facts) Reset() {
	*f = Facts{Calls: f.Calls[:0], Strings: f.Strings[:0], Fields: f.Fields[:0], Types: f.Types[:0], Values: f.Values[:0]}
}

// Analyzer holds scratch space for analysing methods; reuse one per
// goroutine to avoid allocations. The zero value is ready to use.
type Analyzer struct {
	// NoValues skips recording argument and stored values, for a first
	// pass that only needs to know where calls are; Index fills values in
	// on demand by analysing the few methods a query touches again.
	NoValues bool
	regs     []Value
	gens     []uint32 // regs[r] is valid only when gens[r] == gen
	gen      uint32
	// budget, when set, is the work left for the file being analysed (in
	// code units and class-data bytes). Hostile files can point many
	// methods at one huge code item, or many classes at one class_data;
	// the budget keeps the cost linear in the file size.
	budget *atomic.Int64
}

// workBudget is the analysis work allowed for a file, in code units and
// class-data bytes: every byte of the file may be analysed about twice
// over, far more than any real file needs.
func workBudget(f *File) int64 { return 2*int64(f.Header.FileSize) + 1<<16 }

func (a *Analyzer) spend(n int64) bool {
	return a.budget == nil || a.budget.Add(-n) >= 0
}

// AnalyzeClass analyses every method of c with code, appending to out. It
// returns an error only when the class data itself is unreadable; problems
// in a method's code go to out.Errors.
func (a *Analyzer) AnalyzeClass(f *File, c *Class, out *Facts) error {
	cd, size, err := f.classData(c)
	if err != nil || cd == nil {
		return err
	}
	if !a.spend(int64(size)) {
		return formatErr("class_data", int64(c.dataOff), ErrLimit, "analysis work budget of the file exhausted at class %s", c.Desc)
	}
	for _, ms := range [2][]EncodedMethod{cd.DirectMethods, cd.VirtualMethods} {
		for _, m := range ms {
			if m.CodeOff == 0 {
				continue
			}
			code, err := f.Code(m.CodeOff)
			if err != nil {
				out.Errors = append(out.Errors, err)
				continue
			}
			if !a.spend(int64(code.Len()) + 8) {
				return formatErr("code", int64(m.CodeOff), ErrLimit, "analysis work budget of the file exhausted at class %s", c.Desc)
			}
			if err := a.AnalyzeMethod(f, m.Method, &code, out); err != nil {
				out.Errors = append(out.Errors, err)
			}
		}
	}
	return nil
}

// AnalyzeMethod makes one linear pass over the bytecode of method (a
// method_ids index) and appends its facts to out.
func (a *Analyzer) AnalyzeMethod(f *File, method uint32, code *Code, out *Facts) error {
	nregs := int(code.Registers)
	if len(a.regs) < nregs+1 {
		a.regs = make([]Value, nregs+1)
		a.gens = make([]uint32, nregs+1)
		a.gen = 0
	}
	// A new generation forgets every register in O(1): clearing them would
	// cost registers_size per method, which a hostile file can make 65535
	// for millions of tiny methods.
	a.gen++
	if a.gen == 0 {
		clear(a.gens)
		a.gen = 1
	}
	regs, gens, gen := a.regs[:nregs+1], a.gens[:nregs+1], a.gen // +1: a wide write to the last register
	get := func(r uint32) Value {
		if r < uint32(nregs) && gens[r] == gen {
			return regs[r]
		}
		return Value{}
	}
	set := func(r uint32, v Value, w bool) {
		if r < uint32(nregs) {
			regs[r], gens[r] = v, gen
			if w {
				regs[r+1], gens[r+1] = Value{}, gen
			}
		}
	}
	ins := code.insns
	n := uint32(len(ins) / 2)
	unit := func(i uint32) uint32 { return uint32(ins[2*i]) | uint32(ins[2*i+1])<<8 }
	bad := func(pc uint32, kind error, format string, args ...any) error {
		return formatErr("code", int64(code.Off)+16+2*int64(pc), kind, "method %s: "+format,
			append([]any{f.Method(method)}, args...)...)
	}
	nStr, nTypes := uint32(len(f.strings)), uint32(len(f.types))
	nFields, nMethods := f.Header.Fields.Size, f.Header.Methods.Size
	lastCall := -1 // index in out.Calls of the invoke just before, for move-result
	lastCallEnd := ^uint32(0)

	for pc := uint32(0); pc < n; {
		u0 := unit(pc)
		op := Opcode(u0)
		info := &opTable[op]
		if op == OpNop && u0 != 0 {
			// Payload pseudo-instructions live in the instruction stream;
			// their size comes from their own header.
			size := payloadUnits(code, pc, n)
			if size == 0 || uint64(pc)+size > uint64(n) {
				return bad(pc, ErrTruncated, "payload at %d", pc)
			}
			pc += uint32(size)
			continue
		}
		if pc+uint32(info.units) > n {
			return bad(pc, ErrTruncated, "%s", info.name)
		}
		aa := u0 >> 8         // vAA
		a4 := (u0 >> 8) & 0xf // vA of 12x/22c/…
		b4 := u0 >> 12        // vB of 12x/22c/…
		isWide := info.flags&wide != 0
		switch op {
		case 0x01, 0x04, 0x07: // move vA, vB
			set(a4, get(b4), isWide)
		case 0x02, 0x05, 0x08: // move/from16 vAA, vBBBB
			set(aa, get(unit(pc+1)), isWide)
		case 0x03, 0x06, 0x09: // move/16 vAAAA, vBBBB
			set(unit(pc+1), get(unit(pc+2)), isWide)
		case OpMoveResult, OpMoveResultWide, OpMoveResultObject:
			v := Value{}
			if lastCall >= 0 && lastCallEnd == pc && !a.NoValues {
				cs := &out.Calls[lastCall]
				if !isCustom(cs.Op) {
					v = resultValue(f, cs, out.Args(cs))
				}
			}
			set(aa, v, isWide)
		case 0x12: // const/4
			set(a4, Value{Kind: ConstInt, Int: int64(int32(u0) << 16 >> 28)}, false)
		case 0x13, 0x16: // const/16, const-wide/16
			set(aa, Value{Kind: ConstInt, Int: int64(int16(unit(pc + 1)))}, isWide)
		case 0x14, 0x17: // const, const-wide/32
			set(aa, Value{Kind: ConstInt, Int: int64(int32(unit(pc+1) | unit(pc+2)<<16))}, isWide)
		case 0x15: // const/high16
			set(aa, Value{Kind: ConstInt, Int: int64(int32(unit(pc+1) << 16))}, false)
		case 0x19: // const-wide/high16
			set(aa, Value{Kind: ConstInt, Int: int64(uint64(unit(pc+1)) << 48)}, true)
		case 0x18: // const-wide
			v := uint64(unit(pc+1)) | uint64(unit(pc+2))<<16 | uint64(unit(pc+3))<<32 | uint64(unit(pc+4))<<48
			set(aa, Value{Kind: ConstInt, Int: int64(v)}, true)
		case OpConstString, OpConstStringJumbo:
			ix := unit(pc + 1)
			if op == OpConstStringJumbo {
				ix |= unit(pc+2) << 16
			}
			if ix >= nStr {
				return bad(pc, ErrOutOfRange, "string index %d", ix)
			}
			out.Strings = append(out.Strings, StringUse{Caller: method, PC: pc, Index: ix})
			set(aa, Value{Kind: ConstString, Str: f.strings[ix]}, false)
		case OpConstClass, OpNewInstance, OpCheckCast:
			ix := unit(pc + 1)
			if ix >= nTypes {
				return bad(pc, ErrOutOfRange, "type index %d", ix)
			}
			t := f.types[ix]
			out.Types = append(out.Types, TypeUse{Caller: method, PC: pc, Op: op, Type: ix})
			switch op {
			case OpConstClass:
				set(aa, Value{Kind: ConstClass, Str: t}, false)
			case OpNewInstance:
				set(aa, Value{Kind: NewObject, Str: t}, false)
			}
		case OpNewArray:
			ix := unit(pc + 1)
			if ix >= nTypes {
				return bad(pc, ErrOutOfRange, "type index %d", ix)
			}
			t := f.types[ix]
			out.Types = append(out.Types, TypeUse{Caller: method, PC: pc, Op: op, Type: ix})
			v := Value{Kind: NewArray, Str: t, Int: -1}
			if l := get(b4); l.Kind == ConstInt {
				v.Int = l.Int
			}
			set(a4, v, false)
		case OpFillArrayData:
			off := int64(int32(unit(pc+1) | unit(pc+2)<<16))
			p := int64(pc) + off
			if p < 0 || p+4 > int64(n) || unit(uint32(p)) != 0x0300 {
				return bad(pc, ErrOutOfRange, "fill-array-data payload at %d", p)
			}
			w, cnt := int64(unit(uint32(p+1))), int64(unit(uint32(p+2))|unit(uint32(p+3))<<16)
			start := 2 * (p + 4)
			if w*cnt > int64(len(ins))-start {
				return bad(pc, ErrTruncated, "fill-array-data of %d×%d bytes", cnt, w)
			}
			set(aa, Value{Kind: ArrayData, Int: w, Str: ins[start : start+w*cnt]}, false)
		default:
			switch {
			case info.flags&isInv != 0:
				cs, err := a.invoke(op, info, pc, unit, get, method, out)
				if err != "" {
					return bad(pc, ErrFormat, "%s", err)
				}
				if !isCustom(op) && cs.Method >= nMethods {
					return bad(pc, ErrOutOfRange, "method index %d", cs.Method)
				}
				out.Calls = append(out.Calls, cs)
				lastCall, lastCallEnd = len(out.Calls)-1, pc+uint32(info.units)
			case op >= 0x52 && op <= 0x6d: // iget/iput/sget/sput
				ix := unit(pc + 1)
				if ix >= nFields {
					return bad(pc, ErrOutOfRange, "field index %d", ix)
				}
				reg := aa
				if op <= 0x5f {
					reg = a4
				}
				write := op >= 0x59 && op <= 0x5f || op >= 0x67
				fa := FieldAccess{Caller: method, PC: pc, Op: op, Field: ix, Write: write, valueAt: -1}
				if write {
					if v := get(reg); v.Kind != Unknown && !a.NoValues {
						fa.valueAt = int32(len(out.Values))
						out.Values = append(out.Values, v)
					}
				} else {
					set(reg, Value{Kind: FieldValue, Ref: ix}, isWide)
				}
				out.Fields = append(out.Fields, fa)
			case info.flags&wA != 0:
				switch info.fmt {
				case f12x, f22c, f22s, f22b, f11n:
					set(a4, Value{}, isWide)
				default:
					set(aa, Value{}, isWide)
				}
			}
		}
		pc += uint32(info.units)
	}
	return nil
}

// invoke decodes the registers of an invoke instruction and records
// their values unless NoValues is set.
func (a *Analyzer) invoke(op Opcode, info *opInfo, pc uint32, unit func(uint32) uint32, get func(uint32) Value, caller uint32, out *Facts) (CallSite, string) {
	u0 := unit(pc)
	cs := CallSite{Caller: caller, PC: pc, Op: op, Method: unit(pc + 1), argsAt: uint32(len(out.Values))}
	switch info.fmt {
	case f35c, f45cc:
		cnt := u0 >> 12
		if cnt > 5 {
			return cs, "invoke with more than 5 registers"
		}
		cs.NArgs = uint16(cnt)
		if a.NoValues {
			break
		}
		u2 := unit(pc + 2)
		r := [5]uint32{u2 & 0xf, u2 >> 4 & 0xf, u2 >> 8 & 0xf, u2 >> 12, u0 >> 8 & 0xf}
		for i := range cnt {
			out.Values = append(out.Values, get(r[i]))
		}
	default: // 3rc, 4rcc
		cnt, first := u0>>8, unit(pc+2)
		cs.NArgs = uint16(cnt)
		if a.NoValues {
			break
		}
		for i := range cnt {
			out.Values = append(out.Values, get(first+i))
		}
	}
	return cs, ""
}

// resultValue is what move-result stores after the call cs.
func resultValue(f *File, cs *CallSite, args []Value) Value {
	v := Value{Kind: Result, Ref: cs.Method}
	for _, arg := range args {
		if arg.Kind == ConstString {
			v.Str = arg.Str
			break
		}
	}
	if len(args) >= 1 && args[0].Kind == ConstString {
		if m := f.Method(cs.Method); m.Class == "Ljava/lang/String;" && (m.Name == "getBytes" || m.Name == "toCharArray") {
			return Value{Kind: StringBytes, Str: args[0].Str}
		}
	}
	return v
}

// Ops yields the offset and opcode of each instruction of c, skipping the
// payloads of switches and fill-array-data, and stops at the first
// truncated instruction. Rules use it to look at the shape of a method,
// e.g. a checkServerTrusted whose body is a bare return-void.
func (c *Code) Ops() iter.Seq2[uint32, Opcode] {
	return func(yield func(uint32, Opcode) bool) {
		n := uint32(c.Len())
		for pc := uint32(0); pc < n; {
			u0 := uint32(c.Unit(int(pc)))
			op := Opcode(u0)
			size := uint64(opTable[op].units)
			if op == OpNop && u0 != 0 {
				size = payloadUnits(c, pc, n)
				if size == 0 {
					return
				}
			} else if !yield(pc, op) {
				return
			}
			if uint64(pc)+size > uint64(n) {
				return
			}
			pc += uint32(size)
		}
	}
}

// payloadUnits is the size of the pseudo-instruction at pc (1 for a plain
// nop with a non-zero high byte), or 0 when it is truncated.
func payloadUnits(c *Code, pc, n uint32) uint64 {
	u := func(i uint32) uint64 { return uint64(c.Unit(int(i))) }
	switch c.Unit(int(pc)) {
	case 0x0100:
		if pc+2 > n {
			return 0
		}
		return 4 + 2*u(pc+1)
	case 0x0200:
		if pc+2 > n {
			return 0
		}
		return 2 + 4*u(pc+1)
	case 0x0300:
		if pc+4 > n {
			return 0
		}
		return 4 + (u(pc+1)*(u(pc+2)|u(pc+3)<<16)+1)/2
	}
	return 1
}
