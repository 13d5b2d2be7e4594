package authn

import "strings"

// DeviceName names the browser and system of a user agent string the way
// people say it ("Chrome on Android", "Safari on iPhone"), for the list
// of sessions; the raw string stays available as a tooltip. It looks for
// a handful of well-known tokens, most specific first, and says "Unknown
// browser" rather than guess: a session list is read to spot a device one
// does not recognise, and a wrong name would hide it.
func DeviceName(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return "Unknown device"
	}
	return browserName(ua) + " on " + systemName(ua)
}

func browserName(ua string) string {
	switch {
	case strings.Contains(ua, "Edg/"), strings.Contains(ua, "EdgA/"), strings.Contains(ua, "EdgiOS/"):
		return "Edge"
	case strings.Contains(ua, "OPR/"), strings.Contains(ua, "Opera"):
		return "Opera"
	case strings.Contains(ua, "SamsungBrowser/"):
		return "Samsung Internet"
	case strings.Contains(ua, "Firefox/"), strings.Contains(ua, "FxiOS/"):
		return "Firefox"
	case strings.Contains(ua, "CriOS/"), strings.Contains(ua, "Chrome/"), strings.Contains(ua, "Chromium/"):
		if strings.Contains(ua, "HeadlessChrome/") {
			return "Headless Chrome"
		}
		return "Chrome"
	case strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/"):
		return "Safari"
	case strings.HasPrefix(ua, "curl/"):
		return "curl"
	}
	return "Unknown browser"
}

func systemName(ua string) string {
	switch {
	case strings.Contains(ua, "Android"):
		return "Android"
	case strings.Contains(ua, "iPhone"):
		return "iPhone"
	case strings.Contains(ua, "iPad"):
		return "iPad"
	case strings.Contains(ua, "Windows"):
		return "Windows"
	case strings.Contains(ua, "CrOS"):
		return "ChromeOS"
	case strings.Contains(ua, "Mac OS X"), strings.Contains(ua, "Macintosh"):
		return "macOS"
	case strings.Contains(ua, "Linux"):
		return "Linux"
	}
	return "an unknown system"
}
