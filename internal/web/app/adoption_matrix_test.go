package app

// adoptionMatrix covers the baselines, tracking and reporting module
// (internal/adoption). Its routes admit members of the organisation only:
// platform administrators get no override, because a provider's statuses
// are its own and its regulator's business. Organisation A of the world
// is a telecom regulator without a baseline, so the provider pages answer
// 404 there (a regulator reports to no one), its own tracking (the
// regulators' commitments), the draft and sector pages 200; the {id} of
// the matrix names nothing, hence 404.
var adoptionMatrix = func() map[string]entry {
	viewerOnly := func(ok int) entry { return entry{access: member, minRank: 1, ok: ok} }
	analystOnly := func(ok int) entry { return entry{access: member, minRank: 2, ok: ok} }
	adminOnly := func(ok int) entry { return entry{access: member, minRank: 3, ok: ok} }
	return map[string]entry{
		// The licensee type decides which baseline items apply to an
		// organisation; only platform administrators set it (orgpages).
		// The matrix's {id} names no organisation: 404.
		"POST /admin/orgs/{id}/licensee": {access: platformOnly, ok: 404},

		"GET /orgs/{org}/baseline":                      viewerOnly(200),
		"GET /orgs/{org}/baseline/draft/{id}":           analystOnly(404),
		"POST /orgs/{org}/baseline/draft/{id}":          analystOnly(404),
		"POST /orgs/{org}/baseline/adopt-remaining":     analystOnly(303),
		"POST /orgs/{org}/baseline/publish":             adminOnly(400), // empty draft: not publishable
		"GET /orgs/{org}/baseline/v/{id}":               viewerOnly(404),
		"GET /orgs/{org}/baseline/v/{id}/baseline.md":   viewerOnly(404),
		"GET /orgs/{org}/baseline/v/{id}/baseline.html": viewerOnly(404),
		"GET /orgs/{org}/baseline/v/{id}/baseline.pdf":  viewerOnly(404),
		// A version as CSV and as an OSCAL profile setting its parameter
		// values; the {id} names no version of A's country.
		"GET /orgs/{org}/baseline/v/{id}/baseline.csv":       viewerOnly(404),
		"GET /orgs/{org}/baseline/v/{id}/profile.oscal.json": viewerOnly(404),
		"GET /orgs/{org}/baseline/diff":                      viewerOnly(400),  // no versions named
		"POST /orgs/{org}/baseline/schedule":                 analystOnly(303), // empty form: no effective date, no phases
		"GET /orgs/{org}/baseline/v/{id}/roadmap":            viewerOnly(404),

		"GET /orgs/{org}/tracking":                    viewerOnly(200),
		"GET /orgs/{org}/tracking/{id}":               viewerOnly(404),
		"POST /orgs/{org}/tracking/{id}":              analystOnly(404),
		"POST /orgs/{org}/tracking/{id}/comments":     analystOnly(404),
		"POST /orgs/{org}/tracking/{id}/evidence":     analystOnly(404),
		"GET /orgs/{org}/evidence/{id}":               viewerOnly(404),
		"GET /orgs/{org}/submissions":                 viewerOnly(404),
		"POST /orgs/{org}/submissions":                adminOnly(404),
		"GET /orgs/{org}/submissions/{id}":            viewerOnly(404),
		"GET /orgs/{org}/submissions/{id}/oscal.json": viewerOnly(404),
		// A report's canonical content and its attestation (any member,
		// after a fresh verification); the {id} names no report of A.
		"GET /orgs/{org}/submissions/{id}/canonical.json": viewerOnly(404),
		"POST /orgs/{org}/submissions/{id}/attest":        viewerOnly(404),

		"GET /orgs/{org}/sector":                                 viewerOnly(200),
		"GET /orgs/{org}/sector.csv":                             viewerOnly(200),
		"GET /orgs/{org}/sector.json":                            viewerOnly(200),
		"GET /orgs/{org}/sector/submissions/{id}":                viewerOnly(404),
		"GET /orgs/{org}/sector/submissions/{id}/oscal.json":     viewerOnly(404),
		"GET /orgs/{org}/sector/submissions/{id}/canonical.json": viewerOnly(404),
		"GET /orgs/{org}/sector/submissions/{id}/evidence":       viewerOnly(404),
		// Only a regulator verifies an item, from a report; the {id}
		// names no submission of the country.
		"POST /orgs/{org}/sector/submissions/{id}/verify": analystOnly(404),
		"POST /orgs/{org}/sector/submissions/{id}/review": analystOnly(404),
		// A provider of the regulator's country and the regulator's own
		// enforcement notes on it; the {id} names no provider of A's
		// country.
		"GET /orgs/{org}/sector/providers/{id}":          viewerOnly(404),
		"POST /orgs/{org}/sector/providers/{id}/notes":   analystOnly(404),
		"POST /orgs/{org}/sector/providers/{id}/waivers": analystOnly(404),
		"POST /orgs/{org}/sector/waivers/{id}/revoke":    analystOnly(404),
		// Reporting periods: an empty form opens none (400, the page says
		// why); the {id} names no period of the country (404).
		"POST /orgs/{org}/sector/periods":             analystOnly(400),
		"POST /orgs/{org}/sector/periods/{id}/remind": analystOnly(404),

		// How the regulators of a country cooperate (note sharing, joint
		// approval): every member of a regulator reads it, its org admins
		// switch its own settings; an empty form names no setting (400).
		// The regulators' settings of reports (attestation roles: an
		// empty list is refused, 400) and of the public summary (an empty
		// form names no state, 400).
		"GET /orgs/{org}/baseline/settings":     viewerOnly(200),
		"POST /orgs/{org}/baseline/attestation": analystOnly(400),
		"POST /orgs/{org}/baseline/public":      adminOnly(400),
		// The public summary needs no sign-in; the matrix's {country} is
		// no country code (404), and no country has published one.
		"GET /public/baselines":           pub(200),
		"GET /public/baselines/{country}": pub(404),

		"GET /orgs/{org}/cooperation":              viewerOnly(200),
		"POST /orgs/{org}/cooperation/share-notes": adminOnly(400),
		"POST /orgs/{org}/cooperation/joint":       adminOnly(400),
		// Upstream changes since the latest version (A has none: the
		// list is empty); an empty form makes no choice (400).
		"GET /orgs/{org}/baseline/upstream":  viewerOnly(200),
		"POST /orgs/{org}/baseline/upstream": analystOnly(400),
	}
}()
