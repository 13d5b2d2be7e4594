package appscan

import (
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/apk"
)

// rule is a RuleMeta plus the Go checks that implement it. A rule uses the
// hooks it needs: check runs once over the app model; the code hooks run
// inside the single shared pass over the DEX code.
type rule struct {
	RuleMeta
	check func(sc *scanCtx, emit emitFunc)
	// calls lists the call targets ("pkg.Class.method") onCall wants to see.
	// A call through a subclass matches its ancestor's method.
	calls    []string
	onCall   func(mc *methodCtx, c *apk.Call, emit emitFunc)
	onMethod func(mc *methodCtx, emit emitFunc)
	onString func(mc *methodCtx, s string, emit emitFunc)
	onClass  func(mc *methodCtx, emit emitFunc)
	// appOnly skips code of known libraries: the rule is about what the
	// app's own code does (what it logs, where it stores files).
	appOnly bool
	// controlName names the control in Result.Controls; absent is the
	// message of the finding reported when the control is missing ("" for
	// controls whose absence is not a weakness in itself).
	controlName string
	absent      string
}

// scanCtx is the read-only view of one app shared by every rule.
type scanCtx struct {
	app      *apk.App
	now      time.Time
	man      *apk.Manifest // never nil: empty when the manifest is missing
	classes  map[string]*apk.Class
	ancestor map[string][]string // app class -> supertypes, nearest first
	// textSigs and nativeSigs are the byteSig of each app text and native
	// string, computed once for all secret rules.
	textSigs   []uint64
	nativeSigs [][]uint64
	// chains maps app and known framework classes to themselves followed
	// by their supertypes, precomputed so the code pass allocates nothing
	// to resolve a call.
	chains map[string][]string
	// attr attributes classes to the app or to known libraries.
	attr *attribution
	// fields indexes the known stores into String and byte[] fields, for
	// following keys and URLs kept in fields.
	fields map[string][]fieldWrite
}

func newScanCtx(app *apk.App, now time.Time) *scanCtx {
	sc := &scanCtx{app: app, now: now, man: app.Manifest, classes: make(map[string]*apk.Class, len(app.Classes))}
	if sc.man == nil {
		sc.man = &apk.Manifest{}
	}
	for i := range app.Classes {
		c := &app.Classes[i]
		if _, dup := sc.classes[c.Name]; !dup {
			sc.classes[c.Name] = c
		}
	}
	sc.ancestor = make(map[string][]string, len(sc.classes)+len(app.Hierarchy))
	sc.chains = make(map[string][]string, len(sc.classes)+len(app.Hierarchy))
	for name := range app.Hierarchy {
		sc.ancestor[name] = sc.computeAncestors(name)
	}
	for name := range sc.classes {
		sc.ancestor[name] = sc.computeAncestors(name)
	}
	for name, a := range sc.ancestor {
		sc.chains[name] = append([]string{name}, a...)
	}
	sc.attr = attribute(app, sc.man)
	sc.fields = fieldIndex(app.Classes)
	sc.textSigs = make([]uint64, len(app.Texts))
	for i, t := range app.Texts {
		sc.textSigs[i] = byteSig(t.Text)
	}
	sc.nativeSigs = make([][]uint64, len(app.Native))
	for i, l := range app.Native {
		sc.nativeSigs[i] = make([]uint64, len(l.Strings))
		for j, s := range l.Strings {
			sc.nativeSigs[i][j] = byteSig(s)
		}
	}
	return sc
}

// computeAncestors walks superclasses and interfaces through app classes
// and then through the framework classes the app refers to (App.Hierarchy,
// from the DEX reader's framework table), bounded against cycles that a
// hostile DEX can declare.
func (sc *scanCtx) computeAncestors(name string) []string {
	var out []string
	seen := map[string]bool{name: true}
	queue := []string{name}
	for len(queue) > 0 && len(out) < 64 {
		n := queue[0]
		queue = queue[1:]
		var next []string
		if c, ok := sc.classes[n]; ok {
			if c.Super != "" {
				next = append(next, c.Super)
			}
			next = append(next, c.Interfaces...)
		} else if s, ok := sc.app.Hierarchy[n]; ok {
			next = append(next, s...)
		}
		for _, x := range next {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
				queue = append(queue, x)
			}
		}
	}
	return out
}

