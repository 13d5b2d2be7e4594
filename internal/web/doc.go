// Package web is the shell every capability package plugs into: the HTTP
// server, its middleware (request IDs, logging, security headers, body
// limits, CSRF, rate limits, sessions), the authorisation framework, the
// shared page layout with its static assets, and generic error pages.
//
// A capability package exposes its pages as Routes, each with a declared
// Policy. The shell enforces the policy before the handler runs, so a
// handler never sees a request it is not allowed to answer, and the
// authorisation matrix test can enumerate every route of the wired server.
package web
