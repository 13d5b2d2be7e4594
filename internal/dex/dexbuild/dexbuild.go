// Package dexbuild writes small but structurally valid DEX files from a Go
// description, so that tests across dfslab can build the apps they need
// instead of committing third-party binaries.
//
// A whole test app that calls Cipher.getInstance with a weak transformation
// takes one line:
//
//	b := dexbuild.New()
//	b.Class("Lcom/app/C;").Method("m", "()V").CallStatic(
//		"Ljavax/crypto/Cipher;->getInstance(Ljava/lang/String;)Ljavax/crypto/Cipher;",
//		dexbuild.Str("AES/ECB/PKCS5Padding"))
//	data, err := b.Bytes()
//
// The writer sorts every table the way the format requires, lays out the
// data section with the required alignment, and fills in the map list,
// the Adler-32 checksum and the SHA-1 signature. It does not run a bytecode
// verifier: it encodes what it is told, which is what hostile-input and
// analysis tests want.
package dexbuild

import (
	"errors"
	"fmt"
	"strings"
)

// Access flags (a subset of the DEX access_flags values).
const (
	AccPublic      = 0x1
	AccPrivate     = 0x2
	AccProtected   = 0x4
	AccStatic      = 0x8
	AccFinal       = 0x10
	AccInterface   = 0x200
	AccAbstract    = 0x400
	AccConstructor = 0x10000
)

// Builder collects classes and produces a DEX file with Bytes.
// The zero value is not usable; call New.
type Builder struct {
	classes []*Class
	byDesc  map[string]*Class
	version string
	errs    []error
}

// New returns an empty builder that writes DEX version 035.
func New() *Builder {
	return &Builder{byDesc: map[string]*Class{}, version: "035"}
}

// Version sets the DEX version written in the magic ("035" … "040").
func (b *Builder) Version(v string) *Builder {
	b.version = v
	return b
}

func (b *Builder) fail(err error) { b.errs = append(b.errs, err) }

// Class returns the class with the descriptor desc (e.g. "Lcom/app/Main;"),
// creating it (public, extending java.lang.Object) on first use.
func (b *Builder) Class(desc string) *Class {
	if c, ok := b.byDesc[desc]; ok {
		return c
	}
	if !isClassDesc(desc) {
		b.fail(fmt.Errorf("dexbuild: %q is not a class descriptor", desc))
	}
	c := &Class{b: b, Desc: desc, Super: "Ljava/lang/Object;", Flags: AccPublic}
	b.classes = append(b.classes, c)
	b.byDesc[desc] = c
	return c
}

// Class describes one class definition.
type Class struct {
	b          *Builder
	Desc       string
	Super      string // "" for none (only java.lang.Object has none)
	Interfaces []string
	Flags      uint32
	SourceFile string
	Fields     []*Field
	Methods    []*Method
}

// Extends sets the superclass descriptor.
func (c *Class) Extends(super string) *Class { c.Super = super; return c }

// Implements adds interfaces.
func (c *Class) Implements(ifaces ...string) *Class {
	c.Interfaces = append(c.Interfaces, ifaces...)
	return c
}

// Access sets the class access flags.
func (c *Class) Access(flags uint32) *Class { c.Flags = flags; return c }

// Source sets the source file name.
func (c *Class) Source(name string) *Class { c.SourceFile = name; return c }

// Field describes a field defined by a class.
type Field struct {
	Name  string
	Type  string
	Flags uint32
	// Value is the initial value of a static field (static_values):
	// a string, an int64 or a bool; nil for none.
	Value any
}

// Field adds an instance field (private unless flags say otherwise) and
// returns the class for chaining.
func (c *Class) Field(name, typ string, flags uint32) *Class {
	c.Fields = append(c.Fields, &Field{Name: name, Type: typ, Flags: flags})
	return c
}

// StaticField adds a static field with an initial value (a string, an
// int64 or a bool), written to the class's static_values as javac does for
// constants.
func (c *Class) StaticField(name, typ string, flags uint32, value any) *Class {
	switch value.(type) {
	case string, int64, bool, nil:
	default:
		c.b.fail(fmt.Errorf("dexbuild: static value %T of %s->%s not supported", value, c.Desc, name))
	}
	c.Fields = append(c.Fields, &Field{Name: name, Type: typ, Flags: flags | AccStatic, Value: value})
	return c
}

