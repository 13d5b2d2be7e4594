package app

// applabMatrix covers the app security testing lab (internal/applab). Its
// organisation routes admit members only, platform administrators get no
// override (an app's weaknesses are its owner's and its regulator's
// business): viewers read, analysts upload, triage and record tests, org
// admins share. The {id} of the matrix names nothing, hence 404; an
// upload without a multipart body is a 400. The API admits tokens: admin-a
// belongs to one organisation, so an upload needs no ?org=.
var applabMatrix = func() map[string]entry {
	viewerOnly := func(ok int) entry { return entry{access: member, minRank: 1, ok: ok} }
	analystOnly := func(ok int) entry { return entry{access: member, minRank: 2, ok: ok} }
	adminOnly := func(ok int) entry { return entry{access: member, minRank: 3, ok: ok} }
	return map[string]entry{
		"GET /orgs/{org}/apps":                              viewerOnly(200),
		"POST /orgs/{org}/apps/upload":                      analystOnly(400),
		"GET /orgs/{org}/apps/{id}":                         viewerOnly(404),
		"GET /orgs/{org}/apps/scans/{id}":                   viewerOnly(404),
		"GET /orgs/{org}/apps/scans/{id}/status.json":       viewerOnly(404),
		"GET /orgs/{org}/apps/versions/{id}":                viewerOnly(404),
		"GET /orgs/{org}/apps/versions/{id}/diff":           viewerOnly(404),
		"GET /orgs/{org}/apps/versions/{id}/report.html":    viewerOnly(404),
		"GET /orgs/{org}/apps/versions/{id}/report.json":    viewerOnly(404),
		"GET /orgs/{org}/apps/versions/{id}/report.sarif":   viewerOnly(404),
		"GET /orgs/{org}/apps/versions/{id}/report.pdf":     viewerOnly(404),
		"POST /orgs/{org}/apps/versions/{id}/triage":        analystOnly(404),
		"GET /orgs/{org}/apps/versions/{id}/audit":          viewerOnly(404),
		"POST /orgs/{org}/apps/versions/{id}/audit":         analystOnly(404),
		"GET /orgs/{org}/apps/versions/{id}/audit/evidence": viewerOnly(404),
		"GET /orgs/{org}/apps/versions/{id}/audit.html":     viewerOnly(404),
		"GET /orgs/{org}/apps/versions/{id}/audit.pdf":      viewerOnly(404),
		"POST /orgs/{org}/apps/versions/{id}/share":         adminOnly(404),
		"GET /orgs/{org}/market":                            viewerOnly(200),
		"POST /api/v1/scans":                                {access: apiWrite, ok: 400},
		"GET /api/v1/scans/{id}":                            {access: apiRead, ok: 404},
	}
}()
