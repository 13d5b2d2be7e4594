package appscan

import (
	"slices"
	"strings"

	"github.com/dfslab/dfslab/internal/apk"
)

const manifestFile = "AndroidManifest.xml"

func manLoc(element string) Location { return Location{File: manifestFile, Element: element} }

func compLoc(c *apk.Component) Location { return manLoc(c.Kind + "[" + c.Name + "]") }

// usesPermission returns a check reporting when the app requests any of perms.
func usesPermission(msg string, perms ...string) func(*scanCtx, emitFunc) {
	return func(sc *scanCtx, emit emitFunc) {
		for _, p := range sc.man.UsesPermissions {
			if slices.Contains(perms, p) {
				emit(hit{msg: msg, loc: manLoc("uses-permission[" + p + "]"), evidence: p})
			}
		}
	}
}

// exportedUnprotected reports exported components of one kind that no
// permission guards.
func exportedUnprotected(kind string) func(*scanCtx, emitFunc) {
	return func(sc *scanCtx, emit emitFunc) {
		for i := range sc.man.Application.Components {
			c := &sc.man.Application.Components[i]
			if c.Kind != kind && !(kind == "activity" && c.Kind == "activity-alias") || !sc.unprotectedExport(c) {
				continue
			}
			msg, ev := kind+" "+c.Name+" is exported without a permission", "exported=true"
			if c.Exported == nil {
				// One finding for one weakness: DFS-MAN-010 leaves this
				// component to this rule, which says how it got exported.
				msg += ", implicitly through its intent filter (target SDK below 31)"
				ev = "intent-filter without android:exported"
			}
			emit(hit{msg: msg, loc: compLoc(c), evidence: ev})
		}
	}
}

// unprotectedExport reports whether any app can start, bind or query
// component c: exported, enabled, guarded by no permission, and not the
// launcher entry point (which must be exported).
func (sc *scanCtx) unprotectedExport(c *apk.Component) bool {
	if !sc.exported(c) || effectivePermission(sc.man, c) != "" || isFalse(c.Enabled) {
		return false
	}
	if (c.Kind == "activity" || c.Kind == "activity-alias") && isLauncher(c) {
		return false
	}
	return !(c.Kind == "provider" && c.ReadPermission != "" && c.WritePermission != "")
}

func isLauncher(c *apk.Component) bool {
	for _, f := range c.Filters {
		if slices.Contains(f.Actions, "android.intent.action.MAIN") &&
			(slices.Contains(f.Categories, "android.intent.category.LAUNCHER") || slices.Contains(f.Categories, "android.intent.category.LEANBACK_LAUNCHER")) {
			return true
		}
	}
	return false
}

func isBrowsable(f *apk.IntentFilter) bool {
	return slices.Contains(f.Actions, "android.intent.action.VIEW") && slices.Contains(f.Categories, "android.intent.category.BROWSABLE")
}

