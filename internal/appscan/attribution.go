package appscan

import (
	"path"
	"strings"

	"github.com/dfslab/dfslab/internal/apk"
)

// Attribution: every class of an app is the app's own code, code of a
// known library, or unknown. Findings in library code are reported apart
// and do not count in the score or for --fail-on by default: an analyst
// cannot fix Netty's PEM constants, and a CI gate that fails on them stops
// being used. Unknown code (obfuscated, or packages the list does not
// know) is treated as the app's own, so that attribution can only hide a
// finding when it is sure.

// knownLibraries maps package prefixes to the library they belong to. The
// longest matching prefix wins against both this list and the app's own
// packages, so "com.facebook.react" is React Native, not the Facebook SDK,
// and an app whose package is "com.squareup.cash" keeps its own code.
var knownLibraries = map[string]string{
	"androidx":                          "AndroidX",
	"androidx.test":                     "AndroidX Test",
	"android.support":                   "Android Support Library",
	"android.arch":                      "Android Architecture Components",
	"kotlin":                            "Kotlin standard library",
	"kotlinx":                           "Kotlin extensions (kotlinx)",
	"com.google.android.material":       "Material Components",
	"com.google.android.gms":            "Google Play services",
	"com.google.firebase":               "Firebase",
	"com.google.android.play":           "Google Play Core",
	"com.google.android.datatransport":  "Google Data Transport",
	"com.google.android.exoplayer2":     "ExoPlayer",
	"com.google.android.libraries":      "Google libraries",
	"com.google.android.apps.common":    "Google libraries",
	"com.google.mlkit":                  "ML Kit",
	"com.google.common":                 "Guava",
	"com.google.thirdparty":             "Guava",
	"com.google.gson":                   "Gson",
	"com.google.protobuf":               "Protocol Buffers",
	"com.google.errorprone":             "Error Prone annotations",
	"com.google.auto":                   "AutoValue",
	"com.google.crypto.tink":            "Tink",
	"com.google.zxing":                  "ZXing",
	"com.google.j2objc":                 "J2ObjC annotations",
	"com.android.billingclient":         "Google Play Billing",
	"com.android.installreferrer":       "Play Install Referrer",
	"com.android.volley":                "Volley",
	"com.android.tools":                 "Android build tools",
	"okhttp3":                           "OkHttp",
	"okio":                              "Okio",
	"retrofit2":                         "Retrofit",
	"com.squareup":                      "Square libraries",
	"io.netty":                          "Netty",
	"org.bouncycastle":                  "Bouncy Castle",
	"com.ibm.icu":                       "ICU4J",
	"org.spongycastle":                  "Spongy Castle",
	"org.conscrypt":                     "Conscrypt",
	"com.facebook":                      "Facebook SDK",
	"com.facebook.react":                "React Native",
	"com.facebook.hermes":               "React Native",
	"com.facebook.soloader":             "SoLoader",
	"com.facebook.fresco":               "Fresco",
	"com.facebook.imagepipeline":        "Fresco",
	"com.facebook.drawee":               "Fresco",
	"io.reactivex":                      "RxJava",
	"rx":                                "RxJava",
	"dagger":                            "Dagger",
	"javax.inject":                      "javax.inject",
	"javax.annotation":                  "JSR-305 annotations",
	"org.jetbrains":                     "JetBrains annotations",
	"org.intellij":                      "JetBrains annotations",
	"org.checkerframework":              "Checker Framework annotations",
	"com.fasterxml.jackson":             "Jackson",
	"org.apache":                        "Apache libraries",
	"org.junit":                         "JUnit",
	"junit":                             "JUnit",
	"org.hamcrest":                      "Hamcrest",
	"org.mockito":                       "Mockito",
	"net.bytebuddy":                     "Byte Buddy",
	"org.objenesis":                     "Objenesis",
	"org.slf4j":                         "SLF4J",
	"ch.qos.logback":                    "Logback",
	"timber.log":                        "Timber",
	"com.bumptech.glide":                "Glide",
	"com.airbnb.lottie":                 "Lottie",
	"coil":                              "Coil",
	"io.grpc":                           "gRPC",
	"io.ktor":                           "Ktor",
	"org.koin":                          "Koin",
	"org.greenrobot":                    "EventBus",
	"com.jakewharton":                   "Jake Wharton's libraries",
	"org.chromium":                      "Chromium",
	"org.joda":                          "Joda-Time",
	"org.threeten":                      "ThreeTen",
	"org.jsoup":                         "jsoup",
	"org.yaml":                          "SnakeYAML",
	"org.xmlpull":                       "XmlPull",
	"org.kxml2":                         "kXML",
	"org.objectweb.asm":                 "ASM",
	"org.eclipse":                       "Eclipse libraries",
	"com.nimbusds":                      "Nimbus JOSE",
	"io.jsonwebtoken":                   "JJWT",
	"com.amazonaws":                     "AWS SDK",
	"org.tensorflow":                    "TensorFlow Lite",
	"com.journeyapps":                   "ZXing Android Embedded",
	"io.flutter":                        "Flutter",
	"org.apache.cordova":                "Apache Cordova",
	"mono":                              "Xamarin",
	"xamarin":                           "Xamarin",
	"net.sqlcipher":                     "SQLCipher",
	"net.zetetic":                       "SQLCipher",
	"com.scottyab.rootbeer":             "RootBeer",
	"j$":                                "Java library desugaring",
	"io.sentry":                         "Sentry",
	"com.crashlytics":                   "Crashlytics",
	"io.fabric":                         "Fabric",
	"com.bugsnag":                       "Bugsnag",
	"org.acra":                          "ACRA",
	"com.instabug":                      "Instabug",
	"com.appsflyer":                     "AppsFlyer",
	"com.adjust.sdk":                    "Adjust",
	"io.branch":                         "Branch",
	"com.mixpanel":                      "Mixpanel",
	"com.amplitude":                     "Amplitude",
	"com.segment.analytics":             "Segment",
	"com.flurry":                        "Flurry",
	"com.clevertap":                     "CleverTap",
	"com.moengage":                      "MoEngage",
	"com.onesignal":                     "OneSignal",
	"com.microsoft.appcenter":           "Microsoft App Center",
	"com.huawei.hms":                    "Huawei HMS",
	"com.huawei.agconnect":              "Huawei AppGallery Connect",
	"com.unity3d":                       "Unity",
	"com.applovin":                      "AppLovin",
	"com.ironsource":                    "IronSource",
	"com.vungle":                        "Vungle",
	"com.inmobi":                        "InMobi",
	"com.chartboost":                    "Chartboost",
	"com.mbridge":                       "Mintegral",
	"com.bytedance.sdk":                 "Pangle",
	"com.stripe.android":                "Stripe",
	"com.paypal":                        "PayPal",
	"com.braintreepayments":             "Braintree",
	"com.flutterwave":                   "Flutterwave",
	"co.paystack":                       "Paystack",
	"com.razorpay":                      "Razorpay",
	"com.twitter.sdk":                   "Twitter Kit",
	"com.datatheorem.android.trustkit":  "TrustKit",
	"com.google.android.recaptcha":      "reCAPTCHA",
	"com.google.android.odml":           "Google on-device ML",
	"com.google.android.gms.internal":   "Google Play services",
	"com.google.android.apps.gsa":       "Google libraries",
	"com.google.android.instantapps":    "Google Play Instant",
	"com.google.android.ump":            "Google User Messaging Platform",
	"com.google.ads":                    "Google Mobile Ads",
	"com.google.android.youtube.player": "YouTube Player API",
}

