package dex_test

import (
	"testing"

	"github.com/dfslab/dfslab/internal/dex"
	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// TestLines builds a method with a line table and reads it back: the line
// of each call is the line the builder set before it.
func TestLines(t *testing.T) {
	b := dexbuild.New()
	m := b.Class("Lcom/app/Api;").Source("Api.kt").Method("login", "(Ljava/lang/String;I)V")
	m.Line(40).CallStatic("Ljava/lang/System;->gc()V")
	m.Line(42).CallStatic("Ljava/lang/System;->gc()V")
	m.Line(7).CallStatic("Ljava/lang/System;->gc()V") // inlined code jumps back
	b.Class("Lcom/app/Bare;").Method("run", "()V").CallStatic("Ljava/lang/System;->gc()V")
	f, err := dex.Parse(b.MustBytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]uint32{}
	for i := range f.Classes() {
		c := &f.Classes()[i]
		cd, err := f.ClassData(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, em := range append(cd.DirectMethods, cd.VirtualMethods...) {
			code, err := f.Code(em.CodeOff)
			if err != nil {
				t.Fatal(err)
			}
			table, err := f.Lines(&code, nil)
			if err != nil {
				t.Fatalf("%s: %v", c.Desc, err)
			}
			var a dex.Analyzer
			var facts dex.Facts
			if err := a.AnalyzeMethod(f, em.Method, &code, &facts); err != nil {
				t.Fatal(err)
			}
			for _, cs := range facts.Calls {
				got[c.Desc] = append(got[c.Desc], dex.LineAt(table, cs.PC))
			}
		}
		if c.Desc == "Lcom/app/Api;" && c.SourceFile != "Api.kt" {
			t.Errorf("source file %q", c.SourceFile)
		}
	}
	if g := got["Lcom/app/Api;"]; len(g) != 3 || g[0] != 40 || g[1] != 42 || g[2] != 7 {
		t.Errorf("lines of the calls %v, want [40 42 7]", g)
	}
	if g := got["Lcom/app/Bare;"]; len(g) != 1 || g[0] != 0 {
		t.Errorf("without debug info: lines %v, want [0]", g)
	}
}
