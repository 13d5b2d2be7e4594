package applab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/dfslab/dfslab/internal/apk/zipfs"
	"github.com/dfslab/dfslab/internal/blob"
)

// Reasons an upload is refused before anything is stored. Each carries a
// message for the person or the CI job that sent it.
var (
	ErrTooLarge   = errors.New("the file is larger than the upload limit")
	ErrIncomplete = errors.New("the upload did not arrive completely")
	ErrNotApp     = errors.New("the file is not an Android app (APK, AAB or APKS)")
	ErrZipBomb    = errors.New("the archive expands to far more than its size (zip bomb)")
	ErrEmptyFile  = errors.New("the file is empty")
)

// UploadError is a refused upload: Err is one of the reasons above, Detail
// says more.
type UploadError struct {
	Err    error
	Detail string
}

func (e *UploadError) Error() string {
	if e.Detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Detail
}
func (e *UploadError) Unwrap() error { return e.Err }

func refuse(err error, format string, args ...any) error {
	return &UploadError{Err: err, Detail: fmt.Sprintf(format, args...)}
}

// Status is the HTTP status for a refused upload.
func (e *UploadError) Status() int {
	switch {
	case errors.Is(e.Err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(e.Err, ErrNotApp), errors.Is(e.Err, ErrZipBomb):
		return http.StatusUnsupportedMediaType
	}
	return http.StatusBadRequest
}

// Limits of the upload check. The zip limits are those the scanner's
// loader applies, so a file that passes here is one the scan can open.
type checkLimits struct {
	maxSize      int64 // bytes of the upload
	maxExpanded  int64 // declared uncompressed bytes of all entries
	maxRatio     int64 // uncompressed/compressed of one big entry
	ratioMinSize int64
}

func defaultCheckLimits(maxSize int64) checkLimits {
	return checkLimits{maxSize: maxSize, maxExpanded: 4 << 30, maxRatio: 200, ratioMinSize: 1 << 20}
}

// ReadApp reads an uploaded app from r into a temporary file while
// hashing it (blob.Spool), checks that it is a complete zip laid out as an
// APK, an AAB or an APKS set and not a zip bomb, and returns it ready for
// the blob store. Nothing is stored, and on any refusal nothing is left on
// disk. The caller must Close the returned upload once it is stored.
// tmpDir "" means the system's temporary directory.
func ReadApp(r io.Reader, name string, maxSize int64, tmpDir string) (blob.Upload, error) {
	return readApp(r, name, defaultCheckLimits(maxSize), tmpDir)
}

func readApp(r io.Reader, name string, lim checkLimits, tmpDir string) (blob.Upload, error) {
	up, err := blob.Spool(r, name, blob.Policy{MaxSize: lim.maxSize, Allowed: []string{blob.ZIP}}, tmpDir)
	switch {
	case err == nil:
	case errors.Is(err, blob.ErrTooLarge):
		return blob.Upload{}, refuse(ErrTooLarge, "the limit is %s", size(lim.maxSize))
	case errors.Is(err, blob.ErrEmpty):
		return blob.Upload{}, &UploadError{Err: ErrEmptyFile}
	case errors.Is(err, blob.ErrType):
		return blob.Upload{}, refuse(ErrNotApp, "it does not start like a zip archive")
	default:
		return blob.Upload{}, refuse(ErrIncomplete, "%v", err)
	}
	if err := checkApp(up.ReaderAt(), up.Size, lim); err != nil {
		up.Close()
		return blob.Upload{}, err
	}
	return up, nil
}

// checkApp decides whether the n bytes of f are an app worth queueing.
func checkApp(f io.ReaderAt, n int64, lim checkLimits) error {
	head := make([]byte, 4)
	if _, err := f.ReadAt(head, 0); err != nil || !bytes.Equal(head, []byte("PK\x03\x04")) {
		return refuse(ErrNotApp, "it does not start like a zip archive")
	}
	z, err := zipfs.Open(f, n, zipfs.Limits{MaxTotalSize: lim.maxExpanded, MaxRatio: lim.maxRatio, RatioMinSize: lim.ratioMinSize})
	if err != nil {
		if errors.Is(err, zipfs.ErrTotalTooLarge) || errors.Is(err, zipfs.ErrCompressionRatio) || errors.Is(err, zipfs.ErrEntryTooLarge) ||
			errors.Is(err, zipfs.ErrTooManyEntries) {
			return refuse(ErrZipBomb, "%v", err)
		}
		// A zip whose end (the central directory) is missing is what a
		// cut-off upload looks like.
		return refuse(ErrNotApp, "the zip archive is damaged or incomplete (%v)", err)
	}
	var total int64
	for _, e := range z.Entries {
		if errors.Is(e.Err, zipfs.ErrCompressionRatio) || errors.Is(e.Err, zipfs.ErrEntryTooLarge) {
			return refuse(ErrZipBomb, "%v", e.Err)
		}
		total += e.UncompressedSize
		if total > lim.maxExpanded || total < 0 {
			return refuse(ErrZipBomb, "the entries declare more than %s uncompressed", size(lim.maxExpanded))
		}
		if e.UncompressedSize > lim.ratioMinSize && e.CompressedSize > 0 && e.UncompressedSize/e.CompressedSize > lim.maxRatio {
			return refuse(ErrZipBomb, "%s expands %d times", e.Name, e.UncompressedSize/e.CompressedSize)
		}
		if e.UncompressedSize > lim.ratioMinSize && e.CompressedSize == 0 {
			return refuse(ErrZipBomb, "%s declares data but stores none", e.Name)
		}
	}
	switch {
	case z.Lookup("AndroidManifest.xml") != nil:
		return nil
	case z.Lookup("base/manifest/AndroidManifest.xml") != nil:
		return nil
	}
	for _, e := range z.Entries {
		if strings.EqualFold(path.Ext(e.Name), ".apk") && !e.IsDir() {
			return nil
		}
	}
	return refuse(ErrNotApp, "a zip archive without AndroidManifest.xml, base/manifest/AndroidManifest.xml or split APKs")
}

func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
