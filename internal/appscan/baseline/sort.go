package baseline

import (
	"cmp"
	"slices"
)

// sortFixed orders fixed findings deterministically (map iteration is not),
// most severe first, so reports and golden files are stable.
func sortFixed(fs []Fixed) {
	slices.SortStableFunc(fs, func(a, b Fixed) int {
		return cmp.Or(
			cmp.Compare(a.Target, b.Target),
			cmp.Compare(b.Finding.Severity, a.Finding.Severity),
			cmp.Compare(a.Finding.RuleID, b.Finding.RuleID),
			cmp.Compare(a.Finding.Fingerprint, b.Finding.Fingerprint),
		)
	})
}
