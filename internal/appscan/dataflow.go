package appscan

import (
	"encoding/base64"
	"strings"

	"github.com/dfslab/dfslab/internal/apk"
)

// The constant data flow is deliberately light: it follows a value that
// reaches a sensitive call back through the fields it was stored in and
// through the parameters of the method it sits in, to the constants the
// app's code puts there. It never iterates to a fixed point; each step is
// a lookup in an index built in one pass over the code, and the depth of
// a chain is bounded, so the cost stays linear in the code size.

// maxFollow bounds the length of a chain of fields and parameters.
const maxFollow = 4

// site is a method of the app: where a value is used or written.
type site struct {
	class  *apk.Class
	method *apk.Method
}

func (s site) String() string { return s.class.Name + "." + s.method.Name }

// fieldWrite is one store into a field, with the method that makes it.
type fieldWrite struct {
	v  apk.Value
	at site
}

// fieldIndex maps "pkg.Class.field" to the stores into it the analysis
// knows a value for.
func fieldIndex(classes []apk.Class) map[string][]fieldWrite {
	out := map[string][]fieldWrite{}
	for i := range classes {
		c := &classes[i]
		for j := range c.Methods {
			m := &c.Methods[j]
			for _, w := range m.FieldWrites {
				if ws := out[w.Field]; len(ws) < 8 { // a few stores are enough to find a constant
					out[w.Field] = append(ws, fieldWrite{w.Value, site{c, m}})
				}
			}
		}
	}
	return out
}

// constant is what a followed value turned out to be.
type constant struct {
	Str   string // the text, or the bytes when Bytes is set
	Bytes bool
	// Via says how the value got to the sink ("field com.a.K.KEY",
	// "parameter 0 of com.a.C.init, from com.a.D.start"); "" when the
	// constant was at the sink already.
	Via string
}

// follow is a value being followed: v in method at, with the conversions
// the code applied on the way (outermost last) and the path so far.
type follow struct {
	v     apk.Value
	at    site
	convs []apk.Conv
	via   []string
	depth int
}

// pending is a value that leads to a parameter: its constant, if any, is
// at the call sites, which are looked up once the code pass is over.
type pending struct {
	rule  *rule
	hit   hit
	f     follow
	check func(constant) (msg string, ok bool)
}

// resolve follows f through fields. It returns the constant, or the
// parameters the value may come from (to be looked up at call sites).
func (sc *scanCtx) resolve(f follow, params *[]follow) (constant, bool) {
	if f.depth > maxFollow {
		return constant{}, false
	}
	v := f.v
	if v.Conv != apk.ConvNone {
		f.convs = append(f.convs[:len(f.convs):len(f.convs)], v.Conv)
	}
	switch v.Kind {
	case apk.ValueString:
		return applyConvs(constant{Str: v.Str}, f)
	case apk.ValueBytes:
		return applyConvs(constant{Str: v.Str, Bytes: true}, f)
	case apk.ValueField:
		for _, w := range sc.fields[v.Str] {
			next := follow{v: w.v, at: w.at, convs: f.convs, via: append(f.via[:len(f.via):len(f.via)], "field "+v.Str), depth: f.depth + 1}
			if c, ok := sc.resolve(next, params); ok {
				return c, true
			}
		}
	case apk.ValueParam:
		if params != nil && f.at.method != nil {
			*params = append(*params, f)
		}
	}
	return constant{}, false
}

// applyConvs applies the conversions met on the way, innermost first.
func applyConvs(c constant, f follow) (constant, bool) {
	for i := len(f.convs) - 1; i >= 0; i-- {
		switch f.convs[i] {
		case apk.ConvBytes:
			c.Bytes = true
		case apk.ConvBase64:
			b, err := base64.StdEncoding.DecodeString(c.Str)
			if err != nil {
				if b, err = base64.URLEncoding.DecodeString(c.Str); err != nil {
					return constant{}, false
				}
			}
			c.Str, c.Bytes = string(b), true
		}
	}
	c.Via = strings.Join(f.via, ", ")
	return c, true
}

// followArg looks for the constant behind argument v of a sensitive call
// in the current method. When v is a constant, or a field holding one,
// check decides at once; when it leads to parameters, the decision waits
// for the call sites (resolvePending).
func (mc *methodCtx) followArg(v apk.Value, h hit, check func(constant) (string, bool)) {
	switch v.Kind {
	case apk.ValueString, apk.ValueBytes, apk.ValueField, apk.ValueParam:
	default:
		return
	}
	var params []follow
	f := follow{v: v, at: site{mc.class, mc.method}}
	if c, ok := mc.scan.resolve(f, &params); ok {
		if msg, ok := check(c); ok {
			h.msg = msg
			mc.emit(h)
		}
		return
	}
	for _, p := range params {
		*mc.pending = append(*mc.pending, pending{rule: mc.rule, hit: h, f: p, check: check})
	}
}

// resolvePending looks the parameters of pending values up at their call
// sites in the app's own code, one pass over that code per step of a
// chain, and emits the hits whose constants check accepts.
func (sc *scanCtx) resolvePending(ps []pending) []hit {
	var out []hit
	for round := 0; round < maxFollow && len(ps) > 0; round++ {
		type key struct{ class, name, desc string }
		wanted := map[key][]int{}
		names := map[string]bool{}
		for i, p := range ps {
			k := key{p.f.at.class.Name, p.f.at.method.Name, p.f.at.method.Descriptor}
			wanted[k] = append(wanted[k], i)
			names[k.name] = true
		}
		done := make([]bool, len(ps))
		var next []pending
		for ci := range sc.app.Classes {
			c := &sc.app.Classes[ci]
			if sc.attr.library(c.Name) != "" {
				continue
			}
			for mi := range c.Methods {
				m := &c.Methods[mi]
				for k := range m.Calls {
					call := &m.Calls[k]
					if !names[call.Name] {
						continue
					}
					for _, i := range wanted[key{call.Class, call.Name, call.Descriptor}] {
						p := ps[i]
						if done[i] {
							continue
						}
						from := site{c, m}
						f := follow{v: arg(call, int(p.f.v.Int)), at: from, convs: p.f.convs, depth: p.f.depth + 1,
							via: append(p.f.via[:len(p.f.via):len(p.f.via)], "parameter "+itoa(p.f.v.Int)+" of "+p.f.at.String()+", from "+from.String())}
						// The conversion of the parameter itself was
						// recorded when it was met; the argument brings its own.
						var params []follow
						if cst, ok := sc.resolve(f, &params); ok {
							if msg, ok := p.check(cst); ok {
								h := p.hit
								h.msg, h.rule = msg, p.rule
								out = append(out, h)
								done[i] = true
							}
							continue
						}
						for _, q := range params {
							next = append(next, pending{rule: p.rule, hit: p.hit, f: q, check: p.check})
						}
					}
				}
			}
		}
		// A sink reported once is not followed further up.
		ps = next[:0]
		for _, p := range next {
			if !slicesContainsHit(out, p) {
				ps = append(ps, p)
			}
		}
		if len(ps) > 256 {
			ps = ps[:256] // a chain fanning out is not a constant worth the time
		}
	}
	return out
}

func slicesContainsHit(hs []hit, p pending) bool {
	for _, h := range hs {
		if h.rule == p.rule && h.loc == p.hit.loc {
			return true
		}
	}
	return false
}

// viaText renders how a constant reached the sink, for a message.
func viaText(c constant) string {
	if c.Via == "" {
		return ""
	}
	return " (through " + c.Via + ")"
}
