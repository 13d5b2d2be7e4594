package app

// frameworksMatrix covers the imported frameworks (internal/frameworks):
// any signed-in user browses them; importing and editing mappings is for
// platform administrators. An {id} that names nothing answers 404, looked
// up before the form is read; an import without a multipart body is
// refused with 400.
var frameworksMatrix = map[string]entry{
	"GET /frameworks":                         signed(200),
	"POST /frameworks":                        {access: platformOnly, ok: 400},
	"GET /frameworks/{id}":                    signed(404),
	"GET /frameworks/controls/{id}":           signed(404),
	"POST /frameworks/controls/{id}/mappings": {access: platformOnly, ok: 404},
	"POST /frameworks/mappings/{id}/delete":   {access: platformOnly, ok: 404},
}
