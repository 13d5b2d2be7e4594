package apk_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/apk"
	"github.com/dfslab/dfslab/internal/apk/apktest"
	"github.com/dfslab/dfslab/internal/dex"
	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// TestSharedClassDataIsBudgeted points 3,000 class definitions of a DEX
// at the class data of one class whose method makes 4,000 calls: read
// naively, loading the app would summarise 12 million calls (quadratic in
// the file size). The file's work budget stops the analysis with a
// warning after work proportional to the file.
func TestSharedClassDataIsBudgeted(t *testing.T) {
	b := dexbuild.New()
	b.Class("Lbig/Big;").Method("m", "()V").CallStatic("Lx/Y;->f(Ljava/lang/String;)V", dexbuild.Str("s")).Repeat(4000)
	const classes = 3000
	for i := range classes {
		b.Class("Lsmall/C" + strconv.Itoa(i) + ";")
	}
	d := b.MustBytes()
	f, err := dex.Parse(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	// class_def_item: class_data_off is at byte 24 of each 32-byte entry.
	le, defs := binary.LittleEndian, f.Header.ClassDefs.Off
	var big uint32
	for i, c := range f.Classes() {
		if c.Desc == "Lbig/Big;" {
			big = le.Uint32(d[defs+32*uint32(i)+24:])
		}
	}
	for i := range f.Classes() {
		le.PutUint32(d[defs+32*uint32(i)+24:], big)
	}
	data, err := (&apktest.App{Files: map[string][]byte{"classes.dex": d}}).Build()
	if err != nil {
		t.Fatal(err)
	}
	app, err := apk.OpenReader(context.Background(), bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(app.Warnings, "\n"), "work budget") {
		t.Errorf("no warning of the exhausted work budget: %q", app.Warnings)
	}
	calls := 0
	for _, c := range app.Classes {
		for _, m := range c.Methods {
			calls += len(m.Calls)
		}
	}
	// Every byte of the file analysed about twice: a few hundred methods'
	// worth of calls at most, against 3,001 × 4,000 without the budget.
	if limit := 2 * len(d); calls == 0 || calls > limit {
		t.Errorf("%d calls summarised, want between 1 and %d", calls, limit)
	}
}
