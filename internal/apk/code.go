package apk

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/dfslab/dfslab/internal/dex"
)

// loadCode parses every DEX and summarises its methods into Classes, in
// parallel over classes. A DEX that does not parse is a warning.
func (l *loader) loadCode() error {
	type job struct {
		f      *dex.File
		budget *dex.Budget // the file's, shared by its jobs
		name   string
		dst    int // index in classes of the file's class lo
		lo, hi int // class indexes inside the file
	}
	var (
		jobs  []job
		files []*dex.File
		names []string
	)
	for _, d := range l.dexs {
		f, err := dex.Parse(d.data, nil)
		if err != nil {
			l.warnf("%s: %v", d.name, err)
			continue
		}
		files = append(files, f)
		names = append(names, d.name)
	}
	l.dexs = nil
	l.app.DexFiles = len(files)
	total := 0
	const chunk = 256
	for i, f := range files {
		n := len(f.Classes())
		budget := dex.NewBudget(f)
		for lo := 0; lo < n; lo += chunk {
			jobs = append(jobs, job{f, budget, names[i], total + lo, lo, min(lo+chunk, n)})
		}
		total += n
	}
	classes := make([]Class, total)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next = make(chan job)
		warn []string
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var an dex.Analyzer
			var facts dex.Facts
			var lines []dex.Position
			names := javaNames{}
			for j := range next {
				cs := j.f.Classes()
				an.Budget = j.budget
				for i := j.lo; i < j.hi && l.ctx.Err() == nil; i++ {
					if err := safeConvert(j.f, &cs[i], j.name, &an, &facts, &lines, names, &classes[j.dst+i-j.lo]); err != nil {
						mu.Lock()
						warn = append(warn, j.name+": "+err.Error())
						mu.Unlock()
					}
				}
			}
		})
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	if err := l.ctx.Err(); err != nil {
		return err
	}
	l.app.Hierarchy = hierarchy(dex.NewProgram(files...), classes)
	if len(warn) > 20 {
		warn = append(warn[:20], itoa(int64(len(warn)-20))+" more class errors")
	}
	l.app.Warnings = append(l.app.Warnings, warn...)
	l.app.Classes = classes
	return nil
}

// hierarchy walks the supertypes of every class the code calls but does not
// define, through the program's framework table.
func hierarchy(p *dex.Program, classes []Class) map[string][]string {
	defined := make(map[string]bool, len(classes))
	for i := range classes {
		defined[classes[i].Name] = true
	}
	out := map[string][]string{}
	seen := map[string]bool{}
	var queue []string
	push := func(n string) {
		if n != "" && !seen[n] && !defined[n] {
			seen[n] = true
			queue = append(queue, n)
		}
	}
	for i := range classes {
		c := &classes[i]
		push(c.Super)
		for _, x := range c.Interfaces {
			push(x)
		}
		for _, m := range c.Methods {
			for _, call := range m.Calls {
				push(call.Class)
			}
		}
	}
	for len(queue) > 0 {
		n := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		desc := "L" + strings.ReplaceAll(n, ".", "/") + ";"
		var sup []string
		if s, ok := p.Super(desc); ok {
			sup = append(sup, javaName(s))
		}
		for _, i := range p.Interfaces(desc) {
			sup = append(sup, javaName(i))
		}
		if len(sup) > 0 {
			out[n] = sup
			for _, x := range sup {
				push(x)
			}
		}
	}
	return out
}

// javaName turns "Lcom/a/B;" into "com.a.B"; arrays and primitives stay.
func javaName(desc string) string {
	if len(desc) >= 2 && desc[0] == 'L' && desc[len(desc)-1] == ';' {
		return strings.ReplaceAll(desc[1:len(desc)-1], "/", ".")
	}
	return desc
}

// safeConvert is convertClass with a panic turned into an error: it runs
// in a worker goroutine, where a panic would end the whole process.
func safeConvert(f *dex.File, c *dex.Class, source string, an *dex.Analyzer, facts *dex.Facts, lines *[]dex.Position, names javaNames, out *Class) (err error) {
	defer func() {
		if r := recover(); r != nil {
			*an = dex.Analyzer{}
			err = fmt.Errorf("class %s: internal error: %v", c.Desc, r)
		}
	}()
	return convertClass(f, c, source, an, facts, lines, names, out)
}

// javaNames caches descriptor-to-name conversions: an app names the same
// few thousand classes in hundreds of thousands of calls.
type javaNames map[string]string

func (n javaNames) get(desc string) string {
	if s, ok := n[desc]; ok {
		return s
	}
	s := javaName(desc)
	if len(n) < 1<<16 {
		n[desc] = s
	}
	return s
}

