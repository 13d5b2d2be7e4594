package dex

import (
	"encoding/base64"
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
	// Param is the value a parameter register holds on entry, as long as
	// the method has not written it: Int is the register's index among
	// the method's in-registers (the receiver, when there is one, is 0;
	// a long or double takes two).
	Param
	// Concat is a string being built (StringBuilder, StringBuffer,
	// String.concat) or its toString: Str is the text with each part that
	// is not a constant written as the byte 0 (ConcatHole), Int the number
	// of such parts; Int 0 means the whole string is a constant.
	Concat
)

// ConcatHole stands for a part of a Concat value that is not a constant.
const ConcatHole = "\x00"

// maxConcat bounds the text a Concat value keeps, so that a method of a
// million appends costs linear time; a longer string loses its tail and
// counts as not constant.
const maxConcat = 256

// Conv is a conversion applied to a FieldValue or Param value, so that a
// key taken from a field and turned into bytes can be followed back to the
// field's constant.
type Conv uint8

// Conversions.
const (
	ConvNone   Conv = iota
	ConvBytes       // String.getBytes or toCharArray
	ConvBase64      // android.util.Base64.decode or java.util.Base64.Decoder.decode
)

var valueKindNames = [...]string{"unknown", "const-string", "const-int", "const-class", "new-object",
	"new-array", "array-data", "string-bytes", "result", "field-value", "param", "concat"}

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
	Conv Conv // for FieldValue and Param: what the code made of the value
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
	// Budget, when set, is the work left for the file being analysed
	// (NewBudget); methods and class data beyond it are refused with
	// ErrLimit.
	Budget *Budget
	regs   []Value
	gens   []uint32 // regs[r] is valid only when gens[r] == gen
	gen    uint32
}

// Budget is the analysis work allowed for one file, in code units and
// class-data bytes, shared by the goroutines analysing it: every byte of
// the file may be analysed about twice over, far more than any real file
// needs. Hostile files can point many methods at one huge code item, or
// many classes at one class_data; the budget keeps the cost linear in the
// file size.
type Budget struct{ left atomic.Int64 }

// NewBudget returns the budget of f.
func NewBudget(f *File) *Budget {
	b := new(Budget)
	b.left.Store(2*int64(f.Header.FileSize) + 1<<16)
	return b
}

// spend takes n from b; a nil budget never runs out.
func (b *Budget) spend(n int64) bool { return b == nil || b.left.Add(-n) >= 0 }

// ClassData reads the class data of c, counting its bytes against the
// budget: hostile files point many classes at one class_data.
func (a *Analyzer) ClassData(f *File, c *Class) (*ClassData, error) {
	cd, size, err := f.classData(c)
	if err != nil || cd == nil {
		return cd, err
	}
	if !a.Budget.spend(int64(size)) {
		return nil, formatErr("class_data", int64(c.dataOff), ErrLimit, "analysis work budget of the file exhausted at class %s", c.Desc)
	}
	return cd, nil
}