// Method adds a method with the given name and proto descriptor such as
// "(Ljava/lang/String;I)V". It is public and virtual unless changed with
// Static, Private, Access or Abstract; "<init>" is a direct constructor.
func (c *Class) Method(name, proto string) *Method {
	if _, _, err := parseProto(proto); err != nil {
		c.b.fail(fmt.Errorf("dexbuild: %s->%s: %w", c.Desc, name, err))
	}
	m := &Method{c: c, Name: name, Proto: proto, Flags: AccPublic, hasCode: true}
	if name == "<init>" || name == "<clinit>" {
		m.Flags |= AccConstructor
		if name == "<clinit>" {
			m.Flags = AccStatic | AccConstructor
		}
	}
	c.Methods = append(c.Methods, m)
	return m
}

// Method is a method definition with its code.
type Method struct {
	c       *Class
	Name    string
	Proto   string
	Flags   uint32
	hasCode bool
	insns   []insn
	nregs   int // locals used so far
	outs    int
	repeat  int
	locals  int  // fixed number of locals (Locals)
	fixed   bool // locals is set; else they grow with use
}

// Locals fixes the number of local registers at n, so that the
// parameters sit in v(n) and up and code can read them (ParamReg). Every
// register the code writes must then be below n.
func (m *Method) Locals(n int) *Method {
	if m.nregs > n {
		return m.fail("Locals(%d) after using %d registers", n, m.nregs)
	}
	m.locals, m.fixed = n, true
	return m
}

// ParamReg is the register holding in-register slot i of a method with
// fixed Locals: for an instance method slot 0 is the receiver and the
// declared parameters follow; a long or double takes two slots.
func (m *Method) ParamReg(i int) int {
	if !m.fixed {
		m.fail("ParamReg without Locals")
	}
	return m.locals + i
}

// Repeat makes the code written so far appear n times in a row in the
// output, which lets benchmarks build very large methods from a small
// description.
func (m *Method) Repeat(n int) *Method {
	m.repeat = n
	return m
}

// Static makes the method static (a direct method).
func (m *Method) Static() *Method { m.Flags |= AccStatic; return m }

// Access replaces the access flags.
func (m *Method) Access(flags uint32) *Method { m.Flags = flags; return m }

// Abstract marks the method abstract: it has no code.
func (m *Method) Abstract() *Method {
	m.Flags |= AccAbstract
	m.hasCode = false
	return m
}

func (m *Method) direct() bool {
	return m.Flags&(AccStatic|AccPrivate|AccConstructor) != 0
}

func (m *Method) use(regs ...int) {
	for _, r := range regs {
		if m.fixed && r >= m.locals {
			continue // a parameter
		}
		if r+1 > m.nregs {
			m.nregs = r + 1
		}
	}
}

func (m *Method) add(in insn) *Method {
	m.insns = append(m.insns, in)
	return m
}

func (m *Method) fail(format string, args ...any) *Method {
	m.c.b.fail(fmt.Errorf("dexbuild: %s->%s%s: %s", m.c.Desc, m.Name, m.Proto, fmt.Sprintf(format, args...)))
	return m
}

// insn is one instruction before index assignment.
type insn struct {
	op   byte
	kind insnKind
	a, b int   // registers (or count for invoke)
	regs []int // invoke argument registers
	lit  int64
	ref  string // string value, type descriptor, field or method reference
	data []byte // fill-array-data payload bytes
	w    int    // fill-array-data element width
	raw  []uint16
}

type insnKind uint8

const (
	kRaw insnKind = iota
	k10x
	k11x
	k11n
	k21s
	k31i
	k21sWide
	k51l
	kString
	kType21c // const-class, new-instance, check-cast
	kNewArray
	kFill
	kInvoke
	kField22c
	kField21c
	kLine // no code: the instructions that follow are on source line lit
)

// Raw appends code units verbatim (for tests of unusual bytecode, such as
// switch payloads). The units must form whole instructions.
func (m *Method) Raw(units ...uint16) *Method {
	return m.add(insn{kind: kRaw, raw: append([]uint16(nil), units...)})
}

