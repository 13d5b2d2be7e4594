package app

import (
	"github.com/dfslab/dfslab/internal/testenv"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkAuthenticatedPage renders an organisation page for a signed-in
// member through the whole server on SQLite: session lookup, membership
// read, policy check, organisation and member queries, template, layout.
// The load test (wrk, 200 connections) measures the same path over HTTP.
func BenchmarkAuthenticatedPage(b *testing.B) {
	w := newWorld(b)
	c := w.cookie("viewer-a")
	target := orgURL(w.orgA, "")
	b.ReportAllocs()
	b.ResetTimer()
	defer testenv.CPUPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodGet, target, nil)
			r.RemoteAddr = "192.0.2.1:1234"
			r.AddCookie(c)
			rec := httptest.NewRecorder()
			w.app.Server.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}

// BenchmarkHomeSignedIn is the start page of a signed-in member: session
// lookup, memberships, layout with navigation.
func BenchmarkHomeSignedIn(b *testing.B) {
	w := newWorld(b)
	c := w.cookie("viewer-a")
	b.ReportAllocs()
	b.ResetTimer()
	defer testenv.CPUPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = "192.0.2.1:1234"
			r.AddCookie(c)
			rec := httptest.NewRecorder()
			w.app.Server.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}

// BenchmarkHomeAnonymous is the cheapest page: no session, layout only.
func BenchmarkHomeAnonymous(b *testing.B) {
	w := newWorld(b)
	b.ReportAllocs()
	b.ResetTimer()
	defer testenv.CPUPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			rec := httptest.NewRecorder()
			w.app.Server.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}
