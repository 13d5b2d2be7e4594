// Command vulngate reads `govulncheck -format json` from standard input and
// decides the CI verdict: a vulnerability that our code reaches in a
// third-party module fails the build; one in the Go standard library or
// toolchain is printed, since it is fixed by moving to a patched Go release
// rather than by a change in this repository.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
}

type message struct {
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

func main() {
	code, err := run(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func run(in io.Reader, out io.Writer) (int, error) {
	dec := json.NewDecoder(in)
	thirdParty := map[string]string{}
	stdlib := map[string]string{}
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 2, fmt.Errorf("reading govulncheck output: %w", err)
		}
		f := m.Finding
		// Only findings whose innermost frame names a function are
		// reachable from our code; module- and package-level ones are not.
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue
		}
		top := f.Trace[0]
		desc := fmt.Sprintf("%s in %s@%s (%s.%s), fixed in %s", f.OSV, top.Module, top.Version, top.Package, top.Function, f.FixedVersion)
		if top.Module == "stdlib" || top.Module == "toolchain" {
			stdlib[f.OSV] = desc
		} else {
			thirdParty[f.OSV] = desc
		}
	}
	for _, line := range sorted(stdlib) {
		fmt.Fprintln(out, "standard library (fixed by a newer Go release):", line)
	}
	for _, line := range sorted(thirdParty) {
		fmt.Fprintln(out, "THIRD-PARTY:", line)
	}
	fmt.Fprintf(out, "govulncheck: %d reachable in the standard library, %d in third-party modules\n", len(stdlib), len(thirdParty))
	if len(thirdParty) > 0 {
		return 1, nil
	}
	return 0, nil
}

func sorted(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
