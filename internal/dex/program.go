package dex

import (
	"context"
	"iter"
	"runtime"
	"sync"
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
	declared map[MethodRef]struct{} // methods defined by app classes
	names    map[targetKey]struct{} // the same, by class and name only
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

// IsSubclassOf reports whether desc is ancestor, extends it, or implements
// it, directly or through any chain of app and framework classes.
func (p *Program) IsSubclassOf(desc, ancestor string) bool {
	found := false
	p.walkAncestors(desc, func(c string) bool {
		found = c == ancestor
		return !found
	})
	return found
}

// walkAncestors visits desc, its superclasses, then the interfaces of all
// of them (breadth first), stopping when visit returns false. The walk is
// bounded so that cyclic hierarchies in hostile input terminate.
func (p *Program) walkAncestors(desc string, visit func(string) bool) {
	var chainBuf [maxHierarchy]string
	chain := chainBuf[:0]
	for c := desc; c != "" && len(chain) < maxHierarchy; {
		if !visit(c) {
			return
		}
		chain = append(chain, c)
		s, ok := p.Super(c)
		if !ok {
			break
		}
		c = s
	}
	var queueBuf [maxHierarchy]string
	queue := queueBuf[:0]
	for _, c := range chain {
		queue = append(queue, p.Interfaces(c)...)
	}
	for steps := 0; len(queue) > 0 && steps < 4*maxHierarchy; steps++ {
		c := queue[0]
		queue = queue[1:]
		if !visit(c) {
			return
		}
		queue = append(queue, p.Interfaces(c)...)
	}
}

func (p *Program) buildDeclared() {
	n := 0
	for _, f := range p.Files {
		n += int(f.Header.Methods.Size)
	}
	p.declared = make(map[MethodRef]struct{}, n/2)
	p.names = make(map[targetKey]struct{}, n/2)
	for f, c := range p.AllClasses() {
		cd, err := f.ClassData(c)
		if err != nil || cd == nil {
			continue
		}
		for _, ms := range [2][]EncodedMethod{cd.DirectMethods, cd.VirtualMethods} {
			for _, m := range ms {
				r := f.Method(m.Method)
				p.declared[r] = struct{}{}
				p.names[targetKey{r.Class, r.Name}] = struct{}{}
			}
		}
	}
}

// declares reports whether class c (app or framework) declares the
// method; an empty proto matches any overload.
func (p *Program) declares(c, name, proto string) bool {
	if _, ok := p.classes[c]; ok {
		if proto == "" {
			_, ok := p.names[targetKey{c, name}]
			return ok
		}
		_, ok := p.declared[MethodRef{c, name, proto}]
		return ok
	}
	if fc, ok := p.fw[c]; ok {
		return fc.methods[name]
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
	best, outside := "", ""
	p.walkAncestors(ref.Class, func(c string) bool {
		if p.declares(c, ref.Name, ref.Proto) {
			best = c
		}
		if outside == "" {
			if _, app := p.classes[c]; !app {
				outside = c
			}
		}
		return true
	})
	switch {
	case best != "":
		ref.Class = best
	case outside != "":
		ref.Class = outside
	}
	return ref
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
	byTarget map[targetKey][]callPos
	errs     []error
}

type chunk struct {
	file  int
	facts Facts
}

type targetKey struct{ class, name string }

type callPos struct{ chunk, call int32 }

// Call is a call site with its caller and its target, as written and as
// resolved.
type Call struct {
	File     *File
	Site     *CallSite
	Caller   MethodRef
	Target   MethodRef // as written in the bytecode
	Resolved MethodRef // after Program.Resolve
}

// chunkClasses is the number of classes analysed as one unit of work:
// large enough to amortise scheduling, small enough to balance two cores.
const chunkClasses = 256

// parallelThreshold: below this many classes the analysis runs on the
// calling goroutine, as goroutines would cost more than they save.
const parallelThreshold = 2000

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
		total += len(f.classes)
	}
	x := &Index{p: p, chunks: make([]chunk, len(jobs)), resolved: make([][]MethodRef, len(p.Files))}
	run := func(a *Analyzer, j int) {
		jb := jobs[j]
		f := p.Files[jb.file]
		ch := &x.chunks[j]
		ch.file = jb.file
		for ci := jb.lo; ci < jb.hi; ci++ {
			c := &f.classes[ci]
			if loc := p.classes[c.Desc]; int(loc.file) != jb.file || int(loc.class) != ci {
				continue // shadowed duplicate
			}
			if err := a.AnalyzeClass(f, c, &ch.facts); err != nil {
				ch.facts.Errors = append(ch.facts.Errors, err)
			}
		}
	}
	resolveFile := func(fi int) {
		f := p.Files[fi]
		r := make([]MethodRef, f.Header.Methods.Size)
		for i := range r {
			r[i] = p.Resolve(f.Method(uint32(i)))
		}
		x.resolved[fi] = r
	}
	workers := runtime.GOMAXPROCS(0)
	if total < parallelThreshold || workers < 2 {
		var a Analyzer
		for j := range jobs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			run(&a, j)
		}
		for fi := range p.Files {
			resolveFile(fi)
		}
	} else {
		next := make(chan int)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				var a Analyzer
				for j := range next {
					if j < 0 {
						resolveFile(-j - 1)
					} else {
						run(&a, j)
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
	x.byTarget = make(map[targetKey][]callPos)
	for ci := range x.chunks {
		ch := &x.chunks[ci]
		res := x.resolved[ch.file]
		for k := range ch.facts.Calls {
			cs := &ch.facts.Calls[k]
			if cs.Op == OpInvokeCustom || cs.Op == OpInvokeCustomRange {
				continue
			}
			r := res[cs.Method]
			key := targetKey{r.Class, r.Name}
			x.byTarget[key] = append(x.byTarget[key], callPos{int32(ci), int32(k)})
		}
		x.errs = append(x.errs, ch.facts.Errors...)
	}
	return x, nil
}

// Errors lists the malformed methods and classes met during analysis.
func (x *Index) Errors() []error { return x.errs }

func (x *Index) call(pos callPos) Call {
	ch := &x.chunks[pos.chunk]
	f := x.p.Files[ch.file]
	cs := &ch.facts.Calls[pos.call]
	return Call{File: f, Site: cs, Caller: f.Method(cs.Caller), Target: f.Method(cs.Method), Resolved: x.resolved[ch.file][cs.Method]}
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
	for _, pos := range x.byTarget[targetKey{r.Class, r.Name}] {
		c := x.call(pos)
		if proto != "" && c.Resolved.Proto != proto {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Calls yields every call site.
func (x *Index) Calls() iter.Seq[Call] {
	return func(yield func(Call) bool) {
		for ci := range x.chunks {
			for k := range x.chunks[ci].facts.Calls {
				if cs := &x.chunks[ci].facts.Calls[k]; cs.Op == OpInvokeCustom || cs.Op == OpInvokeCustomRange {
					continue
				}
				if !yield(x.call(callPos{int32(ci), int32(k)})) {
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
				if !yield(StringRef{File: f, Caller: f.Method(s.Caller), PC: s.PC, Value: s.Value}) {
					return
				}
			}
		}
	}
}

// FieldRefUse is a field access with its method and field.
type FieldRefUse struct {
	File   *File
	Caller MethodRef
	Field  FieldRef
	Access *FieldAccess
}

// Fields yields every field read and write.
func (x *Index) Fields() iter.Seq[FieldRefUse] {
	return func(yield func(FieldRefUse) bool) {
		for ci := range x.chunks {
			ch := &x.chunks[ci]
			f := x.p.Files[ch.file]
			for k := range ch.facts.Fields {
				a := &ch.facts.Fields[k]
				if !yield(FieldRefUse{File: f, Caller: f.Method(a.Caller), Field: f.Field(a.Field), Access: a}) {
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
	Use    *TypeUse
}

// Types yields every type use.
func (x *Index) Types() iter.Seq[TypeRefUse] {
	return func(yield func(TypeRefUse) bool) {
		for ci := range x.chunks {
			ch := &x.chunks[ci]
			f := x.p.Files[ch.file]
			for k := range ch.facts.Types {
				if !yield(TypeRefUse{File: f, Caller: f.Method(ch.facts.Types[k].Caller), Use: &ch.facts.Types[k]}) {
					return
				}
			}
		}
	}
}
