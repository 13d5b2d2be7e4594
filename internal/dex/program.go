package dex

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Program is the code of one app: all of its classes*.dex files, in the
// order the platform loads them (classes.dex, classes2.dex, …). When a
// class is defined twice, the first definition wins, as with the platform
// class loader.
type Program struct {
	Files []*File

	classes map[string]classLoc
	fw      map[string]*frameworkClass

	declOnce sync.Once
	defined  [][]bool   // [file][method_ids index]: defined by an app class
	codeOff  [][]uint32 // [file][method_ids index]: its code_item, if any
}

type classLoc struct {
	file, class int32
}

// maxHierarchy bounds walks up the class hierarchy: real hierarchies are a
// few tens deep, and hostile files may contain cycles.
const maxHierarchy = 64

// NewProgram indexes the classes of files.
func NewProgram(files ...*File) *Program {
	n := 0
	for _, f := range files {
		n += len(f.classes)
	}
	p := &Program{Files: files, classes: make(map[string]classLoc, n), fw: parseFramework()}
	for fi, f := range files {
		for ci := range f.classes {
			d := f.classes[ci].Desc
			if _, dup := p.classes[d]; !dup {
				p.classes[d] = classLoc{int32(fi), int32(ci)}
			}
		}
	}
	return p
}

// Class returns the app class with descriptor desc and the file that
// defines it.
func (p *Program) Class(desc string) (*File, *Class, bool) {
	loc, ok := p.classes[desc]
	if !ok {
		return nil, nil, false
	}
	f := p.Files[loc.file]
	return f, &f.classes[loc.class], true
}

// NumClasses is the number of distinct classes defined by the app.
func (p *Program) NumClasses() int { return len(p.classes) }

// AllClasses yields every class defined by the app (first definitions only).
func (p *Program) AllClasses() iter.Seq2[*File, *Class] {
	return func(yield func(*File, *Class) bool) {
		for _, f := range p.Files {
			for i := range f.classes {
				c := &f.classes[i]
				if loc := p.classes[c.Desc]; p.Files[loc.file] != f || int(loc.class) != i {
					continue
				}
				if !yield(f, c) {
					return
				}
			}
		}
	}
}

// IsFramework reports whether desc is a framework class known to the
// built-in table (and not redefined by the app).
func (p *Program) IsFramework(desc string) bool {
	if _, ok := p.classes[desc]; ok {
		return false
	}
	_, ok := p.fw[desc]
	return ok
}

// Super returns the superclass of desc from the app or the framework
// table; ok is false when unknown.
func (p *Program) Super(desc string) (string, bool) {
	if _, c, ok := p.Class(desc); ok {
		return c.Super, c.Super != ""
	}
	if c, ok := p.fw[desc]; ok {
		return c.super, c.super != ""
	}
	return "", false
}

// Interfaces returns the interfaces desc directly implements (or, for an
// interface, extends).
func (p *Program) Interfaces(desc string) []string {
	if _, c, ok := p.Class(desc); ok {
		return c.Interfaces
	}
	if c, ok := p.fw[desc]; ok {
		return c.ifaces
	}
	return nil
}

// buildDeclared marks, per file, the method_ids entries that classes of
// the app define (first definitions only).
func (p *Program) buildDeclared() {
	p.defined = make([][]bool, len(p.Files))
	p.codeOff = make([][]uint32, len(p.Files))
	for fi, f := range p.Files {
		p.defined[fi] = make([]bool, f.Header.Methods.Size)
		p.codeOff[fi] = make([]uint32, f.Header.Methods.Size)
	}
	budget := make([]int64, len(p.Files))
	for fi, f := range p.Files {
		budget[fi] = workBudget(f)
	}
	for f, c := range p.AllClasses() {
		fi := p.classes[c.Desc].file
		if budget[fi] < 0 {
			continue // hostile sharing of class data; Analyze reports it
		}
		cd, size, err := f.classData(c)
		budget[fi] -= int64(size)
		if err != nil || cd == nil {
			continue
		}
		def, code := p.defined[fi], p.codeOff[fi]
		for _, ms := range [2][]EncodedMethod{cd.DirectMethods, cd.VirtualMethods} {
			for _, m := range ms {
				def[m.Method] = true
				code[m.Method] = m.CodeOff
			}
		}
	}
}

