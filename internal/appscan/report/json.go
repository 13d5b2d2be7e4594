package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes d as the versioned JSON report, indented for diffs.
func WriteJSON(w io.Writer, d *Document) error {
	d.Finalize()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Evidence holds code and URLs; escaping <, > and & would only make
	// the report harder to read.
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}
