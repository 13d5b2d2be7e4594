package report

import (
	"fmt"
	"io"
	"testing"

	"github.com/dfslab/dfslab/internal/appscan"
)

// bigDoc is a market-scale report: 100 apps with 200 findings each.
func bigDoc() *Document {
	d := fixtureDoc()
	base := fixtureResults()[0]
	d.Results = nil
	for i := range 100 {
		r := *base
		r.Target.Path = fmt.Sprintf("market/app%03d.apk", i)
		r.App.Package = fmt.Sprintf("com.example.app%03d", i)
		r.Findings = nil
		for j := range 200 {
			r.Findings = append(r.Findings, finding("DFS-CRY-003", appscan.Severity(j%5), "ECB mode", "Cipher.getInstance is called with an ECB transformation.",
				appscan.Location{File: "classes.dex", Class: fmt.Sprintf("com.example.C%d", j), Method: "m()V"}, "AES/ECB/PKCS5Padding"))
		}
		d.Results = append(d.Results, &r)
	}
	return d
}

func BenchmarkWrite(b *testing.B) {
	for _, f := range Formats {
		b.Run(string(f), func(b *testing.B) {
			d := bigDoc()
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(io.Discard, f, d, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
