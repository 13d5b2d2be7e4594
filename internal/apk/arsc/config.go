package arsc

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Config is a resource configuration (ResTable_config): the qualifiers of
// a res/values-xx-rYY-hdpi-v21 folder. The zero value is the default
// configuration.
type Config struct {
	MCC, MNC      uint16
	Language      string // "en", "fil"
	Region        string // "US", "419"
	Orientation   uint8
	Touchscreen   uint8
	Density       uint16
	Keyboard      uint8
	Navigation    uint8
	InputFlags    uint8
	ScreenWidth   uint16
	ScreenHeight  uint16
	SDKVersion    uint16
	MinorVersion  uint16
	ScreenLayout  uint8
	UIMode        uint8
	SmallestWidth uint16 // smallestScreenWidthDp
	WidthDp       uint16
	HeightDp      uint16
	LocaleScript  string
	LocaleVariant string
	ScreenLayout2 uint8
	ColorMode     uint8
	// Product is only found in App Bundles.
	Product string
	// Other is set when the configuration has qualifiers this model does
	// not name; such a config is never the default.
	Other bool
}

// IsDefault reports whether c is the default configuration.
func (c Config) IsDefault() bool { return c == Config{} }

// HasLocale reports whether c is restricted to a language, region or
// mobile network.
func (c Config) HasLocale() bool {
	return c.Language != "" || c.Region != "" || c.MCC != 0 || c.MNC != 0
}

// onlySDK reports whether c's only qualifier is a platform version.
func (c Config) onlySDK() bool {
	d := c
	d.SDKVersion, d.MinorVersion = 0, 0
	return d.IsDefault() && c.SDKVersion != 0
}

func densityName(d uint16) string {
	switch d {
	case 120:
		return "ldpi"
	case 160:
		return "mdpi"
	case 213:
		return "tvdpi"
	case 240:
		return "hdpi"
	case 320:
		return "xhdpi"
	case 480:
		return "xxhdpi"
	case 640:
		return "xxxhdpi"
	case 0xfffe:
		return "anydpi"
	case 0xffff:
		return "nodpi"
	}
	return fmt.Sprintf("%ddpi", d)
}

// String renders the qualifiers roughly as aapt names resource folders
// ("default" for the default configuration).
func (c Config) String() string {
	if c.IsDefault() {
		return "default"
	}
	var q []string
	if c.MCC != 0 {
		q = append(q, fmt.Sprintf("mcc%d", c.MCC))
	}
	if c.MNC != 0 {
		q = append(q, fmt.Sprintf("mnc%d", c.MNC))
	}
	if c.Language != "" {
		q = append(q, c.Language)
	}
	if c.Region != "" {
		q = append(q, "r"+c.Region)
	}
	if c.LocaleScript != "" {
		q = append(q, "s"+c.LocaleScript)
	}
	if c.SmallestWidth != 0 {
		q = append(q, fmt.Sprintf("sw%ddp", c.SmallestWidth))
	}
	if c.WidthDp != 0 {
		q = append(q, fmt.Sprintf("w%ddp", c.WidthDp))
	}
	if c.HeightDp != 0 {
		q = append(q, fmt.Sprintf("h%ddp", c.HeightDp))
	}
	switch c.Orientation {
	case 1:
		q = append(q, "port")
	case 2:
		q = append(q, "land")
	}
	if c.UIMode&0x30 == 0x20 {
		q = append(q, "night")
	}
	if c.Density != 0 {
		q = append(q, densityName(c.Density))
	}
	if c.Product != "" {
		q = append(q, "product="+c.Product)
	}
	if c.SDKVersion != 0 {
		q = append(q, fmt.Sprintf("v%d", c.SDKVersion))
	}
	if c.Other || len(q) == 0 {
		q = append(q, "other")
	}
	return strings.Join(q, "-")
}

// configSize is the size of ResTable_config we write (Android 8+ layout).
const configSize = 64