// ancestor is one step of a class's ancestry, with what is needed to ask
// whether it declares a method.
type ancestor struct {
	desc   string
	file   int32 // defining file for app classes, else -1
	fw     *frameworkClass
	lo, hi uint32 // app classes: the class's entries in method_ids
}

// ancestors lists desc, its superclasses, then the interfaces of all of
// them (breadth first), appending to buf. The walk is bounded so that
// cyclic hierarchies in hostile input terminate.
func (p *Program) ancestors(desc string, buf []ancestor) []ancestor {
	step := func(c string) ancestor {
		if loc, ok := p.classes[c]; ok {
			lo, hi := p.Files[loc.file].classMethods(c)
			return ancestor{desc: c, file: loc.file, lo: lo, hi: hi}
		}
		return ancestor{desc: c, file: -1, fw: p.fw[c]}
	}
	interfaces := func(a ancestor) []string {
		if a.file >= 0 {
			return p.Files[a.file].classes[p.classes[a.desc].class].Interfaces
		}
		if a.fw != nil {
			return a.fw.ifaces
		}
		return nil
	}
	start := len(buf)
	for c := desc; c != "" && len(buf)-start < maxHierarchy; {
		a := step(c)
		buf = append(buf, a)
		switch {
		case a.file >= 0:
			c = p.Files[a.file].classes[p.classes[c].class].Super
		case a.fw != nil:
			c = a.fw.super
		default:
			c = ""
		}
	}
	for i := start; i < len(buf) && len(buf)-start < 4*maxHierarchy; i++ {
		for _, in := range interfaces(buf[i]) {
			buf = append(buf, step(in))
		}
	}
	return buf
}

// IsSubclassOf reports whether desc is ancestor, extends it, or implements
// it, directly or through any chain of app and framework classes.
func (p *Program) IsSubclassOf(desc, ancestorDesc string) bool {
	var buf [16]ancestor
	for _, a := range p.ancestors(desc, buf[:0]) {
		if a.desc == ancestorDesc {
			return true
		}
	}
	return false
}

// declares reports whether the ancestor declares the method; an empty
// proto matches any overload.
func (p *Program) declares(a *ancestor, name, proto string) bool {
	if a.file < 0 {
		return a.fw != nil && a.fw.methods[name]
	}
	f := p.Files[a.file]
	lo, hi := f.namedMethods(a.lo, a.hi, name)
	def := p.defined[a.file]
	for i := lo; i < hi; i++ {
		if def[i] && (proto == "" || f.protos[f.u16(f.Header.Methods.Off+8*i+2)] == proto) {
			return true
		}
	}
	return false
}

// Resolve maps a method reference to the root declaration of the method
// as far as the app and the framework table tell: the most general
// superclass or interface that declares a method of that name and proto.
// A call to Lcom/app/MainActivity;->sendBroadcast or to
// Landroid/app/Activity;->sendBroadcast resolves to
// Landroid/content/Context;->sendBroadcast. When no declaration is known
// but the chain reaches a class outside the app, that class is the best
// answer; otherwise ref is returned unchanged. Constructors and static
// initialisers are never moved. An empty ref.Proto matches any overload.
func (p *Program) Resolve(ref MethodRef) MethodRef {
	if ref.Name == "<init>" || ref.Name == "<clinit>" {
		return ref
	}
	p.declOnce.Do(p.buildDeclared)
	var buf [16]ancestor
	return p.resolveIn(p.ancestors(ref.Class, buf[:0]), ref)
}