// chain returns the class followed by its supertypes. For a class that is
// neither in the app nor in the framework table it returns nil: the caller
// then looks at the name alone.
func (sc *scanCtx) chain(name string) []string { return sc.chains[name] }

// isA reports whether class name is, extends or implements want.
func (sc *scanCtx) isA(name, want string) bool {
	if name == want {
		return true
	}
	for _, a := range sc.ancestor[name] {
		if a == want {
			return true
		}
	}
	return false
}

// resolves reports whether call c targets class.name, directly or through
// a subclass (a call to Activity.sendBroadcast is Context.sendBroadcast).
// Constructors are not inherited.
func (sc *scanCtx) resolves(c *apk.Call, class, name string) bool {
	if c.Name != name {
		return false
	}
	if c.Class == class {
		return true
	}
	if name == "<init>" {
		return false
	}
	for _, s := range sc.chains[c.Class] {
		if s == class {
			return true
		}
	}
	return false
}

// methodCtx is the position of the code pass: one worker reuses it.
type methodCtx struct {
	scan   *scanCtx
	class  *apk.Class
	method *apk.Method
	// rule is the rule being asked, and emit appends its hits; one closure
	// per worker instead of one per rule and method.
	rule *rule
	emit emitFunc
	// sig is byteSig of the string an onString hook is looking at.
	sig uint64
	// line is the source line of what the hook looks at: the call's, or
	// the method's first line; 0 without debug information.
	line int
	// library names the known library the class belongs to, "" for the
	// app's own or unknown code.
	library string
	// pending collects the values that lead to parameters, resolved at
	// their call sites after the pass (followArg).
	pending *[]pending
}

// byteSig folds the bytes of s, ASCII letters lower-cased, into a 64-bit
// set. If s contains t, then byteSig(t) is a subset of byteSig(s), so a
// missing bit proves t absent without searching.
func byteSig(s string) uint64 {
	var sig uint64
	for i := 0; i < len(s); i++ {
		sig |= 1 << (lowerASCII(s[i]) & 63)
	}
	return sig
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// mayContain reports whether a string with signature sig can contain a
// needle with signature need.
func mayContain(sig, need uint64) bool { return sig&need == need }

// loc is the location of the current method, at the current line.
func (mc *methodCtx) loc() Location {
	l := Location{File: mc.class.Source, Class: mc.class.Name, SourceFile: mc.class.SourceFile, Line: mc.line}
	if mc.method != nil {
		l.Method = mc.method.Name + mc.method.Descriptor
	}
	if l.SourceFile == "" {
		l.Line = 0
	}
	return l
}

// hit builds a hit at the current method.
func (mc *methodCtx) hit(msg, evidence string) hit {
	return hit{msg: msg, loc: mc.loc(), evidence: evidence}
}

// calls reports whether the current method calls target (dotted
// "pkg.Class.method"), directly or through a subclass.
func (mc *methodCtx) calls(target string) bool {
	return mc.findCall(target) != nil
}

func (mc *methodCtx) findCall(target string) *apk.Call {
	k := splitTarget(target)
	for i := range mc.method.Calls {
		c := &mc.method.Calls[i]
		if mc.scan.resolves(c, k.class, k.name) {
			return c
		}
	}
	return nil
}

// callKey is a call target: dotted class name and method name.
type callKey struct{ class, name string }

// splitTarget splits "pkg.Class.method" at its last dot.
func splitTarget(t string) callKey {
	i := strings.LastIndexByte(t, '.')
	return callKey{t[:i], t[i+1:]}
}

// arg returns argument i of c, or an unknown value.
func arg(c *apk.Call, i int) apk.Value {
	if i < 0 || i >= len(c.Args) {
		return apk.Value{}
	}
	return c.Args[i]
}

// callText renders a call for evidence.
func callText(c *apk.Call) string {
	var b strings.Builder
	b.WriteString(c.Class)
	b.WriteByte('.')
	b.WriteString(c.Name)
	b.WriteByte('(')
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		switch a.Kind {
		case apk.ValueString:
			b.WriteString(quote(a.Str, 80))
		case apk.ValueInt:
			b.WriteString(itoa(a.Int))
		case apk.ValueBytes:
			b.WriteString("byte[")
			b.WriteString(itoa(int64(len(a.Str))))
			b.WriteString("] constant")
		case apk.ValueConcat:
			b.WriteString("<concatenated string>")
		default:
			b.WriteString("…")
		}
	}
	b.WriteByte(')')
	return b.String()
}