// AnalyzeMethod makes one linear pass over the bytecode of method (a
// method_ids index) and appends its facts to out. Its code counts against
// the budget: a method beyond it is refused with ErrLimit.
func (a *Analyzer) AnalyzeMethod(f *File, method uint32, code *Code, out *Facts) error {
	if !a.Budget.spend(int64(code.Len()) + 8) {
		return formatErr("code", 0, ErrLimit, "analysis work budget of the file exhausted at method %d", method)
	}
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
	// The in-registers are the last ones; a register not yet written in
	// this generation still holds its parameter. Deciding that on read
	// keeps the entry O(1), as forgetting the registers is.
	firstIn := uint32(nregs) - min(uint32(code.Ins), uint32(nregs))
	get := func(r uint32) Value {
		if r < uint32(nregs) && gens[r] == gen {
			return regs[r]
		}
		if r >= firstIn && r < uint32(nregs) {
			return Value{Kind: Param, Int: int64(r - firstIn)}
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
			if lastCall >= 0 && lastCallEnd == pc {
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
				cs, recv, err := a.invoke(op, info, pc, unit, get, method, out)
				if err != "" {
					return bad(pc, ErrFormat, "%s", err)
				}
				if !isCustom(op) && cs.Method >= nMethods {
					return bad(pc, ErrOutOfRange, "method index %d", cs.Method)
				}
				// A builder appended to as a statement (sb.append(x);)
				// keeps its register: the register follows the text.
				if args := out.Args(&cs); len(args) > 0 && !isCustom(op) && isBuilder(args[0]) {
					if v, ok := builderStep(f, &cs, args); ok {
						set(recv, v, false)
					}
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
					if v := get(reg); v.Kind != Unknown {
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
// their values. recv is the first register (the receiver of an instance
// call).
func (a *Analyzer) invoke(op Opcode, info *opInfo, pc uint32, unit func(uint32) uint32, get func(uint32) Value, caller uint32, out *Facts) (cs CallSite, recv uint32, problem string) {
	u0 := unit(pc)
	cs = CallSite{Caller: caller, PC: pc, Op: op, Method: unit(pc + 1), argsAt: uint32(len(out.Values))}
	switch info.fmt {
	case f35c, f45cc:
		cnt := u0 >> 12
		if cnt > 5 {
			return cs, 0, "invoke with more than 5 registers"
		}
		cs.NArgs = uint16(cnt)
		u2 := unit(pc + 2)
		r := [5]uint32{u2 & 0xf, u2 >> 4 & 0xf, u2 >> 8 & 0xf, u2 >> 12, u0 >> 8 & 0xf}
		recv = r[0]
		for i := range cnt {
			out.Values = append(out.Values, get(r[i]))
		}
	default: // 3rc, 4rcc
		cnt, first := u0>>8, unit(pc+2)
		cs.NArgs = uint16(cnt)
		recv = first
		for i := range cnt {
			out.Values = append(out.Values, get(first+i))
		}
	}
	return cs, recv, ""
}

const (
	stringBuilder = "Ljava/lang/StringBuilder;"
	stringBuffer  = "Ljava/lang/StringBuffer;"
)

// isBuilder reports whether v may be a string builder whose text the
// analysis follows: a new StringBuilder or StringBuffer, or one already
// followed. Most receivers are neither, and are ruled out without looking
// at the method called.
func isBuilder(v Value) bool {
	return v.Kind == Concat || v.Kind == NewObject && (v.Str == stringBuilder || v.Str == stringBuffer)
}

// builderStep is the builder's value after the call cs on it (args[0]):
// a constructor sets its first text, append adds a part.
func builderStep(f *File, cs *CallSite, args []Value) (Value, bool) {
	m := f.Method(cs.Method)
	if m.Class != stringBuilder && m.Class != stringBuffer {
		return Value{}, false
	}
	switch m.Name {
	case "<init>":
		if args[0].Kind != NewObject {
			return Value{}, false
		}
		v := Value{Kind: Concat}
		// <init>(String) and <init>(CharSequence) start with text;
		// <init>() and <init>(int capacity) with none.
		if len(args) == 2 && len(m.Proto) > 3 && m.Proto[1] == 'L' {
			v = joinConcat(v, args[1])
		}
		return v, true
	case "append":
		if len(args) != 2 {
			return Value{}, false
		}
		a := args[0]
		if a.Kind == NewObject { // <init> not seen (a hostile or odd method)
			a = Value{Kind: Concat, Int: 1, Str: ConcatHole}
		}
		// Only strings are followed as text: a char or number appended
		// is a part the analysis does not render.
		if m.Proto != "(Ljava/lang/String;)"+stringBuilder && m.Proto != "(Ljava/lang/String;)"+stringBuffer &&
			m.Proto != "(Ljava/lang/CharSequence;)"+stringBuilder && m.Proto != "(Ljava/lang/Object;)"+stringBuilder {
			return joinConcat(a, Value{}), true
		}
		return joinConcat(a, args[1]), true
	}
	return Value{}, false
}

// joinConcat appends part b to the Concat value a.
func joinConcat(a, b Value) Value {
	s, holes := a.Str, a.Int
	switch b.Kind {
	case ConstString:
		s += b.Str
	case Concat:
		s += b.Str
		holes += b.Int
	default:
		s += ConcatHole
		holes++
	}
	if len(s) > maxConcat {
		s = s[:maxConcat]
		holes++
	}
	return Value{Kind: Concat, Str: s, Int: holes}
}

// resultValue is what move-result stores after the call cs. Beyond the
// plain Result, it follows the few library calls through which constant
// keys and URLs travel: string builders and String.concat, getBytes and
// toCharArray, and Base64 decoding.
func resultValue(f *File, cs *CallSite, args []Value) Value {
	v := Value{Kind: Result, Ref: cs.Method}
	for _, arg := range args {
		if arg.Kind == ConstString {
			v.Str = arg.Str
			break
		}
	}
	if len(args) == 0 {
		return v
	}
	a0 := args[0]
	switch a0.Kind {
	case ConstString, Concat, FieldValue, Param, NewObject:
	default:
		return v
	}
	m := f.Method(cs.Method)
	switch m.Class {
	case "Ljava/lang/String;":
		switch m.Name {
		case "getBytes", "toCharArray":
			switch {
			case a0.Kind == ConstString:
				return Value{Kind: StringBytes, Str: a0.Str}
			case a0.Kind == Concat && a0.Int == 0:
				return Value{Kind: StringBytes, Str: a0.Str}
			case (a0.Kind == FieldValue || a0.Kind == Param) && a0.Conv == ConvNone:
				a0.Conv = ConvBytes
				return a0
			}
		case "concat":
			if len(args) == 2 && (a0.Kind == ConstString || a0.Kind == Concat) {
				return joinConcat(joinConcat(Value{Kind: Concat}, a0), args[1])
			}
		}
	case stringBuilder, stringBuffer:
		if m.Name == "toString" && a0.Kind == Concat {
			return a0
		}
		if m.Name == "append" && isBuilder(a0) {
			if nv, ok := builderStep(f, cs, args); ok {
				return nv
			}
		}
	case "Landroid/util/Base64;":
		// decode(String, int) and decode([B, int)
		if m.Name == "decode" && len(args) >= 2 {
			return decoded(a0, v)
		}
	case "Ljava/util/Base64$Decoder;":
		if m.Name == "decode" && len(args) == 2 {
			return decoded(args[1], v)
		}
	}
	return v
}

// decoded is the value of a Base64 decoding of a: the bytes of a constant,
// or the field or parameter marked as decoded. otherwise is returned when
// neither applies.
func decoded(a, otherwise Value) Value {
	switch a.Kind {
	case ConstString, StringBytes:
		if b, err := base64.StdEncoding.DecodeString(a.Str); err == nil {
			return Value{Kind: ArrayData, Int: 1, Str: string(b)}
		}
		if b, err := base64.URLEncoding.DecodeString(a.Str); err == nil {
			return Value{Kind: ArrayData, Int: 1, Str: string(b)}
		}
	case FieldValue, Param:
		if a.Conv == ConvNone || a.Conv == ConvBytes {
			a.Conv = ConvBase64
			return a
		}
	}
	return otherwise
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
