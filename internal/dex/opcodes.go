package dex

import "fmt"

// Opcode is a Dalvik opcode (the low byte of an instruction's first unit).
type Opcode uint8

// Opcodes the analysis reports or that callers commonly test for.
const (
	OpNop                  Opcode = 0x00
	OpMoveResult           Opcode = 0x0a
	OpMoveResultWide       Opcode = 0x0b
	OpMoveResultObject     Opcode = 0x0c
	OpConstString          Opcode = 0x1a
	OpConstStringJumbo     Opcode = 0x1b
	OpConstClass           Opcode = 0x1c
	OpCheckCast            Opcode = 0x1f
	OpNewInstance          Opcode = 0x22
	OpNewArray             Opcode = 0x23
	OpFillArrayData        Opcode = 0x26
	OpInvokeVirtual        Opcode = 0x6e
	OpInvokeSuper          Opcode = 0x6f
	OpInvokeDirect         Opcode = 0x70
	OpInvokeStatic         Opcode = 0x71
	OpInvokeInterface      Opcode = 0x72
	OpInvokeVirtualRange   Opcode = 0x74
	OpInvokeSuperRange     Opcode = 0x75
	OpInvokeDirectRange    Opcode = 0x76
	OpInvokeStaticRange    Opcode = 0x77
	OpInvokeInterfaceRange Opcode = 0x78
	OpInvokePolymorphic    Opcode = 0xfa
	OpInvokePolymorphicR   Opcode = 0xfb
	OpInvokeCustom         Opcode = 0xfc
	OpInvokeCustomRange    Opcode = 0xfd
)

// format is an instruction format from the Dalvik bytecode specification;
// its first digit is the length in code units.
type format uint8

const (
	f10x format = iota
	f12x
	f11n
	f11x
	f10t
	f20t
	f22x
	f21t
	f21s
	f21h
	f21c
	f23x
	f22b
	f22t
	f22s
	f22c
	f30t
	f32x
	f31i
	f31t
	f31c
	f35c
	f3rc
	f45cc
	f4rcc
	f51l
)

var formatUnits = [...]uint8{
	f10x: 1, f12x: 1, f11n: 1, f11x: 1, f10t: 1,
	f20t: 2, f22x: 2, f21t: 2, f21s: 2, f21h: 2, f21c: 2, f23x: 2, f22b: 2, f22t: 2, f22s: 2, f22c: 2,
	f30t: 3, f32x: 3, f31i: 3, f31t: 3, f31c: 3, f35c: 3, f3rc: 3,
	f45cc: 4, f4rcc: 4, f51l: 5,
}

// Flags describing what an instruction does to its first register operand.
const (
	wA    = 1 << iota // writes vA
	wide              // the write is a register pair
	isInv             // invoke-*
)

type opInfo struct {
	name  string
	fmt   format
	units uint8
	flags uint8
}

// opTable is read-only after initialisation.
var opTable = buildOpTable()