// Line says that the instructions that follow come from source line n;
// the method then gets a debug_info_item with its line table.
func (m *Method) Line(n int) *Method { return m.add(insn{kind: kLine, lit: int64(n)}) }

// Nop appends a nop.
func (m *Method) Nop() *Method { return m.add(insn{op: 0x00, kind: k10x}) }

// ConstString loads a string constant into register reg.
func (m *Method) ConstString(reg int, s string) *Method {
	if reg > 0xff {
		return m.fail("const-string register v%d > v255", reg)
	}
	m.use(reg)
	return m.add(insn{op: 0x1a, kind: kString, a: reg, ref: s})
}

// Const loads a 32-bit constant, choosing const/4, const/16 or const.
func (m *Method) Const(reg int, v int32) *Method {
	if reg > 0xff {
		return m.fail("const register v%d > v255", reg)
	}
	m.use(reg)
	switch {
	case reg < 16 && v >= -8 && v <= 7:
		return m.add(insn{op: 0x12, kind: k11n, a: reg, lit: int64(v)})
	case v >= -32768 && v <= 32767:
		return m.add(insn{op: 0x13, kind: k21s, a: reg, lit: int64(v)})
	default:
		return m.add(insn{op: 0x14, kind: k31i, a: reg, lit: int64(v)})
	}
}

// ConstWide loads a 64-bit constant into the register pair reg, reg+1.
func (m *Method) ConstWide(reg int, v int64) *Method {
	if reg > 0xff {
		return m.fail("const-wide register v%d > v255", reg)
	}
	m.use(reg, reg+1)
	if v >= -32768 && v <= 32767 {
		return m.add(insn{op: 0x16, kind: k21sWide, a: reg, lit: v})
	}
	return m.add(insn{op: 0x18, kind: k51l, a: reg, lit: v})
}

// ConstClass loads a class literal.
func (m *Method) ConstClass(reg int, desc string) *Method {
	m.use(reg)
	return m.add(insn{op: 0x1c, kind: kType21c, a: reg, ref: desc})
}

// NewInstance allocates an object of class desc into reg.
func (m *Method) NewInstance(reg int, desc string) *Method {
	m.use(reg)
	return m.add(insn{op: 0x22, kind: kType21c, a: reg, ref: desc})
}

// NewArray allocates an array of type arrayDesc (e.g. "[B") whose length is
// in sizeReg. Both registers must be below v16.
func (m *Method) NewArray(reg, sizeReg int, arrayDesc string) *Method {
	if reg > 15 || sizeReg > 15 {
		return m.fail("new-array registers must be below v16")
	}
	m.use(reg, sizeReg)
	return m.add(insn{op: 0x23, kind: kNewArray, a: reg, b: sizeReg, ref: arrayDesc})
}

// FillArrayData fills the array in reg with data, read as elements of width
// bytes (1, 2, 4 or 8); len(data) must be a multiple of width.
func (m *Method) FillArrayData(reg, width int, data []byte) *Method {
	if width != 1 && width != 2 && width != 4 && width != 8 || len(data)%width != 0 {
		return m.fail("fill-array-data: bad width %d for %d bytes", width, len(data))
	}
	m.use(reg)
	return m.add(insn{op: 0x26, kind: kFill, a: reg, w: width, data: append([]byte(nil), data...)})
}

// MoveResult, MoveResultWide and MoveResultObject store the result of the
// preceding invoke.
func (m *Method) MoveResult(reg int) *Method {
	m.use(reg)
	return m.add(insn{op: 0x0a, kind: k11x, a: reg})
}

// MoveResultWide stores a long/double result into reg, reg+1.
func (m *Method) MoveResultWide(reg int) *Method {
	m.use(reg, reg+1)
	return m.add(insn{op: 0x0b, kind: k11x, a: reg})
}

// MoveResultObject stores an object result.
func (m *Method) MoveResultObject(reg int) *Method {
	m.use(reg)
	return m.add(insn{op: 0x0c, kind: k11x, a: reg})
}

// ReturnVoid returns from a void method. Bytes appends one to any method
// whose code does not already end with a return.
func (m *Method) ReturnVoid() *Method { return m.add(insn{op: 0x0e, kind: k10x}) }

