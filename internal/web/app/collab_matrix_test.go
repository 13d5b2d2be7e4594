package app

// catalogueMatrix covers the catalogue pages (internal/catalog/catalogweb,
// signed-in users unless --public-catalogue) and the collaboration module
// (internal/collab). Who sees which discussion is decided by audience
// inside the store, not by the route: every collaboration page admits any
// signed-in user, and a thread, post, note, proposal or notification the
// caller may not see answers 404 like one that does not exist (the {id}
// of the matrix names nothing, and is looked up before the form is
// checked). Empty forms without an {id} are refused with 400.
// Accepting and declining proposals is for platform administrators.
var catalogueMatrix = map[string]entry{
	"GET /catalogue":                 signed(200),
	"GET /catalogue/{id}":            signed(404),
	"GET /catalogue/export/{format}": signed(404), // "{format}" is no export format
	"GET /catalogue/releases":        signed(200),

	"GET /discussions":               signed(200),
	"POST /discussions":              signed(400),
	"GET /discussions/{id}":          signed(404),
	"POST /discussions/{id}/replies": signed(404),
	"POST /posts/{id}/edit":          signed(400),
	"POST /posts/{id}/delete":        signed(404),
	"POST /notes":                    signed(400),
	"POST /notes/{id}/delete":        signed(404),
	"GET /proposals":                 signed(200),
	"POST /proposals":                signed(400),
	"GET /proposals/{id}":            signed(404),
	"POST /proposals/{id}/accept":    {access: platformOnly, ok: 404},
	"POST /proposals/{id}/decline":   {access: platformOnly, ok: 404},
	"GET /notifications":             signed(200),
	"POST /notifications/{id}/read":  signed(404),
	"POST /notifications/read-all":   signed(303),
}