func buildOpTable() (t [256]opInfo) {
	set := func(lo, hi int, f format, flags uint8, names ...string) {
		for op := lo; op <= hi; op++ {
			name := fmt.Sprintf("unused-%02x", op)
			if i := op - lo; i < len(names) {
				name = names[i]
			}
			t[op] = opInfo{name: name, fmt: f, units: formatUnits[f], flags: flags}
		}
	}
	// Every opcode defaults to a one-unit unused instruction; the dalvik
	// VM rejects them, but a linear pass must still advance.
	set(0x00, 0xff, f10x, 0)
	set(0x00, 0x00, f10x, 0, "nop")
	set(0x01, 0x01, f12x, wA, "move")
	set(0x02, 0x02, f22x, wA, "move/from16")
	set(0x03, 0x03, f32x, wA, "move/16")
	set(0x04, 0x04, f12x, wA|wide, "move-wide")
	set(0x05, 0x05, f22x, wA|wide, "move-wide/from16")
	set(0x06, 0x06, f32x, wA|wide, "move-wide/16")
	set(0x07, 0x07, f12x, wA, "move-object")
	set(0x08, 0x08, f22x, wA, "move-object/from16")
	set(0x09, 0x09, f32x, wA, "move-object/16")
	set(0x0a, 0x0a, f11x, wA, "move-result")
	set(0x0b, 0x0b, f11x, wA|wide, "move-result-wide")
	set(0x0c, 0x0d, f11x, wA, "move-result-object", "move-exception")
	set(0x0e, 0x0e, f10x, 0, "return-void")
	set(0x0f, 0x11, f11x, 0, "return", "return-wide", "return-object")
	set(0x12, 0x12, f11n, wA, "const/4")
	set(0x13, 0x13, f21s, wA, "const/16")
	set(0x14, 0x14, f31i, wA, "const")
	set(0x15, 0x15, f21h, wA, "const/high16")
	set(0x16, 0x16, f21s, wA|wide, "const-wide/16")
	set(0x17, 0x17, f31i, wA|wide, "const-wide/32")
	set(0x18, 0x18, f51l, wA|wide, "const-wide")
	set(0x19, 0x19, f21h, wA|wide, "const-wide/high16")
	set(0x1a, 0x1a, f21c, wA, "const-string")
	set(0x1b, 0x1b, f31c, wA, "const-string/jumbo")
	set(0x1c, 0x1c, f21c, wA, "const-class")
	set(0x1d, 0x1e, f11x, 0, "monitor-enter", "monitor-exit")
	set(0x1f, 0x1f, f21c, 0, "check-cast")
	set(0x20, 0x20, f22c, wA, "instance-of")
	set(0x21, 0x21, f12x, wA, "array-length")
	set(0x22, 0x22, f21c, wA, "new-instance")
	set(0x23, 0x23, f22c, wA, "new-array")
	set(0x24, 0x24, f35c, 0, "filled-new-array")
	set(0x25, 0x25, f3rc, 0, "filled-new-array/range")
	set(0x26, 0x26, f31t, 0, "fill-array-data")
	set(0x27, 0x27, f11x, 0, "throw")
	set(0x28, 0x28, f10t, 0, "goto")
	set(0x29, 0x29, f20t, 0, "goto/16")
	set(0x2a, 0x2a, f30t, 0, "goto/32")
	set(0x2b, 0x2c, f31t, 0, "packed-switch", "sparse-switch")
	set(0x2d, 0x31, f23x, wA, "cmpl-float", "cmpg-float", "cmpl-double", "cmpg-double", "cmp-long")
	set(0x32, 0x37, f22t, 0, "if-eq", "if-ne", "if-lt", "if-ge", "if-gt", "if-le")
	set(0x38, 0x3d, f21t, 0, "if-eqz", "if-nez", "if-ltz", "if-gez", "if-gtz", "if-lez")
	set(0x44, 0x44, f23x, wA, "aget")
	set(0x45, 0x45, f23x, wA|wide, "aget-wide")
	set(0x46, 0x4a, f23x, wA, "aget-object", "aget-boolean", "aget-byte", "aget-char", "aget-short")
	set(0x4b, 0x51, f23x, 0, "aput", "aput-wide", "aput-object", "aput-boolean", "aput-byte", "aput-char", "aput-short")
	set(0x52, 0x52, f22c, wA, "iget")
	set(0x53, 0x53, f22c, wA|wide, "iget-wide")
	set(0x54, 0x58, f22c, wA, "iget-object", "iget-boolean", "iget-byte", "iget-char", "iget-short")
	set(0x59, 0x5f, f22c, 0, "iput", "iput-wide", "iput-object", "iput-boolean", "iput-byte", "iput-char", "iput-short")
	set(0x60, 0x60, f21c, wA, "sget")
	set(0x61, 0x61, f21c, wA|wide, "sget-wide")
	set(0x62, 0x66, f21c, wA, "sget-object", "sget-boolean", "sget-byte", "sget-char", "sget-short")
	set(0x67, 0x6d, f21c, 0, "sput", "sput-wide", "sput-object", "sput-boolean", "sput-byte", "sput-char", "sput-short")
	set(0x6e, 0x72, f35c, isInv, "invoke-virtual", "invoke-super", "invoke-direct", "invoke-static", "invoke-interface")
	set(0x74, 0x78, f3rc, isInv, "invoke-virtual/range", "invoke-super/range", "invoke-direct/range", "invoke-static/range", "invoke-interface/range")
	unops := []string{"neg-int", "not-int", "neg-long", "not-long", "neg-float", "neg-double", "int-to-long",
		"int-to-float", "int-to-double", "long-to-int", "long-to-float", "long-to-double", "float-to-int",
		"float-to-long", "float-to-double", "double-to-int", "double-to-long", "double-to-float",
		"int-to-byte", "int-to-char", "int-to-short"}
	set(0x7b, 0x8f, f12x, wA, unops...)
	for _, op := range []int{0x7d, 0x7e, 0x80, 0x81, 0x83, 0x86, 0x88, 0x89, 0x8b} {
		t[op].flags |= wide
	}
	arith := []string{"add", "sub", "mul", "div", "rem", "and", "or", "xor", "shl", "shr", "ushr"}
	var binops []string
	for _, ty := range []string{"int", "long"} {
		for _, a := range arith {
			binops = append(binops, a+"-"+ty)
		}
	}
	for _, ty := range []string{"float", "double"} {
		for _, a := range arith[:5] {
			binops = append(binops, a+"-"+ty)
		}
	}
	set(0x90, 0xaf, f23x, wA, binops...)
	var twoAddr []string
	for _, b := range binops {
		twoAddr = append(twoAddr, b+"/2addr")
	}
	set(0xb0, 0xcf, f12x, wA, twoAddr...)
	for _, base := range []int{0x90, 0xb0} {
		for op := base + 11; op < base+22; op++ { // long
			t[op].flags |= wide
		}
		for op := base + 27; op < base+32; op++ { // double
			t[op].flags |= wide
		}
	}
	set(0xd0, 0xd7, f22s, wA, "add-int/lit16", "rsub-int", "mul-int/lit16", "div-int/lit16", "rem-int/lit16", "and-int/lit16", "or-int/lit16", "xor-int/lit16")
	set(0xd8, 0xe2, f22b, wA, "add-int/lit8", "rsub-int/lit8", "mul-int/lit8", "div-int/lit8", "rem-int/lit8", "and-int/lit8", "or-int/lit8", "xor-int/lit8", "shl-int/lit8", "shr-int/lit8", "ushr-int/lit8")
	set(0xfa, 0xfa, f45cc, isInv, "invoke-polymorphic")
	set(0xfb, 0xfb, f4rcc, isInv, "invoke-polymorphic/range")
	set(0xfc, 0xfc, f35c, isInv, "invoke-custom")
	set(0xfd, 0xfd, f3rc, isInv, "invoke-custom/range")
	set(0xfe, 0xff, f21c, wA, "const-method-handle", "const-method-type")
	return t
}

func (op Opcode) String() string { return opTable[op].name }

// IsInvoke reports whether op is one of the invoke instructions.
func (op Opcode) IsInvoke() bool { return opTable[op].flags&isInv != 0 }

// Width is the length in code units of an instruction with this opcode
// (payload pseudo-instructions excepted).
func (op Opcode) Width() int { return int(opTable[op].units) }
