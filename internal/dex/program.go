package dex

// Program is the code of one app: all of its classes*.dex files, in the
// order the platform loads them (classes.dex, classes2.dex, …). When a
// class is defined twice, the first definition wins, as with the platform
// class loader.
type Program struct {
	Files []*File

	classes map[string]classLoc
	fw      map[string]*frameworkClass
}

type classLoc struct {
	file, class int32
}

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

// isCustom reports whether op is an invoke-custom (a call site bootstrapped
// at run time, whose target the code does not name).
func isCustom(op Opcode) bool { return op == OpInvokeCustom || op == OpInvokeCustomRange }
