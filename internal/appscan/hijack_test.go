package appscan

import (
	"slices"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/apk/apktest"
	"github.com/dfslab/dfslab/internal/apk/axml"
)

// launcher is the app's home-screen entry point with extra attributes.
func launcher(kind, name string, kv ...any) *axml.Element {
	return apktest.Component(kind, name, append([]any{"exported", true}, kv...),
		apktest.Filter(nil, "action:android.intent.action.MAIN", "category:android.intent.category.LAUNCHER"))
}

// TestStrandHogg2 covers DFS-MAN-037: activities any app can start, on an
// app that installs on Android 9 or older, without a launch mode that keeps
// other apps' activities out of their task. One finding per app, at the
// launcher when it is exposed, else at the application element.
func TestStrandHogg2(t *testing.T) {
	const id = "DFS-MAN-037"
	minSDK := func(n int, cs ...*axml.Element) *app { return &app{MinSDK: n, Components: cs} }
	const main, appEl = "activity[com.example.app.Main]", "application"
	cases := []struct {
		name    string
		app     *app
		element string   // where the finding is, "" for none
		listed  []string // what the message names
	}{
		{"standard launcher on minSdk 21", minSDK(21, launcher("activity", ".Main")), main, []string{"com.example.app.Main (launcher)"}},
		{"no uses-sdk (minSdk 1)", minSDK(-1, launcher("activity", ".Main")), main, []string{"Main"}},
		{"singleTop launcher", minSDK(26, launcher("activity", ".Main", "launchMode", 1)), main, []string{"Main"}},
		{"empty taskAffinity is no defence", minSDK(26, launcher("activity", ".Main", "taskAffinity", "")), main, []string{"Main"}},
		{"singleTask launcher", minSDK(26, launcher("activity", ".Main", "launchMode", 2)), "", nil},
		{"singleInstance launcher", minSDK(26, launcher("activity", ".Main", "launchMode", 3)), "", nil},
		{"minSdk 29 (Android 10)", minSDK(29, launcher("activity", ".Main")), "", nil},
		{"exported activity", minSDK(23, comp("activity", ".Pay", "exported", true)), appEl, []string{"com.example.app.Pay"}},
		{"implicitly exported activity", with(minSDK(23, apktest.Component("activity", ".Share", nil, apktest.Filter(nil, "action:android.intent.action.SEND"))),
			func(a *app) { a.TargetSDK = 30 }), appEl, []string{"Share"}},
		{"activity guarded by a permission", minSDK(23, comp("activity", ".Pay", "exported", true, "permission", "com.example.app.PAY")), "", nil},
		{"private activity", minSDK(23, comp("activity", ".Pay", "exported", false)), "", nil},
		{"disabled activity", minSDK(23, comp("activity", ".Pay", "exported", true, "enabled", false)), "", nil},
		{"alias of a singleTask activity", minSDK(24, comp("activity", ".Main", "launchMode", 2),
			launcher("activity-alias", ".Icon", "targetActivity", ".Main")), "", nil},
		{"alias of a standard activity", minSDK(24, comp("activity", ".Main"),
			launcher("activity-alias", ".Icon", "targetActivity", ".Main")), "activity-alias[com.example.app.Icon]", []string{"Icon (launcher)"}},
		{"launcher and another screen", minSDK(24, launcher("activity", ".Main"), comp("activity", ".Pay", "exported", true, "launchMode", 1)),
			main, []string{"Main (launcher)", "Pay"}},
		{"defended launcher, exposed screen", minSDK(24, launcher("activity", ".Main", "launchMode", 2), comp("activity", ".Pay", "exported", true)),
			appEl, []string{"1 activity any app", "Pay"}},
		{"library activity", minSDK(24, comp("activity", "androidx.test.core.app.InstrumentationActivityInvoker$EmptyActivity", "exported", true)),
			appEl, []string{"(from AndroidX Test)", "EmptyActivity"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, aab := range []bool{false, true} {
				fs := scanSpec(t, c.app, id, aab).Findings
				if c.element == "" {
					if len(fs) > 0 {
						t.Errorf("bundle=%v: reported %v", aab, fs)
					}
					continue
				}
				if len(fs) != 1 || fs[0].Location.Element != c.element {
					t.Fatalf("bundle=%v: findings %v, want one at %s", aab, fs, c.element)
				}
				f := fs[0]
				if !strings.HasPrefix(f.Evidence, "minSdkVersion=") {
					t.Errorf("evidence %q", f.Evidence)
				}
				for _, a := range c.listed {
					if !strings.Contains(f.Message, a) {
						t.Errorf("bundle=%v: message %q does not name %s", aab, f.Message, a)
					}
				}
				// Library activities are the library's finding.
				if lib := strings.Contains(f.Message, "(from "); f.InLibrary != lib {
					t.Errorf("bundle=%v: in_library = %v for %q", aab, f.InLibrary, f.Message)
				}
			}
		})
	}
}

