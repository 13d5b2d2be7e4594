package dex

import "strings"

// frameworkTable describes the part of the Android and Java class
// hierarchy that the scanner's rules care about: which framework class
// extends which, which interfaces it implements, and the methods it is the
// root declaration of. Apps do not contain these classes, so without this
// table a call to MainActivity.sendBroadcast could not be recognised as a
// call to Context.sendBroadcast.
//
// One class per line: descriptor, then "< super", "& interface" (repeated)
// and ": method names". Methods are listed only on the class or interface
// that first declares them; overloads share a name.
const frameworkTable = `
Ljava/lang/Object; : toString equals hashCode getClass clone finalize notify notifyAll wait
Ljava/lang/Runnable; : run
Ljava/io/Closeable; & Ljava/lang/AutoCloseable; : close
Ljava/lang/AutoCloseable;
Ljava/lang/ClassLoader; < Ljava/lang/Object; : loadClass getResource getResourceAsStream getParent
Ldalvik/system/BaseDexClassLoader; < Ljava/lang/ClassLoader;
Ldalvik/system/DexClassLoader; < Ldalvik/system/BaseDexClassLoader;
Ldalvik/system/PathClassLoader; < Ldalvik/system/BaseDexClassLoader;
Ldalvik/system/InMemoryDexClassLoader; < Ldalvik/system/BaseDexClassLoader;
Ldalvik/system/DelegateLastClassLoader; < Ldalvik/system/PathClassLoader;
Ljava/net/URLClassLoader; < Ljava/security/SecureClassLoader;
Ljava/security/SecureClassLoader; < Ljava/lang/ClassLoader;
Ljava/lang/Runtime; < Ljava/lang/Object; : exec getRuntime load loadLibrary
Ljava/lang/ProcessBuilder; < Ljava/lang/Object; : start command
Ljava/lang/System; < Ljava/lang/Object; : load loadLibrary getProperty getenv setProperty
Ljava/util/Random; < Ljava/lang/Object; : nextInt nextLong nextBytes nextDouble nextFloat nextBoolean nextGaussian setSeed
Ljava/security/SecureRandom; < Ljava/util/Random; : getInstance getInstanceStrong generateSeed getSeed
Ljava/security/MessageDigest; < Ljava/security/MessageDigestSpi; : getInstance digest update reset
Ljava/security/MessageDigestSpi; < Ljava/lang/Object;
Ljavax/crypto/Cipher; < Ljava/lang/Object; : getInstance init doFinal update getIV wrap unwrap
Ljavax/crypto/Mac; < Ljava/lang/Object; : getInstance init doFinal update
Ljavax/crypto/KeyGenerator; < Ljava/lang/Object; : getInstance init generateKey
Ljava/security/KeyPairGenerator; < Ljava/security/KeyPairGeneratorSpi; : getInstance initialize generateKeyPair
Ljava/security/KeyPairGeneratorSpi; < Ljava/lang/Object;
Ljava/security/Signature; < Ljava/security/SignatureSpi; : getInstance initSign initVerify sign verify update
Ljava/security/SignatureSpi; < Ljava/lang/Object;
Ljava/security/KeyStore; < Ljava/lang/Object; : getInstance load getKey setEntry getEntry aliases
Ljavax/crypto/SecretKeyFactory; < Ljava/lang/Object; : getInstance generateSecret
Ljava/security/spec/KeySpec;
Ljava/security/spec/AlgorithmParameterSpec;
Ljava/security/Key; : getEncoded getAlgorithm getFormat
Ljavax/crypto/SecretKey; & Ljava/security/Key;
Ljavax/crypto/spec/SecretKeySpec; < Ljava/lang/Object; & Ljava/security/spec/KeySpec; & Ljavax/crypto/SecretKey;
Ljavax/crypto/spec/IvParameterSpec; < Ljava/lang/Object; & Ljava/security/spec/AlgorithmParameterSpec;
Ljavax/crypto/spec/GCMParameterSpec; < Ljava/lang/Object; & Ljava/security/spec/AlgorithmParameterSpec;
Ljavax/crypto/spec/PBEKeySpec; < Ljava/lang/Object; & Ljava/security/spec/KeySpec;
Ljava/net/URL; < Ljava/lang/Object; : openConnection openStream getHost getProtocol
Ljava/net/URLConnection; < Ljava/lang/Object; : connect getInputStream getOutputStream setRequestProperty addRequestProperty setDoOutput setDoInput setConnectTimeout setReadTimeout setUseCaches getURL getHeaderField
Ljava/net/HttpURLConnection; < Ljava/net/URLConnection; : setRequestMethod getResponseCode getErrorStream disconnect setInstanceFollowRedirects setChunkedStreamingMode
Ljavax/net/ssl/HttpsURLConnection; < Ljava/net/HttpURLConnection; : setHostnameVerifier setSSLSocketFactory setDefaultHostnameVerifier setDefaultSSLSocketFactory getServerCertificates getCipherSuite getHostnameVerifier getSSLSocketFactory
Ljava/net/Socket; < Ljava/lang/Object; & Ljava/io/Closeable; : connect getInputStream getOutputStream
Ljavax/net/ssl/SSLSocket; < Ljava/net/Socket; : setEnabledProtocols setEnabledCipherSuites startHandshake getSession
Ljavax/net/SocketFactory; < Ljava/lang/Object; : createSocket getDefault
Ljavax/net/ssl/SSLSocketFactory; < Ljavax/net/SocketFactory; : getSupportedCipherSuites
Landroid/net/SSLCertificateSocketFactory; < Ljavax/net/ssl/SSLSocketFactory; : getInsecure
Ljavax/net/ssl/SSLContext; < Ljava/lang/Object; : getInstance init getSocketFactory getDefault
Ljavax/net/ssl/TrustManager;
Ljavax/net/ssl/X509TrustManager; & Ljavax/net/ssl/TrustManager; : checkClientTrusted checkServerTrusted getAcceptedIssuers
Ljavax/net/ssl/X509ExtendedTrustManager; < Ljava/lang/Object; & Ljavax/net/ssl/X509TrustManager;
Ljavax/net/ssl/TrustManagerFactory; < Ljava/lang/Object; : getInstance init getTrustManagers
Ljavax/net/ssl/HostnameVerifier; : verify
Lorg/apache/http/conn/ssl/SSLSocketFactory; < Ljava/lang/Object; : setHostnameVerifier
Lorg/apache/http/conn/ssl/X509HostnameVerifier; & Ljavax/net/ssl/HostnameVerifier;
Lorg/apache/http/conn/ssl/AbstractVerifier; < Ljava/lang/Object; & Lorg/apache/http/conn/ssl/X509HostnameVerifier;
Lorg/apache/http/conn/ssl/AllowAllHostnameVerifier; < Lorg/apache/http/conn/ssl/AbstractVerifier;
Lorg/apache/http/conn/ssl/StrictHostnameVerifier; < Lorg/apache/http/conn/ssl/AbstractVerifier;
Landroid/content/Context; < Ljava/lang/Object; : sendBroadcast sendOrderedBroadcast sendStickyBroadcast sendStickyOrderedBroadcast sendBroadcastAsUser registerReceiver unregisterReceiver startActivity startActivities startService startForegroundService stopService bindService getSharedPreferences openFileOutput openFileInput openOrCreateDatabase getDatabasePath deleteDatabase getDir getFilesDir getCacheDir getNoBackupFilesDir getExternalFilesDir getExternalFilesDirs getExternalCacheDir getExternalMediaDirs getObbDir getSystemService getPackageManager getPackageName getApplicationContext getApplicationInfo getContentResolver getClassLoader getResources getString getText getAssets getMainLooper checkCallingOrSelfPermission checkSelfPermission checkPermission checkCallingPermission enforceCallingPermission enforceCallingOrSelfPermission grantUriPermission revokeUriPermission createPackageContext deleteFile fileList setTheme getTheme
Landroid/content/ContextWrapper; < Landroid/content/Context; : getBaseContext attachBaseContext
Landroid/content/MutableContextWrapper; < Landroid/content/ContextWrapper;
Landroid/view/ContextThemeWrapper; < Landroid/content/ContextWrapper;
Landroid/app/Activity; < Landroid/view/ContextThemeWrapper; : getWindow setContentView findViewById onCreate onStart onRestart onResume onPause onStop onDestroy onNewIntent onActivityResult onSaveInstanceState onRestoreInstanceState onRequestPermissionsResult startActivityForResult getIntent setIntent setResult finish getPreferences runOnUiThread requestPermissions getWindowManager getCallingActivity getCallingPackage getReferrer setRequestedOrientation onUserLeaveHint onWindowFocusChanged onBackPressed
Landroid/app/ListActivity; < Landroid/app/Activity;
Landroid/app/LauncherActivity; < Landroid/app/ListActivity;
Landroid/preference/PreferenceActivity; < Landroid/app/ListActivity; : isValidFragment
Landroid/app/ActivityGroup; < Landroid/app/Activity;
Landroid/app/TabActivity; < Landroid/app/ActivityGroup;
Landroid/app/ExpandableListActivity; < Landroid/app/Activity;
Landroid/app/AliasActivity; < Landroid/app/Activity;
Landroid/app/NativeActivity; < Landroid/app/Activity;
Landroid/accounts/AccountAuthenticatorActivity; < Landroid/app/Activity;
Landroid/app/Service; < Landroid/content/ContextWrapper; : onBind onUnbind onRebind onStartCommand onStart onCreate onDestroy startForeground stopForeground stopSelf stopSelfResult
Landroid/app/IntentService; < Landroid/app/Service; : onHandleIntent setIntentRedelivery
Landroid/app/job/JobService; < Landroid/app/Service; : onStartJob onStopJob jobFinished
Landroid/accessibilityservice/AccessibilityService; < Landroid/app/Service; : onAccessibilityEvent onInterrupt onServiceConnected performGlobalAction getRootInActiveWindow dispatchGesture
Landroid/inputmethodservice/AbstractInputMethodService; < Landroid/app/Service;
Landroid/inputmethodservice/InputMethodService; < Landroid/inputmethodservice/AbstractInputMethodService;
Landroid/service/notification/NotificationListenerService; < Landroid/app/Service; : onNotificationPosted onNotificationRemoved getActiveNotifications
Landroid/app/Application; < Landroid/content/ContextWrapper; : onCreate onTerminate registerActivityLifecycleCallbacks
Landroid/app/backup/BackupAgent; < Landroid/content/ContextWrapper; : onBackup onRestore onFullBackup
Landroid/app/backup/BackupAgentHelper; < Landroid/app/backup/BackupAgent; : addHelper
Landroid/content/BroadcastReceiver; < Ljava/lang/Object; : onReceive goAsync abortBroadcast setResultData setResultCode getResultData isOrderedBroadcast
Landroid/content/ContentProvider; < Ljava/lang/Object; : query insert update delete getType openFile openAssetFile call onCreate getCallingPackage
Landroid/content/ContentResolver; < Ljava/lang/Object; : query insert update delete openInputStream openOutputStream registerContentObserver
Landroid/content/Intent; < Ljava/lang/Object; : setAction putExtra putExtras setPackage setComponent setClassName setClass addFlags setFlags setData setDataAndType getStringExtra getExtras getData getAction parseUri
Landroid/app/PendingIntent; < Ljava/lang/Object; : getActivity getActivities getService getForegroundService getBroadcast send
Landroid/content/SharedPreferences; : edit getString getInt getBoolean getLong getAll contains
Landroid/content/SharedPreferences$Editor; : putString putInt putBoolean putLong apply commit remove clear
Landroid/content/ClipboardManager; < Landroid/text/ClipboardManager; : setPrimaryClip getPrimaryClip addPrimaryClipChangedListener
Landroid/text/ClipboardManager; < Ljava/lang/Object; : setText getText hasText
Landroid/util/Log; < Ljava/lang/Object; : d e i v w wtf println isLoggable
Landroid/os/Environment; < Ljava/lang/Object; : getExternalStorageDirectory getExternalStoragePublicDirectory getExternalStorageState getDataDirectory
Landroid/os/Debug; < Ljava/lang/Object; : isDebuggerConnected waitingForDebugger
Ljava/io/File; < Ljava/lang/Object; : exists delete createTempFile setReadable setWritable setExecutable getAbsolutePath listFiles mkdirs
Ljava/io/OutputStream; < Ljava/lang/Object; & Ljava/io/Closeable; : write flush
Ljava/io/FileOutputStream; < Ljava/io/OutputStream;
Ljava/io/InputStream; < Ljava/lang/Object; & Ljava/io/Closeable; : read available skip
Ljava/io/FileInputStream; < Ljava/io/InputStream;
Landroid/database/sqlite/SQLiteClosable; < Ljava/lang/Object; & Ljava/io/Closeable;
Landroid/database/sqlite/SQLiteDatabase; < Landroid/database/sqlite/SQLiteClosable; : rawQuery rawQueryWithFactory execSQL query queryWithFactory insert insertOrThrow insertWithOnConflict replace update updateWithOnConflict delete compileStatement openDatabase openOrCreateDatabase beginTransaction endTransaction setTransactionSuccessful
Landroid/database/sqlite/SQLiteOpenHelper; < Ljava/lang/Object; & Ljava/lang/AutoCloseable; : getWritableDatabase getReadableDatabase onCreate onUpgrade onOpen onConfigure
Landroid/view/View; < Ljava/lang/Object; : setOnClickListener setOnTouchListener setOnLongClickListener setFilterTouchesWhenObscured onFilterTouchEventForSecurity findViewById setVisibility getContext setImportantForAutofill setAccessibilityDelegate
Landroid/view/ViewGroup; < Landroid/view/View; : addView removeView
Landroid/widget/AbsoluteLayout; < Landroid/view/ViewGroup;
Landroid/widget/FrameLayout; < Landroid/view/ViewGroup;
Landroid/widget/LinearLayout; < Landroid/view/ViewGroup;
Landroid/widget/TextView; < Landroid/view/View; : setText getText setInputType setTextIsSelectable setCustomSelectionActionModeCallback
Landroid/widget/EditText; < Landroid/widget/TextView;
Landroid/webkit/WebView; < Landroid/widget/AbsoluteLayout; : loadUrl loadData loadDataWithBaseURL postUrl addJavascriptInterface removeJavascriptInterface getSettings setWebViewClient setWebChromeClient evaluateJavascript setWebContentsDebuggingEnabled clearCache clearFormData clearHistory savePassword setHttpAuthUsernamePassword
Landroid/webkit/WebSettings; < Ljava/lang/Object; : setJavaScriptEnabled setAllowFileAccess setAllowFileAccessFromFileURLs setAllowUniversalAccessFromFileURLs setAllowContentAccess setMixedContentMode setSavePassword setSaveFormData setDomStorageEnabled setDatabaseEnabled setGeolocationEnabled setJavaScriptCanOpenWindowsAutomatically setPluginState setSupportMultipleWindows
Landroid/webkit/WebViewClient; < Ljava/lang/Object; : onReceivedSslError shouldOverrideUrlLoading onPageStarted onPageFinished shouldInterceptRequest onReceivedError onReceivedHttpError onReceivedHttpAuthRequest onReceivedClientCertRequest
Landroid/webkit/WebChromeClient; < Ljava/lang/Object; : onJsPrompt onJsAlert onJsConfirm onGeolocationPermissionsShowPrompt onPermissionRequest onShowFileChooser onConsoleMessage
Landroid/os/Handler; < Ljava/lang/Object; : post postDelayed sendMessage handleMessage
Landroid/webkit/SslErrorHandler; < Landroid/os/Handler; : proceed cancel
Landroid/webkit/HttpAuthHandler; < Landroid/os/Handler; : proceed cancel useHttpAuthUsernamePassword
Landroid/view/Window; < Ljava/lang/Object; : setFlags addFlags clearFlags setAttributes getAttributes getDecorView setSoftInputMode setHideOverlayWindows
Landroid/view/ViewManager; : addView updateViewLayout removeView
Landroid/view/WindowManager; & Landroid/view/ViewManager; : getDefaultDisplay
Landroid/view/ViewGroup$LayoutParams; < Ljava/lang/Object;
Landroid/view/WindowManager$LayoutParams; < Landroid/view/ViewGroup$LayoutParams;
Landroid/telephony/TelephonyManager; < Ljava/lang/Object; : getDeviceId getImei getMeid getSubscriberId getLine1Number getSimSerialNumber getNetworkOperator getSimOperator
Landroid/telephony/SmsManager; < Ljava/lang/Object; : getDefault sendTextMessage sendMultipartTextMessage sendDataMessage divideMessage
Landroid/location/LocationManager; < Ljava/lang/Object; : getLastKnownLocation requestLocationUpdates requestSingleUpdate
Landroid/content/pm/PackageManager; < Ljava/lang/Object; : getPackageInfo getInstalledPackages getInstalledApplications getApplicationInfo checkPermission getInstallerPackageName getInstallSourceInfo
Landroid/app/KeyguardManager; < Ljava/lang/Object; : isKeyguardSecure isDeviceSecure isKeyguardLocked createConfirmDeviceCredentialIntent
Landroid/hardware/biometrics/BiometricPrompt; < Ljava/lang/Object; : authenticate
Landroid/hardware/fingerprint/FingerprintManager; < Ljava/lang/Object; : authenticate hasEnrolledFingerprints isHardwareDetected
Landroid/security/keystore/KeyGenParameterSpec$Builder; < Ljava/lang/Object; : setUserAuthenticationRequired setUserAuthenticationValidityDurationSeconds setInvalidatedByBiometricEnrollment setIsStrongBoxBacked setBlockModes setEncryptionPaddings build
Landroid/provider/Settings$Secure; < Landroid/provider/Settings$NameValueTable; : getString getInt
Landroid/provider/Settings$Global; < Landroid/provider/Settings$NameValueTable; : getString getInt
Landroid/provider/Settings$NameValueTable; < Ljava/lang/Object;
Landroid/app/DownloadManager; < Ljava/lang/Object; : enqueue
Landroid/os/Build; < Ljava/lang/Object;
Landroid/view/View$OnClickListener; : onClick
Landroid/content/DialogInterface$OnClickListener; : onClick
`

// frameworkClass is one line of frameworkTable.
type frameworkClass struct {
	super   string
	ifaces  []string
	methods map[string]bool
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
		c := &frameworkClass{methods: map[string]bool{}}
		m[fs[0]] = c
		for i := 1; i < len(fs); i++ {
			switch fs[i] {
			case "<":
				i++
				c.super = fs[i]
			case "&":
				i++
				c.ifaces = append(c.ifaces, fs[i])
			case ":":
				for _, n := range fs[i+1:] {
					c.methods[n] = true
				}
				i = len(fs)
			}
		}
	}
	return m
}