// Return returns the value in reg (return, or return-object when object is true).
func (m *Method) Return(reg int, object bool) *Method {
	m.use(reg)
	op := byte(0x0f)
	if object {
		op = 0x11
	}
	return m.add(insn{op: op, kind: k11x, a: reg})
}

// Invoke kinds.
const (
	InvokeVirtual   = 0x6e
	InvokeSuper     = 0x6f
	InvokeDirect    = 0x70
	InvokeStatic    = 0x71
	InvokeInterface = 0x72
)

// Invoke emits invoke-{virtual,super,direct,static,interface} (kind is one
// of the constants Virtual … Interface) of the method reference
// "Lcls;->name(params)ret" with the given argument registers. It uses the
// /range form when a register is above v15 or there are more than five;
// the /range form needs consecutive registers.
func (m *Method) Invoke(kind int, methodRef string, regs ...int) *Method {
	if kind < InvokeVirtual || kind > InvokeInterface {
		return m.fail("bad invoke kind %#x", kind)
	}
	if _, _, _, err := splitMethodRef(methodRef); err != nil {
		return m.fail("%v", err)
	}
	m.use(regs...)
	rng := len(regs) > 5
	for _, r := range regs {
		if r > 15 {
			rng = true
		}
	}
	op := byte(kind)
	if rng {
		for i := 1; i < len(regs); i++ {
			if regs[i] != regs[0]+i {
				return m.fail("invoke/range needs consecutive registers, got %v", regs)
			}
		}
		if len(regs) > 255 || len(regs) > 0 && regs[0] > 0xffff {
			return m.fail("too many invoke arguments")
		}
		op += 6
	}
	if len(regs) > m.outs {
		m.outs = len(regs)
	}
	return m.add(insn{op: op, kind: kInvoke, regs: append([]int(nil), regs...), ref: methodRef})
}

// IPut stores reg into the instance field "Lcls;->name:Type" of the object
// in objReg (both registers below v16). The iput variant follows the type.
func (m *Method) IPut(reg, objReg int, fieldRef string) *Method {
	return m.ifield(0x59, reg, objReg, fieldRef)
}

// IGet loads the instance field into reg.
func (m *Method) IGet(reg, objReg int, fieldRef string) *Method {
	return m.ifield(0x52, reg, objReg, fieldRef)
}

// SPut stores reg into a static field.
func (m *Method) SPut(reg int, fieldRef string) *Method { return m.sfield(0x67, reg, fieldRef) }

// SGet loads a static field into reg.
func (m *Method) SGet(reg int, fieldRef string) *Method { return m.sfield(0x60, reg, fieldRef) }

func (m *Method) ifield(base byte, reg, obj int, ref string) *Method {
	_, _, typ, err := splitFieldRef(ref)
	if err != nil {
		return m.fail("%v", err)
	}
	if reg > 15 || obj > 15 {
		return m.fail("iget/iput registers must be below v16")
	}
	m.use(reg, obj)
	if w := typeWords(typ); w == 2 {
		m.use(reg + 1)
	}
	return m.add(insn{op: base + fieldVariant(typ), kind: kField22c, a: reg, b: obj, ref: ref})
}

func (m *Method) sfield(base byte, reg int, ref string) *Method {
	_, _, typ, err := splitFieldRef(ref)
	if err != nil {
		return m.fail("%v", err)
	}
	m.use(reg)
	if typeWords(typ) == 2 {
		m.use(reg + 1)
	}
	return m.add(insn{op: base + fieldVariant(typ), kind: kField21c, a: reg, ref: ref})
}

// fieldVariant is the offset of the typed variant in the iget/iput/sget/sput
// opcode groups: plain, wide, object, boolean, byte, char, short.
func fieldVariant(typ string) byte {
	switch typ[0] {
	case 'J', 'D':
		return 1
	case 'L', '[':
		return 2
	case 'Z':
		return 3
	case 'B':
		return 4
	case 'C':
		return 5
	case 'S':
		return 6
	}
	return 0
}

// Arg is an argument of the high-level Call helpers: a constant that the
// helper loads into a fresh register, or an existing register.
type Arg struct {
	kind  argKind
	s     string
	i     int64
	bytes []byte
	reg   int
}

