package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/dfslab/dfslab/internal/catalog"
)

// runCatalog implements `dfslab catalog`: export the recommendations
// catalogue (JSON, CSV, OSCAL 1.1 catalog) and print summary counts.
func runCatalog(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "usage: dfslab catalog export [--format json|csv|oscal] [--output FILE]")
		fmt.Fprintln(stderr, "       dfslab catalog stats")
	}
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "export":
		return catalogExport(args[1:], stdout, stderr)
	case "stats":
		c, err := catalog.Load()
		if err != nil {
			fmt.Fprintln(stderr, "dfslab catalog:", err)
			return 1
		}
		fmt.Fprintf(stdout, "catalogue version %s: %d recommendations\n", c.Version, len(c.Recommendations))
		perLayer := map[string]int{}
		for _, r := range c.Recommendations {
			perLayer[r.Layer]++
		}
		for _, l := range c.Layers {
			fmt.Fprintf(stdout, "  %-40s %3d\n", l.Name, perLayer[l.Key])
		}
		return 0
	case "-h", "--help", "help":
		usage()
		return 0
	default:
		fmt.Fprintf(stderr, "dfslab catalog: unknown subcommand %q\n", args[0])
		usage()
		return 2
	}
}

func catalogExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dfslab catalog export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "json", "export format: json, csv or oscal (OSCAL 1.1 catalog JSON)")
	output := fs.String("output", "", "write to this file instead of standard output")
	fs.StringVar(output, "o", "", "shorthand for --output")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dfslab catalog export: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	c, err := catalog.Load()
	if err != nil {
		fmt.Fprintln(stderr, "dfslab catalog:", err)
		return 1
	}
	switch *format {
	case catalog.FormatJSON, catalog.FormatCSV, catalog.FormatOSCAL:
	default:
		fmt.Fprintf(stderr, "dfslab catalog export: unknown format %q (want json, csv or oscal)\n", *format)
		return 2
	}
	if err := writeOutput(*output, stdout, func(w io.Writer) error { return c.Export(w, *format) }); err != nil {
		fmt.Fprintln(stderr, "dfslab catalog export:", err)
		return 1
	}
	return 0
}