// convertClass summarises one class. lines is scratch space for line
// tables, reused across methods.
func convertClass(f *dex.File, c *dex.Class, source string, an *dex.Analyzer, facts *dex.Facts, lines *[]dex.Position, names javaNames, out *Class) error {
	*out = Class{Name: javaName(c.Desc), AccessFlags: c.Access, Source: source, SourceFile: c.SourceFile}
	if c.Super != "" {
		out.Super = javaName(c.Super)
	}
	for _, i := range c.Interfaces {
		out.Interfaces = append(out.Interfaces, javaName(i))
	}
	cd, err := an.ClassData(f, c)
	if err != nil || cd == nil {
		return err
	}
	ms := make([]Method, 0, len(cd.DirectMethods)+len(cd.VirtualMethods))
	for _, list := range [][]dex.EncodedMethod{cd.DirectMethods, cd.VirtualMethods} {
		for _, em := range list {
			ref := f.Method(em.Method)
			m := Method{Name: ref.Name, Descriptor: ref.Proto, Static: em.Access&accStatic != 0}
			if em.CodeOff != 0 {
				code, err := f.Code(em.CodeOff)
				if err != nil {
					ms = append(ms, m)
					continue
				}
				facts.Reset()
				if err := an.AnalyzeMethod(f, em.Method, &code, facts); errors.Is(err, dex.ErrLimit) {
					// The file's work budget is spent: hostile, not an app.
					return fmt.Errorf("method %s: %w", ref.Name, err)
				}
				// Malformed code keeps the facts found before the problem.
				// A malformed line table only costs the lines.
				*lines, _ = f.Lines(&code, *lines)
				summarise(f, &code, facts, *lines, names, &m)
			}
			ms = append(ms, m)
		}
	}
	out.Methods = ms
	return nil
}

const accStatic = 0x0008

// summarise copies the analysis facts into the model and scans the code
// once for throw and constant returns.
func summarise(f *dex.File, code *dex.Code, facts *dex.Facts, lines []dex.Position, names javaNames, m *Method) {
	if len(lines) > 0 {
		m.Line = int(lines[0].Line)
	}
	cv := converter{f: f, names: names, proto: m.Descriptor, static: m.Static}
	if len(facts.Calls) > 0 {
		m.Calls = make([]Call, 0, len(facts.Calls))
		// One backing array for the arguments of all calls of the method.
		n := 0
		for i := range facts.Calls {
			n += int(facts.Calls[i].NArgs)
		}
		vals := make([]Value, 0, n)
		for i := range facts.Calls {
			cs := &facts.Calls[i]
			if cs.Op == dex.OpInvokeCustom || cs.Op == dex.OpInvokeCustomRange {
				continue
			}
			ref := f.Method(cs.Method)
			start := len(vals)
			regs := facts.Args(cs)
			vals = cv.appendArgs(vals, regs, cs.Op, ref.Proto)
			call := Call{Class: names.get(ref.Class), Name: ref.Name, Descriptor: ref.Proto, Args: vals[start:len(vals):len(vals)],
				Line: int32(dex.LineAt(lines, cs.PC))}
			// equals is symmetric: "admin".equals(user) is recorded as
			// user.equals("admin"), so that rules find the constant in
			// the argument whichever side the source put it on.
			if call.Class == "java.lang.String" && len(call.Args) == 1 && len(regs) == 2 && call.Args[0].Kind != ValueString &&
				(call.Name == "equals" || call.Name == "equalsIgnoreCase" || call.Name == "contentEquals") {
				if r := cv.value(regs[0]); r.Kind == ValueString {
					call.Args[0] = r
				}
			}
			m.Calls = append(m.Calls, call)
		}
	}
	if len(facts.Strings) > 0 {
		m.Strings = make([]string, 0, len(facts.Strings))
		for _, s := range facts.Strings {
			m.Strings = append(m.Strings, f.String(s.Index))
		}
	}
	for i := range facts.Fields {
		fa := &facts.Fields[i]
		switch {
		case !fa.Write && fa.Op >= 0x60 && fa.Op <= 0x66: // sget family
			r := f.Field(fa.Field)
			m.StaticGets = append(m.StaticGets, names.get(r.Class)+"."+r.Name)
		case fa.Write && (fa.Op == 0x5b || fa.Op == 0x69): // iput-object, sput-object
			r := f.Field(fa.Field)
			if r.Type != "Ljava/lang/String;" && r.Type != "[B" && r.Type != "[C" {
				continue
			}
			if v := cv.value(facts.Stored(fa)); v.Kind != ValueUnknown {
				m.FieldWrites = append(m.FieldWrites, FieldWrite{Field: names.get(r.Class) + "." + r.Name, Value: v})
			}
		}
	}
	scanCode(code, m)
}

// converter turns analysis values of one method into model values.
type converter struct {
	f      *dex.File
	names  javaNames
	proto  string // the method's own descriptor, to number its parameters
	static bool
}

// appendArgs drops the receiver and folds wide arguments so that the
// values appended are the declared parameters, in order.
func (cv *converter) appendArgs(dst []Value, regs []dex.Value, op dex.Opcode, proto string) []Value {
	static := op == dex.OpInvokeStatic || op == dex.OpInvokeStaticRange
	if !static && len(regs) > 0 {
		regs = regs[1:]
	}
	k := 0
	forEachParam(proto, func(w int) bool {
		if k >= len(regs) {
			return false
		}
		dst = append(dst, cv.value(regs[k]))
		k += w
		return true
	})
	return dst
}