func (p *Program) resolveIn(chain []ancestor, ref MethodRef) MethodRef {
	if ref.Name == "<init>" || ref.Name == "<clinit>" {
		return ref
	}
	best, outside := "", ""
	for i := range chain {
		a := &chain[i]
		if p.declares(a, ref.Name, ref.Proto) {
			best = a.desc
		}
		if outside == "" && a.file < 0 {
			outside = a.desc
		}
	}
	switch {
	case best != "":
		ref.Class = best
	case outside != "":
		ref.Class = outside
	}
	return ref
}

// resolveAll resolves every method_ids entry of file fi. Entries are
// sorted by class, so each class's ancestry is computed once.
func (p *Program) resolveAll(fi int) []MethodRef {
	f := p.Files[fi]
	out := make([]MethodRef, f.Header.Methods.Size)
	var chain []ancestor
	cls := "\x00"
	for i := range out {
		r := f.Method(uint32(i))
		if r.Class != cls {
			cls = r.Class
			chain = p.ancestors(cls, chain[:0])
		}
		out[i] = p.resolveIn(chain, r)
	}
	return out
}

// Implementers returns the app classes that are subclasses of, or
// implement, ancestor (excluding ancestor itself).
func (p *Program) Implementers(ancestor string) []*Class {
	var out []*Class
	for _, c := range p.AllClasses() {
		if c.Desc != ancestor && p.IsSubclassOf(c.Desc, ancestor) {
			out = append(out, c)
		}
	}
	return out
}

// Index holds the facts of every method of a Program, with call sites
// indexed by resolved target. It is immutable and safe for concurrent use.
type Index struct {
	p      *Program
	chunks []chunk
	// resolved[file][method] is the resolution of each method_ids entry.
	resolved [][]MethodRef
	// Call sites grouped by resolved (class, name): the sites of key k are
	// sites[start[k]:start[k+1]].
	keys  map[targetKey]int32
	start []int32
	sites []callPos
	errs  []error
}

type chunk struct {
	file  int
	facts Facts
}

type targetKey struct{ class, name string }

type callPos struct{ chunk, call int32 }

// Call is a call site with its caller, its target (as written and as
// resolved) and the values of its arguments.
type Call struct {
	File     *File
	Site     CallSite
	Args     []Value // receiver first; see Value
	Caller   MethodRef
	Target   MethodRef // as written in the bytecode
	Resolved MethodRef // after Program.Resolve
}

// chunkClasses is the number of classes analysed as one unit of work:
// large enough to amortise scheduling, small enough to balance two cores.
const chunkClasses = 64

// parallelBytes: below this much DEX the analysis runs on the calling
// goroutine (a few milliseconds of work), as goroutines would cost more
// than they save.
const parallelBytes = 1 << 20

