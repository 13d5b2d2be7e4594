package appscan

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/apk"
	"github.com/dfslab/dfslab/internal/apk/apktest"
)

// FuzzScan runs the whole pipeline, loader and every rule, on arbitrary
// bytes: a report or an error, never a panic or a hang. The rules see
// models no well-formed app produces (empty names, odd arguments).
//
// The seeds are whole APKs and nearly every mutation reaches new code, so
// run it with -fuzzminimizetime 0: with the default the fuzzer spends its
// time minimising inputs and makes almost no executions.
func FuzzScan(f *testing.F) {
	for _, a := range []*apktest.App{paymentApp(), {}, static(cipherGet, s("DES"))} {
		data, err := a.Build()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	s := NewScanner(Options{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		app, err := apk.OpenReader(ctx, bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		res, err := s.ScanApp(ctx, app)
		if err != nil {
			return
		}
		for _, fd := range res.Findings {
			if fd.RuleID == "" || fd.Fingerprint == "" {
				t.Fatalf("incomplete finding %+v", fd)
			}
		}
		if res.Score < 0 || res.Score > 100 {
			t.Fatalf("score %d", res.Score)
		}
	})
}
