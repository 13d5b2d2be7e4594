package dex

import "strings"

// frameworkTable describes the part of the Android and Java class
// hierarchy that the scanner's rules care about (and the support-library
// classes apps usually bundle, for when they do not): which framework class
// extends which and which interfaces it implements. Apps do not contain
// these classes, so without this table a call to
// MainActivity.sendBroadcast could not be recognised as a call to
// Context.sendBroadcast. It is the scanner's one table of them
// (internal/apk copies what an app needs into App.Hierarchy).
//
// One class per line: descriptor, then "< super" and "& interface"
// (repeated).
const frameworkTable = `
Ljava/lang/Object;
Ljava/lang/Runnable;
Ljava/io/Closeable; & Ljava/lang/AutoCloseable;
Ljava/lang/AutoCloseable;
Ljava/lang/ClassLoader; < Ljava/lang/Object;
Ldalvik/system/BaseDexClassLoader; < Ljava/lang/ClassLoader;
Ldalvik/system/DexClassLoader; < Ldalvik/system/BaseDexClassLoader;
Ldalvik/system/PathClassLoader; < Ldalvik/system/BaseDexClassLoader;
Ldalvik/system/InMemoryDexClassLoader; < Ldalvik/system/BaseDexClassLoader;
Ldalvik/system/DelegateLastClassLoader; < Ldalvik/system/PathClassLoader;
Ljava/net/URLClassLoader; < Ljava/security/SecureClassLoader;
Ljava/security/SecureClassLoader; < Ljava/lang/ClassLoader;
Ljava/lang/Runtime; < Ljava/lang/Object;
Ljava/lang/ProcessBuilder; < Ljava/lang/Object;
Ljava/lang/System; < Ljava/lang/Object;
Ljava/util/Random; < Ljava/lang/Object;
Ljava/security/SecureRandom; < Ljava/util/Random;
Ljava/security/MessageDigest; < Ljava/security/MessageDigestSpi;
Ljava/security/MessageDigestSpi; < Ljava/lang/Object;
Ljavax/crypto/Cipher; < Ljava/lang/Object;
Ljavax/crypto/Mac; < Ljava/lang/Object;
Ljavax/crypto/KeyGenerator; < Ljava/lang/Object;
Ljava/security/KeyPairGenerator; < Ljava/security/KeyPairGeneratorSpi;
Ljava/security/KeyPairGeneratorSpi; < Ljava/lang/Object;
Ljava/security/Signature; < Ljava/security/SignatureSpi;
Ljava/security/SignatureSpi; < Ljava/lang/Object;
Ljava/security/KeyStore; < Ljava/lang/Object;
Ljavax/crypto/SecretKeyFactory; < Ljava/lang/Object;
Ljava/security/spec/KeySpec;
Ljava/security/spec/AlgorithmParameterSpec;
Ljava/security/Key;
Ljavax/crypto/SecretKey; & Ljava/security/Key;
Ljavax/crypto/spec/SecretKeySpec; < Ljava/lang/Object; & Ljava/security/spec/KeySpec; & Ljavax/crypto/SecretKey;
Ljavax/crypto/spec/IvParameterSpec; < Ljava/lang/Object; & Ljava/security/spec/AlgorithmParameterSpec;
Ljavax/crypto/spec/GCMParameterSpec; < Ljava/lang/Object; & Ljava/security/spec/AlgorithmParameterSpec;
Ljavax/crypto/spec/PBEKeySpec; < Ljava/lang/Object; & Ljava/security/spec/KeySpec;
Ljava/net/URL; < Ljava/lang/Object;
Ljava/net/URLConnection; < Ljava/lang/Object;
Ljava/net/HttpURLConnection; < Ljava/net/URLConnection;
Ljavax/net/ssl/HttpsURLConnection; < Ljava/net/HttpURLConnection;
Ljava/net/Socket; < Ljava/lang/Object; & Ljava/io/Closeable;
Ljavax/net/ssl/SSLSocket; < Ljava/net/Socket;
Ljavax/net/SocketFactory; < Ljava/lang/Object;
Ljavax/net/ssl/SSLSocketFactory; < Ljavax/net/SocketFactory;
Landroid/net/SSLCertificateSocketFactory; < Ljavax/net/ssl/SSLSocketFactory;
Ljavax/net/ssl/SSLContext; < Ljava/lang/Object;
Ljavax/net/ssl/TrustManager;
Ljavax/net/ssl/X509TrustManager; & Ljavax/net/ssl/TrustManager;
Ljavax/net/ssl/X509ExtendedTrustManager; < Ljava/lang/Object; & Ljavax/net/ssl/X509TrustManager;
Ljavax/net/ssl/TrustManagerFactory; < Ljava/lang/Object;
Ljavax/net/ssl/HostnameVerifier;
Lorg/apache/http/conn/ssl/SSLSocketFactory; < Ljava/lang/Object;
Lorg/apache/http/conn/ssl/X509HostnameVerifier; & Ljavax/net/ssl/HostnameVerifier;
Lorg/apache/http/conn/ssl/AbstractVerifier; < Ljava/lang/Object; & Lorg/apache/http/conn/ssl/X509HostnameVerifier;
Lorg/apache/http/conn/ssl/AllowAllHostnameVerifier; < Lorg/apache/http/conn/ssl/AbstractVerifier;
Lorg/apache/http/conn/ssl/StrictHostnameVerifier; < Lorg/apache/http/conn/ssl/AbstractVerifier;
Landroid/content/Context; < Ljava/lang/Object;
Landroid/content/ContextWrapper; < Landroid/content/Context;
Landroid/content/MutableContextWrapper; < Landroid/content/ContextWrapper;
Landroid/view/ContextThemeWrapper; < Landroid/content/ContextWrapper;
Landroid/app/Activity; < Landroid/view/ContextThemeWrapper;
Landroid/app/ListActivity; < Landroid/app/Activity;
Landroid/app/LauncherActivity; < Landroid/app/ListActivity;
Landroid/preference/PreferenceActivity; < Landroid/app/ListActivity;
Landroid/app/ActivityGroup; < Landroid/app/Activity;
Landroid/app/TabActivity; < Landroid/app/ActivityGroup;
Landroid/app/ExpandableListActivity; < Landroid/app/Activity;
Landroid/app/AliasActivity; < Landroid/app/Activity;
Landroid/app/NativeActivity; < Landroid/app/Activity;
Landroid/accounts/AccountAuthenticatorActivity; < Landroid/app/Activity;
Landroid/app/Service; < Landroid/content/ContextWrapper;
Landroid/app/IntentService; < Landroid/app/Service;
Landroid/app/job/JobService; < Landroid/app/Service;
Landroid/accessibilityservice/AccessibilityService; < Landroid/app/Service;
Landroid/inputmethodservice/AbstractInputMethodService; < Landroid/app/Service;
Landroid/inputmethodservice/InputMethodService; < Landroid/inputmethodservice/AbstractInputMethodService;
Landroid/service/notification/NotificationListenerService; < Landroid/app/Service;
Landroid/app/Application; < Landroid/content/ContextWrapper;
Landroid/app/backup/BackupAgent; < Landroid/content/ContextWrapper;
Landroid/app/backup/BackupAgentHelper; < Landroid/app/backup/BackupAgent;
Landroid/content/BroadcastReceiver; < Ljava/lang/Object;
Landroid/content/ContentProvider; < Ljava/lang/Object;
Landroid/content/ContentResolver; < Ljava/lang/Object;
Landroid/content/Intent; < Ljava/lang/Object;
Landroid/app/PendingIntent; < Ljava/lang/Object;
Landroid/content/SharedPreferences;
Landroid/content/SharedPreferences$Editor;
Landroid/content/ClipboardManager; < Landroid/text/ClipboardManager;
Landroid/text/ClipboardManager; < Ljava/lang/Object;
Landroid/util/Log; < Ljava/lang/Object;
Landroid/os/Environment; < Ljava/lang/Object;
Landroid/os/Debug; < Ljava/lang/Object;
Ljava/io/File; < Ljava/lang/Object;
Ljava/io/OutputStream; < Ljava/lang/Object; & Ljava/io/Closeable;
Ljava/io/FileOutputStream; < Ljava/io/OutputStream;
Ljava/io/InputStream; < Ljava/lang/Object; & Ljava/io/Closeable;
Ljava/io/FileInputStream; < Ljava/io/InputStream;
Landroid/database/sqlite/SQLiteClosable; < Ljava/lang/Object; & Ljava/io/Closeable;
Landroid/database/sqlite/SQLiteDatabase; < Landroid/database/sqlite/SQLiteClosable;
Landroid/database/sqlite/SQLiteOpenHelper; < Ljava/lang/Object; & Ljava/lang/AutoCloseable;
Landroid/view/View; < Ljava/lang/Object;
Landroid/view/ViewGroup; < Landroid/view/View;
Landroid/widget/AbsoluteLayout; < Landroid/view/ViewGroup;
Landroid/widget/FrameLayout; < Landroid/view/ViewGroup;
Landroid/widget/LinearLayout; < Landroid/view/ViewGroup;
Landroid/widget/TextView; < Landroid/view/View;
Landroid/widget/EditText; < Landroid/widget/TextView;
Landroid/webkit/WebView; < Landroid/widget/AbsoluteLayout;
Landroid/webkit/WebSettings; < Ljava/lang/Object;
Landroid/webkit/WebViewClient; < Ljava/lang/Object;
Landroid/webkit/WebChromeClient; < Ljava/lang/Object;
Landroid/os/Handler; < Ljava/lang/Object;
Landroid/webkit/SslErrorHandler; < Landroid/os/Handler;
Landroid/webkit/HttpAuthHandler; < Landroid/os/Handler;
Landroid/view/Window; < Ljava/lang/Object;
Landroid/view/ViewManager;
Landroid/view/WindowManager; & Landroid/view/ViewManager;
Landroid/view/ViewGroup$LayoutParams; < Ljava/lang/Object;
Landroid/view/WindowManager$LayoutParams; < Landroid/view/ViewGroup$LayoutParams;
Landroid/telephony/TelephonyManager; < Ljava/lang/Object;
Landroid/telephony/SmsManager; < Ljava/lang/Object;
Landroid/location/LocationManager; < Ljava/lang/Object;
Landroid/content/pm/PackageManager; < Ljava/lang/Object;
Landroid/app/KeyguardManager; < Ljava/lang/Object;
Landroid/hardware/biometrics/BiometricPrompt; < Ljava/lang/Object;
Landroid/hardware/fingerprint/FingerprintManager; < Ljava/lang/Object;
Landroid/security/keystore/KeyGenParameterSpec$Builder; < Ljava/lang/Object;
Landroid/provider/Settings$Secure; < Landroid/provider/Settings$NameValueTable;
Landroid/provider/Settings$Global; < Landroid/provider/Settings$NameValueTable;
Landroid/provider/Settings$NameValueTable; < Ljava/lang/Object;
Landroid/app/DownloadManager; < Ljava/lang/Object;
Landroid/os/Build; < Ljava/lang/Object;
Landroid/view/View$OnClickListener;
Landroid/content/DialogInterface$OnClickListener;
Landroid/app/Dialog; < Ljava/lang/Object;
Landroidx/core/app/ComponentActivity; < Landroid/app/Activity;
Landroidx/activity/ComponentActivity; < Landroidx/core/app/ComponentActivity;
Landroidx/fragment/app/FragmentActivity; < Landroidx/activity/ComponentActivity;
Landroidx/appcompat/app/AppCompatActivity; < Landroidx/fragment/app/FragmentActivity;
Landroid/support/v4/app/FragmentActivity; < Landroid/app/Activity;
Landroid/support/v7/app/AppCompatActivity; < Landroid/support/v4/app/FragmentActivity;
Landroidx/multidex/MultiDexApplication; < Landroid/app/Application;
Landroid/support/multidex/MultiDexApplication; < Landroid/app/Application;
Landroidx/biometric/BiometricPrompt; < Ljava/lang/Object;
Landroid/app/AlertDialog; < Landroid/app/Dialog;
Landroidx/webkit/WebViewClientCompat; < Landroid/webkit/WebViewClient;
Landroidx/localbroadcastmanager/content/LocalBroadcastManager; < Ljava/lang/Object;
`

// frameworkClass is one line of frameworkTable.
type frameworkClass struct {
	super  string
	ifaces []string
}

// parseFramework builds the table afresh for each Program, which keeps
// the package free of mutable global state (it costs microseconds).
func parseFramework() map[string]*frameworkClass {
	m := make(map[string]*frameworkClass, 200)
	for line := range strings.SplitSeq(frameworkTable, "\n") {
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		c := &frameworkClass{}
		m[fs[0]] = c
		for i := 1; i < len(fs); i++ {
			switch fs[i] {
			case "<":
				i++
				c.super = fs[i]
			case "&":
				i++
				c.ifaces = append(c.ifaces, fs[i])
			}
		}
	}
	return m
}