// Analyze analyses every method of every class and builds the index. Work
// is spread over GOMAXPROCS goroutines for large programs.
func (p *Program) Analyze(ctx context.Context) (*Index, error) {
	p.declOnce.Do(p.buildDeclared)
	type job struct{ file, lo, hi int }
	var jobs []job
	total := 0
	for fi, f := range p.Files {
		for lo := 0; lo < len(f.classes); lo += chunkClasses {
			jobs = append(jobs, job{fi, lo, min(lo+chunkClasses, len(f.classes))})
		}
		total += int(f.Header.FileSize)
	}
	x := &Index{p: p, chunks: make([]chunk, len(jobs)), resolved: make([][]MethodRef, len(p.Files))}
	budgets := make([]atomic.Int64, len(p.Files))
	for fi, f := range p.Files {
		budgets[fi].Store(workBudget(f))
	}
	// Each worker gathers a chunk's facts in scratch slices that it reuses,
	// then keeps an exact-size copy: growing the chunk's own slices by
	// doubling would allocate two to three times the final index.
	run := func(a *Analyzer, scratch *Facts, j int) {
		jb := jobs[j]
		f := p.Files[jb.file]
		ch := &x.chunks[j]
		ch.file = jb.file
		a.budget = &budgets[jb.file]
		if a.budget.Load() < 0 {
			return // reported once by the chunk that ran out
		}
		scratch.Reset()
		for ci := jb.lo; ci < jb.hi; ci++ {
			c := &f.classes[ci]
			if loc := p.classes[c.Desc]; int(loc.file) != jb.file || int(loc.class) != ci {
				continue // shadowed duplicate
			}
			if err := a.AnalyzeClass(f, c, scratch); err != nil {
				scratch.Errors = append(scratch.Errors, err)
				if errors.Is(err, ErrLimit) {
					break
				}
			}
		}
		ch.facts = Facts{
			Calls:   slices.Clone(scratch.Calls),
			Strings: slices.Clone(scratch.Strings),
			Fields:  slices.Clone(scratch.Fields),
			Types:   slices.Clone(scratch.Types),
			Errors:  scratch.Errors,
		}
	}
	resolveFile := func(fi int) { x.resolved[fi] = p.resolveAll(fi) }
	workers := runtime.GOMAXPROCS(0)
	if total < parallelBytes || workers < 2 {
		a := Analyzer{NoValues: true}
		var scratch Facts
		for j := range jobs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			run(&a, &scratch, j)
		}
		for fi := range p.Files {
			resolveFile(fi)
		}
	} else {
		next := make(chan int)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				a := Analyzer{NoValues: true}
				var scratch Facts
				for j := range next {
					if j < 0 {
						resolveFile(-j - 1)
					} else {
						run(&a, &scratch, j)
					}
				}
			})
		}
	feed:
		for j := -len(p.Files); j < len(jobs); j++ {
			select {
			case next <- j:
			case <-ctx.Done():
				break feed
			}
		}
		close(next)
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	x.buildTargets()
	for ci := range x.chunks {
		x.errs = append(x.errs, x.chunks[ci].facts.Errors...)
	}
	return x, nil
}

// buildTargets groups call sites by resolved target with a counting sort:
// one map lookup per method_ids entry rather than per call site, and one
// allocation for all sites.
func (x *Index) buildTargets() {
	x.keys = make(map[targetKey]int32)
	keyOf := make([][]int32, len(x.resolved))
	for fi, rs := range x.resolved {
		ids := make([]int32, len(rs))
		for i, r := range rs {
			k := targetKey{r.Class, r.Name}
			id, ok := x.keys[k]
			if !ok {
				id = int32(len(x.keys))
				x.keys[k] = id
			}
			ids[i] = id
		}
		keyOf[fi] = ids
	}
	x.start = make([]int32, len(x.keys)+1)
	total := 0
	for ci := range x.chunks {
		ch := &x.chunks[ci]
		for k := range ch.facts.Calls {
			if cs := &ch.facts.Calls[k]; !isCustom(cs.Op) {
				x.start[keyOf[ch.file][cs.Method]+1]++
				total++
			}
		}
	}
	for i := 1; i < len(x.start); i++ {
		x.start[i] += x.start[i-1]
	}
	x.sites = make([]callPos, total)
	fill := slices.Clone(x.start[:len(x.start)-1])
	for ci := range x.chunks {
		ch := &x.chunks[ci]
		for k := range ch.facts.Calls {
			if cs := &ch.facts.Calls[k]; !isCustom(cs.Op) {
				id := keyOf[ch.file][cs.Method]
				x.sites[fill[id]] = callPos{int32(ci), int32(k)}
				fill[id]++
			}
		}
	}
}

func isCustom(op Opcode) bool { return op == OpInvokeCustom || op == OpInvokeCustomRange }

// Errors lists the malformed methods and classes met during analysis.
func (x *Index) Errors() []error { return x.errs }

func (x *Index) call(pos callPos) Call {
	ch := &x.chunks[pos.chunk]
	f := x.p.Files[ch.file]
	cs := ch.facts.Calls[pos.call]
	return Call{File: f, Site: cs, Caller: f.Method(cs.Caller), Target: f.Method(cs.Method), Resolved: x.resolved[ch.file][cs.Method]}
}