// parseConfig reads a ResTable_config of any historical size; fields
// beyond the stored size are zero.
func parseConfig(b []byte) (Config, error) {
	if len(b) < 4 {
		return Config{}, fmt.Errorf("%w: truncated config", ErrFormat)
	}
	size := int(binary.LittleEndian.Uint32(b))
	if size < 4 || size > len(b) {
		return Config{}, fmt.Errorf("%w: config size %d", ErrFormat, size)
	}
	var buf [configSize]byte
	copy(buf[:], b[:min(size, configSize)])
	u16 := func(o int) uint16 { return binary.LittleEndian.Uint16(buf[o:]) }
	c := Config{
		MCC: u16(4), MNC: u16(6),
		Language:     unpackLocale(buf[8], buf[9], 'a'),
		Region:       unpackLocale(buf[10], buf[11], '0'),
		Orientation:  buf[12],
		Touchscreen:  buf[13],
		Density:      u16(14),
		Keyboard:     buf[16],
		Navigation:   buf[17],
		InputFlags:   buf[18],
		ScreenWidth:  u16(20),
		ScreenHeight: u16(22),
		SDKVersion:   u16(24), MinorVersion: u16(26),
		ScreenLayout: buf[28], UIMode: buf[29],
		SmallestWidth: u16(30), WidthDp: u16(32), HeightDp: u16(34),
		LocaleScript:  cstr(buf[36:40]),
		LocaleVariant: cstr(buf[40:48]),
		ScreenLayout2: buf[48], ColorMode: buf[49],
	}
	// Bytes we do not model (input padding, numbering system, grammatical
	// gender) make the config non-default.
	if buf[19] != 0 || buf[50] != 0 || buf[51] != 0 {
		c.Other = true
	}
	for _, x := range buf[52:] {
		if x != 0 {
			c.Other = true
		}
	}
	for _, x := range b[min(size, configSize):size] {
		if x != 0 {
			c.Other = true
		}
	}
	return c, nil
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// unpackLocale decodes Android's 2-byte language/region field: two ASCII
// letters, or three 5-bit letters packed when the high bit is set.
func unpackLocale(a, b byte, base byte) string {
	if a == 0 && b == 0 {
		return ""
	}
	if a&0x80 == 0 {
		return string([]byte{a, b})
	}
	f := b & 0x1f
	s := (b&0xe0)>>5 | (a&0x03)<<3
	t := (a & 0x7c) >> 2
	return string([]byte{base + f, base + s, base + t})
}

func packLocale(s string, base byte) [2]byte {
	switch len(s) {
	case 2:
		return [2]byte{s[0], s[1]}
	case 3:
		f, sc, t := s[0]-base, s[1]-base, s[2]-base
		return [2]byte{0x80 | t<<2 | sc>>3, sc<<5 | f}
	}
	return [2]byte{}
}

func (c Config) encode() []byte {
	b := make([]byte, configSize)
	binary.LittleEndian.PutUint32(b, configSize)
	put16 := func(o int, v uint16) { binary.LittleEndian.PutUint16(b[o:], v) }
	put16(4, c.MCC)
	put16(6, c.MNC)
	l := packLocale(c.Language, 'a')
	r := packLocale(c.Region, '0')
	copy(b[8:], l[:])
	copy(b[10:], r[:])
	b[12], b[13] = c.Orientation, c.Touchscreen
	put16(14, c.Density)
	b[16], b[17], b[18] = c.Keyboard, c.Navigation, c.InputFlags
	put16(20, c.ScreenWidth)
	put16(22, c.ScreenHeight)
	put16(24, c.SDKVersion)
	put16(26, c.MinorVersion)
	b[28], b[29] = c.ScreenLayout, c.UIMode
	put16(30, c.SmallestWidth)
	put16(32, c.WidthDp)
	put16(34, c.HeightDp)
	copy(b[36:40], c.LocaleScript)
	copy(b[40:48], c.LocaleVariant)
	b[48], b[49] = c.ScreenLayout2, c.ColorMode
	return b
}
