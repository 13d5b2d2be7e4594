package axml

import "sort"

// frameworkAttr pairs an android: attribute name with its resource ID in
// the framework (android.R.attr). The IDs are public API and never change.
type frameworkAttr struct {
	id   uint32
	name string
}

// frameworkAttrs is read-only, sorted by id. It covers the attributes the
// manifest, network security config and backup rules readers use, and the
// layout attributes the scanner looks for, so names can be restored when an obfuscator stripped them from the string pool.
// TestFrameworkAttrsMatchFrameworkRes checks it against framework-res.apk.
var frameworkAttrs = []frameworkAttr{
	{0x01010000, "theme"},
	{0x01010001, "label"},
	{0x01010002, "icon"},
	{0x01010003, "name"},
	{0x01010004, "manageSpaceActivity"},
	{0x01010005, "allowClearUserData"},
	{0x01010006, "permission"},
	{0x01010007, "readPermission"},
	{0x01010008, "writePermission"},
	{0x01010009, "protectionLevel"},
	{0x0101000a, "permissionGroup"},
	{0x0101000b, "sharedUserId"},
	{0x0101000c, "hasCode"},
	{0x0101000d, "persistent"},
	{0x0101000e, "enabled"},
	{0x0101000f, "debuggable"},
	{0x01010010, "exported"},
	{0x01010011, "process"},
	{0x01010012, "taskAffinity"},
	{0x01010013, "multiprocess"},
	{0x01010014, "finishOnTaskLaunch"},
	{0x01010015, "clearTaskOnLaunch"},
	{0x01010016, "stateNotNeeded"},
	{0x01010017, "excludeFromRecents"},
	{0x01010018, "authorities"},
	{0x01010019, "syncable"},
	{0x0101001a, "initOrder"},
	{0x0101001b, "grantUriPermissions"},
	{0x0101001c, "priority"},
	{0x0101001d, "launchMode"},
	{0x0101001e, "screenOrientation"},
	{0x0101001f, "configChanges"},
	{0x01010020, "description"},
	{0x01010021, "targetPackage"},
	{0x01010022, "handleProfiling"},
	{0x01010023, "functionalTest"},
	{0x01010024, "value"},
	{0x01010025, "resource"},
	{0x01010026, "mimeType"},
	{0x01010027, "scheme"},
	{0x01010028, "host"},
	{0x01010029, "port"},
	{0x0101002a, "path"},
	{0x0101002b, "pathPrefix"},
	{0x0101002c, "pathPattern"},
	{0x0101002d, "action"},
	{0x0101002e, "data"},
	{0x0101002f, "targetClass"},
	{0x01010202, "targetActivity"},
	{0x01010203, "alwaysRetainTaskState"},
	{0x01010204, "allowTaskReparenting"},
	{0x0101020c, "minSdkVersion"},
	{0x0101021b, "versionCode"},
	{0x0101021c, "versionName"},
	{0x0101022b, "windowSoftInputMode"},
	{0x01010270, "targetSdkVersion"},
	{0x01010271, "maxSdkVersion"},
	{0x01010272, "testOnly"},
	{0x0101027f, "backupAgent"},
	{0x01010280, "allowBackup"},
	{0x01010281, "glEsVersion"},
	{0x0101028e, "required"},
	{0x0101029c, "killAfterRestore"},
	{0x010102b7, "installLocation"},
	{0x010102ba, "restoreAnyVersion"},
	{0x010102c4, "filterTouchesWhenObscured"},
	{0x010102d3, "hardwareAccelerated"},
	{0x0101035a, "largeHeap"},
	{0x010103a9, "isolatedProcess"},
	{0x010103af, "supportsRtl"},
	{0x010103bf, "singleUser"},
	{0x010103c7, "permissionFlags"},
	{0x010103c9, "showOnLockScreen"},
	{0x010103e3, "ssp"},
	{0x010103e4, "sspPrefix"},
	{0x010103e5, "sspPattern"},
	{0x01010445, "documentLaunchMode"},
	{0x01010473, "fullBackupOnly"},
	{0x010104ea, "extractNativeLibs"},
	{0x010104eb, "fullBackupContent"},
	{0x010104ec, "usesCleartextTraffic"},
	{0x010104ee, "autoVerify"},
	{0x010104f6, "resizeableActivity"},
	{0x01010504, "defaultToDeviceProtectedStorage"},
	{0x01010505, "directBootAware"},
	{0x0101051a, "backupInForeground"},
	{0x01010527, "networkSecurityConfig"},
	{0x0101052c, "roundIcon"},
	{0x01010569, "showWhenLocked"},
	{0x0101056a, "turnScreenOn"},
	{0x0101057a, "appComponentFactory"},
	{0x01010599, "foregroundServiceType"},
	{0x0101059a, "hasFragileUserData"},
	{0x01010603, "requestLegacyExternalStorage"},
	{0x01010614, "preserveLegacyExternalStorage"},
	{0x0101061e, "pathSuffix"},
	{0x01010620, "pathAdvancedPattern"},
	{0x0101063e, "dataExtractionRules"},
	{0x01010644, "usesPermissionFlags"},
}

// FrameworkAttrName returns the name of the framework attribute id.
func FrameworkAttrName(id uint32) (string, bool) {
	i := sort.Search(len(frameworkAttrs), func(i int) bool { return frameworkAttrs[i].id >= id })
	if i < len(frameworkAttrs) && frameworkAttrs[i].id == id {
		return frameworkAttrs[i].name, true
	}
	return "", false
}

// FrameworkAttrID returns the resource ID of the framework attribute name.
func FrameworkAttrID(name string) (uint32, bool) {
	for _, a := range frameworkAttrs {
		if a.name == name {
			return a.id, true
		}
	}
	return 0, false
}
