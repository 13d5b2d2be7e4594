package dex

import (
	"iter"
)

// analysis is every method of some files analysed the way the scanner
// does it (internal/apk): class by class, each method with code through
// Analyzer.AnalyzeMethod, under each file's work budget. The tests read
// its facts through the queries below.
type analysis struct {
	files []*analysedFile
}

type analysedFile struct {
	f     *File
	facts Facts
	errs  []error
}

// analyzeFiles analyses every method of files.
func analyzeFiles(files ...*File) *analysis {
	x := &analysis{}
	for _, f := range files {
		af := &analysedFile{f: f}
		a := Analyzer{Budget: NewBudget(f)}
		for i := range f.Classes() {
			c := &f.Classes()[i]
			cd, err := a.ClassData(f, c)
			if err != nil {
				af.errs = append(af.errs, err)
				continue
			}
			if cd == nil {
				continue
			}
			for _, ms := range [2][]EncodedMethod{cd.DirectMethods, cd.VirtualMethods} {
				for _, m := range ms {
					if m.CodeOff == 0 {
						continue
					}
					code, err := f.Code(m.CodeOff)
					if err != nil {
						af.errs = append(af.errs, err)
						continue
					}
					if err := a.AnalyzeMethod(f, m.Method, &code, &af.facts); err != nil {
						af.errs = append(af.errs, err)
					}
				}
			}
		}
		x.files = append(x.files, af)
	}
	return x
}

// Errors lists the problems met, in order.
func (x *analysis) Errors() []error {
	var out []error
	for _, af := range x.files {
		out = append(out, af.errs...)
	}
	return out
}

// call is a call site with its caller, its target as written and its
// arguments.
type call struct {
	File   *File
	Args   []Value
	Caller MethodRef
	Target MethodRef
}

// CallsTo lists the calls whose written target is ref's class and name
// (and proto, when given).
func (x *analysis) CallsTo(ref MethodRef) []call {
	var out []call
	for _, af := range x.files {
		for i := range af.facts.Calls {
			cs := &af.facts.Calls[i]
			if isCustom(cs.Op) {
				continue
			}
			t := af.f.Method(cs.Method)
			if t.Class != ref.Class || t.Name != ref.Name || (ref.Proto != "" && t.Proto != ref.Proto) {
				continue
			}
			out = append(out, call{File: af.f, Args: af.facts.Args(cs), Caller: af.f.Method(cs.Caller), Target: t})
		}
	}
	return out
}

type stringUse struct {
	Caller MethodRef
	Value  string
}

// Strings yields every const-string with its method.
func (x *analysis) Strings() iter.Seq[stringUse] {
	return func(yield func(stringUse) bool) {
		for _, af := range x.files {
			for _, s := range af.facts.Strings {
				if !yield(stringUse{Caller: af.f.Method(s.Caller), Value: af.f.strings[s.Index]}) {
					return
				}
			}
		}
	}
}

type fieldUse struct {
	Field  FieldRef
	Access FieldAccess
	Value  Value // the value stored, for a write
}

// Fields yields every field read and write.
func (x *analysis) Fields() iter.Seq[fieldUse] {
	return func(yield func(fieldUse) bool) {
		for _, af := range x.files {
			for i := range af.facts.Fields {
				a := &af.facts.Fields[i]
				if !yield(fieldUse{Field: af.f.Field(a.Field), Access: *a, Value: af.facts.Stored(a)}) {
					return
				}
			}
		}
	}
}

type typeUse struct {
	Op   Opcode
	Type string
}

// Types yields every type use.
func (x *analysis) Types() iter.Seq[typeUse] {
	return func(yield func(typeUse) bool) {
		for _, af := range x.files {
			for _, tu := range af.facts.Types {
				if !yield(typeUse{Op: tu.Op, Type: af.f.types[tu.Type]}) {
					return
				}
			}
		}
	}
}
