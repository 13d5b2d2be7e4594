package appscan

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/testenv"
)

// realApp is one production app of the npm corpus (.ci/run fetches it into
// DFSLAB_REALAPPS_DIR) with the findings a scan must report in the app's own
// code, and the findings it must not report there.
type realApp struct {
	path string // relative to DFSLAB_REALAPPS_DIR
	pkg  string
	// want lists rule IDs, optionally "@" and a substring of the location,
	// that must be reported in the app's own code.
	want []string
	// absent lists the same for findings that must not be reported in the
	// app's own code (they may appear as library findings).
	absent []string
	// inLibrary lists the same for findings that must be reported, and
	// attributed to the named library ("ID@location=Library").
	inLibrary []string
}

func realApps() []realApp {
	return []realApp{
		{
			path: "io.appium.settings/package/apks/settings_apk-debug.apk",
			pkg:  "io.appium.settings",
			want: []string{"DFS-MAN-001", "DFS-SIGN-002", "DFS-MAN-022", "DFS-MAN-030@NLService",
				"DFS-CODE-025@io.appium.settings.receivers.SmsReader", "DFS-MAN-007@io.appium.settings.LocationService",
				"DFS-MAN-008@io.appium.settings.receivers.SmsReader", "DFS-CODE-011@io.appium.settings.Settings",
				// Its eight layouts, styles and code never filter
				// obscured touches.
				"DFS-RES-014"},
			absent: []string{
				// minSdk 26, but the only exported activity is the
				// singleInstance launcher.
				"DFS-MAN-037",
				// Play services' image manager and androidx's telephony
				// compat helpers are library code.
				"DFS-CODE-018", "DFS-CODE-027", "DFS-CODE-014", "DFS-CODE-028",
				// Logging: only messages built at run time.
				"DFS-CODE-012@androidx.", "DFS-CODE-012@com.google.",
			},
			inLibrary: []string{"DFS-CODE-014@com.google.android.gms.dynamite=Google Play services",
				"DFS-CODE-027@androidx.core.telephony=AndroidX"},
		},
		{
			path: "appium-uiautomator2-server/package/apks/appium-uiautomator2-server-v10.6.6.apk",
			pkg:  "io.appium.uiautomator2.server",
			want: []string{"DFS-MAN-001", "DFS-MAN-008@PowerConnectionReceiver", "DFS-CODE-013@ClipboardHelper",
				// No layouts at all, and no touch filtering in code.
				"DFS-RES-014"},
			absent: []string{
				// The exported standard activities open to StrandHogg
				// 2.0 (minSdk 26) are androidx.test's.
				"DFS-MAN-037",
				// Netty's PEM header constants, its MD5/SHA-1 websocket
				// handshake, its keytool and sysctl calls: library code.
				"DFS-SECRET-001", "DFS-CRYPTO-007", "DFS-CRYPTO-008", "DFS-CODE-015",
				// Xerces feature names are not cleartext endpoints.
				"DFS-CODE-020",
				// androidx.test's bootstrap activities come from its manifest.
				"DFS-MAN-006", "DFS-CODE-014", "DFS-CODE-017", "DFS-CODE-028",
				// registerReceiver(null, …) reads the battery state.
				"DFS-CODE-019@BatteryHelper",
			},
			inLibrary: []string{"DFS-SECRET-001@io.netty.handler.ssl.OpenSsl=Netty",
				"DFS-MAN-006@InstrumentationActivityInvoker$EmptyActivity=AndroidX Test",
				"DFS-MAN-037@application=AndroidX Test",
				"DFS-CRYPTO-007@io.netty=Netty"},
		},
		{
			path:      "appium-uiautomator2-server/package/apks/appium-uiautomator2-server-debug-androidTest.apk",
			pkg:       "io.appium.uiautomator2.server.test",
			want:      []string{"DFS-MAN-001"},
			absent:    []string{"DFS-CRYPTO-007", "DFS-CRYPTO-008"},
			inLibrary: []string{"DFS-CRYPTO-007@okio=Okio"},
		},
	}
}

// matches reports whether f matches spec "ID" or "ID@location substring".
func matches(f Finding, spec string) bool {
	id, where, _ := strings.Cut(spec, "@")
	return f.RuleID == id && strings.Contains(f.Location.String(), where)
}

// TestRealApps scans the public real-app corpus and checks the findings
// expected in each app's own code, the absence of the false positives the
// review of real apps found, and the attribution of library findings. It
// skips outside CI when the corpus is missing and fails in CI.
func TestRealApps(t *testing.T) {
	dir := testenv.Dir(t, "DFSLAB_REALAPPS_DIR")
	s := NewScanner(Options{})
	for _, ra := range realApps() {
		t.Run(filepath.Base(ra.path), func(t *testing.T) {
			res, err := s.ScanFile(context.Background(), filepath.Join(dir, filepath.FromSlash(ra.path)))
			if err != nil {
				t.Fatal(err)
			}
			if res.App.Package != ra.pkg {
				t.Fatalf("package %q, want %q", res.App.Package, ra.pkg)
			}
			has := func(spec string, lib bool) []Finding {
				var out []Finding
				for _, f := range res.Findings {
					if f.InLibrary == lib && matches(f, spec) {
						out = append(out, f)
					}
				}
				return out
			}
			for _, w := range ra.want {
				if len(has(w, false)) == 0 {
					t.Errorf("%s not reported in the app's own code", w)
				}
			}
			for _, a := range ra.absent {
				for _, f := range has(a, false) {
					t.Errorf("%s reported in the app's own code: %s %s", a, f.Location, f.Evidence)
				}
			}
			for _, l := range ra.inLibrary {
				spec, lib, _ := strings.Cut(l, "=")
				fs := has(spec, true)
				if len(fs) == 0 {
					t.Errorf("%s not reported as a library finding", spec)
				}
				for _, f := range fs {
					if f.Library != lib {
						t.Errorf("%s at %s attributed to %q, want %q", f.RuleID, f.Location, f.Library, lib)
					}
				}
			}
			// One weakness, one finding: no manifest element carries both
			// an exported-component finding and DFS-MAN-010.
			exported := map[string]bool{}
			for _, f := range res.Findings {
				switch f.RuleID {
				case "DFS-MAN-006", "DFS-MAN-007", "DFS-MAN-008", "DFS-MAN-009":
					exported[f.Location.Element] = true
				}
			}
			for _, f := range res.Findings {
				if f.RuleID == "DFS-MAN-010" && exported[f.Location.Element] {
					t.Errorf("%s reported by DFS-MAN-010 and an exported-component rule", f.Location.Element)
				}
			}
			// Library findings never count in the default score.
			own := res.Findings[:0:0]
			for _, f := range res.Findings {
				if !f.InLibrary {
					own = append(own, f)
				}
			}
			if res.Score != score(own, false) {
				t.Errorf("score %d, want %d from the app's own findings", res.Score, score(own, false))
			}
		})
	}
}