// nativeLibraries maps the file name prefix of bundled native libraries to
// the library that ships them.
var nativeLibraries = []struct{ prefix, name string }{
	{"libflutter.so", "Flutter"},
	{"libreactnativejni", "React Native"},
	{"libhermes", "React Native"},
	{"libjsc", "React Native"},
	{"libyoga", "React Native"},
	{"libfbjni", "React Native"},
	{"libfolly", "React Native"},
	{"libsqlcipher", "SQLCipher"},
	{"libconscrypt", "Conscrypt"},
	{"libnetty", "Netty"},
	{"libjnidispatch", "JNA"},
	{"libc++_shared", "Android NDK C++ runtime"},
	{"libtensorflowlite", "TensorFlow Lite"},
	{"libbarhopper", "ML Kit"},
	{"libimagepipeline", "Fresco"},
	{"libnative-imagetranscoder", "Fresco"},
	{"libmonosgen", "Xamarin"},
	{"libmonodroid", "Xamarin"},
	{"libsentry", "Sentry"},
	{"libcrashlytics", "Crashlytics"},
	{"libpl_droidsonroids_gif", "android-gif-drawable"},
	{"libmmkv", "MMKV"},
	{"libtoolChecker", "RootBeer"},
	{"libjingle_peerconnection", "WebRTC"},
	{"libopencv", "OpenCV"},
	{"libavcodec", "FFmpeg"},
	{"libavformat", "FFmpeg"},
	{"libavutil", "FFmpeg"},
	{"libswscale", "FFmpeg"},
	{"libswresample", "FFmpeg"},
}

