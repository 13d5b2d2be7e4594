package app

// resilienceMatrix covers the cyber resilience toolkit
// (internal/resilience). An organisation's assessments are its own:
// platform administrators get no override. Organisation A of the world is
// a telecom regulator, so it may launch campaigns (an empty form is 400);
// the {id} of the matrix names nothing, hence 404 everywhere an
// assessment or a campaign is named. Models are readable by everyone
// signed in; importing one is the platform administrators'.
var resilienceMatrix = func() map[string]entry {
	viewerOnly := func(ok int) entry { return entry{access: member, minRank: 1, ok: ok} }
	analystOnly := func(ok int) entry { return entry{access: member, minRank: 2, ok: ok} }
	adminOnly := func(ok int) entry { return entry{access: member, minRank: 3, ok: ok} }
	const a = "/orgs/{org}/resilience/assessments/{id}"
	const c = "/orgs/{org}/resilience/campaigns/{id}"
	return map[string]entry{
		"GET /orgs/{org}/resilience":              viewerOnly(200),
		"POST /orgs/{org}/resilience/assessments": analystOnly(400), // no title
		"GET " + a:                     viewerOnly(404),
		"POST " + a + "/answers":       analystOnly(404),
		"POST " + a + "/evidence":      analystOnly(404),
		"GET " + a + "/evidence/{eid}": viewerOnly(404),
		"GET " + a + "/scorecard":      viewerOnly(404),
		"GET " + a + "/scores.json":    viewerOnly(404),
		"GET " + a + "/scores.csv":     viewerOnly(404),
		"GET " + a + "/compare":        viewerOnly(404),
		"GET " + a + "/scorecard.html": viewerOnly(404),
		"GET " + a + "/scorecard.pdf":  viewerOnly(404),
		"GET " + a + "/oscal.json":     viewerOnly(404),
		"POST " + a + "/submit":        adminOnly(404),

		"POST /orgs/{org}/resilience/campaigns": adminOnly(400), // no deadline
		"POST /orgs/{org}/resilience/targets":   adminOnly(400), // no model
		"GET " + c:                              viewerOnly(404),
		"POST " + c + "/close":                  adminOnly(404),
		"GET " + c + "/benchmark":               viewerOnly(404),
		"GET " + c + "/benchmark.json":          viewerOnly(404),
		"GET " + c + "/benchmark.csv":           viewerOnly(404),
		"GET " + c + "/report.html":             viewerOnly(404),
		"GET " + c + "/report.pdf":              viewerOnly(404),
		"GET " + c + "/entities/{entity}":       viewerOnly(404),

		"GET /resilience/models":                  signed(200),
		"POST /resilience/models":                 {access: platformOnly, ok: 400}, // no file
		"GET /resilience/models/{key}":            signed(200),
		"GET /resilience/models/{key}/model.yaml": signed(200),

		"GET /api/v1/resilience/models":                              {access: apiRead, ok: 200},
		"GET /api/v1/resilience/assessments/{id}":                    {access: apiRead, ok: 404},
		"PUT /api/v1/resilience/assessments/{id}/answers/{question}": {access: apiWrite, ok: 404},
		"GET /api/v1/resilience/assessments/{id}/scores":             {access: apiRead, ok: 404},
	}
}()