// param numbers the in-register slot of the method's own parameters: the
// declared parameter it holds, or -1 for the receiver or the second half
// of a long or double.
func (cv *converter) param(slot int) int {
	if !cv.static {
		if slot == 0 {
			return -1
		}
		slot--
	}
	idx, at, found := 0, 0, -1
	forEachParam(cv.proto, func(w int) bool {
		if at == slot {
			found = idx
			return false
		}
		if at > slot {
			return false
		}
		at += w
		idx++
		return true
	})
	return found
}

// forEachParam calls fn with the register width (1 or 2) of each
// parameter of proto, until fn returns false.
func forEachParam(proto string, fn func(width int) bool) {
	if len(proto) < 2 || proto[0] != '(' {
		return
	}
	for i := 1; i < len(proto) && proto[i] != ')'; i++ {
		w := 1
		switch proto[i] {
		case 'J', 'D':
			w = 2
		case 'L':
			j := strings.IndexByte(proto[i:], ';')
			if j < 0 {
				return
			}
			i += j
		case '[':
			for i < len(proto) && proto[i] == '[' {
				i++
			}
			if i < len(proto) && proto[i] == 'L' {
				j := strings.IndexByte(proto[i:], ';')
				if j < 0 {
					return
				}
				i += j
			}
		}
		if !fn(w) {
			return
		}
	}
}

func (cv *converter) value(v dex.Value) Value {
	switch v.Kind {
	case dex.ConstString:
		return Value{Kind: ValueString, Str: v.Str}
	case dex.ConstInt:
		return Value{Kind: ValueInt, Int: v.Int}
	case dex.ArrayData, dex.StringBytes:
		if v.Kind == dex.StringBytes || v.Int == 1 { // byte arrays only
			return Value{Kind: ValueBytes, Str: v.Str}
		}
	case dex.Concat:
		if v.Int == 0 {
			return Value{Kind: ValueString, Str: v.Str}
		}
		return Value{Kind: ValueConcat, Str: v.Str, Int: v.Int}
	case dex.FieldValue:
		r := cv.f.Field(v.Ref)
		if r.Name == "" {
			return Value{}
		}
		return Value{Kind: ValueField, Str: cv.names.get(r.Class) + "." + r.Name, Conv: Conv(v.Conv)}
	case dex.Param:
		if p := cv.param(int(v.Int)); p >= 0 {
			return Value{Kind: ValueParam, Int: int64(p), Conv: Conv(v.Conv)}
		}
	case dex.Result:
		r := cv.f.Method(v.Ref)
		if r.Name == "toString" && (r.Class == "Ljava/lang/StringBuilder;" || r.Class == "Ljava/lang/StringBuffer;") ||
			r.Class == "Ljava/lang/String;" && (r.Name == "concat" || r.Name == "format") {
			return Value{Kind: ValueConcat, Int: 1}
		}
	}
	return Value{}
}

// scanCode counts instructions, notes throws and recognises methods whose
// every return gives the same small constant ("return true"), however much
// else they do first (Kotlin adds parameter null checks, some log).
func scanCode(code *dex.Code, m *Method) {
	n := code.Len()
	insns := 0
	var prev uint16 // previous instruction's first unit
	constRet, returns, constOK := int64(0), 0, true
	for i := 0; i < n; {
		u := code.Unit(i)
		op := dex.Opcode(u & 0xff)
		if op == dex.OpNop && u != 0 {
			w := payloadWidth(code, i, u)
			if w <= 0 {
				break
			}
			i += w
			continue
		}
		w := op.Width()
		if w <= 0 {
			break
		}
		insns++
		switch op {
		case 0x27: // throw
			m.Throws = true
		case 0x97, 0xb7: // xor-int, xor-int/2addr
			m.Ops |= OpXor
		case 0xd7, 0xdf: // xor-int/lit16, xor-int/lit8
			m.Ops |= OpXorLit
		case 0x48, 0x49: // aget-byte, aget-char
			m.Ops |= OpArrayRead
		case 0x4f, 0x50: // aput-byte, aput-char
			m.Ops |= OpArrayWrite
		case 0x0f: // return vAA
			returns++
			// const/4 vA, #B immediately before, into the returned register
			if prev&0xff == 0x12 && (prev>>8)&0xf == u>>8 {
				v := int64(int8(uint8(prev>>8)&0xf0) >> 4)
				if returns > 1 && v != constRet {
					constOK = false
				}
				constRet = v
			} else {
				constOK = false
			}
		case 0x0e, 0x10, 0x11: // return-void, return-wide, return-object
			constOK = false
		}
		prev = u
		i += w
	}
	m.Insns = insns
	if returns > 0 && constOK {
		m.ReturnsConst = true
		m.ConstReturn = constRet
	}
}

func payloadWidth(code *dex.Code, i int, u uint16) int {
	n := code.Len()
	at := func(k int) int {
		if i+k < n {
			return int(code.Unit(i + k))
		}
		return 0
	}
	switch u {
	case 0x0100:
		return at(1)*2 + 4
	case 0x0200:
		return at(1)*4 + 2
	case 0x0300:
		size := at(2) | at(3)<<16
		return (size*at(1)+1)/2 + 4
	}
	return 0
}
