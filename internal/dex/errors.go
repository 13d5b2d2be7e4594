package dex

import (
	"errors"
	"fmt"
)

// Sentinel errors, for errors.Is. Every error returned by this package for
// bad input matches ErrFormat; the more specific ones say why.
var (
	// ErrFormat matches every malformed-input error.
	ErrFormat = errors.New("malformed DEX")
	// ErrMagic: the file does not start with a supported DEX magic.
	ErrMagic = errors.New("not a DEX file or unsupported version")
	// ErrTruncated: a table, item or instruction runs past the end of the file or code.
	ErrTruncated = errors.New("truncated")
	// ErrOutOfRange: an offset or index points outside its table or the file.
	ErrOutOfRange = errors.New("offset or index out of range")
	// ErrLimit: a count or size exceeds the configured Limits.
	ErrLimit = errors.New("limit exceeded")
	// ErrChecksum: the Adler-32 checksum does not match (only when verified).
	ErrChecksum = errors.New("checksum mismatch")
)

// FormatError locates a problem in the input. It matches ErrFormat and its
// Kind with errors.Is.
type FormatError struct {
	Section string // e.g. "header", "string_ids", "class_data", "code"
	Offset  int64  // byte offset in the file, or -1
	Kind    error  // one of the sentinel errors above
	Detail  string
}

func (e *FormatError) Error() string {
	s := "dex: " + e.Section
	if e.Offset >= 0 {
		s += fmt.Sprintf(" at %#x", e.Offset)
	}
	s += ": " + e.Kind.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap lets errors.Is match both the kind and ErrFormat.
func (e *FormatError) Unwrap() []error { return []error{e.Kind, ErrFormat} }

func formatErr(section string, off int64, kind error, format string, args ...any) error {
	return &FormatError{Section: section, Offset: off, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}