func manifestRules() []*rule {
	return []*rule{
		{RuleMeta: meta("DFS-MAN-001", High, high, "Application is debuggable",
			"android:debuggable is true, so anyone with USB access can attach a debugger, read the app's private files with run-as and change its behaviour at run time.",
			"Never ship a build with android:debuggable=\"true\"; let the build type set it and check release artefacts in CI.",
			mp("MASVS-RESILIENCE-4", 489, "M1", "M8", "T1.2")),
			check: func(sc *scanCtx, emit emitFunc) {
				if isTrue(sc.man.Application.Debuggable) {
					emit(hit{loc: manLoc("application"), evidence: `android:debuggable="true"`})
				}
			}},
		{RuleMeta: meta("DFS-MAN-002", Medium, high, "Application data can be backed up",
			"android:allowBackup is true or left at its default (true), so adb backup or cloud backup can copy the app's private data, including tokens and databases, off the device.",
			"Set android:allowBackup=\"false\", or keep it and exclude every sensitive file with fullBackupContent and dataExtractionRules.",
			mp("MASVS-STORAGE-2", 530, "M1", "M9", "T1.1")),
			check: func(sc *scanCtx, emit emitFunc) {
				a := sc.man.Application
				if isFalse(a.AllowBackup) || sc.app.Manifest == nil {
					return
				}
				ev := `android:allowBackup not set (defaults to true)`
				if a.AllowBackup != nil {
					ev = `android:allowBackup="true"`
				}
				emit(hit{loc: manLoc("application"), evidence: ev})
			}},
		{RuleMeta: meta("DFS-MAN-003", Low, med, "Backup rules exclude nothing",
			"The app allows backup and declares backup rules, but the rules exclude no file, so everything in the app's private storage is still copied.",
			"Exclude the databases, shared preferences and files that hold credentials, keys or transaction data in the backup and data-extraction rules.",
			mp("MASVS-STORAGE-2", 530, "M2", "M9", "T1.1")),
			check: func(sc *scanCtx, emit emitFunc) {
				b := sc.app.Backup
				if b == nil || isFalse(sc.man.Application.AllowBackup) || len(b.Excludes) > 0 {
					return
				}
				emit(hit{loc: Location{File: b.File}, evidence: "no <exclude> element"})
			}},
		{RuleMeta: meta("DFS-MAN-004", Medium, high, "Cleartext traffic allowed by the manifest",
			"android:usesCleartextTraffic is true, so the platform lets the app send unencrypted HTTP and other plaintext traffic that anyone on the network can read and change.",
			"Set android:usesCleartextTraffic=\"false\" (or remove it on target SDK 28+) and serve every endpoint over TLS.",
			mp("MASVS-NETWORK-1", 319, "M3", "M5", "T3.1")),
			check: func(sc *scanCtx, emit emitFunc) {
				if isTrue(sc.man.Application.UsesCleartextTraffic) {
					emit(hit{loc: manLoc("application"), evidence: `android:usesCleartextTraffic="true"`})
				}
			}},
		{RuleMeta: meta("DFS-MAN-005", Low, med, "Cleartext traffic allowed by default (old target SDK)",
			"The app targets an SDK below 28 and neither sets usesCleartextTraffic nor a network security configuration, so plaintext HTTP is permitted by default.",
			"Target a current SDK, or set android:usesCleartextTraffic=\"false\" or a network security configuration that forbids cleartext.",
			mp("MASVS-NETWORK-1", 319, "M3", "M5", "T3.1")),
			check: func(sc *scanCtx, emit emitFunc) {
				a := sc.man.Application
				if sc.app.Manifest == nil || sc.targetSDK() >= 28 || a.UsesCleartextTraffic != nil || sc.app.NetworkConfig != nil {
					return
				}
				emit(hit{loc: manLoc("uses-sdk"), evidence: "targetSdkVersion=" + itoa(int64(sc.targetSDK()))})
			}},
		{RuleMeta: meta("DFS-MAN-006", Medium, med, "Exported activity without permission",
			"An activity other than the launcher is exported and not protected by a permission, so any app can start it, possibly skipping the login screen or feeding it crafted extras.",
			"Set android:exported=\"false\" unless other apps must start it; otherwise guard it with a signature permission and validate every extra.",
			mp("MASVS-PLATFORM-1", 926, "M1", "M8")),
			check: exportedUnprotected("activity")},
		{RuleMeta: meta("DFS-MAN-007", High, med, "Exported service without permission",
			"A service is exported and not protected by a permission, so any installed app can start or bind to it and invoke its functions.",
			"Set android:exported=\"false\" or protect the service with a signature-level permission.",
			mp("MASVS-PLATFORM-1", 926, "M1", "M8")),
			check: exportedUnprotected("service")},
		{RuleMeta: meta("DFS-MAN-008", Medium, med, "Exported broadcast receiver without permission",
			"A broadcast receiver is exported without a permission, so any app can send it intents with forged content.",
			"Set android:exported=\"false\", or require a signature permission from senders.",
			mp("MASVS-PLATFORM-1", 925, "M1", "M8")),
			check: exportedUnprotected("receiver")},
		{RuleMeta: meta("DFS-MAN-009", High, med, "Exported content provider without permission",
			"A content provider is exported with no read and write permission, so any app can query or change its data.",
			"Set android:exported=\"false\", or set readPermission and writePermission to signature-level permissions.",
			mp("MASVS-PLATFORM-1", 926, "M1", "M8")),
			check: exportedUnprotected("provider")},
		{RuleMeta: meta("DFS-MAN-010", Medium, med, "Component exported implicitly by an intent filter",
			"The component has an intent filter but no android:exported attribute; on the target SDK the app uses (below 31) that makes it exported without the developer saying so. Components that no permission guards are reported once, by the exported-component rules (DFS-MAN-006 to 009), which then say so.",
			"Declare android:exported explicitly on every component with an intent filter and target SDK 31 or later.",
			mp("MASVS-PLATFORM-1", 926, "M1", "M8")),
			check: func(sc *scanCtx, emit emitFunc) {
				if sc.targetSDK() >= 31 {
					return
				}
				for i := range sc.man.Application.Components {
					c := &sc.man.Application.Components[i]
					if c.Exported == nil && len(c.Filters) > 0 && !isLauncher(c) && !sc.unprotectedExport(c) {
						emit(hit{loc: compLoc(c), evidence: "intent-filter without android:exported"})
					}
				}
			}},
		{RuleMeta: meta("DFS-MAN-011", Medium, med, "Content provider grants URI permissions",
			"android:grantUriPermissions is true, so the app can hand temporary access to any path of the provider; one mistaken grant exposes all of its data.",
			"Limit grants with <grant-uri-permission> path elements, or use a FileProvider with narrow paths.",
			mp("MASVS-PLATFORM-1", 732, "M1", "M8")),
			check: func(sc *scanCtx, emit emitFunc) {
				for i := range sc.man.Application.Components {
					c := &sc.man.Application.Components[i]
					if c.Kind == "provider" && c.GrantURIPermissions {
						emit(hit{loc: compLoc(c), evidence: `android:grantUriPermissions="true"`})
					}
				}
			}},
		{RuleMeta: meta("DFS-MAN-012", Medium, high, "Custom permission with weak protection level",
			"The app defines a permission with protection level normal or dangerous; any app can obtain it, so it does not protect the components that require it.",
			"Use protectionLevel=\"signature\" for permissions that guard the app's own components.",
			mp("MASVS-PLATFORM-1", 276, "M1", "M8")),
			check: func(sc *scanCtx, emit emitFunc) {
				for _, p := range sc.man.Permissions {
					lvl := strings.ToLower(p.ProtectionLevel)
					if lvl == "" || strings.HasPrefix(lvl, "normal") || strings.HasPrefix(lvl, "dangerous") || lvl == "0" || lvl == "1" {
						emit(hit{loc: manLoc("permission[" + p.Name + "]"), evidence: "protectionLevel=" + cmpOr(p.ProtectionLevel, "normal (default)")})
					}
				}
			}},
		{RuleMeta: meta("DFS-MAN-013", Medium, med, "Task affinity set (task hijacking)",
			"An activity or the application sets a non-empty taskAffinity; a malicious app with the same affinity can slip its own screen into the app's task and phish the user (StrandHogg).",
			"Remove taskAffinity or set it to an empty string, and prefer launchMode standard or singleTop.",
			mp("MASVS-PLATFORM-3", 1021, "M1", "M8")),
			check: func(sc *scanCtx, emit emitFunc) {
				if a := sc.man.Application.TaskAffinity; a != nil && *a != "" {
					emit(hit{loc: manLoc("application"), evidence: "taskAffinity=" + *a})
				}
				for i := range sc.man.Application.Components {
					c := &sc.man.Application.Components[i]
					if c.TaskAffinity != nil && *c.TaskAffinity != "" && *c.TaskAffinity != sc.man.Package {
						emit(hit{loc: compLoc(c), evidence: "taskAffinity=" + *c.TaskAffinity})
					}
				}
			}},
		{RuleMeta: meta("DFS-MAN-014", Medium, med, "singleTask/singleInstance launch mode on an old target SDK",
			"An activity uses launchMode singleTask or singleInstance while the app targets SDK below 28, which allows task hijacking by another app.",
			"Target SDK 28 or later, use the standard launch mode, or set an empty taskAffinity.",
			mp("MASVS-PLATFORM-3", 1021, "M1", "M8")),
			check: func(sc *scanCtx, emit emitFunc) {
				if sc.targetSDK() >= 28 {
					return
				}
				for i := range sc.man.Application.Components {
					c := &sc.man.Application.Components[i]
					if c.LaunchMode == "singleTask" || c.LaunchMode == "singleInstance" {
						emit(hit{loc: compLoc(c), evidence: "launchMode=" + c.LaunchMode})
					}
				}
			}},
		{RuleMeta: meta("DFS-MAN-037", Medium, med, "Activities open to StrandHogg 2.0 (Android 9 and older)",
			"The app installs on Android 9 and older (minSdkVersion below 29). On those devices without the May 2020 security patch, CVE-2020-0096 (StrandHogg 2.0) lets any app, with no permission and no tell-tale manifest entry, start an activity of this app together with a screen of its own, which then sits in the app's task and greets the user who opens the app. Reported once for the app's own activities (and once per library for activities merged from a library's manifest), listing those any app can start (exported, enabled, not guarded by a permission; the launcher included) whose launch mode is standard or singleTop. singleTask and singleInstance defend an activity: opening a singleTask activity again clears what was stacked above it, and no other activity may join a singleInstance task. An empty taskAffinity does not, since this attack does not rely on affinities (it does help against StrandHogg 1, DFS-MAN-013).",
			"Give exported and launcher activities launchMode singleTask or singleInstance, export only the activities other apps must start, or raise minSdkVersion to 29.",
			mp("MASVS-PLATFORM-3", 1021, "M1", "M8")),
			check: strandHogg2},
		{RuleMeta: meta("DFS-MAN-015", Medium, med, "Web deep link without verification",
			"An intent filter handles http/https links but has no android:autoVerify, so another app can claim the same links and receive payment or login URLs.",
			"Add android:autoVerify=\"true\" and publish assetlinks.json for the domain (Android App Links).",
			mp("MASVS-PLATFORM-1", 939, "M1", "M8")),
			check: func(sc *scanCtx, emit emitFunc) {
				for i := range sc.man.Application.Components {
					c := &sc.man.Application.Components[i]
					for _, f := range c.Filters {
						if !isBrowsable(&f) || f.AutoVerify {
							continue
						}
						for _, d := range f.Data {
							if d.Scheme == "http" || d.Scheme == "https" {
								emit(hit{loc: compLoc(c), evidence: d.Scheme + "://" + d.Host})
								break
							}
						}
					}
				}
			}},
		{RuleMeta: meta("DFS-MAN-016", Low, med, "Custom URL scheme deep link",
			"A browsable intent filter uses a custom URL scheme; any app may register the same scheme and intercept the links, and any web page can send data into the app.",
			"Prefer verified https App Links for sensitive flows and validate every parameter of incoming links.",
			mp("MASVS-PLATFORM-1", 939, "M1", "M4")),
			check: func(sc *scanCtx, emit emitFunc) {
				for i := range sc.man.Application.Components {
					c := &sc.man.Application.Components[i]
					for _, f := range c.Filters {
						if !isBrowsable(&f) {
							continue
						}
						for _, d := range f.Data {
							if d.Scheme != "" && d.Scheme != "http" && d.Scheme != "https" {
								emit(hit{loc: compLoc(c), evidence: d.Scheme + "://"})
							}
						}
					}
				}
			}},
		{RuleMeta: meta("DFS-MAN-017", Medium, high, "Test-only build",
			"android:testOnly is true: the package is a development build that is installable only with adb and should never reach users.",
			"Build release artefacts without testOnly.",
			mp("MASVS-CODE-4", 489, "M10", "M8")),
			check: func(sc *scanCtx, emit emitFunc) {
				if sc.man.Application.TestOnly {
					emit(hit{loc: manLoc("application"), evidence: `android:testOnly="true"`})
				}
			}},
		{RuleMeta: meta("DFS-MAN-018", Low, high, "Shared user ID",
			"android:sharedUserId lets apps signed with the same key share a Linux user and data; it is deprecated and widens the damage of any compromise.",
			"Remove sharedUserId and share data through explicit, permission-protected interfaces.",
			mp("MASVS-PLATFORM-1", 250, "M1", "M8")),
			check: func(sc *scanCtx, emit emitFunc) {
				if sc.man.SharedUserID != "" {
					emit(hit{loc: manLoc("manifest"), evidence: "sharedUserId=" + sc.man.SharedUserID})
				}
			}},
		{RuleMeta: meta("DFS-MAN-019", Low, high, "App may be installed on external storage",
			"android:installLocation allows installing the app on external storage, where the package can be read or replaced more easily.",
			"Remove installLocation or set it to internalOnly.",
			mp("MASVS-STORAGE-1", 921, "M1", "M8", "T1.3")),
			check: func(sc *scanCtx, emit emitFunc) {
				if l := sc.man.InstallLocation; l == "auto" || l == "preferExternal" || l == "0" || l == "2" {
					emit(hit{loc: manLoc("manifest"), evidence: "installLocation=" + l})
				}
			}},
		{RuleMeta: meta("DFS-MAN-020", Medium, high, "Supports very old Android versions",
			"minSdkVersion is below 23, so the app runs on Android versions without runtime permissions, current TLS defaults or security patches.",
			"Raise minSdkVersion to at least 23 (better 26+) for apps that handle money.",
			mp("MASVS-CODE-1", 1104, "M1", "M8")),
			check: func(sc *scanCtx, emit emitFunc) {
				if sc.app.Manifest != nil && sc.minSDK() < 23 {
					emit(hit{loc: manLoc("uses-sdk"), evidence: "minSdkVersion=" + itoa(int64(sc.minSDK()))})
				}
			}},
		{RuleMeta: meta("DFS-MAN-021", Low, high, "Outdated target SDK",
			"targetSdkVersion is below 33, so the platform applies older, weaker compatibility behaviour (implicit exports, cleartext defaults, broad storage access).",
			"Target a current SDK level, as app stores require anyway.",
			mp("MASVS-CODE-1", 1104, "M1", "M8")),
			check: func(sc *scanCtx, emit emitFunc) {
				if sc.app.Manifest != nil && sc.targetSDK() < 33 {
					emit(hit{loc: manLoc("uses-sdk"), evidence: "targetSdkVersion=" + itoa(int64(sc.targetSDK()))})
				}
			}},
		{RuleMeta: meta("DFS-MAN-022", High, high, "Reads or receives SMS (OTP theft)",
			"The app requests READ_SMS or RECEIVE_SMS. These permissions expose every one-time password the user receives; malware abuses them to take over mobile-money accounts.",
			"Use the SMS Retriever or SMS User Consent API instead of SMS permissions, or better, OTPs from an authenticator.",
			mp("MASVS-PRIVACY-1", 250, "M1", "M6", "T1.4")),
			check: usesPermission("requests SMS access", "android.permission.READ_SMS", "android.permission.RECEIVE_SMS")},
		{RuleMeta: meta("DFS-MAN-023", High, high, "Declares an accessibility service",
			"The app binds an accessibility service, which can read everything on screen and act for the user; banking trojans use it to drive payment apps.",
			"Do not ship an accessibility service in a financial app unless it is the app's purpose, and then document and restrict it.",
			mp("MASVS-PLATFORM-1", 250, "M1", "M6", "T1.4")),
			check: func(sc *scanCtx, emit emitFunc) {
				for i := range sc.man.Application.Components {
					c := &sc.man.Application.Components[i]
					if c.Kind == "service" && c.Permission == "android.permission.BIND_ACCESSIBILITY_SERVICE" {
						emit(hit{loc: compLoc(c), evidence: c.Permission})
					}
				}
			}},
		{RuleMeta: meta("DFS-MAN-024", Medium, high, "Draws over other apps",
			"SYSTEM_ALERT_WINDOW lets the app draw overlays on top of other apps, the basis of overlay phishing of PINs and passwords.",
			"Remove SYSTEM_ALERT_WINDOW unless the feature is essential.",
			mp("MASVS-PLATFORM-3", 1021, "M1", "M6", "T1.4")),
			check: usesPermission("requests overlay windows", "android.permission.SYSTEM_ALERT_WINDOW")},
		{RuleMeta: meta("DFS-MAN-025", Medium, high, "Can install other packages",
			"REQUEST_INSTALL_PACKAGES lets the app prompt to install APKs, a common dropper technique.",
			"Remove the permission; distribute updates through the app store.",
			mp("MASVS-CODE-2", 494, "M1", "M2", "T1.4")),
			check: usesPermission("requests package installs", "android.permission.REQUEST_INSTALL_PACKAGES")},
		{RuleMeta: meta("DFS-MAN-026", Medium, high, "Places calls or USSD requests directly",
			"CALL_PHONE lets the app dial numbers and USSD codes without the dialler, which can move money on USSD-based services or call premium numbers.",
			"Use ACTION_DIAL so the user confirms, and remove CALL_PHONE.",
			mp("MASVS-PLATFORM-1", 250, "M1", "M6", "T1.4")),
			check: usesPermission("requests direct calls", "android.permission.CALL_PHONE")},
		{RuleMeta: meta("DFS-MAN-027", Medium, high, "Uses external storage",
			"The app requests access to shared external storage; files there can be read or altered by other apps.",
			"Keep sensitive data in app-private internal storage and drop WRITE/READ/MANAGE_EXTERNAL_STORAGE.",
			mp("MASVS-STORAGE-2", 922, "M2", "M9", "T2.1")),
			check: usesPermission("requests external storage", "android.permission.WRITE_EXTERNAL_STORAGE", "android.permission.READ_EXTERNAL_STORAGE", "android.permission.MANAGE_EXTERNAL_STORAGE")},
		{RuleMeta: meta("DFS-MAN-028", Info, med, "Many dangerous permissions",
			"The app requests more than five dangerous permissions; each widens what a compromise of the app can reach.",
			"Request only the permissions the app's features need and justify each one.",
			mp("MASVS-PRIVACY-1", 250, "M1", "M6", "T1.4")),
			check: func(sc *scanCtx, emit emitFunc) {
				var d []string
				for _, p := range sc.man.UsesPermissions {
					if _, ok := dangerousPermissions[p]; ok {
						d = append(d, strings.TrimPrefix(p, "android.permission."))
					}
				}
				if len(d) > 5 {
					emit(hit{msg: itoa(int64(len(d))) + " dangerous permissions", loc: manLoc("manifest"), evidence: strings.Join(d, ", ")})
				}
			}},
		{RuleMeta: meta("DFS-MAN-029", Low, high, "Lists all installed packages",
			"QUERY_ALL_PACKAGES reveals every app on the device, which is sensitive and rarely needed.",
			"Declare <queries> for the packages the app interacts with instead.",
			mp("MASVS-PRIVACY-1", 359, "M1", "M6")),
			check: usesPermission("requests the package list", "android.permission.QUERY_ALL_PACKAGES")},
		{RuleMeta: meta("DFS-MAN-030", High, high, "Declares a notification listener",
			"A notification listener service reads every notification, including one-time passwords sent by SMS or push.",
			"Remove the notification listener from financial apps.",
			mp("MASVS-PLATFORM-1", 359, "M1", "M6")),
			check: func(sc *scanCtx, emit emitFunc) {
				for i := range sc.man.Application.Components {
					c := &sc.man.Application.Components[i]
					if c.Kind == "service" && c.Permission == "android.permission.BIND_NOTIFICATION_LISTENER_SERVICE" {
						emit(hit{loc: compLoc(c), evidence: c.Permission})
					}
				}
			}},
		{RuleMeta: meta("DFS-MAN-031", Medium, high, "Declares a device administrator",
			"A device-admin receiver can lock or wipe the device and resist uninstallation; malware uses it for persistence.",
			"Remove device administration unless the app is an enterprise management tool.",
			mp("MASVS-PLATFORM-1", 250, "M1", "M8")),
			check: func(sc *scanCtx, emit emitFunc) {
				for i := range sc.man.Application.Components {
					c := &sc.man.Application.Components[i]
					if c.Kind == "receiver" && c.Permission == "android.permission.BIND_DEVICE_ADMIN" {
						emit(hit{loc: compLoc(c), evidence: c.Permission})
					}
				}
			}},
		{RuleMeta: meta("DFS-MAN-032", Medium, high, "Can send SMS messages",
			"SEND_SMS lets the app send text messages silently, including to premium numbers or SMS-based payment short codes.",
			"Use an SMS intent so the user sends the message, and remove SEND_SMS.",
			mp("MASVS-PLATFORM-1", 250, "M1", "M6", "T1.4")),
			check: usesPermission("requests SMS sending", "android.permission.SEND_SMS")},
		{RuleMeta: meta("DFS-MAN-033", Low, med, "High-priority SMS receiver",
			"A receiver listens for incoming SMS with a raised priority, so it sees messages (and OTPs) before other apps and can hide them.",
			"Do not receive SMS_RECEIVED; use the SMS Retriever API.",
			mp("MASVS-PLATFORM-1", 925, "M1", "M6", "T1.4")),
			check: func(sc *scanCtx, emit emitFunc) {
				for i := range sc.man.Application.Components {
					c := &sc.man.Application.Components[i]
					for _, f := range c.Filters {
						if slices.Contains(f.Actions, "android.provider.Telephony.SMS_RECEIVED") && f.Priority > 0 {
							emit(hit{loc: compLoc(c), evidence: "priority=" + itoa(int64(f.Priority))})
						}
					}
				}
			}},
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// strandHogg2 reports the activities another app can start that do not
// use a launch mode keeping foreign activities out of their task, when the
// app runs on Android versions affected by CVE-2020-0096. The task at stake
// is the app's, whichever activity opens the way, so one finding lists the
// app's own activities: at the launcher activity when it is among them (the
// screen users return to), otherwise at the application, so that it never
// doubles the exported-component rules on an element. Activities merged
// from a library's manifest get one finding per library, attributed to it.
// An alias is judged by the launch mode of the activity it starts.
func strandHogg2(sc *scanCtx, emit emitFunc) {
	if sc.minSDK() >= 29 {
		return
	}
	activities := map[string]*apk.Component{}
	for i := range sc.man.Application.Components {
		if c := &sc.man.Application.Components[i]; c.Kind == "activity" {
			activities[c.Name] = c
		}
	}
	type group struct {
		library string
		names   []string
		modes   []string
		entry   *apk.Component
	}
	var groups []*group
	for i := range sc.man.Application.Components {
		c := &sc.man.Application.Components[i]
		if c.Kind != "activity" && c.Kind != "activity-alias" {
			continue
		}
		if !sc.exported(c) || effectivePermission(sc.man, c) != "" || isFalse(c.Enabled) {
			continue
		}
		mode := c.LaunchMode
		if t, ok := activities[c.TargetActivity]; ok && c.Kind == "activity-alias" {
			mode = t.LaunchMode
		}
		if mode == "singleTask" || mode == "singleInstance" {
			continue
		}
		lib := sc.attr.library(c.Name)
		gi := slices.IndexFunc(groups, func(g *group) bool { return g.library == lib })
		if gi < 0 {
			gi = len(groups)
			groups = append(groups, &group{library: lib})
		}
		g := groups[gi]
		name := c.Name
		if isLauncher(c) {
			name += " (launcher)"
			if g.entry == nil && lib == "" {
				g.entry = c
			}
		}
		g.names = append(g.names, name)
		if m := cmpOr(mode, "standard"); !slices.Contains(g.modes, m) {
			g.modes = append(g.modes, m)
		}
	}
	for _, g := range groups {
		loc := manLoc("application")
		if g.entry != nil {
			loc = compLoc(g.entry)
		}
		shown := g.names[:min(len(g.names), 5)]
		list := strings.Join(shown, ", ")
		if len(g.names) > len(shown) {
			list += " and " + itoa(int64(len(g.names)-len(shown))) + " more"
		}
		what := "1 activity any app can start keeps a launch mode"
		if len(g.names) > 1 {
			what = itoa(int64(len(g.names))) + " activities any app can start keep a launch mode"
		}
		evidence := "minSdkVersion=" + itoa(int64(sc.minSDK()))
		if g.library != "" {
			what += " (from " + g.library + ")"
			evidence += "; " + g.library
		}
		emit(hit{msg: what + " that lets other activities join its task (" + strings.Join(g.modes, ", ") + "): " + list +
			"; on Android 9 and older without the May 2020 patch another app can stack its own screen there, in the app's task (StrandHogg 2.0)",
			loc: loc, evidence: evidence, library: g.library})
	}
}