// attribution is the result of attributing an app's classes.
type attribution struct {
	// byPackage maps a package (dotted, "" for the default package) to
	// its library, "" for the app's own or unknown code.
	byPackage map[string]string
}

// packageOf returns the package of a dotted class name.
func packageOf(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		return class[:i]
	}
	return ""
}

// knownLibrary returns the library of pkg and the length of the matching
// prefix, or "" and 0.
func knownLibrary(pkg string) (string, int) {
	for p := pkg; p != ""; {
		if name, ok := knownLibraries[p]; ok {
			return name, len(p)
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return "", 0
}

// under reports whether pkg is root or a sub-package of it.
func under(pkg, root string) bool {
	return pkg == root || strings.HasPrefix(pkg, root) && len(pkg) > len(root) && pkg[len(root)] == '.'
}

// shortPackage reports whether every segment of pkg is at most two
// characters: the shape of packages renamed by R8 or ProGuard.
func shortPackage(pkg string) bool {
	for seg := range strings.SplitSeq(pkg, ".") {
		if len(seg) > 2 {
			return false
		}
	}
	return true
}

// attribute works out, package by package, whose code an app holds. The
// app's roots are its manifest package and the packages of its declared
// components and application class that no known library claims. Obfuscated
// packages (short names) whose classes mostly extend or implement types of
// one library are that library's, repackaged by R8.
func attribute(app *apk.App, man *apk.Manifest) *attribution {
	at := &attribution{byPackage: map[string]string{}}
	var roots []string
	addRoot := func(pkg string) {
		if pkg == "" {
			return
		}
		if _, n := knownLibrary(pkg); n > 0 && pkg != man.Package {
			return
		}
		roots = append(roots, pkg)
	}
	addRoot(man.Package)
	addRoot(packageOf(man.Application.Name))
	for _, c := range man.Application.Components {
		addRoot(packageOf(c.Name))
	}
	rootLen := func(pkg string) int {
		n := 0
		for _, r := range roots {
			if len(r) > n && under(pkg, r) {
				n = len(r)
			}
		}
		return n
	}
	type vote struct {
		classes int
		lib     map[string]int
	}
	var short map[string]*vote
	for i := range app.Classes {
		pkg := packageOf(app.Classes[i].Name)
		if _, done := at.byPackage[pkg]; done {
			continue
		}
		lib, n := knownLibrary(pkg)
		if n > 0 && n > rootLen(pkg) {
			at.byPackage[pkg] = lib
			continue
		}
		at.byPackage[pkg] = ""
		if n == 0 && rootLen(pkg) == 0 && shortPackage(pkg) {
			if short == nil {
				short = map[string]*vote{}
			}
			short[pkg] = &vote{lib: map[string]int{}}
		}
	}
	if len(short) == 0 {
		return at
	}
	// One pass over the classes of obfuscated packages: which library do
	// their supertypes belong to?
	for i := range app.Classes {
		c := &app.Classes[i]
		v := short[packageOf(c.Name)]
		if v == nil {
			continue
		}
		v.classes++
		seen := ""
		for _, s := range append([]string{c.Super}, c.Interfaces...) {
			if lib := at.library(s); lib != "" && lib != seen {
				v.lib[lib]++
				seen = lib
				break
			}
		}
	}
	for pkg, v := range short {
		for lib, n := range v.lib {
			if 2*n > v.classes {
				at.byPackage[pkg] = lib
			}
		}
	}
	return at
}

// library returns the library a class belongs to, "" for the app's own
// or unknown code. Classes outside the app (framework supertypes) are
// looked up by name alone.
func (at *attribution) library(class string) string {
	if class == "" {
		return ""
	}
	pkg := packageOf(class)
	if lib, ok := at.byPackage[pkg]; ok {
		return lib
	}
	lib, _ := knownLibrary(pkg)
	return lib
}

// nativeLibrary returns the library that ships the native library at p
// (lib/<abi>/<name>.so), or "".
func nativeLibrary(p string) string {
	base := path.Base(p)
	for _, l := range nativeLibraries {
		if strings.HasPrefix(base, l.prefix) {
			return l.name
		}
	}
	return ""
}

// libraryResources are the name prefixes of the layouts and styles that
// libraries merge into an app's resources ("layout/abc_…" from AppCompat,
// "style/Theme.MaterialComponents…"). Resource names carry no package, but
// aapt keeps each library's naming convention unless a shrinker collapses
// the names, in which case the resources count as the app's own.
var libraryResources = []struct{ prefix, name string }{
	{"layout/abc_", "AndroidX"}, {"layout/notification_", "AndroidX"}, {"layout/select_dialog_", "AndroidX"},
	{"layout/support_simple_spinner", "AndroidX"}, {"layout/browser_actions_", "AndroidX"}, {"layout/custom_dialog", "AndroidX"},
	{"layout/preference", "AndroidX"}, {"layout/image_frame", "AndroidX"}, {"layout/ime_", "AndroidX"},
	{"layout/expand_button", "AndroidX"}, {"layout/lb_", "AndroidX"}, {"layout/leanback_", "AndroidX"},
	{"layout/mtrl_", "Material Components"}, {"layout/material_", "Material Components"}, {"layout/design_", "Material Components"},
	{"layout/m3_", "Material Components"}, {"layout/exo_", "ExoPlayer"}, {"layout/com_facebook_", "Facebook SDK"},
	{"layout/common_google_", "Google Play services"}, {"layout/fui_", "FirebaseUI"}, {"layout/zxing_", "ZXing"},
	{"style/Base.", "AndroidX"}, {"style/Platform.", "AndroidX"}, {"style/RtlOverlay.", "AndroidX"}, {"style/RtlUnderlay.", "AndroidX"},
	{"style/Theme.AppCompat", "AndroidX"}, {"style/Widget.AppCompat", "AndroidX"}, {"style/TextAppearance.AppCompat", "AndroidX"},
	{"style/ThemeOverlay.AppCompat", "AndroidX"}, {"style/Animation.AppCompat", "AndroidX"}, {"style/AlertDialog.AppCompat", "AndroidX"},
	{"style/Widget.Compat", "AndroidX"}, {"style/TextAppearance.Compat", "AndroidX"}, {"style/Widget.Support", "AndroidX"},
	{"style/Preference", "AndroidX"}, {"style/CardView", "AndroidX"}, {"style/Theme.Leanback", "AndroidX"},
	{"style/Theme.MaterialComponents", "Material Components"}, {"style/Theme.Material3", "Material Components"},
	{"style/Theme.Design", "Material Components"}, {"style/Widget.MaterialComponents", "Material Components"},
	{"style/Widget.Material3", "Material Components"}, {"style/Widget.Design", "Material Components"},
	{"style/TextAppearance.MaterialComponents", "Material Components"}, {"style/TextAppearance.Material3", "Material Components"},
	{"style/TextAppearance.Design", "Material Components"}, {"style/ThemeOverlay.MaterialComponents", "Material Components"},
	{"style/ThemeOverlay.Material3", "Material Components"}, {"style/ShapeAppearance", "Material Components"},
	{"style/MaterialAlertDialog.", "Material Components"}, {"style/Animation.Design", "Material Components"},
	{"style/ExoMedia", "ExoPlayer"}, {"style/ExoStyled", "ExoPlayer"}, {"style/com_facebook_", "Facebook SDK"},
	{"style/FirebaseUI", "FirebaseUI"},
}

// resourceLibrary returns the library a layout or style ("layout/abc_x",
// "style/Theme.AppCompat") comes from, or "".
func resourceLibrary(name string) string {
	for _, l := range libraryResources {
		if strings.HasPrefix(name, l.prefix) {
			return l.name
		}
	}
	return ""
}

// libraryOf attributes a finding's location: the class for code findings,
// the component class for manifest elements, the file for native libraries.
func (sc *scanCtx) libraryOf(l Location) string {
	if l.Class != "" {
		return sc.attr.library(l.Class)
	}
	if kind, name, ok := componentElement(l.Element); ok && kind != "" {
		return sc.attr.library(name)
	}
	if strings.HasSuffix(l.File, ".so") && strings.Contains(l.File, "lib/") {
		return nativeLibrary(l.File)
	}
	return ""
}

// componentElement splits a manifest element "activity[com.x.Main]" into
// its kind and component class name.
func componentElement(el string) (kind, name string, ok bool) {
	k, rest, found := strings.Cut(el, "[")
	if !found || !strings.HasSuffix(rest, "]") {
		return "", "", false
	}
	switch k {
	case "activity", "activity-alias", "service", "receiver", "provider":
		return k, strings.TrimSuffix(rest, "]"), true
	}
	return "", "", false
}