type argKind uint8

const (
	argReg argKind = iota
	argStr
	argInt
	argClass
	argBytes
	argNew
	argStrBytes
)

// Str is a string constant argument (const-string).
func Str(s string) Arg { return Arg{kind: argStr, s: s} }

// Int is an integer constant argument (const/4, const/16, const or, for a
// long parameter, const-wide).
func Int(v int64) Arg { return Arg{kind: argInt, i: v} }

// ClassLit is a class literal argument (const-class).
func ClassLit(desc string) Arg { return Arg{kind: argClass, s: desc} }

// Bytes is a byte[] argument built with new-array + fill-array-data, the
// way javac compiles a static array initialiser.
func Bytes(b []byte) Arg { return Arg{kind: argBytes, bytes: b} }

// StrBytes is a byte[] argument computed as "s".getBytes().
func StrBytes(s string) Arg { return Arg{kind: argStrBytes, s: s} }

// NewObj is a fresh object of class desc (new-instance, without calling a
// constructor), e.g. as the receiver of a virtual call.
func NewObj(desc string) Arg { return Arg{kind: argNew, s: desc} }

// Reg passes an existing register.
func Reg(r int) Arg { return Arg{kind: argReg, reg: r} }

// CallStatic loads args into fresh registers and emits invoke-static.
func (m *Method) CallStatic(methodRef string, args ...Arg) *Method {
	return m.Call(InvokeStatic, methodRef, args...)
}

// CallVirtual emits invoke-virtual; args[0] is the receiver.
func (m *Method) CallVirtual(methodRef string, args ...Arg) *Method {
	return m.Call(InvokeVirtual, methodRef, args...)
}

// CallDirect emits invoke-direct (constructors, private methods); args[0]
// is the receiver.
func (m *Method) CallDirect(methodRef string, args ...Arg) *Method {
	return m.Call(InvokeDirect, methodRef, args...)
}

// CallSuper emits invoke-super; args[0] is the receiver.
func (m *Method) CallSuper(methodRef string, args ...Arg) *Method {
	return m.Call(InvokeSuper, methodRef, args...)
}

// CallInterface emits invoke-interface; args[0] is the receiver.
func (m *Method) CallInterface(methodRef string, args ...Arg) *Method {
	return m.Call(InvokeInterface, methodRef, args...)
}

// Call loads each constant argument into a fresh register (registers never
// reused within the method, so earlier values stay intact) and invokes
// methodRef with kind (InvokeVirtual … InvokeInterface). For non-static kinds the first
// argument is the receiver. A Reg argument is used in place; fresh
// registers are consecutive, so calls with many arguments use /range.
func (m *Method) Call(kind int, methodRef string, args ...Arg) *Method {
	_, _, proto, err := splitMethodRef(methodRef)
	if err != nil {
		return m.fail("%v", err)
	}
	params, _, err := parseProto(proto)
	if err != nil {
		return m.fail("%v", err)
	}
	if kind != InvokeStatic {
		params = append([]string{"Ljava/lang/Object;"}, params...)
	}
	if len(args) != len(params) {
		return m.fail("call %s: %d arguments for %d parameters", methodRef, len(args), len(params))
	}
	// Materialise arguments first (they may emit calls of their own, e.g.
	// getBytes), then copy nothing: every constant lands in its own fresh
	// register and the invoke lists those registers.
	for _, a := range args {
		if a.kind == argReg {
			m.use(a.reg) // fresh registers must not collide with it
		}
	}
	var regs []int
	for i, a := range args {
		wide := typeWords(params[i]) == 2
		r := m.materialise(a, wide)
		regs = append(regs, r)
		if wide {
			regs = append(regs, r+1)
		}
	}
	return m.Invoke(kind, methodRef, regs...)
}

func (m *Method) fresh(n int) int {
	r := m.nregs
	m.nregs += n
	if m.fixed && m.nregs > m.locals {
		m.fail("more than the %d locals fixed", m.locals)
	}
	return r
}