// methodFacts re-analyses one method with values, for the few methods a
// query returns; the first pass recorded only where things are.
type methodFacts struct {
	a      Analyzer
	facts  Facts
	file   int
	caller uint32
	valid  bool
}

func (x *Index) factsOf(mf *methodFacts, file int, caller uint32) *Facts {
	if mf.valid && mf.file == file && mf.caller == caller {
		return &mf.facts
	}
	mf.facts = Facts{}
	mf.file, mf.caller, mf.valid = file, caller, true
	f := x.p.Files[file]
	if off := x.p.codeOff[file][caller]; off != 0 {
		if code, err := f.Code(off); err == nil {
			_ = mf.a.AnalyzeMethod(f, caller, &code, &mf.facts) // errors were reported by the first pass
		}
	}
	return &mf.facts
}

// withArgs fills in c.Args from a re-analysis of the caller.
func (x *Index) withArgs(mf *methodFacts, file int, c *Call) {
	facts := x.factsOf(mf, file, c.Site.Caller)
	i, ok := slices.BinarySearchFunc(facts.Calls, c.Site.PC, func(cs CallSite, pc uint32) int { return cmp.Compare(cs.PC, pc) })
	if ok {
		c.Args = slices.Clone(facts.Args(&facts.Calls[i]))
	}
}

// CallsTo returns the call sites whose resolved target is the method
// named by ref, itself resolved first (so asking for
// Landroid/app/Activity;->sendBroadcast finds the calls to
// Context.sendBroadcast made through any subclass). An empty ref.Proto
// matches every overload.
func (x *Index) CallsTo(ref MethodRef) []Call {
	proto := ref.Proto
	r := x.p.Resolve(ref)
	var out []Call
	id, ok := x.keys[targetKey{r.Class, r.Name}]
	if !ok {
		return nil
	}
	var mf methodFacts
	for _, pos := range x.sites[x.start[id]:x.start[id+1]] {
		c := x.call(pos)
		if proto != "" && c.Resolved.Proto != proto {
			continue
		}
		x.withArgs(&mf, x.chunks[pos.chunk].file, &c)
		out = append(out, c)
	}
	return out
}

// Calls yields every call site with its arguments (which costs a second
// pass over the code; prefer CallsTo).
func (x *Index) Calls() iter.Seq[Call] {
	return func(yield func(Call) bool) {
		var mf methodFacts
		for ci := range x.chunks {
			for k := range x.chunks[ci].facts.Calls {
				if cs := &x.chunks[ci].facts.Calls[k]; isCustom(cs.Op) {
					continue
				}
				c := x.call(callPos{int32(ci), int32(k)})
				x.withArgs(&mf, x.chunks[ci].file, &c)
				if !yield(c) {
					return
				}
			}
		}
	}
}

// StringRef is a string constant with the method that loads it.
type StringRef struct {
	File   *File
	Caller MethodRef
	PC     uint32
	Value  string
}

// Strings yields every const-string of the app with its method.
func (x *Index) Strings() iter.Seq[StringRef] {
	return func(yield func(StringRef) bool) {
		for ci := range x.chunks {
			ch := &x.chunks[ci]
			f := x.p.Files[ch.file]
			for _, s := range ch.facts.Strings {
				if !yield(StringRef{File: f, Caller: f.Method(s.Caller), PC: s.PC, Value: f.strings[s.Index]}) {
					return
				}
			}
		}
	}
}

// FieldRefUse is a field access with its method and field, and for a
// write the value stored as far as known.
type FieldRefUse struct {
	File   *File
	Caller MethodRef
	Field  FieldRef
	Access FieldAccess
	Value  Value
}