// TestStrandHogg2Libraries: the app's own activities and a library's are
// reported apart, the library's attributed to it and out of the score.
func TestStrandHogg2Libraries(t *testing.T) {
	a := &app{MinSDK: 24, Components: []*axml.Element{launcher("activity", ".Main"),
		comp("activity", "com.facebook.CustomTabActivity", "exported", true)}}
	res := scanSpec(t, a, "DFS-MAN-037", false)
	var own, lib []Finding
	for _, f := range res.Findings {
		if f.InLibrary {
			lib = append(lib, f)
		} else {
			own = append(own, f)
		}
	}
	if len(own) != 1 || strings.Contains(own[0].Message, "facebook") || own[0].Location.Element != "activity[com.example.app.Main]" {
		t.Errorf("own findings %v", own)
	}
	if len(lib) != 1 || lib[0].Library != "Facebook SDK" || !strings.Contains(lib[0].Message, "com.facebook.CustomTabActivity") {
		t.Errorf("library findings %v", lib)
	}
	if res.Score != score(own, false) {
		t.Errorf("score %d counts the library finding", res.Score)
	}
}

// TestTapjackingResources covers DFS-RES-014 beyond code: the attribute in
// a compiled layout or in a style or theme of the app's own is the control
// too, while the same attribute in a library's layout is not.
func TestTapjackingResources(t *testing.T) {
	const id = "DFS-RES-014"
	button := func(kv ...any) *axml.Element { return apktest.El("LinearLayout").Append(apktest.El("Button", kv...)) }
	// Every app has code: without it the scanner cannot tell a missing
	// control from an unreadable DEX.
	withCode := func(a *app) *app { a.Dex = str("x").Dex; return a }
	obscured := apktest.A("filterTouchesWhenObscured", axml.Bool(true))
	cases := []struct {
		name     string
		app      *app
		missing  bool   // the missing-control finding is reported
		evidence string // the control's evidence starts with this
	}{
		{"no protection", withCode(&app{Layouts: map[string]*axml.Element{"pay": button("text", "Pay")}}), true, ""},
		{"layout attribute", withCode(&app{Layouts: map[string]*axml.Element{
			"pay": button("filterTouchesWhenObscured", true), "home": button("text", "Home"),
		}}), false, "res/layout/pay.xml layout/pay"},
		{"layout attribute false", withCode(&app{Layouts: map[string]*axml.Element{"pay": button("filterTouchesWhenObscured", false)}}), true, ""},
		{"theme of the app", withCode(&app{Styles: map[string][]axml.Attr{"Theme.Pay": {obscured}}}), false, "resources.arsc style/Theme.Pay"},
		{"library layout", withCode(&app{Layouts: map[string]*axml.Element{"abc_alert_dialog": button("filterTouchesWhenObscured", true)}}), true, ""},
		{"library style", withCode(&app{Styles: map[string][]axml.Attr{"Widget.AppCompat.Button": {obscured}}}), true, ""},
		{"code", virtual("Landroid/view/View;->setFilterTouchesWhenObscured(Z)V", i(1)), false, "classes.dex com.example.app.Worker"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, aab := range []bool{false, true} {
				res := scanSpec(t, c.app, id, aab)
				missing := slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.RuleID == id })
				if missing != c.missing {
					t.Errorf("bundle=%v: missing-control finding = %v, want %v; controls %v", aab, missing, c.missing, res.Controls)
				}
				if c.evidence == "" {
					continue
				}
				want := c.evidence
				if aab {
					want = strings.NewReplacer("res/", "base/res/", "resources.arsc", "base/resources.pb", "classes.dex", "base/classes.dex").Replace(want)
				}
				for _, cs := range res.Controls {
					if cs.RuleID == id && !strings.HasPrefix(cs.Evidence, want) {
						t.Errorf("bundle=%v: evidence %q, want it to start with %q", aab, cs.Evidence, want)
					}
				}
			}
		})
	}
}