func (m *Method) materialise(a Arg, wide bool) int {
	switch a.kind {
	case argReg:
		return a.reg
	case argStr:
		r := m.fresh(1)
		m.ConstString(r, a.s)
		return r
	case argInt:
		if wide {
			r := m.fresh(2)
			m.ConstWide(r, a.i)
			return r
		}
		r := m.fresh(1)
		m.Const(r, int32(a.i))
		return r
	case argClass:
		r := m.fresh(1)
		m.ConstClass(r, a.s)
		return r
	case argNew:
		r := m.fresh(1)
		m.NewInstance(r, a.s)
		return r
	case argBytes:
		size := m.fresh(1)
		r := m.fresh(1)
		m.Const(size, int32(len(a.bytes)))
		m.NewArray(r, size, "[B")
		m.FillArrayData(r, 1, a.bytes)
		return r
	case argStrBytes:
		s := m.fresh(1)
		m.ConstString(s, a.s)
		m.Invoke(InvokeVirtual, "Ljava/lang/String;->getBytes()[B", s)
		r := m.fresh(1)
		m.MoveResultObject(r)
		return r
	}
	panic("dexbuild: unknown argument kind")
}

// Bytes lays out and returns the DEX file, or the first error recorded
// while building.
func (b *Builder) Bytes() ([]byte, error) {
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	return b.write()
}

// MustBytes is Bytes for tests and benchmarks: it panics on error.
func (b *Builder) MustBytes() []byte {
	d, err := b.Bytes()
	if err != nil {
		panic(err)
	}
	return d
}

func isClassDesc(s string) bool {
	return len(s) >= 3 && s[0] == 'L' && s[len(s)-1] == ';' || len(s) >= 2 && s[0] == '['
}

// splitMethodRef splits "Lcls;->name(params)ret".
func splitMethodRef(ref string) (cls, name, proto string, err error) {
	i := strings.Index(ref, "->")
	j := strings.IndexByte(ref, '(')
	if i <= 0 || j < i+3 {
		return "", "", "", fmt.Errorf("bad method reference %q (want Lcls;->name(params)ret)", ref)
	}
	return ref[:i], ref[i+2 : j], ref[j:], nil
}

// splitFieldRef splits "Lcls;->name:Type".
func splitFieldRef(ref string) (cls, name, typ string, err error) {
	i := strings.Index(ref, "->")
	j := strings.LastIndexByte(ref, ':')
	if i <= 0 || j < i+3 || j == len(ref)-1 {
		return "", "", "", fmt.Errorf("bad field reference %q (want Lcls;->name:Type)", ref)
	}
	return ref[:i], ref[i+2 : j], ref[j+1:], nil
}

// parseProto splits "(params)ret" into parameter type descriptors and the
// return type.
func parseProto(p string) (params []string, ret string, err error) {
	if len(p) < 3 || p[0] != '(' {
		return nil, "", fmt.Errorf("bad proto %q", p)
	}
	i := 1
	for i < len(p) && p[i] != ')' {
		n := typeLen(p[i:])
		if n == 0 {
			return nil, "", fmt.Errorf("bad proto %q", p)
		}
		params = append(params, p[i:i+n])
		i += n
	}
	if i >= len(p) {
		return nil, "", fmt.Errorf("bad proto %q", p)
	}
	ret = p[i+1:]
	if typeLen(ret) != len(ret) {
		return nil, "", fmt.Errorf("bad proto %q", p)
	}
	return params, ret, nil
}

// typeLen is the length of the type descriptor at the start of s, or 0.
func typeLen(s string) int {
	i := 0
	for i < len(s) && s[i] == '[' {
		i++
	}
	if i >= len(s) {
		return 0
	}
	switch s[i] {
	case 'V', 'Z', 'B', 'S', 'C', 'I', 'J', 'F', 'D':
		return i + 1
	case 'L':
		j := strings.IndexByte(s[i:], ';')
		if j < 2 {
			return 0
		}
		return i + j + 1
	}
	return 0
}

func typeWords(t string) int {
	if t == "J" || t == "D" {
		return 2
	}
	return 1
}

func shorty(params []string, ret string) string {
	var sb strings.Builder
	short := func(t string) byte {
		if t[0] == 'L' || t[0] == '[' {
			return 'L'
		}
		return t[0]
	}
	sb.WriteByte(short(ret))
	for _, p := range params {
		sb.WriteByte(short(p))
	}
	return sb.String()
}
