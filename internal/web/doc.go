// Package web is the shell every capability package plugs into: the HTTP
// server, its middleware (request IDs, access log, metrics, security
// headers, body limits, CSRF, sessions, rate limits), the authorisation
// framework, the shared page layout with its static assets, and generic
// error pages.
//
// # Plugging in a capability
//
// A capability package implements [Module]: its Routes each carry a
// [Policy] ([Public], [SignedIn], [OrgRole], [OrgAdmin], [PlatformAdmin],
// [Token], optionally [Policy.WithStepUp]). The shell enforces the policy
// before the handler runs, so a handler never sees a caller it must
// refuse; on {org} routes [PathOrg] returns the already checked
// organisation. A module that also implements [Navigator] appears in the
// navigation of the users its entries' policies admit, and only if the
// entry's page exists.
//
// Pages are html/template files embedded in the module, each defining
// "content" (and optionally "head"), parsed once by [Renderer.Pages] and
// written with [Pages.Render] inside the layout. Handlers use [Error] and
// [ServerError] for failures (generic pages that leak nothing), [ParseForm]
// for bodies (413 when too large), [CurrentPrincipal] / [CurrentUser] for
// the caller, [ClientIP] and [RequestID] for logs, [Audit] for security
// events that are not part of a store write, and [AuthFailure],
// [AuthSuccess], [AccountWait] around credential checks.
//
// Form input: the shell refuses, with 400 naming the field, a URL query or
// url-encoded form that holds invalid UTF-8 or a control character other
// than tab, CR and LF, before the handler runs (it parses such forms
// itself; r.Form and r.PostForm are then filled in). Multipart bodies
// stream to their handlers unread, so a handler that reads multipart text
// parts checks them with [CheckField] or [CheckValues] and answers with
// [BadInput].
//
// Route marks tell the shell more about a route: RateLimited (per-address
// back-off before the handler, for endpoints that check something
// guessable), SecretPath (the path carries a live secret such as a link
// token: logs, metrics and the shell's audit entries show the pattern,
// see [LogPath]), TOTPSetup (reachable by a member of an organisation
// that requires TOTP before they have set it up; every other page sends
// them to [TOTPSetupPath]) and Static (assets and probes: no session).
// Wrong API tokens are audited (api.token_refused, public prefix only)
// and count against the address's back-off.
//
// New modules are wired in internal/web/app, and each new route needs an
// entry in the authorisation matrix there (internal/web/app/matrix_test.go);
// the test fails for a route without one.
//
// No JavaScript or CSS from third parties: the stylesheet is our own
// (static/css/app.css), pages work without script except the WebAuthn
// ceremonies, and the Content-Security-Policy forbids inline script.
package web
