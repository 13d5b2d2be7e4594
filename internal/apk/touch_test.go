package apk_test

import (
	"archive/zip"
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/dfslab/dfslab/internal/apk"
	"github.com/dfslab/dfslab/internal/apk/apktest"
	"github.com/dfslab/dfslab/internal/apk/axml"
)

func layout(kv ...any) *axml.Element {
	return apktest.El("LinearLayout").Append(apktest.El("Button", kv...))
}

func TestTouchFilters(t *testing.T) {
	cases := []struct {
		name string
		app  apktest.App
		want []apk.ResourceUse
	}{
		{"layout attribute", apktest.App{Layouts: map[string]*axml.Element{
			"pay":  layout("filterTouchesWhenObscured", true),
			"home": layout("text", "Home"),
		}}, []apk.ResourceUse{{File: "res/layout/pay.xml", Name: "layout/pay"}}},
		{"set to false", apktest.App{Layouts: map[string]*axml.Element{"pay": layout("filterTouchesWhenObscured", false)}}, nil},
		{"nested view", apktest.App{Layouts: map[string]*axml.Element{
			"pin": apktest.El("FrameLayout").Append(layout("filterTouchesWhenObscured", "true")),
		}}, []apk.ResourceUse{{File: "res/layout/pin.xml", Name: "layout/pin"}}},
		{"theme", apktest.App{Styles: map[string][]axml.Attr{
			"Theme.Pay":  {apktest.A("filterTouchesWhenObscured", axml.Bool(true))},
			"Theme.Main": {apktest.A("label", axml.Str("x"))},
		}}, []apk.ResourceUse{{File: "resources.arsc", Name: "style/Theme.Pay"}}},
		{"other attributes only", apktest.App{
			Layouts: map[string]*axml.Element{"pay": layout("text", "Pay")},
			Styles:  map[string][]axml.Attr{"Theme.Pay": {apktest.A("label", axml.Str("x"))}},
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, err := c.app.Build()
			if err != nil {
				t.Fatal(err)
			}
			got := openBytes(t, data).TouchFilters
			if !slices.Equal(got, c.want) {
				t.Errorf("APK: TouchFilters = %v, want %v", got, c.want)
			}
			// The bundle holds the same resources in aapt2's protobuf form.
			aab, err := c.app.BuildAAB()
			if err != nil {
				t.Fatal(err)
			}
			var wantAAB []apk.ResourceUse
			for _, u := range c.want {
				u.File = "base/" + u.File
				if u.File == "base/resources.arsc" {
					u.File = "base/resources.pb"
				}
				wantAAB = append(wantAAB, u)
			}
			if got := openBytes(t, aab).TouchFilters; !slices.Equal(got, wantAAB) {
				t.Errorf("AAB: TouchFilters = %v, want %v", got, wantAAB)
			}
		})
	}
}

// TestTouchFiltersSplit finds a layout in a split APK of a set, through the
// split's own resource table.
func TestTouchFiltersSplit(t *testing.T) {
	base, err := (&apktest.App{}).Build()
	if err != nil {
		t.Fatal(err)
	}
	split, err := (&apktest.App{Layouts: map[string]*axml.Element{"pay": layout("filterTouchesWhenObscured", true)}}).Build()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{"base.apk", base}, {"split_pay.apk", split}} {
		w, _ := zw.Create(f.name)
		w.Write(f.data)
	}
	zw.Close()
	want := []apk.ResourceUse{{File: "split_pay.apk!/res/layout/pay.xml", Name: "layout/pay"}}
	if got := openBytes(t, buf.Bytes()).TouchFilters; !slices.Equal(got, want) {
		t.Errorf("TouchFilters = %v, want %v", got, want)
	}
}

func openBytes(t *testing.T, data []byte) *apk.App {
	t.Helper()
	app, err := apk.OpenReader(context.Background(), bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(app.Warnings) > 0 {
		t.Errorf("warnings: %v", app.Warnings)
	}
	return app
}