// Fields yields every field read and write.
func (x *Index) Fields() iter.Seq[FieldRefUse] {
	return func(yield func(FieldRefUse) bool) {
		var mf methodFacts
		for ci := range x.chunks {
			ch := &x.chunks[ci]
			f := x.p.Files[ch.file]
			for k := range ch.facts.Fields {
				a := ch.facts.Fields[k]
				u := FieldRefUse{File: f, Caller: f.Method(a.Caller), Field: f.Field(a.Field), Access: a}
				if a.Write {
					facts := x.factsOf(&mf, ch.file, a.Caller)
					i, ok := slices.BinarySearchFunc(facts.Fields, a.PC, func(fa FieldAccess, pc uint32) int { return cmp.Compare(fa.PC, pc) })
					if ok {
						u.Value = facts.Stored(&facts.Fields[i])
					}
				}
				if !yield(u) {
					return
				}
			}
		}
	}
}

// TypeRefUse is a new-instance, new-array, const-class or check-cast with
// its method.
type TypeRefUse struct {
	File   *File
	Caller MethodRef
	Op     Opcode
	PC     uint32
	Type   string
}

// Types yields every type use.
func (x *Index) Types() iter.Seq[TypeRefUse] {
	return func(yield func(TypeRefUse) bool) {
		for ci := range x.chunks {
			ch := &x.chunks[ci]
			f := x.p.Files[ch.file]
			for k := range ch.facts.Types {
				tu := &ch.facts.Types[k]
				if !yield(TypeRefUse{File: f, Caller: f.Method(tu.Caller), Op: tu.Op, PC: tu.PC, Type: f.types[tu.Type]}) {
					return
				}
			}
		}
	}
}

// DefinedMethod is a method defined by an app class.
type DefinedMethod struct {
	File   *File
	Ref    MethodRef
	Access uint32
	Code   *Code // nil for abstract and native methods, or unreadable code
}

// Methods returns the methods that the app class desc defines, direct
// ones first, in the order of the file.
func (p *Program) Methods(desc string) ([]DefinedMethod, error) {
	f, c, ok := p.Class(desc)
	if !ok {
		return nil, nil
	}
	cd, err := f.ClassData(c)
	if err != nil || cd == nil {
		return nil, err
	}
	var out []DefinedMethod
	for _, ms := range [2][]EncodedMethod{cd.DirectMethods, cd.VirtualMethods} {
		for _, m := range ms {
			dm := DefinedMethod{File: f, Ref: f.Method(m.Method), Access: m.Access}
			if m.CodeOff != 0 {
				if code, err := f.Code(m.CodeOff); err == nil {
					dm.Code = &code
				}
			}
			out = append(out, dm)
		}
	}
	return out, nil
}

// FieldConstant returns the value the app stores into field, when its
// initial value (static_values) and every write whose value the analysis
// knows agree on the kind of constant; it lets a rule follow an argument of
// kind FieldValue, such as a static final byte[] IV filled in by <clinit>,
// back to its data. The first such value is returned.
func (x *Index) FieldConstant(field FieldRef) (Value, bool) {
	var found Value
	// The initial value from static_values comes first: that is where
	// javac puts constants.
	if f, c, ok := x.p.Class(field.Class); ok {
		if cd, err := f.ClassData(c); err == nil && cd != nil {
			if vals, err := f.StaticValues(c); err == nil {
				for i, sf := range cd.StaticFields {
					if i < len(vals) && f.Field(sf.Field) == field {
						found = vals[i]
					}
				}
			}
		}
	}
	var mf methodFacts
	for ci := range x.chunks {
		ch := &x.chunks[ci]
		f := x.p.Files[ch.file]
		for k := range ch.facts.Fields {
			a := ch.facts.Fields[k]
			if !a.Write || f.Field(a.Field) != field {
				continue
			}
			facts := x.factsOf(&mf, ch.file, a.Caller)
			i, ok := slices.BinarySearchFunc(facts.Fields, a.PC, func(fa FieldAccess, pc uint32) int { return cmp.Compare(fa.PC, pc) })
			if !ok {
				continue
			}
			v := facts.Stored(&facts.Fields[i])
			switch {
			case v.Kind == Unknown:
			case found.Kind == Unknown:
				found = v
			case found.Kind != v.Kind:
				return Value{}, false
			}
		}
	}
	return found, found.Kind != Unknown
}
